"""Logger and metrics, created once for the process (Powertools reads its POWERTOOLS_* env).

No Powertools Tracer: it imports the X-Ray SDK at cold start, measured at ~95 ms of the ~225 ms a
handler took to import (bench/cold_start.py). `Tracing: Active` in template.yaml still records every
invocation in X-Ray; per-call subsegments are what we give up.
"""

from __future__ import annotations

import time
from typing import TYPE_CHECKING

from aws_lambda_powertools import Logger, Metrics
from aws_lambda_powertools.metrics import MetricUnit

from linkback.errors import PermanentFetchError, TransientFetchError

if TYPE_CHECKING:
    from linkback.verify.fetch import FetchedPage
    from linkback.verify.pipeline import Fetcher

logger = Logger()
metrics = Metrics()


class MeasuredFetcher:
    """The safe fetcher, timed: FetchLatency for every fetch, FetchFailed{Transient,Permanent} by kind."""

    def __init__(self, fetcher: Fetcher) -> None:
        self.fetcher = fetcher

    def fetch(self, url: str, on_behalf_of: str = "") -> FetchedPage:
        started = time.perf_counter()
        try:
            return self.fetcher.fetch(url, on_behalf_of=on_behalf_of)
        except TransientFetchError:
            metrics.add_metric(name="FetchFailedTransient", unit=MetricUnit.Count, value=1)
            raise
        except PermanentFetchError:
            metrics.add_metric(name="FetchFailedPermanent", unit=MetricUnit.Count, value=1)
            raise
        finally:
            elapsed_ms = (time.perf_counter() - started) * 1000
            metrics.add_metric(name="FetchLatency", unit=MetricUnit.Milliseconds, value=round(elapsed_ms, 1))
