"""The owner's decisions: approve, mark spam, delete, restore; block and allow lists that learn from them.

One path serves the admin API, the bulk action and the one-click links in mails, so each decision is
conditional on the status that was read (a verifier or another click in between wins, and the owner is
told), joins the mention's audit trail, and teaches the lists and Akismet the same way.
"""

from __future__ import annotations

import base64
import json
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING, Any, Protocol
from urllib.parse import urlsplit

from linkback.errors import LinkbackError
from linkback.model import Status
from linkback.store.repository import ListEntry, MentionRecord, MentionRepository

if TYPE_CHECKING:
    from linkback.notify.delivery import MentionSummary

OWNER_ACTIONS = ("approve", "spam", "delete", "restore")
DECIDED = {"approve": Status.APPROVED, "spam": Status.SPAM, "delete": Status.DELETED}
RESTORABLE = frozenset({Status.DELETED, Status.SPAM, Status.REJECTED})
LIST_KINDS = ("block", "allow")
LIST_SCOPES = ("domain", "url")
MAX_BULK = 100


class InvalidRequest(LinkbackError):
    """A moderation request that cannot mean anything (unknown action, list kind, bad value): 400."""


class SpamFeedback(Protocol):
    """Told when the owner overrules a verdict, so the spam service learns (Akismet submit-spam/ham)."""

    def report(self, record: MentionRecord, *, spam: bool) -> None: ...


@dataclass(frozen=True)
class ActionResult:
    mention_id: str
    record: MentionRecord | None
    error: str | None = None  # "not_found" | "conflict"
    listed: ListEntry | None = None

    @property
    def ok(self) -> bool:
        return self.error is None


def source_domain(source: str) -> str:
    from linkback.spam.rules import registrable_domain

    return registrable_domain(source)


def normalise_list_value(scope: str, value: str) -> str:
    """A domain entry is a lower-case host name; a URL entry is an http(s) URL as the verifier sees it."""
    value = value.strip()
    if scope == "domain":
        from linkback.urls import InvalidUrl, normalise_url

        # The same normal form (IDNA, lower case, no port) the sources are stored in, or it never matches.
        try:
            host = urlsplit(normalise_url(value if "://" in value else f"http://{value}")).hostname or ""
        except (InvalidUrl, ValueError):
            host = ""
        if "." not in host or "@" in value.split("/", 3)[2 if "://" in value else 0]:
            raise InvalidRequest(f"{value!r} is not a domain name")
        return host
    if scope == "url":
        from linkback.urls import InvalidUrl, normalise_url

        try:
            return normalise_url(value)
        except InvalidUrl as error:
            raise InvalidRequest(f"{value!r} is not an http(s) URL") from error
    raise InvalidRequest(f"scope must be one of {', '.join(LIST_SCOPES)}")


def restore_status(record: MentionRecord) -> Status:
    """What "restore" returns a mention to: the status before the owner's latest decision when that was
    a published one; otherwise (the verifier's spam or rejection overruled) approved."""
    for change in reversed(record.history or []):
        if change.to_status == record.status:
            if change.from_status in (Status.APPROVED, Status.PENDING):
                return Status(change.from_status)
            break
    return Status.APPROVED


def act(
    repository: MentionRepository,
    mention_id: str,
    action: str,
    *,
    by: str,
    now: datetime,
    block: str | None = None,
    allow: str | None = None,
    note: str | None = None,
    feedback: SpamFeedback | None = None,
) -> ActionResult:
    if action not in OWNER_ACTIONS:
        raise InvalidRequest(f"action must be one of {', '.join(OWNER_ACTIONS)}")
    if block is not None and (action != "spam" or block not in LIST_SCOPES):
        raise InvalidRequest('"block" goes with the spam action and is "domain" or "url"')
    if allow is not None and (action not in ("approve", "restore") or allow != "domain"):
        raise InvalidRequest('"allow" goes with approve or restore and is "domain"')
    record = repository.get(mention_id)
    if record is None:
        return ActionResult(mention_id, None, "not_found")
    if action == "restore" and record.status not in RESTORABLE:
        raise InvalidRequest(f"only a deleted, spam or rejected mention can be restored; this one is {record.status}")
    status = restore_status(record) if action == "restore" else DECIDED[action]
    was_spam = record.status == Status.SPAM  # read first: a successful update refreshes the record
    if not repository.decide_as_owner(record, status, now, by=by, note=note):
        return ActionResult(mention_id, repository.get(mention_id), "conflict")
    listed = None
    if block:
        value = record.source if block == "url" else source_domain(record.source)
        listed = repository.add_list_entry("block", block, value, by=by, now=now, note=f"from mention {mention_id}")
    elif allow:
        value = source_domain(record.source)
        listed = repository.add_list_entry("allow", "domain", value, by=by, now=now, note=f"from mention {mention_id}")
    if status == Status.SPAM:
        repository.record_offence(record.sender_ip, source_domain(record.source), now)
    if feedback is not None:
        # Only when the owner overrules the verifier: telling Akismet what it already said teaches nothing.
        if status == Status.SPAM and not was_spam:
            feedback.report(record, spam=True)
        elif status == Status.APPROVED and was_spam:
            feedback.report(record, spam=False)
    return ActionResult(mention_id, record, None, listed)  # the update refreshed it with what it wrote


def parse_status(value: str | None) -> Status:
    try:
        return Status((value or "pending").strip().lower())
    except ValueError:
        raise InvalidRequest(f"status must be one of {', '.join(Status)}") from None


def encode_cursor(key: dict[str, Any] | None) -> str | None:
    if not key:
        return None
    return base64.urlsafe_b64encode(json.dumps(key, separators=(",", ":")).encode()).decode().rstrip("=")


CURSOR_MAX = 2048


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


def shown_title(record: MentionRecord) -> str | None:
    """What the page said, else what the sender said (a TrackBack's title), for the owner's eyes."""
    return record.title or record.sent_title


def shown_excerpt(record: MentionRecord) -> str | None:
    return record.excerpt or record.sent_excerpt


def shown_author_name(record: MentionRecord) -> str | None:
    """The author the verifier stored, else the blog a TrackBack named (`blog_name`): a mention held or
    refused before its verdict was written still shows who sent it."""
    return record.author_name or record.sent_blog_name


def mention_document(record: MentionRecord) -> dict[str, Any]:
    """A mention as the admin API shows it: everything the owner needs to decide, and its history."""
    return {
        "id": record.pk,
        "protocol": record.protocol,
        "source": record.source,
        "target": record.target,
        "site": record.site,
        "status": record.status,
        "status_reason": record.status_reason,
        "received_at": record.received_at,
        "updated_at": record.updated_at,
        "verified_at": record.verified_at,
        "title": shown_title(record),
        "excerpt": shown_excerpt(record),
        "author": {"name": shown_author_name(record), "url": record.author_url, "photo": record.author_photo},
        "wm_property": record.wm_property,
        "rsvp": record.rsvp,
        "published": record.published,
        "entry_url": record.entry_url,
        "deleted_by": record.deleted_by,
        "sender_ip": record.sender_ip,
        "user_agent": record.user_agent,
        "spam_score": float(record.spam_score or 0),
        "spam_reasons": list(record.spam_reasons or []),
        "history": [
            {"at": c.at, "by": c.by, "from": c.from_status, "to": c.to_status, "note": c.note}
            for c in record.history or []
        ],
    }


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
    from linkback.notify.delivery import MentionSummary

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
