"""`linkback dlq list|redrive` against the real SQS server: dead letters are seen and go back."""

from __future__ import annotations

import json
from typing import Any

from linkback_infra.dlq import list_dead_letters, redrive

from .conftest import Resources


def _dead_letters(sqs: Any, resources: Resources, bodies: list[str]) -> None:
    for body in bodies:
        sqs.send_message(QueueUrl=resources.dead_letter_queue.url, MessageBody=body)


def test_dead_letters_are_listed_with_their_mention_ids(sqs: Any, resources: Resources) -> None:
    _dead_letters(sqs, resources, [json.dumps({"v": 1, "id": "a" * 32}), "not json"])

    letters = list_dead_letters(sqs, resources.dead_letter_queue.url)

    assert sorted(letter.mention_id or "-" for letter in letters) == ["-", "a" * 32]


def test_redrive_moves_every_dead_letter_back_to_the_verify_queue_and_loses_none(
    sqs: Any, resources: Resources
) -> None:
    bodies = [json.dumps({"v": 1, "id": f"{n:032x}"}) for n in range(23)]
    _dead_letters(sqs, resources, bodies)

    moved = redrive(sqs, resources.dead_letter_queue.url, resources.queue.url)

    assert moved == 23
    received: list[str] = []
    for _ in range(10):
        batch = sqs.receive_message(QueueUrl=resources.queue.url, MaxNumberOfMessages=10).get("Messages", [])
        if not batch:
            break
        received += [message["Body"] for message in batch]
    assert sorted(received) == sorted(bodies)
    assert (
        sqs.get_queue_attributes(
            QueueUrl=resources.dead_letter_queue.url, AttributeNames=["ApproximateNumberOfMessages"]
        )["Attributes"]["ApproximateNumberOfMessages"]
        == "0"
    )
