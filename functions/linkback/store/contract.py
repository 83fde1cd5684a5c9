"""What the domain asks of its storage: the mention store and the rate limiter, as typing Protocols.

`repository.MentionRepository` (DynamoDB, through pynamodb) and `memory.InMemoryRepository` (the unit
tests' fake) both honour these; tests/integration/test_repository_contract.py runs the same behaviours
against the two, so the fake cannot drift from the real one.

Every write that depends on what was read is conditional and answers False (nothing written) when its
condition did not hold; the methods that take a record and write it refresh that record's attributes with
what was stored (pynamodb's UpdateItem with ALL_NEW), and callers rely on it (the verifier reads
`record.held_at` after storing a verdict, moderation answers with the record it decided).

Types only: the handlers import this module at cold start, so nothing of pynamodb or boto3 at run time.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, Protocol, runtime_checkable

from linkback.model import Status  # plain values (a default below); no I/O, no AWS

if TYPE_CHECKING:
    from collections import Counter
    from datetime import datetime

    from linkback.model import Verdict
    from linkback.read.feed import FeedQuery
    from linkback.store.schema import ListEntry, MentionRecord

__all__ = ["Limiter", "MentionStore"]


@runtime_checkable
class MentionStore(Protocol):
    """The mentions table as the receivers, the verifier, moderation, the notifier and the read API use it."""

    def warm(self) -> None:
        """Build whatever connection the store needs now, once, before a batch fans out to threads."""
        ...

    # --- one mention ----------------------------------------------------------------------------

    def get(self, mention_id: str) -> MentionRecord | None:
        """The mention as stored now (a fresh object, every attribute), or None."""
        ...

    def create(self, record: MentionRecord) -> bool:
        """Store a new mention, with the sparse index keys its status implies set on `record`; False when one
        with the same id exists already (nothing written)."""
        ...

    def update_resend(
        self, record: MentionRecord, *, status: Status, fields: dict[str, Any], now: datetime, interval_s: int = 0
    ) -> bool:
        """Apply a re-send: `status`, updated_at, last_sent_at = now, every non-None `fields` value; moving to
        queued also drops status_reason and fetch_status; the index keys follow `status`. Only if the stored
        status is still `record.status` and (interval_s > 0) the previous send is at least interval_s old
        (or unknown); False otherwise, nothing written. `record` is refreshed on success."""
        ...

    def record_verdict(self, record: MentionRecord, verdict: Verdict, now: datetime) -> bool:
        """Store the verifier's verdict in one write: status and reason, what the page said (None clears),
        verified_at = updated_at = now, deleted_at = now only for deleted, expires_at per the spam/rejected
        retention, held_at = now when it becomes pending from another status, attempts += 1, and the index
        keys the new status implies. Only if the mention exists and its status is still `record.status`
        (an owner's decision or a re-send in between wins); False otherwise, nothing written. `record` is
        refreshed on success."""
        ...

    def record_failed_attempt(self, record: MentionRecord, reason: str, now: datetime) -> None:
        """Count one verification attempt that ended without a verdict (attempts += 1, status_reason,
        updated_at); the status is untouched. Raises (pynamodb's UpdateError) if the mention is gone.
        `record` is refreshed."""
        ...

    def discard_unqueued(self, mention_id: str) -> None:
        """Remove a just-created mention whose queue message could not be sent, only if it is still queued;
        a mention changed meanwhile, or already gone, is left as it is (no error)."""
        ...

    def decide_as_owner(
        self, record: MentionRecord, status: Status, now: datetime, *, by: str = "owner", note: str | None = None
    ) -> bool:
        """The owner approves, marks spam, deletes or restores: status, status_reason ("<status> by <by>[:
        <note>]"), updated_at, one more `history` Change (at, by, from, to, note); deleted sets deleted_by =
        "owner" and deleted_at, anything else clears both; expires_at per the retention (set or cleared);
        index keys per the status. Only if the stored status is still `record.status`; False otherwise,
        nothing written. `record` is refreshed on success."""
        ...

    # --- listings -------------------------------------------------------------------------------

    def approved(self, query: FeedQuery, site: str | None = None) -> list[MentionRecord]:
        """One page of approved mentions of the query's targets (or of a whole site), filtered, sorted and
        paged by `read.feed.select`; the records carry only the public attributes."""
        ...

    def count(self, targets: tuple[str, ...] = (), site: str | None = None) -> Counter[str]:
        """Approved mentions of the targets (or of the site) by `read.feed.type_key`."""
        ...

    def site_for_token(self, token: str) -> str | None:
        """The site a whole-site read token was made for, or None."""
        ...

    def due_for_recheck(self, verified_before: str, limit: int) -> list[str]:
        """Ids of approved mentions last verified before the cutoff (fixed-width UTC text), the longest
        unchecked first, at most `limit`."""
        ...

    def held_for_site(self, site: str, status: Status = Status.PENDING, *, limit: int = 50) -> list[MentionRecord]:
        """The first page of `for_site`: a site's held (or spam...) mentions, oldest first."""
        ...

    def for_site(
        self, site: str, status: Status, *, limit: int = 50, cursor: dict[str, Any] | None = None
    ) -> tuple[list[MentionRecord], dict[str, Any] | None]:
        """One page of a site's mentions in one status and the cursor to continue from: approved ones newest
        first by received_at, every other status oldest first. The cursor is a flat {name: {"S": text}}
        key (admin's encode_cursor/decode_cursor carry it); it is None when the page came out shorter than
        `limit` (a full last page still gives one, leading to an empty page). A cursor of another listing
        raises repository.InvalidCursor."""
        ...

    # --- the owner's block and allow lists ------------------------------------------------------

    def add_list_entry(
        self, kind: str, scope: str, value: str, *, by: str, now: datetime, note: str | None = None
    ) -> ListEntry:
        """List `value` ("block"/"allow", "domain"/"url"); listing it again replaces the entry."""
        ...

    def remove_list_entry(self, kind: str, scope: str, value: str) -> ListEntry | None:
        """Unlist it; the removed entry, or None when it was not listed."""
        ...

    def list_entries(self, kind: str) -> list[ListEntry]:
        """One list's entries, in the order they were listed (oldest first)."""
        ...

    def matching_list_entry(self, url: str, domains: tuple[str, ...]) -> ListEntry | None:
        """The entry that speaks for a source: its exact URL first, then each of `domains` in the order
        given (host, then registrable domain); at the same place a block beats an allow."""
        ...

    # --- offences and single-use markers ---------------------------------------------------------

    def record_offence(self, sender_ip: str | None, domain: str, now: datetime) -> None:
        """Count one more spam from this sender address and this source domain; each count is then
        remembered OFFENCE_MEMORY_S from `now` (a new offence renews the memory of the earlier ones)."""
        ...

    def offences(self, sender_ip: str | None, domain: str, now: datetime) -> int:
        """Earlier spam from this address or this domain still remembered at `now` (the larger count)."""
        ...

    def was_claimed(self, key: str) -> bool:
        """Whether `claim_once(key)` succeeded before (however long ago: the TTL deletes lazily)."""
        ...

    def claim_once(self, key: str, *, now: datetime, keep_s: int) -> bool:
        """Mark `key` used, kept keep_s from now; False when it was used already."""
        ...


@runtime_checkable
class Limiter(Protocol):
    """Fixed-window rate limits shared by every instance (`repository.RateLimiter`)."""

    def take(self, scope: str, key: str, *, limit: int, window_s: int, now: float) -> int | None:
        """Count one use of (scope, key) in the current window of window_s seconds (epoch-aligned); None
        if allowed, else the seconds (at least 1) until the next window. A refused use is not counted."""
        ...
