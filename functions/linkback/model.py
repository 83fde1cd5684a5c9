"""Plain values of the domain: statuses, protocols, ids and times. No I/O, no AWS imports."""

from __future__ import annotations

import hashlib
from datetime import UTC, datetime
from enum import StrEnum
from typing import NamedTuple


class Protocol(StrEnum):
    TRACKBACK = "trackback"
    PINGBACK = "pingback"
    WEBMENTION = "webmention"


class Status(StrEnum):
    QUEUED = "queued"  # received, waiting for the verifier (the record exists; nothing is known of its source yet)
    APPROVED = "approved"  # verified and public
    PENDING = "pending"  # verified, held for the owner's decision
    SPAM = "spam"
    REJECTED = "rejected"  # verification failed before it was ever public; the reason is stored
    DELETED = "deleted"  # by the owner, or by its source (410 Gone, or the link was removed)


class DeletedBy(StrEnum):
    OWNER = "owner"
    SOURCE = "source"


# States where a Pingback re-send is "already registered" (fault 48).
REGISTERED = frozenset({Status.QUEUED, Status.APPROVED, Status.PENDING, Status.SPAM, Status.DELETED})
# Verified at some point: losing the link now means the source deleted it, not that it never had one.
PUBLISHED = frozenset({Status.APPROVED, Status.PENDING})


def is_owner_verdict(status: str, deleted_by: str | None) -> bool:
    """Spam, or deleted by the owner: a sender re-sending (or the verifier) never overturns those.

    A mention its source deleted is different: a re-send may bring it back once the link is back.
    """
    return status == Status.SPAM or (status == Status.DELETED and deleted_by != DeletedBy.SOURCE)


def mention_id(source: str, target: str) -> str:
    """One id per (normalised source, normalised target): what makes receiving idempotent."""
    return hashlib.sha256(f"{source}\n{target}".encode()).hexdigest()[:32]


def utc_now() -> datetime:
    return datetime.now(UTC)


def isoformat(moment: datetime) -> str:
    """Fixed-width UTC ISO 8601, so that string order is time order in DynamoDB sort keys."""
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


class Verdict(NamedTuple):
    """What the verifier concluded, to be written in one update."""

    status: Status
    reason: str
    fetch_status: int | None = None
    fetched_url: str | None = None
    title: str | None = None
    excerpt: str | None = None
    author_name: str | None = None
    author_url: str | None = None
    author_photo: str | None = None
    published: str | None = None
    entry_url: str | None = None
    wm_property: str = "mention-of"
    rsvp: str | None = None
    deleted_by: str | None = None
    spam_score: float = 0
    spam_reasons: tuple[str, ...] = ()
