"""The only code that reads and writes DynamoDB: the repository of mentions, lists, tokens and markers
over the pynamodb models of `store.schema`. Every write that depends on what was read is conditional on it.
"""

from __future__ import annotations

import contextlib
import secrets
from collections import Counter
from datetime import datetime
from typing import TYPE_CHECKING, Any

from pynamodb.exceptions import DeleteError, QueryError

from linkback.model import Status, Verdict, isoformat
from linkback.store.schema import (
    LIST_PREFIX,
    MAX_READ,
    MODELS,
    OFFENCE_MEMORY_S,
    OFFENCE_PREFIX,
    ONCE_PREFIX,
    PUBLIC_ATTRIBUTES,
    RECHECK_KEY,
    TOKEN_PREFIX,
    Change,
    InTable,
    InvalidCursor,
    ListEntry,
    Marker,
    MentionRecord,
    SiteToken,
    conditional,
    index_keys,
    token_hash,
    verdict_values,
)

if TYPE_CHECKING:
    from pynamodb.expressions.update import Action
    from pynamodb.indexes import GlobalSecondaryIndex

    from linkback.read.feed import FeedQuery

__all__ = ["InvalidCursor", "ListEntry", "MentionRecord", "MentionRepository", "Verdict"]


class MentionRepository:
    def __init__(self, table_name: str, region: str, *, retention_days: int = 0) -> None:
        self.retention_s = retention_days * 86400  # 0: spam and rejected mentions are kept
        # pynamodb keeps table settings on the class; binding them here, once, keeps the name
        # configurable (one stack per site, tests per run) without a second model. Every model shares
        # InTable's Meta, so one assignment binds them all; each drops the connection it had.
        meta = InTable.Meta
        if meta.table_name != table_name or meta.region != region:
            meta.table_name = table_name
            meta.region = region
            for model in MODELS:
                model._connection = None
        # pynamodb gives each model class its own botocore client, and builds it (and a botocore session,
        # per thread) on first use: the verifier's ten threads racing to build five of them cost ~1.6 s of
        # a batch. One table, one client: every model uses MentionRecord's connection, whose table
        # description (all four indexes) is a superset of theirs.
        shared = MentionRecord._get_connection().connection
        for model in MODELS[1:]:
            model._get_connection().connection = shared

    def warm(self) -> None:
        """Build the DynamoDB client now, once, before a batch fans out to threads."""
        MentionRecord._get_connection().connection.client  # noqa: B018 - the property builds it

    def get(self, mention_id: str) -> MentionRecord | None:
        try:
            return MentionRecord.get(mention_id)
        except MentionRecord.DoesNotExist:
            return None

    def create(self, record: MentionRecord) -> bool:
        """Store a new mention; False when one with the same id exists already (nothing written)."""
        for name, value in index_keys(record.status, record.target, record.site).items():
            setattr(record, name, value)
        return conditional(lambda: record.save(condition=MentionRecord.pk.does_not_exist()))

    def update_resend(
        self, record: MentionRecord, *, status: Status, fields: dict[str, Any], now: datetime, interval_s: int = 0
    ) -> bool:
        """Apply a re-send if the record is still in the status we read (optimistic concurrency) and
        the previous send is at least interval_s old."""
        actions: list[Action] = [
            MentionRecord.updated_at.set(isoformat(now)),
            MentionRecord.status.set(str(status)),
            MentionRecord.last_sent_at.set(now.timestamp()),
        ]
        actions += [getattr(MentionRecord, name).set(value) for name, value in fields.items() if value is not None]
        if status is Status.QUEUED:
            # A fresh chance: the last verification's reason no longer describes this record.
            actions += [MentionRecord.status_reason.remove(), MentionRecord.fetch_status.remove()]
        actions += self._index_actions(status, record)
        condition = MentionRecord.status == record.status
        if interval_s:
            cutoff = now.timestamp() - interval_s
            condition &= MentionRecord.last_sent_at.does_not_exist() | (MentionRecord.last_sent_at <= cutoff)
        return conditional(lambda: record.update(actions=actions, condition=condition))

    def record_verdict(self, record: MentionRecord, verdict: Verdict, now: datetime) -> bool:
        """Store the verdict; False when the record changed since it was read (nothing written)."""
        stamp = isoformat(now)
        values = verdict_values(verdict, stamp, self._expiry(verdict.status, now))
        actions = [
            getattr(MentionRecord, name).set(value) if value is not None else getattr(MentionRecord, name).remove()
            for name, value in values.items()
        ]
        if verdict.status == Status.PENDING and record.status != Status.PENDING:
            actions.append(MentionRecord.held_at.set(stamp))
        actions += self._index_actions(verdict.status, record)
        actions.append(MentionRecord.attempts.add(1))
        # Only if nobody changed the status while we fetched: an owner's spam/delete must stand, and
        # a re-send that changed it has queued its own verification.
        condition = MentionRecord.pk.exists() & (MentionRecord.status == record.status)
        return conditional(lambda: record.update(actions=actions, condition=condition))

    def discard_unqueued(self, mention_id: str) -> None:
        """Remove a just-created record whose queue message could not be sent, so a retry starts afresh."""
        # Changed meanwhile or already gone: then there is nothing of ours to undo.
        with contextlib.suppress(DeleteError):
            MentionRecord(mention_id).delete(condition=MentionRecord.status == str(Status.QUEUED))

    def decide_as_owner(
        self, record: MentionRecord, status: Status, now: datetime, *, by: str = "owner", note: str | None = None
    ) -> bool:
        """The owner approves, marks spam, deletes or restores; the change joins the mention's audit trail.
        False when the record changed since it was read (nothing written)."""
        stamp = isoformat(now)
        change = Change(at=stamp, by=by, from_status=record.status, to_status=str(status), note=note)
        actions: list[Action] = [
            MentionRecord.status.set(str(status)),
            MentionRecord.status_reason.set(f"{status} by {by}" + (f": {note}" if note else "")),
            MentionRecord.updated_at.set(stamp),
            MentionRecord.history.set((MentionRecord.history | []).append([change])),
        ]
        if status == Status.DELETED:
            actions += [MentionRecord.deleted_by.set("owner"), MentionRecord.deleted_at.set(stamp)]
        else:
            actions += [MentionRecord.deleted_by.remove(), MentionRecord.deleted_at.remove()]
        expiry = self._expiry(status, now)
        actions.append(MentionRecord.expires_at.set(expiry) if expiry else MentionRecord.expires_at.remove())
        actions += self._index_actions(status, record)
        return conditional(lambda: record.update(actions=actions, condition=MentionRecord.status == record.status))

    def _expiry(self, status: str, now: datetime) -> int | None:
        """When a spam or rejected mention may be forgotten; approved and held ones stay."""
        if self.retention_s and status in (Status.SPAM, Status.REJECTED):
            return int(now.timestamp()) + self.retention_s
        return None

    def record_failed_attempt(self, record: MentionRecord, reason: str, now: datetime) -> None:
        record.update(
            actions=[
                MentionRecord.attempts.add(1),
                MentionRecord.status_reason.set(reason),
                MentionRecord.updated_at.set(isoformat(now)),
            ],
            condition=MentionRecord.pk.exists(),
        )

    @staticmethod
    def _index_actions(status: Status, record: MentionRecord) -> list[Action]:
        actions = []
        for name, value in index_keys(status, record.target, record.site).items():
            attribute = getattr(MentionRecord, name)
            actions.append(attribute.set(value) if value is not None else attribute.remove())
        return actions

    def approved_for_target(self, target: str, *, per_page: int, page: int) -> list[MentionRecord]:
        """Approved mentions of one target, newest first (webmention.io's 0-based `page`)."""
        from linkback.read.feed import FeedQuery

        return self.approved(FeedQuery(targets=(target,), per_page=per_page, page=page))

    def approved(self, query: FeedQuery, site: str | None = None) -> list[MentionRecord]:
        """One page of approved mentions of the query's targets (or of a whole site): Query calls on
        the sparse public indexes, bounded, then `feed.select` filters, sorts and pages."""
        # The feed module is loaded by the read function only: the receivers and the verifier store.
        from linkback.read.feed import select

        received_after = query.since
        if query.since_id:
            anchor = self.get(query.since_id)
            if anchor is not None and (received_after is None or anchor.received_at > received_after):
                received_after = anchor.received_at
        condition = MentionRecord.received_at > received_after if received_after else None
        # Sorted by reception with no filter: the index order is the answer, read only up to the page.
        limit = query.per_page * (query.page + 1) if query.plain else MAX_READ
        forward = not query.newest_first if query.plain else False
        sources: list[tuple[GlobalSecondaryIndex[MentionRecord], str]]
        sources = [(MentionRecord.public_by_target, target) for target in query.targets]
        if site is not None:
            sources = [(MentionRecord.public_by_site, site)]
        records: list[MentionRecord] = []
        for index, key in sources:
            records += index.query(
                key,
                range_key_condition=condition,
                scan_index_forward=forward,
                limit=limit,
                page_size=min(limit, 200),
                attributes_to_get=list(PUBLIC_ATTRIBUTES),  # pynamodb reads a tuple as one path
            )
        return select(records, query)

    def count(self, targets: tuple[str, ...] = (), site: str | None = None) -> Counter[str]:
        """Approved mentions by type, for `/api/count` (reads only the two attributes it needs)."""
        from linkback.read.feed import type_key

        sources: list[tuple[GlobalSecondaryIndex[MentionRecord], str | None]]
        sources = [(MentionRecord.public_by_target, t) for t in targets] or [(MentionRecord.public_by_site, site)]
        counts: Counter[str] = Counter()
        for index, key in sources:
            for record in index.query(key, attributes_to_get=["wm_property", "rsvp"], limit=MAX_READ):
                counts[type_key(record.wm_property, record.rsvp)] += 1
        return counts

    def count_for_target(self, target: str) -> Counter[str]:
        return self.count((target,))

    def create_site_token(self, site: str, now: datetime) -> str:
        """A new read token for a site's whole feed; only its hash is stored, so show it once."""
        token = secrets.token_urlsafe(32)
        SiteToken(TOKEN_PREFIX + token_hash(token), site=site, created_at=isoformat(now)).save()
        return token

    def site_for_token(self, token: str) -> str | None:
        try:
            return SiteToken.get(TOKEN_PREFIX + token_hash(token)).site
        except SiteToken.DoesNotExist:
            return None

    def due_for_recheck(self, verified_before: str, limit: int) -> list[str]:
        """Ids of approved mentions last verified before the cutoff, the longest unchecked first."""
        results = MentionRecord.recheck_due.query(
            RECHECK_KEY, range_key_condition=MentionRecord.verified_at < verified_before, limit=limit
        )
        return [record.pk for record in results]

    def held_for_site(self, site: str, status: Status = Status.PENDING, *, limit: int = 50) -> list[MentionRecord]:
        """Held (or spam) mentions of a site, oldest first: the moderation queue."""
        return self.for_site(site, status, limit=limit)[0]

    def for_site(
        self, site: str, status: Status, *, limit: int = 50, cursor: dict[str, Any] | None = None
    ) -> tuple[list[MentionRecord], dict[str, Any] | None]:
        """One page of a site's mentions in one status and the key to continue from (None at the end):
        approved ones newest first, every other status oldest first (the order a queue is worked in)."""
        if status == Status.APPROVED:
            results = MentionRecord.public_by_site.query(
                site, scan_index_forward=False, limit=limit, last_evaluated_key=cursor
            )
        else:
            results = MentionRecord.moderation_by_site.query(
                f"{site}#{status}", scan_index_forward=True, limit=limit, last_evaluated_key=cursor
            )
        try:
            records = list(results)
        except QueryError as error:
            if cursor is not None and error.cause_response_code == "ValidationException":
                raise InvalidCursor("the cursor does not belong to this listing") from error
            raise
        return records, results.last_evaluated_key if len(records) >= limit else None

    # --- the owner's block and allow lists ------------------------------------------------------

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
        entry.save()
        return entry

    def remove_list_entry(self, kind: str, scope: str, value: str) -> ListEntry | None:
        try:
            entry = ListEntry.get(ListEntry.key(kind, scope, value))
        except ListEntry.DoesNotExist:
            return None
        entry.delete()
        return entry

    def list_entries(self, kind: str) -> list[ListEntry]:
        return list(ListEntry.by_kind.query(f"{LIST_PREFIX}{kind}", scan_index_forward=True))

    def matching_list_entry(self, url: str, domains: tuple[str, ...]) -> ListEntry | None:
        """The owner's entry that speaks about this source, in one BatchGet: the exact URL first, then the
        host, then its registrable domain; at the same place a block beats an allow."""
        places = [("url", url)] + [("domain", domain) for domain in dict.fromkeys(domains) if domain]
        keys = [ListEntry.key(kind, scope, value) for scope, value in places for kind in ("block", "allow")]
        found = {entry.pk: entry for entry in ListEntry.batch_get(keys)}
        return next((found[key] for key in keys if key in found), None)

    # --- offences and single-use markers ---------------------------------------------------------

    def record_offence(self, sender_ip: str | None, domain: str, now: datetime) -> None:
        """Count one more spam from this sender address and this source domain."""
        expires = int(now.timestamp()) + OFFENCE_MEMORY_S
        for key in (f"ip#{sender_ip}" if sender_ip else None, f"domain#{domain}" if domain else None):
            if key:
                Marker(OFFENCE_PREFIX + key).update(actions=[Marker.hits.add(1), Marker.expires_at.set(expires)])

    def offences(self, sender_ip: str | None, domain: str, now: datetime) -> int:
        """Earlier spam from this sender address or this source domain (the larger count)."""
        keys = [OFFENCE_PREFIX + key for key in (f"ip#{sender_ip}" if sender_ip else "", f"domain#{domain}") if key]
        moment = now.timestamp()
        counts = [
            int(marker.hits)
            for marker in Marker.batch_get(keys)
            if marker.expires_at is None or marker.expires_at > moment  # TTL deletion lags by days
        ]
        return max(counts, default=0)

    def was_claimed(self, key: str) -> bool:
        try:
            Marker.get(ONCE_PREFIX + key)
        except Marker.DoesNotExist:
            return False
        return True

    def claim_once(self, key: str, *, now: datetime, keep_s: int) -> bool:
        """Mark `key` used; False when it was used already. One-click links and notifications use it
        so that a link acts once and a redelivered message does not mail twice."""
        marker = Marker(ONCE_PREFIX + key, hits=1, expires_at=int(now.timestamp()) + keep_s)
        return conditional(lambda: marker.save(condition=Marker.pk.does_not_exist()))
