"""The verify queue's message: it names the mention and nothing else (the record is the truth)."""

from __future__ import annotations

import json

import pytest

from linkback.store.queue import InvalidMessage, decode_message, encode_message

MENTION_ID = "3f1c0a9e8d7b6c5a4f3e2d1c0b9a8f7e"


def test_a_message_decodes_to_the_mention_id_it_was_encoded_from():
    assert decode_message(encode_message(MENTION_ID)) == MENTION_ID


def test_a_message_carries_only_a_version_and_the_id():
    assert json.loads(encode_message(MENTION_ID)) == {"v": 1, "id": MENTION_ID}


def test_a_message_from_a_newer_writer_with_extra_fields_still_names_its_mention():
    assert decode_message(json.dumps({"v": 2, "id": MENTION_ID, "hint": "re-send"})) == MENTION_ID


@pytest.mark.parametrize(
    "body",
    ["", "not json", "{'id': 'single quotes'}", '{"id": "unterminated'],
    ids=["empty", "text", "python-repr", "truncated"],
)
def test_a_body_that_is_not_json_is_an_invalid_message(body):
    with pytest.raises(InvalidMessage, match="not JSON"):
        decode_message(body)


@pytest.mark.parametrize(
    "body",
    ['{"v": 1}', '{"v": 1, "id": ""}', '{"v": 1, "id": 42}', '{"v": 1, "id": null}', f'["{MENTION_ID}"]', '"id"'],
    ids=["no-id", "empty-id", "number-id", "null-id", "list", "string"],
)
def test_json_that_does_not_name_a_mention_is_an_invalid_message(body):
    with pytest.raises(InvalidMessage, match="mention id"):
        decode_message(body)


def test_an_invalid_message_is_a_value_error():
    # The batch handler reports it as a failed item, and the queue's redrive policy parks it in the DLQ.
    assert issubclass(InvalidMessage, ValueError)
