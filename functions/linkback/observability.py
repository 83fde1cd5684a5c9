"""Logger and metrics, created once for the process (Powertools reads its POWERTOOLS_* env).

No Powertools Tracer: it imports the X-Ray SDK at cold start, measured at ~95 ms of the ~225 ms a
handler took to import (bench/cold_start.py). `Tracing: Active` in template.yaml still records every
invocation in X-Ray; per-call subsegments are what we give up.
"""

from __future__ import annotations

from aws_lambda_powertools import Logger, Metrics

logger = Logger()
metrics = Metrics()
