"""The only code that knows SQS: a small message naming a mention (to verify, or to tell the owner about).

The record in DynamoDB is the source of truth; the message carries just its id, so a re-send or an
owner's action between enqueue and verify is never overwritten by stale queued data.
"""

from __future__ import annotations

import json
from functools import cached_property
from typing import Any

MESSAGE_VERSION = 1
CORRELATION_ATTRIBUTE = "correlation_id"


class InvalidMessage(ValueError):
    """A queue message we cannot act on: retrying cannot help, so it belongs in the DLQ."""


def correlation_id(raw_record: dict[str, Any]) -> str | None:
    """The receiving request's id a message carries (an SQS record as Lambda delivers it), if any."""
    attribute = (raw_record.get("messageAttributes") or {}).get(CORRELATION_ATTRIBUTE) or {}
    value = attribute.get("stringValue")
    return value if isinstance(value, str) else None


def encode_message(mention_id: str) -> str:
    return json.dumps({"v": MESSAGE_VERSION, "id": mention_id}, separators=(",", ":"))


def decode_message(body: str) -> str:
    try:
        message = json.loads(body)
    except json.JSONDecodeError as error:
        raise InvalidMessage("the message body is not JSON") from error
    if not isinstance(message, dict) or not isinstance(message.get("id"), str) or not message["id"]:
        raise InvalidMessage("the message does not name a mention id")
    return message["id"]


class MentionQueue:
    def __init__(self, queue_url: str, region: str) -> None:
        self.queue_url = queue_url
        self.region = region

    @cached_property
    def _client(self) -> Any:
        # Imported on first send: the read-only function never pays boto3's import at cold start.
        import boto3

        return boto3.client("sqs", region_name=self.region)

    def enqueue(self, mention_id: str, correlation_id: str | None = None) -> None:
        # The receiving request's id travels as a message attribute, so the verifier's log lines for
        # this mention can be found from the request that brought it.
        attributes = (
            {CORRELATION_ATTRIBUTE: {"DataType": "String", "StringValue": correlation_id}} if correlation_id else {}
        )
        self._client.send_message(
            QueueUrl=self.queue_url, MessageBody=encode_message(mention_id), MessageAttributes=attributes
        )

    def delay_redelivery(self, receipt_handle: str, delay_s: int) -> None:
        """Keep a received message invisible for `delay_s` from now: its next delivery comes no sooner."""
        # ChangeMessageVisibility takes 0 to 43200 seconds (12 hours).
        self._client.change_message_visibility(
            QueueUrl=self.queue_url, ReceiptHandle=receipt_handle, VisibilityTimeout=max(0, min(delay_s, 43200))
        )

    def enqueue_many(self, mention_ids: list[str]) -> int:
        """Send in batches of ten (SQS's limit); returns how many were accepted."""
        sent = 0
        for start in range(0, len(mention_ids), 10):
            batch = mention_ids[start : start + 10]
            response = self._client.send_message_batch(
                QueueUrl=self.queue_url,
                Entries=[
                    {"Id": str(n), "MessageBody": encode_message(mention_id)} for n, mention_id in enumerate(batch)
                ],
            )
            sent += len(response.get("Successful", []))
        return sent
