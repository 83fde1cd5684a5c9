"""The only code that knows DynamoDB: pynamodb models for the mentions table and a small repository.

One table (template.yaml `MentionsTable`), key `pk`. Access patterns (DESIGN.md §5):
1. idempotent receive: `pk` = mention id = hash(normalised source, normalised target), conditional put;
2. public read: sparse GSI `public-by-target` (only approved mentions carry `public_target`);
3. moderation: GSI `moderation-by-site` keyed `<site>#<status>` for every status but approved (approved ones
   are listed through `public-by-site`); the owner's block/allow list entries share it under `list#<kind>`
   (one index serving two item types, so the lists cost no index of their own);
4. counts: a Query on (2) reading only `wm_property`;
5. by id: GetItem on `pk`;
6. counters and markers with a TTL (`expires_at`): rate limits, offences, used one-click links.
pynamodb reaches DynamoDB Local through `AWS_ENDPOINT_URL_DYNAMODB` like any botocore client: no
test-only code path here.
"""

from __future__ import annotations

import contextlib
import hashlib
import secrets
from collections import Counter
from collections.abc import Callable
from datetime import datetime
from typing import TYPE_CHECKING, Any, NamedTuple

from pynamodb.attributes import ListAttribute, MapAttribute, NumberAttribute, UnicodeAttribute
from pynamodb.exceptions import DeleteError, PutError, QueryError, UpdateError
from pynamodb.indexes import AllProjection, GlobalSecondaryIndex, KeysOnlyProjection
from pynamodb.models import Model

from linkback.model import Status, isoformat

if TYPE_CHECKING:
    from linkback.read.feed import FeedQuery

PUBLIC_INDEX = "public-by-target"
SITE_INDEX = "public-by-site"
MODERATION_INDEX = "moderation-by-site"
RECHECK_INDEX = "recheck-due"
# Statuses an owner lists through the moderation index (approved ones through `public-by-site`).
MODERATED_STATUSES = frozenset(set(Status) - {Status.APPROVED})
# What the public read shows and sorts by. Nothing else is read: sender addresses, spam reasons and the
# audit trail never reach that function, and unread lists cost nothing to decode (pynamodb builds and
# deep-copies a MapAttribute for every `history`, even an empty one: 55% of the feed's CPU).
PUBLIC_ATTRIBUTES = (
    "pk",
    "protocol",
    "source",
    "target",
    "status",
    "received_at",
    "updated_at",
    "published",
    "title",
    "excerpt",
    "author_name",
    "author_url",
    "author_photo",
    "entry_url",
    "wm_property",
    "rsvp",
)
MAX_READ = 2000  # items one feed request may read; a target with more sorts by reception only
RECHECK_KEY = "approved"  # one partition: rechecks read it oldest-verified first, a page a day
LIMIT_PREFIX = "limit#"
TOKEN_PREFIX = "token#"  # noqa: S105 - a key prefix, not a secret
LIST_PREFIX = "list#"
OFFENCE_PREFIX = "offence#"
ONCE_PREFIX = "once#"
OFFENCE_MEMORY_S = 180 * 86400  # a sender that spammed half a year ago has had time to change hands


class PublicByTarget(GlobalSecondaryIndex["MentionRecord"]):
    class Meta:
        index_name = PUBLIC_INDEX
        projection = AllProjection()

    public_target = UnicodeAttribute(hash_key=True)
    received_at = UnicodeAttribute(range_key=True)


class PublicBySite(GlobalSecondaryIndex["MentionRecord"]):
    class Meta:
        index_name = SITE_INDEX
        projection = AllProjection()

    public_site = UnicodeAttribute(hash_key=True)
    received_at = UnicodeAttribute(range_key=True)


class RecheckDue(GlobalSecondaryIndex["MentionRecord"]):
    class Meta:
        index_name = RECHECK_INDEX
        projection = KeysOnlyProjection()

    recheck_key = UnicodeAttribute(hash_key=True)
    verified_at = UnicodeAttribute(range_key=True)


class ModerationBySite(GlobalSecondaryIndex["MentionRecord"]):
    class Meta:
        index_name = MODERATION_INDEX
        projection = AllProjection()

    moderation_key = UnicodeAttribute(hash_key=True)
    received_at = UnicodeAttribute(range_key=True)


class InvalidCursor(ValueError):
    """A listing cursor DynamoDB refuses as the start of this query (another listing's, or forged)."""


class Change(MapAttribute):
    """One entry of a mention's audit trail: who moved it from which status to which, and when."""

    at = UnicodeAttribute()
    by = UnicodeAttribute()
    from_status = UnicodeAttribute(attr_name="from")
    to_status = UnicodeAttribute(attr_name="to")
    note = UnicodeAttribute(null=True)


class MentionRecord(Model):
    class Meta:
        table_name = "linkback-mentions"  # bound to the configured name by MentionRepository
        region = "us-east-1"

    pk = UnicodeAttribute(hash_key=True)
    protocol = UnicodeAttribute()
    source = UnicodeAttribute()
    target = UnicodeAttribute()
    site = UnicodeAttribute()
    status = UnicodeAttribute()
    status_reason = UnicodeAttribute(null=True)
    received_at = UnicodeAttribute()
    updated_at = UnicodeAttribute()
    verified_at = UnicodeAttribute(null=True)
    sender_ip = UnicodeAttribute(null=True)
    user_agent = UnicodeAttribute(null=True)
    # What the sender claimed (TrackBack's fields) and what the verifier found on the page.
    sent_title = UnicodeAttribute(null=True)
    sent_excerpt = UnicodeAttribute(null=True)
    sent_blog_name = UnicodeAttribute(null=True)
    title = UnicodeAttribute(null=True)
    excerpt = UnicodeAttribute(null=True)
    author_name = UnicodeAttribute(null=True)
    author_url = UnicodeAttribute(null=True)
    author_photo = UnicodeAttribute(null=True)
    published = UnicodeAttribute(null=True)
    entry_url = UnicodeAttribute(null=True)
    wm_property = UnicodeAttribute(default="mention-of")
    rsvp = UnicodeAttribute(null=True)
    deleted_by = UnicodeAttribute(null=True)
    deleted_at = UnicodeAttribute(null=True)
    spam_score = NumberAttribute(default=0)
    spam_reasons = ListAttribute(of=UnicodeAttribute, default=list)
    fetch_status = NumberAttribute(null=True)
    fetched_url = UnicodeAttribute(null=True)
    attempts = NumberAttribute(default=0)
    last_sent_at = NumberAttribute(null=True)  # epoch seconds of the latest send: the re-send interval
    public_target = UnicodeAttribute(null=True)
    public_site = UnicodeAttribute(null=True)
    recheck_key = UnicodeAttribute(null=True)
    moderation_key = UnicodeAttribute(null=True)
    history = ListAttribute(of=Change, default=list)  # the owner's decisions, oldest first
    held_at = UnicodeAttribute(null=True)  # when it last became pending: one announcement per hold
    expires_at = NumberAttribute(null=True)  # the table's TTL: spam and rejected mentions are not kept forever

    public_by_target = PublicByTarget()
    public_by_site = PublicBySite()
    recheck_due = RecheckDue()
    moderation_by_site = ModerationBySite()

    @property
    def id(self) -> str:
        return self.pk


class Allowance(Model):
    """Rate-limit state: a fixed-window counter or a last-use time, expiring through the TTL."""

    class Meta:
        table_name = "linkback-mentions"
        region = "us-east-1"

    pk = UnicodeAttribute(hash_key=True)  # LIMIT_PREFIX + scope + key (+ window)
    hits = NumberAttribute(default=0)
    last_at = NumberAttribute(null=True)
    expires_at = NumberAttribute(null=True)  # epoch seconds: the table's TTL attribute


class SiteToken(Model):
    """A read token for a whole site's feed (`domain` + `token`); only its hash is stored."""

    class Meta:
        table_name = "linkback-mentions"
        region = "us-east-1"

    pk = UnicodeAttribute(hash_key=True)  # TOKEN_PREFIX + sha256(token)
    site = UnicodeAttribute()
    created_at = UnicodeAttribute()


class ListsIndex(GlobalSecondaryIndex["ListEntry"]):
    class Meta:
        index_name = MODERATION_INDEX
        projection = AllProjection()

    moderation_key = UnicodeAttribute(hash_key=True)
    received_at = UnicodeAttribute(range_key=True)


class ListEntry(Model):
    """The owner's block or allow list entry: a registrable domain or an exact source URL."""

    class Meta:
        table_name = "linkback-mentions"
        region = "us-east-1"

    pk = UnicodeAttribute(hash_key=True)  # LIST_PREFIX + kind + "#" + scope + "#" + value
    kind = UnicodeAttribute()  # "block" | "allow"
    scope = UnicodeAttribute()  # "domain" | "url"
    value = UnicodeAttribute()
    note = UnicodeAttribute(null=True)
    created_by = UnicodeAttribute()
    moderation_key = UnicodeAttribute()  # "list#<kind>": the entries of one list through the moderation index
    received_at = UnicodeAttribute()  # when it was listed (named for the shared index's sort key)

    by_kind = ListsIndex()

    @classmethod
    def key(cls, kind: str, scope: str, value: str) -> str:
        return f"{LIST_PREFIX}{kind}#{scope}#{value}"


class Marker(Model):
    """A counter or a single-use marker that expires through the table's TTL (offences, used links)."""

    class Meta:
        table_name = "linkback-mentions"
        region = "us-east-1"

    pk = UnicodeAttribute(hash_key=True)
    hits = NumberAttribute(default=0)
    expires_at = NumberAttribute(null=True)


def _conditional(write: Callable[[], Any]) -> bool:
    """Run a conditional put/update; False (nothing written) when its condition did not hold."""
    try:
        write()
    except (PutError, UpdateError) as error:
        if error.cause_response_code == "ConditionalCheckFailedException":
            return False
        raise
    return True


def _token_hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def _index_keys(status: str, target: str, site: str) -> dict[str, str | None]:
    """The sparse index attributes that a status implies: derived here, nowhere else."""
    public = status == Status.APPROVED
    return {
        "public_target": target if public else None,
        "public_site": site if public else None,
        "recheck_key": RECHECK_KEY if public else None,
        "moderation_key": f"{site}#{status}" if status in MODERATED_STATUSES else None,
    }


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


MODELS: tuple[type[Model], ...] = (MentionRecord, SiteToken, Allowance, ListEntry, Marker)


class MentionRepository:
    def __init__(self, table_name: str, region: str, *, retention_days: int = 0) -> None:
        self.retention_s = retention_days * 86400  # 0: spam and rejected mentions are kept
        # pynamodb keeps table settings on the class; binding them here, once, keeps the name
        # configurable (one stack per site, tests per run) without a second model.
        for model in MODELS:
            if model.Meta.table_name != table_name or model.Meta.region != region:
                model.Meta.table_name = table_name
                model.Meta.region = region
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
        for name, value in _index_keys(record.status, record.target, record.site).items():
            setattr(record, name, value)
        return _conditional(lambda: record.save(condition=MentionRecord.pk.does_not_exist()))

    def update_resend(
        self, record: MentionRecord, *, status: Status, fields: dict[str, Any], now: datetime, interval_s: int = 0
    ) -> bool:
        """Apply a re-send if the record is still in the status we read (optimistic concurrency) and
        the previous send is at least interval_s old."""
        actions = [
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
        return _conditional(lambda: record.update(actions=actions, condition=condition))

    def record_verdict(self, record: MentionRecord, verdict: Verdict, now: datetime) -> bool:
        """Store the verdict; False when the record changed since it was read (nothing written)."""
        stamp = isoformat(now)
        values: dict[str, Any] = {
            "status": str(verdict.status),
            "status_reason": verdict.reason,
            "verified_at": stamp,
            "updated_at": stamp,
            "fetch_status": verdict.fetch_status,
            "fetched_url": verdict.fetched_url,
            "title": verdict.title,
            "excerpt": verdict.excerpt,
            "author_name": verdict.author_name,
            "author_url": verdict.author_url,
            "author_photo": verdict.author_photo,
            "published": verdict.published,
            "entry_url": verdict.entry_url,
            "wm_property": verdict.wm_property,
            "rsvp": verdict.rsvp,
            "deleted_by": verdict.deleted_by,
            "deleted_at": stamp if verdict.status == Status.DELETED else None,
            "spam_score": verdict.spam_score,
            "spam_reasons": list(verdict.spam_reasons),
            "expires_at": self._expiry(verdict.status, now),
        }
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
        return _conditional(lambda: record.update(actions=actions, condition=condition))

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
        actions = [
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
        return _conditional(lambda: record.update(actions=actions, condition=MentionRecord.status == record.status))

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
    def _index_actions(status: Status, record: MentionRecord) -> list[Any]:
        actions = []
        for name, value in _index_keys(status, record.target, record.site).items():
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
        SiteToken(TOKEN_PREFIX + _token_hash(token), site=site, created_at=isoformat(now)).save()
        return token

    def site_for_token(self, token: str) -> str | None:
        try:
            return SiteToken.get(TOKEN_PREFIX + _token_hash(token)).site
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
        return _conditional(lambda: marker.save(condition=Marker.pk.does_not_exist()))


class RateLimiter:
    """Limits enforced by conditional updates on the table, so every Lambda instance shares them.

    DynamoDB's TTL deletes expired items within days, not seconds, so the conditions compare times
    themselves; the TTL only keeps the table from growing.
    """

    def take(self, scope: str, key: str, *, limit: int, window_s: int, now: float) -> int | None:
        """Count one use in the current fixed window; None if allowed, else seconds until the next window."""
        window = int(now // window_s)
        item = Allowance(f"{LIMIT_PREFIX}{scope}#{key}#{window}")
        counted = _conditional(
            lambda: item.update(
                actions=[Allowance.hits.add(1), Allowance.expires_at.set(int((window + 2) * window_s))],
                condition=Allowance.pk.does_not_exist() | (Allowance.hits < limit),
            )
        )
        return None if counted else max(1, int((window + 1) * window_s - now))
