"""`linkback restore copy`: bring items from a point-in-time restored table back into the stack's table.

DynamoDB restores a table only into a *new* table, and the stack keeps its own (CloudFormation owns it,
and the functions' policies name it). So a restore is: restore to a new table (AWS does that), then copy
what was lost back into the live table (this module), then delete the restored copy.

Two modes, because the two disasters differ:
- `missing` (default): put only items the live table no longer has (deleted by mistake, a bad
  import undone): nothing that happened since the restore point is overwritten;
- `overwrite`: put every item as it was at the restore point (the data itself was corrupted).
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any

MODES = ("missing", "overwrite")


@dataclass
class CopyReport:
    read: int = 0
    written: int = 0
    already_there: int = 0
    by_kind: dict[str, int] = field(default_factory=dict)  # written items by key prefix ("mention", "list", ...)


def _kind(key: str) -> str:
    prefix, sep, _ = key.partition("#")
    return prefix if sep else "mention"


def _items(dynamodb: Any, table: str) -> Iterator[dict[str, Any]]:
    for page in dynamodb.get_paginator("scan").paginate(TableName=table, ConsistentRead=True):
        yield from page.get("Items", [])


def copy_items(
    dynamodb: Any,
    *,
    source: str,
    target: str,
    mode: str = "missing",
    on_item: Callable[[CopyReport], None] | None = None,
) -> CopyReport:
    """Copy every item of `source` into `target` (`dynamodb` is a boto3 client). Counters and markers
    (rate limits, used one-click links) are copied like the rest: their TTL still ends them."""
    if mode not in MODES:
        raise ValueError(f"mode must be one of {', '.join(MODES)}")
    if source == target:
        raise ValueError("the restored table and the live table must differ")
    report = CopyReport()
    for item in _items(dynamodb, source):
        report.read += 1
        request: dict[str, Any] = {"TableName": target, "Item": item}
        if mode == "missing":
            request["ConditionExpression"] = "attribute_not_exists(pk)"
        try:
            dynamodb.put_item(**request)
        except dynamodb.exceptions.ConditionalCheckFailedException:
            report.already_there += 1
        else:
            report.written += 1
            kind = _kind(item["pk"]["S"])
            report.by_kind[kind] = report.by_kind.get(kind, 0) + 1
        if on_item is not None:
            on_item(report)
    return report
