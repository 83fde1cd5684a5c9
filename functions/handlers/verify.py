"""VerifyFunction: drains the verify queue; each message names one mention to verify.

Records of a batch are verified concurrently (AsyncBatchProcessor runs the record handlers together;
each fetch runs in a worker thread), and only the failed ones are reported back, so SQS redelivers
just those and, after maxReceiveCount, moves them to the DLQ.
"""

from __future__ import annotations

import asyncio
from concurrent.futures import ThreadPoolExecutor
from typing import Any

from aws_lambda_powertools.metrics import MetricUnit
from aws_lambda_powertools.utilities.batch import (
    AsyncBatchProcessor,
    EventType,
    async_process_partial_response,
)
from aws_lambda_powertools.utilities.data_classes.sqs_event import SQSRecord

from linkback import queue, wiring
from linkback.errors import TransientFetchError
from linkback.model import utc_now
from linkback.observability import logger, metrics
from linkback.verify import FetchBudget, verify_mention

processor = AsyncBatchProcessor(event_type=EventType.SQS)
# One thread per record of a batch (BatchSize 10): asyncio's default executor has cpu_count + 4 threads,
# 6 on a small Lambda, so a batch of slow sources would take two rounds (bench/verifier_concurrency.py).
FETCHERS = ThreadPoolExecutor(max_workers=10, thread_name_prefix="verify")


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
        fetcher=wiring.fetcher(),
        moderation=wiring.settings().moderation,
        now=utc_now(),
        budget=FetchBudget(wiring.rate_limiter(), wiring.settings().source_host_fetches_per_minute),
        screen=wiring.screen(),
        notify=_announce_held,
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
    try:
        await asyncio.get_running_loop().run_in_executor(FETCHERS, _verify, mention_id, correlation_id)
    except TransientFetchError as error:
        receive_count = record.attributes.approximate_receive_count
        logger.warning(
            "Verification will be retried",
            extra={
                "mention_id": mention_id,
                "reason": str(error),
                "receive_count": receive_count,
                "request_correlation_id": correlation_id,
            },
        )
        metrics.add_metric(name="VerifyRetried", unit=MetricUnit.Count, value=1)
        raise
    except Exception:
        # The batch processor only reports the failure to SQS; the reason must reach the log, once.
        context = {"mention_id": mention_id, "request_correlation_id": correlation_id}
        logger.exception("Verification failed", extra=context)
        metrics.add_metric(name="VerifyFailed", unit=MetricUnit.Count, value=1)
        raise


@logger.inject_lambda_context
@metrics.log_metrics
def handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
    return async_process_partial_response(
        event=event, record_handler=record_handler, processor=processor, context=context
    )
