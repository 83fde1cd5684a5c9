"""Plain values of the domain: statuses, protocols, ids and times. No I/O, no AWS imports."""

from __future__ import annotations

import hashlib
from datetime import UTC, datetime
from enum import StrEnum


class Protocol(StrEnum):
    TRACKBACK = "trackback"
    PINGBACK = "pingback"
    WEBMENTION = "webmention"


class Status(StrEnum):
    QUEUED = "queued"  # received, waiting for the verifier (DESIGN.md's "PENDING record")
    APPROVED = "approved"  # verified and public
    PENDING = "pending"  # verified, held for the owner's decision
    SPAM = "spam"
    REJECTED = "rejected"  # verification failed; the reason is stored
    DELETED = "deleted"


# The owner's verdicts: a sender re-sending cannot overturn them.
OWNER_VERDICTS = frozenset({Status.SPAM, Status.DELETED})
# States where a Pingback re-send is "already registered" (fault 48).
REGISTERED = frozenset({Status.QUEUED, Status.APPROVED, Status.PENDING, Status.SPAM, Status.DELETED})


def mention_id(source: str, target: str) -> str:
    """One id per (normalised source, normalised target): what makes receiving idempotent."""
    return hashlib.sha256(f"{source}\n{target}".encode()).hexdigest()[:32]


def utc_now() -> datetime:
    return datetime.now(UTC)


def isoformat(moment: datetime) -> str:
    """Fixed-width UTC ISO 8601, so that string order is time order in DynamoDB sort keys."""
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")
