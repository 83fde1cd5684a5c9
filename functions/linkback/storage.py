"""The only code that knows DynamoDB: pynamodb models for the mentions table and a small repository.

One table (template.yaml `MentionsTable`), key `pk`. Access patterns (DESIGN.md §5):
1. idempotent receive: `pk` = mention id = hash(normalised source, normalised target), conditional put;
2. public read: sparse GSI `public-by-target` (only approved mentions carry `public_target`);
3. moderation: sparse GSI `moderation-by-site` keyed `<site>#<status>` for held and spam mentions;
4. counts: a Query on (2) reading only `wm_property`;
5. by id: GetItem on `pk`.
pynamodb reaches DynamoDB Local through `AWS_ENDPOINT_URL_DYNAMODB` like any botocore client: no
test-only code path here.
"""

from __future__ import annotations

import contextlib
from collections import Counter
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from pynamodb.attributes import ListAttribute, NumberAttribute, UnicodeAttribute
from pynamodb.exceptions import DeleteError, PutError, UpdateError
from pynamodb.indexes import AllProjection, GlobalSecondaryIndex
from pynamodb.models import Model

from .model import Status, isoformat

PUBLIC_INDEX = "public-by-target"
MODERATION_INDEX = "moderation-by-site"
MODERATED_STATUSES = frozenset({Status.PENDING, Status.SPAM})


class PublicByTarget(GlobalSecondaryIndex["MentionRecord"]):
    class Meta:
        index_name = PUBLIC_INDEX
        projection = AllProjection()

    public_target = UnicodeAttribute(hash_key=True)
    received_at = UnicodeAttribute(range_key=True)


class ModerationBySite(GlobalSecondaryIndex["MentionRecord"]):
    class Meta:
        index_name = MODERATION_INDEX
        projection = AllProjection()

    moderation_key = UnicodeAttribute(hash_key=True)
    received_at = UnicodeAttribute(range_key=True)


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
    wm_property = UnicodeAttribute(default="mention-of")
    spam_score = NumberAttribute(default=0)
    spam_reasons = ListAttribute(of=UnicodeAttribute, default=list)
    fetch_status = NumberAttribute(null=True)
    fetched_url = UnicodeAttribute(null=True)
    attempts = NumberAttribute(default=0)
    public_target = UnicodeAttribute(null=True)
    moderation_key = UnicodeAttribute(null=True)

    public_by_target = PublicByTarget()
    moderation_by_site = ModerationBySite()

    @property
    def id(self) -> str:
        return self.pk


def _index_keys(status: str, target: str, site: str) -> dict[str, str | None]:
    """The sparse index attributes that a status implies: derived here, nowhere else."""
    return {
        "public_target": target if status == Status.APPROVED else None,
        "moderation_key": f"{site}#{status}" if status in MODERATED_STATUSES else None,
    }


@dataclass(frozen=True)
class Verdict:
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
    spam_score: float = 0
    spam_reasons: tuple[str, ...] = ()


class MentionRepository:
    def __init__(self, table_name: str, region: str) -> None:
        # pynamodb keeps table settings on the class; binding them here, once, keeps the name
        # configurable (one stack per site, tests per run) without a second model.
        if MentionRecord.Meta.table_name != table_name or MentionRecord.Meta.region != region:
            MentionRecord.Meta.table_name = table_name
            MentionRecord.Meta.region = region
            MentionRecord._connection = None

    def get(self, mention_id: str) -> MentionRecord | None:
        try:
            return MentionRecord.get(mention_id)
        except MentionRecord.DoesNotExist:
            return None

    def create(self, record: MentionRecord) -> bool:
        """Store a new mention; False when one with the same id exists already (nothing written)."""
        for name, value in _index_keys(record.status, record.target, record.site).items():
            setattr(record, name, value)
        try:
            record.save(condition=MentionRecord.pk.does_not_exist())
        except PutError as error:
            if error.cause_response_code == "ConditionalCheckFailedException":
                return False
            raise
        return True

    def update_resend(self, record: MentionRecord, *, status: Status, fields: dict[str, Any], now: datetime) -> bool:
        """Apply a re-send if the record is still in the status we read (optimistic concurrency)."""
        actions = [MentionRecord.updated_at.set(isoformat(now)), MentionRecord.status.set(str(status))]
        actions += [getattr(MentionRecord, name).set(value) for name, value in fields.items() if value is not None]
        if status is Status.QUEUED:
            # A fresh chance: the last verification's reason no longer describes this record.
            actions += [MentionRecord.status_reason.remove(), MentionRecord.fetch_status.remove()]
        actions += self._index_actions(status, record)
        try:
            record.update(actions=actions, condition=MentionRecord.status == record.status)
        except UpdateError as error:
            if error.cause_response_code == "ConditionalCheckFailedException":
                return False
            raise
        return True

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
            "spam_score": verdict.spam_score,
            "spam_reasons": list(verdict.spam_reasons),
        }
        actions = [
            getattr(MentionRecord, name).set(value) if value is not None else getattr(MentionRecord, name).remove()
            for name, value in values.items()
        ]
        actions += self._index_actions(verdict.status, record)
        actions.append(MentionRecord.attempts.add(1))
        # Only if nobody changed the status while we fetched: an owner's spam/delete must stand, and
        # a re-send that changed it has queued its own verification.
        try:
            record.update(
                actions=actions, condition=MentionRecord.pk.exists() & (MentionRecord.status == record.status)
            )
        except UpdateError as error:
            if error.cause_response_code == "ConditionalCheckFailedException":
                return False
            raise
        return True

    def discard_unqueued(self, mention_id: str) -> None:
        """Remove a just-created record whose queue message could not be sent, so a retry starts afresh."""
        # Changed meanwhile or already gone: then there is nothing of ours to undo.
        with contextlib.suppress(DeleteError):
            MentionRecord(mention_id).delete(condition=MentionRecord.status == str(Status.QUEUED))

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
        wanted = per_page * (page + 1)
        results = MentionRecord.public_by_target.query(
            target, scan_index_forward=False, limit=wanted, page_size=min(wanted, 100)
        )
        return list(results)[per_page * page : wanted]

    def count_for_target(self, target: str) -> Counter[str]:
        counts: Counter[str] = Counter()
        for record in MentionRecord.public_by_target.query(target, attributes_to_get=["wm_property"]):
            counts[record.wm_property] += 1
        return counts

    def held_for_site(self, site: str, status: Status = Status.PENDING, *, limit: int = 50) -> list[MentionRecord]:
        """Held (or spam) mentions of a site, oldest first: the moderation queue."""
        return list(MentionRecord.moderation_by_site.query(f"{site}#{status}", scan_index_forward=True, limit=limit))
