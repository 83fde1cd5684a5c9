"""What the owner is shown of a mention: the admin API's documents, its cursors, and the summary a
mail or a confirmation page gives. Shaping only, no I/O."""

from __future__ import annotations

import base64
import json
from typing import TYPE_CHECKING, Any

from linkback.fields import BY_NAME, MENTION_FIELDS, put_path
from linkback.moderation.actions import ActionResult, InvalidRequest

if TYPE_CHECKING:
    from linkback.notify.mail import MentionSummary
    from linkback.store.schema import ListEntry, MentionRecord

# Far longer than any key this API gives out (two or three short strings): a bigger one is not ours.
CURSOR_MAX = 2048


def encode_cursor(key: dict[str, Any] | None) -> str | None:
    if not key:
        return None
    return base64.urlsafe_b64encode(json.dumps(key, separators=(",", ":")).encode()).decode().rstrip("=")


def decode_cursor(cursor: str | None) -> dict[str, Any] | None:
    """A cursor back into DynamoDB's LastEvaluatedKey: a flat object of {"S": string} values, or 400."""
    if not cursor:
        return None
    refused = InvalidRequest("the cursor is not one this API gave out")
    if len(cursor) > CURSOR_MAX:
        raise refused
    try:
        key = json.loads(base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)))
    except (ValueError, UnicodeDecodeError, RecursionError):
        raise refused from None
    if (
        not isinstance(key, dict)
        or not key
        or not all(
            isinstance(name, str) and isinstance(value, dict) and list(value) == ["S"] and isinstance(value["S"], str)
            for name, value in key.items()
        )
    ):
        raise refused
    return key


def shown(record: MentionRecord, name: str) -> Any:
    """A field as the owner is shown it: what the page said, else what the sender claimed (a TrackBack's
    title, excerpt and blog name), so a mention held or refused before its verdict still says who sent it."""
    value = getattr(record, name)
    instead = BY_NAME[name].shown_instead
    if instead is None:
        return value
    return value or getattr(record, instead) or None


def shown_title(record: MentionRecord) -> str | None:
    return shown(record, "title")


def shown_excerpt(record: MentionRecord) -> str | None:
    return shown(record, "excerpt")


def shown_author_name(record: MentionRecord) -> str | None:
    return shown(record, "author_name")


def mention_document(record: MentionRecord) -> dict[str, Any]:
    """A mention as the admin API shows it: every field with a place in it, and the history."""
    document: dict[str, Any] = {}
    for field in MENTION_FIELDS:
        if field.admin is not None:
            put_path(
                document, field.admin, shown(record, field.name) if field.shown_instead else getattr(record, field.name)
            )
    document["spam_score"] = float(record.spam_score or 0)
    document["spam_reasons"] = list(record.spam_reasons or [])
    document["history"] = [
        {"at": c.at, "by": c.by, "from": c.from_status, "to": c.to_status, "note": c.note} for c in record.history or []
    ]
    return document


def list_entry_document(entry: ListEntry) -> dict[str, Any]:
    return {
        "kind": entry.kind,
        "scope": entry.scope,
        "value": entry.value,
        "note": entry.note,
        "created_at": entry.received_at,
        "created_by": entry.created_by,
    }


def summary(record: MentionRecord) -> MentionSummary:
    """What a notification or a confirmation page says about a mention."""
    from linkback.notify.mail import MentionSummary

    return MentionSummary(
        id=record.pk,
        site=record.site,
        protocol=record.protocol,
        source=record.source,
        target=record.target,
        title=shown_title(record) or "",
        excerpt=shown_excerpt(record) or "",
        author_name=shown_author_name(record) or "",
        received_at=record.received_at,
        spam_score=float(record.spam_score or 0),
        reasons=tuple(record.spam_reasons or ()),
        status=record.status,
    )


def bulk_result_document(mention_id: str, outcome: ActionResult | InvalidRequest) -> dict[str, Any]:
    """One id's line in a bulk action's answer."""
    if isinstance(outcome, InvalidRequest):
        return {"id": mention_id, "ok": False, "error": "invalid", "error_description": outcome.message}
    if outcome.ok and outcome.record is not None:
        return {"id": mention_id, "ok": True, "status": outcome.record.status}
    return {"id": mention_id, "ok": False, "error": outcome.error}
