"""VerifyFunction: drains the verify queue; each message names one mention to verify.

Records of a batch are verified concurrently (AsyncBatchProcessor runs the record handlers together;
each fetch runs in a worker thread), and only the failed ones are reported back, so SQS redelivers
just those and, after maxReceiveCount, moves them to the DLQ. What a failure leads to is the retry
policy's (linkback.verify.retry); every write is conditional on the status read, so a message
delivered twice (or two copies verified at once) leaves one verdict.
"""

from __future__ import annotations

import asyncio
from concurrent.futures import ThreadPoolExecutor
from typing import TYPE_CHECKING, Any

from aws_lambda_powertools.metrics import MetricUnit
from aws_lambda_powertools.utilities.batch import AsyncBatchProcessor, EventType, async_process_partial_response
from aws_lambda_powertools.utilities.data_classes.sqs_event import SQSRecord

from linkback import wiring
from linkback.errors import InjectedCrash, TransientFetchError
from linkback.observability import logger, metrics
from linkback.store import queue

if TYPE_CHECKING:
    from aws_lambda_powertools.utilities.batch.types import PartialItemFailureResponse

# Settings are validated at init: a broken one fails the cold start, naming its variable and value.
wiring.settings()

# One thread per record of a batch (BatchSize 10): asyncio's default executor has cpu_count + 4 threads,
# 6 on a small Lambda, so a batch of slow sources would take two rounds (bench/verifier_concurrency.py).
FETCHERS = ThreadPoolExecutor(max_workers=10, thread_name_prefix="verify")


def _verify(mention_id: str, correlation_id: str | None) -> None:
    outcome = wiring.verify(mention_id)
    context = {"mention_id": mention_id, "status": outcome.status, "reason": outcome.reason}
    logger.info("Mention verified", extra={**context, "request_correlation_id": correlation_id})
    metrics.add_metric(name=f"Verified_{outcome.status or 'skipped'}", unit=MetricUnit.Count, value=1)


def _after_failure(record: SQSRecord, mention_id: str, correlation_id: str | None, error: Exception) -> bool:
    """Log and count a failed verification, apply its back-off; True when the message is to be acknowledged."""
    receive_count = int(record.attributes.approximate_receive_count or 1)
    sent_ms = record.attributes.get("SentTimestamp")
    retry = wiring.verify_retry(mention_id, error, sent_ms=sent_ms, receive_count=receive_count)
    context = {"mention_id": mention_id, "request_correlation_id": correlation_id}
    if retry.action == "give_up":
        # The batch processor only reports the failure to SQS; the reason must reach the log, once.
        logger.error("Verification failed", extra=context, exc_info=error)
        metrics.add_metric(name="VerifyFailed", unit=MetricUnit.Count, value=1)
        return False
    if retry.action == "superseded":
        logger.info("Verification failed but a later one stands", extra={**context, "reason": str(error)})
        metrics.add_metric(name="VerifySuperseded", unit=MetricUnit.Count, value=1)
        return True
    logger.warning(
        "Verification will be retried",
        extra={**context, "reason": str(error), "receive_count": receive_count, "retry_in_s": retry.delay_s},
    )
    metrics.add_metric(name="VerifyRetried", unit=MetricUnit.Count, value=1)
    if not isinstance(error, TransientFetchError):
        metrics.add_metric(name="StorageUnavailable", unit=MetricUnit.Count, value=1)
    if retry.delay_s:
        try:
            wiring.verify_queue().delay_redelivery(record.receipt_handle, retry.delay_s)
        except Exception:
            # The queue's own visibility timeout still brings the message back: only sooner than planned.
            logger.exception("Back-off not applied", extra={**context, "retry_in_s": retry.delay_s})
    return False


async def record_handler(record: SQSRecord) -> None:
    try:
        mention_id = queue.decode_message(record.body)
    except queue.InvalidMessage:
        logger.error("Unusable queue message", extra={"message_id": record.message_id})
        raise
    # Per log line, not logger.append_keys: the records of a batch are verified concurrently.
    correlation_id = queue.correlation_id(record.raw_event)
    loop = asyncio.get_running_loop()
    try:
        await loop.run_in_executor(FETCHERS, _verify, mention_id, correlation_id)
    except InjectedCrash as crash:
        logger.warning("Injected crash", extra={"mention_id": mention_id, "reason": str(crash)})
        metrics.add_metric(name="VerifyCrashed", unit=MetricUnit.Count, value=1)
        raise
    except Exception as error:
        if not await loop.run_in_executor(FETCHERS, _after_failure, record, mention_id, correlation_id, error):
            raise


@logger.inject_lambda_context
@metrics.log_metrics
def handler(event: dict[str, Any], context: Any) -> PartialItemFailureResponse:
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
