"""Restoring from a point-in-time copy: items come back into the live table without undoing what
happened since (mode `missing`), or exactly as they were (mode `overwrite`). Against DynamoDB Local."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from typing import Any

import pytest

from linkback_infra.dev import create_table
from linkback_infra.restore import copy_items
from linkback_infra.template import Template


@pytest.fixture
def tables(dynamodb: Any, template: Template) -> Iterator[tuple[str, str]]:
    """(the restored copy, the live table), both shaped by the template."""
    unique = uuid.uuid4().hex[:10]
    names = (f"restored-{unique}", f"live-{unique}")
    for name in names:
        create_table(dynamodb, template, name)
    yield names
    for name in names:
        dynamodb.delete_table(TableName=name)


def mention(pk: str, status: str, title: str) -> dict[str, Any]:
    return {"pk": {"S": pk}, "status": {"S": status}, "title": {"S": title}}


def item(dynamodb: Any, table: str, pk: str) -> dict[str, Any] | None:
    return dynamodb.get_item(TableName=table, Key={"pk": {"S": pk}}, ConsistentRead=True).get("Item")


def test_missing_items_come_back_and_newer_ones_stay(dynamodb: Any, tables: tuple[str, str]) -> None:
    restored, live = tables
    # Given the restore point had two mentions and a block-list entry
    for entry in (mention("a" * 32, "approved", "old A"), mention("b" * 32, "approved", "old B")):
        dynamodb.put_item(TableName=restored, Item=entry)
    dynamodb.put_item(TableName=restored, Item={"pk": {"S": "list#block#domain#spam.example"}, "kind": {"S": "block"}})
    # And since then B was moderated to spam, A was deleted by mistake, the list entry removed
    dynamodb.put_item(TableName=live, Item=mention("b" * 32, "spam", "new B"))

    report = copy_items(dynamodb, source=restored, target=live)

    assert (report.read, report.written, report.already_there) == (3, 2, 1)
    assert report.by_kind == {"mention": 1, "list": 1}
    assert item(dynamodb, live, "a" * 32)["title"] == {"S": "old A"}
    assert item(dynamodb, live, "b" * 32)["status"] == {"S": "spam"}  # the owner's later decision stands
    assert item(dynamodb, live, "list#block#domain#spam.example") is not None


def test_overwrite_puts_every_item_back_as_it_was(dynamodb: Any, tables: tuple[str, str]) -> None:
    restored, live = tables
    dynamodb.put_item(TableName=restored, Item=mention("c" * 32, "approved", "as it was"))
    dynamodb.put_item(TableName=live, Item=mention("c" * 32, "approved", "corrupted"))

    report = copy_items(dynamodb, source=restored, target=live, mode="overwrite")

    assert (report.read, report.written) == (1, 1)
    assert item(dynamodb, live, "c" * 32)["title"] == {"S": "as it was"}


def test_copying_twice_changes_nothing_the_second_time(dynamodb: Any, tables: tuple[str, str]) -> None:
    restored, live = tables
    dynamodb.put_item(TableName=restored, Item=mention("d" * 32, "pending", "held"))
    copy_items(dynamodb, source=restored, target=live)

    again = copy_items(dynamodb, source=restored, target=live)

    assert (again.written, again.already_there) == (0, 1)


def test_a_table_is_not_copied_onto_itself(dynamodb: Any, tables: tuple[str, str]) -> None:
    with pytest.raises(ValueError, match="must differ"):
        copy_items(dynamodb, source=tables[1], target=tables[1])


def test_the_cli_copies_and_says_what_it_did(
    dynamodb: Any, dynamodb_local: Any, tables: tuple[str, str], monkeypatch: pytest.MonkeyPatch, capsys: Any
) -> None:
    from linkback_infra.cli import main

    restored, live = tables
    dynamodb.put_item(TableName=restored, Item=mention("e" * 32, "approved", "back"))
    monkeypatch.setenv("AWS_ENDPOINT_URL_DYNAMODB", dynamodb_local.endpoint_url)
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "local")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "local")

    assert main(["restore", "copy", "--from", restored, "--to", live, "--region", "us-east-1"]) == 0

    assert "1 items read, 1 written (1 mention), 0 already there" in capsys.readouterr().out
    assert item(dynamodb, live, "e" * 32) is not None
