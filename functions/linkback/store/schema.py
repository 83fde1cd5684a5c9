"""The mentions table as pynamodb declares it: every item kind, the four indexes and the key prefixes.

One table (template.yaml `MentionsTable`), key `pk`. Access patterns (docs/architecture.md):
1. idempotent receive: `pk` = mention id = hash(normalised source, normalised target), conditional put;
2. public read: sparse GSI `public-by-target` (only approved mentions carry `public_target`);
3. moderation: GSI `moderation-by-site` keyed `<site>#<status>` for every status but approved (approved ones
   are listed through `public-by-site`); the owner's block/allow list entries share it under `list#<kind>`
   (one index serving two item types, so the lists cost no index of their own);
4. counts: a Query on (2) reading only `wm_property`;
5. by id: GetItem on `pk`;
6. counters and markers with a TTL (`expires_at`): rate limits, offences, used one-click links.
`repository.MentionRepository` is the only code that reads and writes these items. pynamodb reaches
DynamoDB Local through `AWS_ENDPOINT_URL_DYNAMODB` like any botocore client: no test-only code path here.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from typing import Any

from pynamodb.attributes import ListAttribute, MapAttribute, NumberAttribute, UnicodeAttribute
from pynamodb.exceptions import PutError, UpdateError
from pynamodb.indexes import AllProjection, GlobalSecondaryIndex, KeysOnlyProjection
from pynamodb.models import Model

from linkback import fields
from linkback.model import Status, Verdict

PUBLIC_INDEX = "public-by-target"
SITE_INDEX = "public-by-site"
MODERATION_INDEX = "moderation-by-site"
RECHECK_INDEX = "recheck-due"
# Statuses an owner lists through the moderation index (approved ones through `public-by-site`).
MODERATED_STATUSES = frozenset(set(Status) - {Status.APPROVED})
# What the public read shows and sorts by. Nothing else is read: sender addresses, spam reasons and the
# audit trail never reach that function, and unread lists cost nothing to decode (pynamodb builds and
# deep-copies a MapAttribute for every `history`, even an empty one: 55% of the feed's CPU).
PUBLIC_ATTRIBUTES = fields.PUBLIC_ATTRIBUTES
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


class InTable(Model):
    """Every item kind lives in the one table: one Meta, bound to the configured name and region by
    MentionRepository."""

    class Meta:
        table_name = "linkback-mentions"
        region = "us-east-1"


class MentionRecord(InTable):
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
    # The items are str; pynamodb's types make them the `of` attribute class (pynamodb/PynamoDB#1246).
    spam_reasons: ListAttribute[str] = ListAttribute(of=UnicodeAttribute, default=list)  # type: ignore[arg-type]
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


class Allowance(InTable):
    """Rate-limit state: a fixed-window counter or a last-use time, expiring through the TTL."""

    pk = UnicodeAttribute(hash_key=True)  # LIMIT_PREFIX + scope + key (+ window)
    hits = NumberAttribute(default=0)
    last_at = NumberAttribute(null=True)
    expires_at = NumberAttribute(null=True)  # epoch seconds: the table's TTL attribute


class SiteToken(InTable):
    """A read token for a whole site's feed (`domain` + `token`); only its hash is stored."""

    pk = UnicodeAttribute(hash_key=True)  # TOKEN_PREFIX + sha256(token)
    site = UnicodeAttribute()
    created_at = UnicodeAttribute()


class ListsIndex(GlobalSecondaryIndex["ListEntry"]):
    class Meta:
        index_name = MODERATION_INDEX
        projection = AllProjection()

    moderation_key = UnicodeAttribute(hash_key=True)
    received_at = UnicodeAttribute(range_key=True)


class ListEntry(InTable):
    """The owner's block or allow list entry: a registrable domain or an exact source URL."""

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


class Marker(InTable):
    """A counter or a single-use marker that expires through the table's TTL (offences, used links)."""

    pk = UnicodeAttribute(hash_key=True)
    hits = NumberAttribute(default=0)
    expires_at = NumberAttribute(null=True)


def conditional(write: Callable[[], Any]) -> bool:
    """Run a conditional put/update; False (nothing written) when its condition did not hold."""
    try:
        write()
    except (PutError, UpdateError) as error:
        if error.cause_response_code == "ConditionalCheckFailedException":
            return False
        raise
    return True


def token_hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def index_keys(status: str, target: str, site: str) -> dict[str, str | None]:
    """The sparse index attributes that a status implies: derived here, nowhere else."""
    public = status == Status.APPROVED
    return {
        "public_target": target if public else None,
        "public_site": site if public else None,
        "recheck_key": RECHECK_KEY if public else None,
        "moderation_key": f"{site}#{status}" if status in MODERATED_STATUSES else None,
    }


def verdict_values(verdict: Verdict, stamp: str, expires_at: int | None) -> dict[str, Any]:
    """The attributes a verdict sets (None: removed), its fields as `fields.VERDICT_FIELDS` lists them."""
    values: dict[str, Any] = {
        "status": str(verdict.status),
        "status_reason": verdict.reason,
        "verified_at": stamp,
        "updated_at": stamp,
        **{field.name: getattr(verdict, field.name) for field in fields.VERDICT_FIELDS},
        "deleted_at": stamp if verdict.status == Status.DELETED else None,
        "expires_at": expires_at,
    }
    values["spam_reasons"] = list(verdict.spam_reasons)
    return values


MODELS: tuple[type[Model], ...] = (MentionRecord, SiteToken, Allowance, ListEntry, Marker)
