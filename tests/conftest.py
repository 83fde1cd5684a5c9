"""Settings every test process needs before any handler module is imported."""

from __future__ import annotations

import os

# Powertools reads these when the observability module is first imported, whichever test does it.
os.environ.setdefault("POWERTOOLS_SERVICE_NAME", "linkback")
os.environ.setdefault("POWERTOOLS_METRICS_NAMESPACE", "Linkback")
os.environ.setdefault("POWERTOOLS_TRACE_DISABLED", "true")
os.environ.setdefault("AWS_DEFAULT_REGION", "us-east-1")
