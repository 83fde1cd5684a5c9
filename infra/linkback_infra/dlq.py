"""The dead-letter queue, looked at and emptied by hand: `linkback dlq list|redrive`.

SQS has no way to peek: listing receives messages with a short visibility timeout, so they are back
in the DLQ seconds later. Redriving sends each body to the verify queue and deletes it from the DLQ
only once the send succeeded, so a failure part-way loses nothing (at worst a message is verified
twice, which the verifier's conditional writes make harmless). Moto's SQS has no
StartMessageMoveTask, so this works the same locally and in AWS.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

LIST_VISIBILITY_S = 5
REDRIVE_VISIBILITY_S = 60


@dataclass(frozen=True)
class DeadLetter:
    message_id: str
    mention_id: str | None
    receive_count: int
    first_received_ms: int
    body: str


def _mention_id(body: str) -> str | None:
    try:
        message = json.loads(body)
    except ValueError:
        return None
    return message.get("id") if isinstance(message, dict) and isinstance(message.get("id"), str) else None


def list_dead_letters(sqs: Any, dlq_url: str, limit: int = 100) -> list[DeadLetter]:
    seen: dict[str, DeadLetter] = {}
    for _round in range(limit // 10 + 2):
        messages = sqs.receive_message(
            QueueUrl=dlq_url,
            MaxNumberOfMessages=10,
            VisibilityTimeout=LIST_VISIBILITY_S,
            AttributeNames=["All"],
            WaitTimeSeconds=0,
        ).get("Messages", [])
        if not messages:
            break
        for message in messages:
            attributes = message.get("Attributes", {})
            seen.setdefault(
                message["MessageId"],
                DeadLetter(
                    message_id=message["MessageId"],
                    mention_id=_mention_id(message["Body"]),
                    receive_count=int(attributes.get("ApproximateReceiveCount", 0)),
                    first_received_ms=int(attributes.get("ApproximateFirstReceiveTimestamp", 0)),
                    body=message["Body"],
                ),
            )
        if len(seen) >= limit:
            break
    return list(seen.values())[:limit]


def redrive(sqs: Any, dlq_url: str, queue_url: str, limit: int = 1000) -> int:
    """Move up to `limit` messages back to the verify queue; returns how many moved."""
    moved = 0
    while moved < limit:
        messages = sqs.receive_message(
            QueueUrl=dlq_url,
            MaxNumberOfMessages=min(10, limit - moved),
            VisibilityTimeout=REDRIVE_VISIBILITY_S,
            WaitTimeSeconds=0,
        ).get("Messages", [])
        if not messages:
            break
        sent = sqs.send_message_batch(
            QueueUrl=queue_url,
            Entries=[{"Id": str(n), "MessageBody": m["Body"]} for n, m in enumerate(messages)],
        )
        done = [messages[int(entry["Id"])] for entry in sent.get("Successful", [])]
        if done:
            sqs.delete_message_batch(
                QueueUrl=dlq_url,
                Entries=[{"Id": str(n), "ReceiptHandle": m["ReceiptHandle"]} for n, m in enumerate(done)],
            )
        moved += len(done)
        if len(done) < len(messages):
            break  # the rest stays in the DLQ; a later run retries it
    return moved
