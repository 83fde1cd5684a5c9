"""The mentions table in memory: `InMemoryRepository` and `InMemoryRateLimiter`, for the unit tests of the
domain rules (cosmicpython's FakeRepository), with no DynamoDB, no Java and no AWS credentials.

They honour `store.contract` with the DynamoDB repository's semantics, and
tests/integration/test_repository_contract.py runs the same behaviours against both. Like the real table,
one dict holds every item (mentions, list entries, markers, tokens) as DynamoDB would hold it: pynamodb's
serialised attribute values, so what a caller gets back is always a fresh object decoded from what was
stored (a stale read stays stale; null attributes are absent; defaults come back as pynamodb applies them),
and a conditional write refreshes the record passed in the way pynamodb's UpdateItem (ALL_NEW) does.
The indexes are queries over that dict, sparse as the real ones: an item is in an index only while it
carries the index's keys.

No record's `update()`/`save()` is ever called: attributes are set directly and the item serialised.
"""

from __future__ import annotations

import copy
import hashlib
import secrets
import threading
from collections import Counter
from collections.abc import Callable
from datetime import datetime
from typing import TYPE_CHECKING, Any, TypeVar

from botocore.exceptions import ClientError
from pynamodb.exceptions import UpdateError
from pynamodb.models import Model

from linkback.model import Status, Verdict, isoformat
from linkback.store.schema import (
    LIMIT_PREFIX,
    LIST_PREFIX,
    MAX_READ,
    OFFENCE_MEMORY_S,
    OFFENCE_PREFIX,
    ONCE_PREFIX,
    PUBLIC_ATTRIBUTES,
    RECHECK_KEY,
    TOKEN_PREFIX,
    Change,
    InvalidCursor,
    ListEntry,
    Marker,
    MentionRecord,
    SiteToken,
    index_keys,
    verdict_values,
)

if TYPE_CHECKING:
    from linkback.read.feed import FeedQuery

__all__ = ["InMemoryRateLimiter", "InMemoryRepository"]

Item = dict[str, dict[str, Any]]  # one item as DynamoDB holds it: attribute name -> {"S": ...} / {"N": ...}
M = TypeVar("M", bound=Model)


def _text(item: Item, name: str) -> str | None:
    value = item.get(name)
    return value.get("S") if value else None


def _decoded(model: type[M], item: Item, attributes: tuple[str, ...] | None = None) -> M:
    """A fresh model object from a stored item (only `attributes` of it: an index's projection)."""
    data = copy.deepcopy(item if attributes is None else {k: v for k, v in item.items() if k in attributes})
    return model.from_raw_data(data)


def _encoded(model: Model) -> Item:
    """The item a put of `model` stores (pynamodb refuses a missing non-null attribute, as on save)."""
    return copy.deepcopy(model.serialize())


def _token_key(token: str) -> str:
    return TOKEN_PREFIX + hashlib.sha256(token.encode()).hexdigest()


def _condition_failed(operation: str) -> ClientError:
    error = {"Code": "ConditionalCheckFailedException", "Message": "The conditional request failed"}
    return ClientError({"Error": error}, operation)


class InMemoryRepository:
    """`repository.MentionRepository` without DynamoDB: the same methods, conditions and orders."""

    def __init__(self, *, retention_days: int = 0) -> None:
        self.retention_s = retention_days * 86400  # 0: spam and rejected mentions are kept
        self._items: dict[str, Item] = {}  # pk -> item: the one table
        # The verifier's threads share one repository: each method is one atomic step, as each DynamoDB
        # request is (the conditions are checked and applied under the lock).
        self._lock = threading.RLock()

    # --- test inspection (not part of store.contract) ----------------------------------------

    def mentions(self) -> list[MentionRecord]:
        """Every stored mention, by id: what a test looks at to see that nothing (else) was stored."""
        with self._lock:
            return [
                _decoded(MentionRecord, item)
                for _, item in sorted(self._items.items())
                if "status" in item and "source" in item
            ]

    # --- one mention ------------------------------------------------------------------------

    def warm(self) -> None:
        """Nothing to build in memory."""

    def get(self, mention_id: str) -> MentionRecord | None:
        with self._lock:
            item = self._items.get(mention_id)
            return _decoded(MentionRecord, item) if item is not None else None

    def create(self, record: MentionRecord) -> bool:
        """Store a new mention; False when one with the same id exists already (nothing written)."""
        for name, value in index_keys(record.status, record.target, record.site).items():
            setattr(record, name, value)
        with self._lock:
            if record.pk in self._items:
                return False
            self._items[record.pk] = _encoded(record)
            return True

    def _update(
        self,
        record: MentionRecord,
        condition: Callable[[MentionRecord | None], bool],
        change: Callable[[MentionRecord], None],
    ) -> bool:
        """One conditional UpdateItem: check `condition` on the stored mention, apply `change` to it, store it
        and refresh `record` with everything stored (ALL_NEW). False, nothing written, if the check fails."""
        with self._lock:
            item = self._items.get(record.pk)
            current = _decoded(MentionRecord, item) if item is not None else None
            if not condition(current):
                return False
            assert current is not None  # every condition here requires the mention to exist
            change(current)
            stored = _encoded(current)
            self._items[record.pk] = stored
            record.deserialize(copy.deepcopy(stored))
            return True

    @staticmethod
    def _set_index_keys(current: MentionRecord, status: str, record: MentionRecord) -> None:
        # From the caller's record, as the real update's actions are (target and site never change).
        for name, value in index_keys(status, record.target, record.site).items():
            setattr(current, name, value)

    def update_resend(
        self, record: MentionRecord, *, status: Status, fields: dict[str, Any], now: datetime, interval_s: int = 0
    ) -> bool:
        """Apply a re-send if the record is still in the status we read (optimistic concurrency) and
        the previous send is at least interval_s old."""
        read_status = record.status

        def condition(current: MentionRecord | None) -> bool:
            if current is None or current.status != read_status:
                return False
            if interval_s:
                cutoff = now.timestamp() - interval_s
                return current.last_sent_at is None or current.last_sent_at <= cutoff
            return True

        def change(current: MentionRecord) -> None:
            current.updated_at = isoformat(now)
            current.status = str(status)
            current.last_sent_at = now.timestamp()
            for name, value in fields.items():
                if value is not None:
                    getattr(MentionRecord, name)  # an unknown attribute fails as the real update's action does
                    setattr(current, name, value)
            if status is Status.QUEUED:
                current.status_reason = None
                current.fetch_status = None
            self._set_index_keys(current, status, record)

        return self._update(record, condition, change)

    def record_verdict(self, record: MentionRecord, verdict: Verdict, now: datetime) -> bool:
        """Store the verdict; False when the record changed since it was read (nothing written)."""
        stamp = isoformat(now)
        read_status = record.status
        values = verdict_values(verdict, stamp, self._expiry(verdict.status, now))

        def change(current: MentionRecord) -> None:
            for name, value in values.items():
                setattr(current, name, value)
            if verdict.status == Status.PENDING and read_status != Status.PENDING:
                current.held_at = stamp
            self._set_index_keys(current, verdict.status, record)
            current.attempts = (current.attempts or 0) + 1

        # Only if nobody changed the status while we fetched: an owner's spam/delete must stand, and
        # a re-send that changed it has queued its own verification.
        return self._update(record, lambda current: current is not None and current.status == read_status, change)

    def discard_unqueued(self, mention_id: str) -> None:
        """Remove a just-created record whose queue message could not be sent, so a retry starts afresh."""
        with self._lock:
            item = self._items.get(mention_id)
            if item is not None and _text(item, "status") == Status.QUEUED:
                del self._items[mention_id]

    def decide_as_owner(
        self, record: MentionRecord, status: Status, now: datetime, *, by: str = "owner", note: str | None = None
    ) -> bool:
        """The owner approves, marks spam, deletes or restores; the change joins the mention's audit trail.
        False when the record changed since it was read (nothing written)."""
        stamp = isoformat(now)
        read_status = record.status

        def change(current: MentionRecord) -> None:
            entry = Change(at=stamp, by=by, from_status=read_status, to_status=str(status), note=note)
            current.status = str(status)
            current.status_reason = f"{status} by {by}" + (f": {note}" if note else "")
            current.updated_at = stamp
            current.history = [*(current.history or []), entry]
            if status == Status.DELETED:
                current.deleted_by, current.deleted_at = "owner", stamp
            else:
                current.deleted_by = current.deleted_at = None
            current.expires_at = self._expiry(status, now)
            self._set_index_keys(current, status, record)

        return self._update(record, lambda current: current is not None and current.status == read_status, change)

    def _expiry(self, status: str, now: datetime) -> int | None:
        """When a spam or rejected mention may be forgotten; approved and held ones stay."""
        if self.retention_s and status in (Status.SPAM, Status.REJECTED):
            return int(now.timestamp()) + self.retention_s
        return None

    def record_failed_attempt(self, record: MentionRecord, reason: str, now: datetime) -> None:
        def change(current: MentionRecord) -> None:
            current.attempts = (current.attempts or 0) + 1
            current.status_reason = reason
            current.updated_at = isoformat(now)

        if not self._update(record, lambda current: current is not None, change):
            # What pynamodb raises when the mention is gone (the condition `pk exists` failed).
            raise UpdateError("Failed to update item", cause=_condition_failed("UpdateItem"))

    # --- the indexes ------------------------------------------------------------------------

    def _query(self, hash_name: str, hash_value: str, range_name: str, *, forward: bool = True) -> list[Item]:
        """The items of one partition of a sparse index, in its sort order (ties by id)."""
        with self._lock:
            found = [
                item
                for item in self._items.values()
                if _text(item, hash_name) == hash_value and _text(item, range_name) is not None
            ]
        found.sort(key=lambda item: (_text(item, range_name), _text(item, "pk")), reverse=not forward)
        return found

    def approved_for_target(self, target: str, *, per_page: int, page: int) -> list[MentionRecord]:
        """Approved mentions of one target, newest first (webmention.io's 0-based `page`)."""
        from linkback.read.feed import FeedQuery

        return self.approved(FeedQuery(targets=(target,), per_page=per_page, page=page))

    def approved(self, query: FeedQuery, site: str | None = None) -> list[MentionRecord]:
        """One page of approved mentions of the query's targets (or of a whole site): the same bounded
        reads of the public indexes as the real one, then `feed.select` filters, sorts and pages."""
        from linkback.read.feed import select

        received_after = query.since
        if query.since_id:
            anchor = self.get(query.since_id)
            if anchor is not None and (received_after is None or anchor.received_at > received_after):
                received_after = anchor.received_at
        limit = query.per_page * (query.page + 1) if query.plain else MAX_READ
        forward = not query.newest_first if query.plain else False
        sources = [("public_target", target) for target in query.targets]
        if site is not None:
            sources = [("public_site", site)]
        records: list[MentionRecord] = []
        for name, key in sources:
            items = [
                item
                for item in self._query(name, key, "received_at", forward=forward)
                if received_after is None or (_text(item, "received_at") or "") > received_after
            ]
            records += [_decoded(MentionRecord, item, PUBLIC_ATTRIBUTES) for item in items[:limit]]
        return select(records, query)

    def count(self, targets: tuple[str, ...] = (), site: str | None = None) -> Counter[str]:
        """Approved mentions by type, for `/api/count`."""
        from linkback.read.feed import type_key

        sources: list[tuple[str, str | None]] = [("public_target", t) for t in targets] or [("public_site", site)]
        counts: Counter[str] = Counter()
        for name, key in sources:
            if key is None:
                continue
            for item in self._query(name, key, "received_at")[:MAX_READ]:
                record = _decoded(MentionRecord, item, ("pk", "wm_property", "rsvp"))
                counts[type_key(record.wm_property, record.rsvp)] += 1
        return counts

    def count_for_target(self, target: str) -> Counter[str]:
        return self.count((target,))

    def due_for_recheck(self, verified_before: str, limit: int) -> list[str]:
        """Ids of approved mentions last verified before the cutoff, the longest unchecked first."""
        items = self._query("recheck_key", RECHECK_KEY, "verified_at")
        due = [str(_text(item, "pk")) for item in items if str(_text(item, "verified_at")) < verified_before]
        return due[:limit]

    def held_for_site(self, site: str, status: Status = Status.PENDING, *, limit: int = 50) -> list[MentionRecord]:
        """Held (or spam) mentions of a site, oldest first: the moderation queue."""
        return self.for_site(site, status, limit=limit)[0]

    def for_site(
        self, site: str, status: Status, *, limit: int = 50, cursor: dict[str, Any] | None = None
    ) -> tuple[list[MentionRecord], dict[str, Any] | None]:
        """One page of a site's mentions in one status and the key to continue from (None at the end):
        approved ones newest first, every other status oldest first (the order a queue is worked in)."""
        if status == Status.APPROVED:
            hash_name, hash_value, forward = "public_site", site, False
        else:
            hash_name, hash_value, forward = "moderation_key", f"{site}#{status}", True
        items = self._query(hash_name, hash_value, "received_at", forward=forward)
        if cursor is not None:
            after = self._cursor_position(cursor, hash_name, hash_value)
            if forward:
                items = [item for item in items if (_text(item, "received_at"), _text(item, "pk")) > after]
            else:
                items = [item for item in items if (_text(item, "received_at"), _text(item, "pk")) < after]
        page = items[:limit]
        records = [_decoded(MentionRecord, item) for item in page]
        if len(records) < limit or not page:
            return records, None
        # DynamoDB's LastEvaluatedKey of an index query: the table's key and the index's keys.
        last = page[-1]
        next_key = {name: {"S": _text(last, name)} for name in (hash_name, "received_at", "pk")}
        return records, next_key

    @staticmethod
    def _cursor_position(cursor: dict[str, Any], hash_name: str, hash_value: str) -> tuple[str, str]:
        """Where a listing continues; InvalidCursor for a key of another index or another partition, as
        DynamoDB's ValidationException ("The provided starting key is invalid")."""
        names = {hash_name, "received_at", "pk"}
        if set(cursor) != names or not all(
            isinstance(value, dict) and list(value) == ["S"] and isinstance(value["S"], str)
            for value in cursor.values()
        ):
            raise InvalidCursor("the cursor does not belong to this listing")
        if cursor[hash_name]["S"] != hash_value:
            raise InvalidCursor("the cursor does not belong to this listing")
        return cursor["received_at"]["S"], cursor["pk"]["S"]

    # --- site tokens ------------------------------------------------------------------------

    def create_site_token(self, site: str, now: datetime) -> str:
        """A new read token for a site's whole feed; only its hash is stored, so show it once."""
        token = secrets.token_urlsafe(32)
        record = SiteToken(_token_key(token), site=site, created_at=isoformat(now))
        with self._lock:
            self._items[record.pk] = _encoded(record)
        return token

    def site_for_token(self, token: str) -> str | None:
        with self._lock:
            item = self._items.get(_token_key(token))
        return _decoded(SiteToken, item).site if item is not None else None

    # --- the owner's block and allow lists ----------------------------------------------------

    def add_list_entry(
        self, kind: str, scope: str, value: str, *, by: str, now: datetime, note: str | None = None
    ) -> ListEntry:
        entry = ListEntry(
            ListEntry.key(kind, scope, value),
            kind=kind,
            scope=scope,
            value=value,
            note=note,
            created_by=by,
            moderation_key=f"{LIST_PREFIX}{kind}",
            received_at=isoformat(now),
        )
        with self._lock:
            self._items[entry.pk] = _encoded(entry)  # a put: listing again replaces the entry
        return entry

    def remove_list_entry(self, kind: str, scope: str, value: str) -> ListEntry | None:
        with self._lock:
            item = self._items.pop(ListEntry.key(kind, scope, value), None)
        return _decoded(ListEntry, item) if item is not None else None

    def list_entries(self, kind: str) -> list[ListEntry]:
        items = self._query("moderation_key", f"{LIST_PREFIX}{kind}", "received_at")
        return [_decoded(ListEntry, item) for item in items]

    def matching_list_entry(self, url: str, domains: tuple[str, ...]) -> ListEntry | None:
        """The owner's entry that speaks about this source: the exact URL first, then the host, then its
        registrable domain; at the same place a block beats an allow."""
        places = [("url", url)] + [("domain", domain) for domain in dict.fromkeys(domains) if domain]
        keys = [ListEntry.key(kind, scope, value) for scope, value in places for kind in ("block", "allow")]
        with self._lock:
            item = next((self._items[key] for key in keys if key in self._items), None)
        return _decoded(ListEntry, item) if item is not None else None

    # --- offences and single-use markers ---------------------------------------------------------

    def record_offence(self, sender_ip: str | None, domain: str, now: datetime) -> None:
        """Count one more spam from this sender address and this source domain."""
        expires = int(now.timestamp()) + OFFENCE_MEMORY_S
        for key in (f"ip#{sender_ip}" if sender_ip else None, f"domain#{domain}" if domain else None):
            if key:
                with self._lock:
                    item = self._items.get(OFFENCE_PREFIX + key)
                    marker = _decoded(Marker, item) if item is not None else Marker(OFFENCE_PREFIX + key)
                    marker.hits = (marker.hits or 0) + 1
                    marker.expires_at = expires
                    self._items[marker.pk] = _encoded(marker)

    def offences(self, sender_ip: str | None, domain: str, now: datetime) -> int:
        """Earlier spam from this sender address or this source domain (the larger count)."""
        keys = [OFFENCE_PREFIX + key for key in (f"ip#{sender_ip}" if sender_ip else "", f"domain#{domain}") if key]
        moment = now.timestamp()
        with self._lock:
            markers = [_decoded(Marker, self._items[key]) for key in keys if key in self._items]
        counts = [
            int(marker.hits)
            for marker in markers
            if marker.expires_at is None or marker.expires_at > moment  # TTL deletion lags by days
        ]
        return max(counts, default=0)

    def was_claimed(self, key: str) -> bool:
        with self._lock:
            return ONCE_PREFIX + key in self._items

    def claim_once(self, key: str, *, now: datetime, keep_s: int) -> bool:
        """Mark `key` used; False when it was used already."""
        marker = Marker(ONCE_PREFIX + key, hits=1, expires_at=int(now.timestamp()) + keep_s)
        with self._lock:
            if marker.pk in self._items:
                return False
            self._items[marker.pk] = _encoded(marker)
            return True


class InMemoryRateLimiter:
    """`repository.RateLimiter` in memory: fixed-window counters, a refused use not counted."""

    def __init__(self) -> None:
        self._hits: dict[str, int] = {}
        self._lock = threading.Lock()

    def take(self, scope: str, key: str, *, limit: int, window_s: int, now: float) -> int | None:
        """Count one use in the current fixed window; None if allowed, else seconds until the next window."""
        window = int(now // window_s)
        counter = f"{LIMIT_PREFIX}{scope}#{key}#{window}"
        with self._lock:
            hits = self._hits.get(counter)
            # The real condition: the counter does not exist yet, or it is below the limit.
            counted = hits is None or hits < limit
            if counted:
                self._hits[counter] = (hits or 0) + 1
        return None if counted else max(1, int((window + 1) * window_s - now))
