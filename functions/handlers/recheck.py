"""RecheckFunction: on a schedule, queue approved mentions whose last verification is old.

Link rot is silent: a source deleted or edited never tells us. Verifying again catches it, through
the same queue and verifier as a fresh mention (a 410 or a removed link deletes it from the feed).
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any

# The SDK first, at the handler's own depth: loaded under linkback's import chain it runs some thirty
# frames deeper, where CPython 3.12's frame-chunk slow path (python/cpython#142183, bench/cold_start.py's
# PROBE) makes its regex compiles markedly slower. This function imports little else, so that cost
# was a tenth of its cold start.
import boto3  # noqa: F401
import pynamodb.models  # noqa: F401
from aws_lambda_powertools.metrics import MetricUnit

from linkback import wiring
from linkback.model import isoformat, utc_now
from linkback.observability import logger, metrics

# Settings are validated at init: a broken one fails the cold start, naming its variable and value.
wiring.settings()

# A day's share: the queue's bounded verifier concurrency spreads the fetches out.
MAX_PER_RUN = 500


@logger.inject_lambda_context
@metrics.log_metrics
def handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
    cutoff = isoformat(utc_now() - timedelta(days=wiring.settings().recheck_after_days))
    due = wiring.repository().due_for_recheck(cutoff, limit=MAX_PER_RUN)
    queued = wiring.verify_queue().enqueue_many(due) if due else 0
    logger.info("Recheck queued", extra={"due": len(due), "queued": queued, "verified_before": cutoff})
    metrics.add_metric(name="RecheckQueued", unit=MetricUnit.Count, value=queued)
    return {"due": len(due), "queued": queued}
