"""VerifyFunction: drains the verify queue; each message names one mention to verify.

Records of a batch are verified concurrently (AsyncBatchProcessor runs the record handlers together;
each fetch runs in a worker thread), and only the failed ones are reported back, so SQS redelivers
just those and, after maxReceiveCount, moves them to the DLQ.

A failure that may pass (the source timed out or answered 5xx/429, its host's fetch budget is used up,
DynamoDB throttled us) keeps its message invisible for a doubling delay, so five receives span minutes
rather than five visibility timeouts of one bad moment. Every write is conditional on the status read,
so a message delivered twice (or two copies verified at once) leaves one verdict.
"""

from __future__ import annotations

import asyncio
import time
from concurrent.futures import ThreadPoolExecutor
from datetime import datetime
from typing import Any

from aws_lambda_powertools.metrics import MetricUnit
from aws_lambda_powertools.utilities.batch import (
    AsyncBatchProcessor,
    EventType,
    async_process_partial_response,
)
from aws_lambda_powertools.utilities.data_classes.sqs_event import SQSRecord

from linkback import wiring
from linkback.errors import InjectedCrash, PermanentFetchError, TransientFetchError
from linkback.model import utc_now
from linkback.observability import logger, metrics
from linkback.store import queue
from linkback.verify.fetch import FetchedPage
from linkback.verify.pipeline import FetchBudget, Fetcher, verify_mention

# One thread per record of a batch (BatchSize 10): asyncio's default executor has cpu_count + 4 threads,
# 6 on a small Lambda, so a batch of slow sources would take two rounds (bench/verifier_concurrency.py).
FETCHERS = ThreadPoolExecutor(max_workers=10, thread_name_prefix="verify")
# The longest back-off: a source down for a quarter of an hour is retried at least that often until the
# redrive limit, and the DLQ (14 days) keeps what is still failing then.
RETRY_CAP_S = 900
# DynamoDB's answers that mean "later": the same back-off as a source that timed out, not the DLQ.
RETRYABLE_AWS_CODES = frozenset(
    {
        "ProvisionedThroughputExceededException",
        "ThrottlingException",
        "RequestLimitExceeded",
        "InternalServerError",
        "ServiceUnavailable",
    }
)


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


def is_transient(error: BaseException) -> bool:
    """Whether trying the same message again later may succeed: a source's passing failure, or DynamoDB
    throttling / a connection that broke (pynamodb wraps botocore's error as `cause`)."""
    if isinstance(error, TransientFetchError):
        return True
    from botocore.exceptions import ClientError, HTTPClientError
    from botocore.exceptions import ConnectionError as AwsConnectionError

    seen: BaseException | None = error
    for _ in range(8):  # a short chain; never loop on a cycle
        if seen is None:
            return False
        if isinstance(seen, ClientError):
            return seen.response.get("Error", {}).get("Code") in RETRYABLE_AWS_CODES
        if isinstance(seen, HTTPClientError | AwsConnectionError):  # refused, reset, connect/read timeout
            return True
        seen = getattr(seen, "cause", None) or seen.__cause__ or seen.__context__
    return False


def retry_delay_s(receive_count: int) -> int:
    """How long a message that failed on its n-th receive stays invisible: VerifyRetrySeconds doubling
    per receive, at most RETRY_CAP_S; 0 when no back-off is configured (the queue's timeout decides)."""
    from linkback.notify.delivery import retry_delay_s as doubling

    base_s = wiring.settings().verify_retry_s
    return doubling(max(receive_count, 1), base_s=base_s, cap_s=RETRY_CAP_S) if base_s > 0 else 0


def superseded(mention_id: str, record: SQSRecord) -> bool:
    """Whether a verification that began after this message was sent has stored its verdict already.

    Then this copy (a re-send's, a duplicate, one whose acknowledgement was lost) asks for nothing more,
    and retrying it could only end in the DLQ: a flaky source fetched for ten copies of one mention can
    fail one of them five times. verified_at is when a verification began, before its fetch.
    """
    sent_ms = record.attributes.get("SentTimestamp")
    try:
        stored = wiring.repository().get(mention_id)
    except Exception:
        return False  # DynamoDB is what failed: retry as planned
    if stored is None or not stored.verified_at or not sent_ms:
        return False
    return datetime.fromisoformat(stored.verified_at).timestamp() * 1000 >= int(sent_ms)


def _postpone(record: SQSRecord, delay_s: int, mention_id: str) -> None:
    try:
        wiring.verify_queue().delay_redelivery(record.receipt_handle, delay_s)
    except Exception:
        # The queue's own visibility timeout still brings the message back: only sooner than planned.
        logger.exception("Back-off not applied", extra={"mention_id": mention_id, "retry_in_s": delay_s})


def _announce_held(mention_id: str) -> None:
    """Queue the owner's notification; losing it must not undo a verdict that is stored already."""
    queue_ = wiring.notify_queue()
    if queue_ is None:
        return
    try:
        queue_.enqueue(mention_id)
    except Exception:
        logger.exception("Held mention not announced", extra={"mention_id": mention_id})
        metrics.add_metric(name="NotifyEnqueueFailed", unit=MetricUnit.Count, value=1)


def _verify(mention_id: str, correlation_id: str | None) -> None:
    outcome = verify_mention(
        mention_id,
        repository=wiring.repository(),
        fetcher=MeasuredFetcher(wiring.fetcher()),
        moderation=wiring.settings().moderation,
        now=utc_now(),
        budget=FetchBudget(wiring.rate_limiter(), wiring.settings().source_host_fetches_per_minute),
        screen=wiring.screen(),
        notify=_announce_held,
        faults=wiring.faults(),
    )
    logger.info(
        "Mention verified",
        extra={
            "mention_id": mention_id,
            "status": outcome.status,
            "reason": outcome.reason,
            "request_correlation_id": correlation_id,
        },
    )
    metrics.add_metric(name=f"Verified_{outcome.status or 'skipped'}", unit=MetricUnit.Count, value=1)


async def record_handler(record: SQSRecord) -> None:
    try:
        mention_id = queue.decode_message(record.body)
    except queue.InvalidMessage:
        logger.error("Unusable queue message", extra={"message_id": record.message_id})
        raise
    # Per log line, not logger.append_keys: the records of a batch are verified concurrently.
    attribute = (record.raw_event.get("messageAttributes") or {}).get(queue.CORRELATION_ATTRIBUTE) or {}
    correlation_id = attribute.get("stringValue")
    loop = asyncio.get_running_loop()
    try:
        await loop.run_in_executor(FETCHERS, _verify, mention_id, correlation_id)
    except InjectedCrash as crash:
        logger.warning("Injected crash", extra={"mention_id": mention_id, "reason": str(crash)})
        metrics.add_metric(name="VerifyCrashed", unit=MetricUnit.Count, value=1)
        raise
    except Exception as error:
        context = {"mention_id": mention_id, "request_correlation_id": correlation_id}
        if not is_transient(error):
            # The batch processor only reports the failure to SQS; the reason must reach the log, once.
            logger.exception("Verification failed", extra=context)
            metrics.add_metric(name="VerifyFailed", unit=MetricUnit.Count, value=1)
            raise
        if await loop.run_in_executor(FETCHERS, superseded, mention_id, record):
            logger.info("Verification failed but a later one stands", extra={**context, "reason": str(error)})
            metrics.add_metric(name="VerifySuperseded", unit=MetricUnit.Count, value=1)
            return
        receive_count = int(record.attributes.approximate_receive_count or 1)
        delay_s = retry_delay_s(receive_count)
        logger.warning(
            "Verification will be retried",
            extra={**context, "reason": str(error), "receive_count": receive_count, "retry_in_s": delay_s},
        )
        metrics.add_metric(name="VerifyRetried", unit=MetricUnit.Count, value=1)
        if not isinstance(error, TransientFetchError):
            metrics.add_metric(name="StorageUnavailable", unit=MetricUnit.Count, value=1)
        if delay_s:
            await loop.run_in_executor(FETCHERS, _postpone, record, delay_s, mention_id)
        raise


@logger.inject_lambda_context
@metrics.log_metrics
def handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
    # Shared clients and the spam step built once here, not by ten threads racing on the first batch.
    wiring.repository().warm()
    wiring.screen()
    # A processor per invocation: it holds the batch's records and failures, never shared between two.
    processor = AsyncBatchProcessor(event_type=EventType.SQS)
    response = async_process_partial_response(
        event=event, record_handler=record_handler, processor=processor, context=context
    )
    crashes = [exception for _, exception, _ in processor.exceptions if isinstance(exception, InjectedCrash)]
    if crashes:
        # As a Lambda killed mid-batch: no partial response, so every message of the batch comes back.
        raise crashes[0]
    return response
