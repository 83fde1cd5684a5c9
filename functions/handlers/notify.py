"""NotifyFunction: tells the owner about held mentions (mail with one-click links, signed webhook) from
the notify queue, and sends the daily digest on its schedule.

A webhook that fails with a retryable answer is tried again later: the message's visibility is
stretched to an exponentially growing delay, and after the queue's maxReceiveCount it is dead-lettered.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from aws_lambda_powertools.metrics import MetricUnit
from aws_lambda_powertools.utilities.batch import BatchProcessor, EventType, process_partial_response
from aws_lambda_powertools.utilities.data_classes.sqs_event import SQSRecord

from linkback import wiring
from linkback.model import utc_now
from linkback.notify.webhook import WebhookFailed, retry_delay_s
from linkback.observability import logger, metrics
from linkback.store import queue

if TYPE_CHECKING:
    from aws_lambda_powertools.utilities.batch.types import PartialItemFailureResponse

# Settings are validated at init: a broken one fails the cold start, naming its variable and value.
wiring.settings()

processor = BatchProcessor(event_type=EventType.SQS)


def record_handler(record: SQSRecord) -> None:
    mention_id = queue.decode_message(record.body)
    try:
        delivered = wiring.announcer().announce(mention_id, utc_now())
    except WebhookFailed as error:
        attempt = record.attributes.approximate_receive_count
        if not error.retryable:
            logger.error("Webhook refused the notification", extra={"mention_id": mention_id, "status": error.status})
            metrics.add_metric(name="WebhookRefused", unit=MetricUnit.Count, value=1)
            return  # a 4xx will not change by asking again
        delay = retry_delay_s(int(attempt), base_s=wiring.settings().webhook_retry_s, retry_after_s=error.retry_after_s)
        logger.warning(
            "Webhook failed; will retry",
            extra={"mention_id": mention_id, "status": error.status, "attempt": attempt, "retry_in_s": delay},
        )
        metrics.add_metric(name="WebhookRetried", unit=MetricUnit.Count, value=1)
        notify_queue = wiring.notify_queue()
        assert notify_queue is not None  # this function consumes it
        notify_queue.delay_redelivery(record.receipt_handle, delay)
        raise
    except Exception:
        # The batch processor only reports the failure to SQS; the reason must reach the log.
        logger.exception("Notification failed", extra={"mention_id": mention_id})
        raise
    for channel in delivered:
        metrics.add_metric(name=f"Notified_{channel}", unit=MetricUnit.Count, value=1)
    logger.info("Held mention announced", extra={"mention_id": mention_id, "channels": delivered})


@logger.inject_lambda_context
@metrics.log_metrics
def handler(event: dict[str, Any], context: Any) -> PartialItemFailureResponse | dict[str, int]:
    if event.get("source") == "aws.events":  # the daily schedule
        sent = wiring.announcer().digest(wiring.settings().sites, utc_now())
        logger.info("Digest", extra={"mails": sent})
        return {"digests": sent}
    return process_partial_response(event=event, record_handler=record_handler, processor=processor, context=context)
