"""One set of behaviours, two stores: every test here runs against the DynamoDB repository (on DynamoDB Local)
and against the in-memory one the unit tests use, so the fake cannot drift from the real thing.

What is checked is what `store.contract` promises: conditional writes that refuse (and write nothing) when
what was read has changed, the records they refresh, the owner's audit trail, single-use markers, the
lists' matching order, the listings' orders and cursors, offences that expire, and the rate limiter.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from datetime import UTC, datetime, timedelta

import pytest
from pynamodb.exceptions import UpdateError

from linkback.model import Protocol, Status, Verdict, isoformat, mention_id
from linkback.read.feed import FeedQuery
from linkback.store.contract import Limiter, MentionStore
from linkback.store.limits import RateLimiter
from linkback.store.memory import InMemoryRateLimiter, InMemoryRepository
from linkback.store.repository import MentionRepository
from linkback.store.schema import OFFENCE_MEMORY_S, InvalidCursor, MentionRecord

from .conftest import REGION, SITE, Resources

OTHER_SITE = "https://blog.example.org"
TARGET = f"{SITE}/2024/a-post"
SOURCE = "https://blog.example.net/reply"
T0 = datetime(2024, 5, 1, 12, 0, tzinfo=UTC)
RETENTION_DAYS = 30
SENDER_IP = "192.0.2.7"

Build = Callable[..., MentionStore]


def at(minutes: float) -> datetime:
    return T0 + timedelta(minutes=minutes)


# --------------------------------------------------------------------------- the two stores


@pytest.fixture(params=["dynamodb", "memory"])
def backend(request: pytest.FixtureRequest) -> str:
    return request.param


@pytest.fixture
def build(backend: str, request: pytest.FixtureRequest) -> Build:
    """Make a store of this test's backend (one table per test on DynamoDB Local; a fresh dict in memory)."""
    if backend == "memory":
        return lambda retention_days=0: InMemoryRepository(retention_days=retention_days)
    resources: Resources = request.getfixturevalue("linkback_env")  # starts DynamoDB Local (Java) once
    return lambda retention_days=0: MentionRepository(resources.table_name, REGION, retention_days=retention_days)


@pytest.fixture
def store(build: Build) -> MentionStore:
    return build()


@pytest.fixture
def limiter(backend: str, build: Build) -> Limiter:
    if backend == "memory":
        return InMemoryRateLimiter()
    build()  # binds the table's name for every model, the limiter's too
    return RateLimiter()


def mention(
    source: str = SOURCE,
    status: Status = Status.QUEUED,
    *,
    received: datetime = T0,
    site: str = SITE,
    target: str | None = None,
    verified: datetime | None = None,
    **values: object,
) -> MentionRecord:
    """A mention as the intake (or, with `verified`, the verifier) would have it; not stored yet."""
    target = target or f"{site}/2024/a-post"
    return MentionRecord(
        mention_id(source, target),
        protocol=str(Protocol.WEBMENTION),
        source=source,
        target=target,
        site=site,
        status=str(status),
        received_at=isoformat(received),
        updated_at=isoformat(received),
        verified_at=isoformat(verified) if verified else None,
        last_sent_at=received.timestamp(),
        sender_ip=SENDER_IP,
        **values,
    )


def stored(store: MentionStore, record: MentionRecord) -> MentionRecord:
    assert store.create(record)
    return reread(store, record.pk)


def reread(store: MentionStore, identifier: str) -> MentionRecord:
    record = store.get(identifier)
    assert record is not None
    return record


def ids(records: list[MentionRecord]) -> list[str]:
    return [record.pk for record in records]


# --------------------------------------------------------------------------- create


def test_a_created_mention_reads_back_as_it_was_stored(store: MentionStore) -> None:
    record = mention(sent_title="A title the sender wrote")

    assert store.create(record) is True

    back = reread(store, record.pk)
    assert (back.source, back.target, back.status, back.sent_title) == (SOURCE, TARGET, "queued", record.sent_title)
    assert (back.attempts, back.spam_reasons, back.history, back.title) == (0, [], [], None)


def test_creating_a_mention_that_exists_is_refused_and_the_first_one_stays(store: MentionStore) -> None:
    first = stored(store, mention())

    again = store.create(mention(status=Status.APPROVED, received=at(5)))

    assert again is False
    assert (reread(store, first.pk).status, reread(store, first.pk).received_at) == ("queued", isoformat(T0))


def test_an_unknown_mention_reads_as_none(store: MentionStore) -> None:
    assert store.get("0123456789abcdef0123456789abcdef") is None


def test_a_mention_created_approved_is_public_and_a_queued_one_is_not(store: MentionStore) -> None:
    public = stored(store, mention("https://blog.example.net/public", Status.APPROVED, verified=T0))
    stored(store, mention("https://blog.example.net/queued"))

    assert ids(store.approved_for_target(TARGET, per_page=10, page=0)) == [public.pk]
    assert ids(store.for_site(SITE, Status.APPROVED)[0]) == [public.pk]


# --------------------------------------------------------------------------- re-sends


def test_a_resend_inside_the_interval_is_refused_and_writes_nothing(store: MentionStore) -> None:
    record = stored(store, mention())

    applied = store.update_resend(
        record, status=Status.QUEUED, fields={"sender_ip": "198.51.100.9"}, now=at(0.25), interval_s=30
    )

    assert applied is False
    now = reread(store, record.pk)
    assert (now.sender_ip, now.last_sent_at, now.updated_at) == (SENDER_IP, T0.timestamp(), isoformat(T0))


def test_a_resend_after_the_interval_is_applied_and_refreshes_the_record(store: MentionStore) -> None:
    record = stored(store, mention())

    applied = store.update_resend(
        record, status=Status.QUEUED, fields={"sender_ip": "198.51.100.9", "user_agent": None}, now=at(1), interval_s=30
    )

    assert applied is True
    for seen in (record, reread(store, record.pk)):
        assert (seen.sender_ip, seen.last_sent_at, seen.updated_at) == (
            "198.51.100.9",
            at(1).timestamp(),
            isoformat(at(1)),
        )


def test_a_resend_without_an_interval_is_applied_at_once(store: MentionStore) -> None:
    record = stored(store, mention())

    assert store.update_resend(record, status=Status.QUEUED, fields={}, now=at(0.01)) is True


def test_a_resend_requeueing_a_rejected_mention_forgets_the_last_verdicts_reason(store: MentionStore) -> None:
    record = stored(store, mention())
    assert store.record_verdict(record, Verdict(Status.REJECTED, "no link", fetch_status=200), at(1))

    assert store.update_resend(record, status=Status.QUEUED, fields={}, now=at(2), interval_s=30)

    now = reread(store, record.pk)
    assert (now.status, now.status_reason, now.fetch_status) == ("queued", None, None)


def test_a_resend_on_a_mention_whose_status_changed_is_refused(store: MentionStore) -> None:
    record = stored(store, mention())
    stale = reread(store, record.pk)
    assert store.record_verdict(record, Verdict(Status.APPROVED, "the source links to the target"), at(1))

    applied = store.update_resend(stale, status=Status.QUEUED, fields={}, now=at(2), interval_s=30)

    assert applied is False
    assert reread(store, record.pk).status == Status.APPROVED


def test_a_resend_keeping_an_approved_mention_public_keeps_it_in_the_feed(store: MentionStore) -> None:
    record = stored(store, mention(status=Status.APPROVED, verified=T0))

    assert store.update_resend(record, status=Status.APPROVED, fields={}, now=at(2), interval_s=30)

    assert ids(store.approved_for_target(TARGET, per_page=10, page=0)) == [record.pk]


# --------------------------------------------------------------------------- verdicts


def test_a_verdict_is_stored_with_what_the_page_said_and_counts_an_attempt(store: MentionStore) -> None:
    record = stored(store, mention())
    verdict = Verdict(
        Status.APPROVED,
        "the source links to the target",
        fetch_status=200,
        fetched_url=SOURCE,
        title="A reply",
        excerpt="I read this post",
        wm_property="in-reply-to",
        spam_score=0.5,
        spam_reasons=("thin_content (+0.5)",),
    )

    assert store.record_verdict(record, verdict, at(1)) is True

    now = reread(store, record.pk)
    assert (now.status, now.status_reason, now.title, now.excerpt) == (
        "approved",
        "the source links to the target",
        "A reply",
        "I read this post",
    )
    assert (now.fetch_status, now.fetched_url, now.wm_property, now.spam_score) == (200, SOURCE, "in-reply-to", 0.5)
    assert now.spam_reasons == ["thin_content (+0.5)"]
    assert (now.verified_at, now.updated_at, now.attempts) == (isoformat(at(1)), isoformat(at(1)), 1)
    assert ids(store.approved_for_target(TARGET, per_page=10, page=0)) == [record.pk]


def test_a_verdict_refreshes_the_record_it_was_given(store: MentionStore) -> None:
    record = stored(store, mention())

    store.record_verdict(record, Verdict(Status.PENDING, "held for moderation"), at(1))

    assert (record.status, record.held_at, record.attempts) == ("pending", isoformat(at(1)), 1)


def test_a_verdict_on_a_mention_that_changed_since_it_was_read_is_refused_and_writes_nothing(
    store: MentionStore,
) -> None:
    record = stored(store, mention())
    stale = reread(store, record.pk)
    assert store.decide_as_owner(record, Status.SPAM, at(1), by="admin API")

    written = store.record_verdict(stale, Verdict(Status.APPROVED, "the source links to the target"), at(2))

    assert written is False
    now = reread(store, record.pk)
    assert (now.status, now.attempts, now.verified_at) == ("spam", 0, None)
    assert store.approved_for_target(TARGET, per_page=10, page=0) == []


def test_a_verdict_on_a_mention_that_is_gone_is_refused(store: MentionStore) -> None:
    never_stored = mention()

    assert store.record_verdict(never_stored, Verdict(Status.APPROVED, "links"), at(1)) is False
    assert store.get(never_stored.pk) is None


def test_a_verdict_clears_what_the_last_one_found_and_this_one_did_not(store: MentionStore) -> None:
    record = stored(store, mention())
    store.record_verdict(record, Verdict(Status.APPROVED, "links", title="A reply", excerpt="words"), at(1))

    store.record_verdict(record, Verdict(Status.DELETED, "the source answered 410", deleted_by="source"), at(2))

    now = reread(store, record.pk)
    assert (now.title, now.excerpt) == (None, None)
    assert (now.status, now.deleted_by, now.deleted_at) == ("deleted", "source", isoformat(at(2)))
    assert store.approved_for_target(TARGET, per_page=10, page=0) == []
    assert ids(store.for_site(SITE, Status.DELETED)[0]) == [record.pk]


def test_held_at_is_when_the_mention_became_pending_not_when_it_was_verified_again(store: MentionStore) -> None:
    record = stored(store, mention())
    store.record_verdict(record, Verdict(Status.PENDING, "held"), at(1))

    store.record_verdict(record, Verdict(Status.PENDING, "held again"), at(2))

    now = reread(store, record.pk)
    assert (now.held_at, now.verified_at, now.attempts) == (isoformat(at(1)), isoformat(at(2)), 2)
    assert ids(store.held_for_site(SITE)) == [record.pk]


@pytest.mark.parametrize("status", [Status.SPAM, Status.REJECTED])
def test_a_spam_or_rejected_verdict_expires_after_the_retention(build: Build, status: Status) -> None:
    retaining = build(retention_days=RETENTION_DAYS)
    record = stored(retaining, mention())

    retaining.record_verdict(record, Verdict(status, "verifier"), at(1))

    assert reread(retaining, record.pk).expires_at == int(at(1).timestamp()) + RETENTION_DAYS * 86400


@pytest.mark.parametrize("status", [Status.APPROVED, Status.PENDING])
def test_a_published_or_held_verdict_never_expires(build: Build, status: Status) -> None:
    retaining = build(retention_days=RETENTION_DAYS)
    record = stored(retaining, mention())

    retaining.record_verdict(record, Verdict(status, "verifier"), at(1))

    assert reread(retaining, record.pk).expires_at is None


def test_a_failed_attempt_is_counted_without_changing_the_status(store: MentionStore) -> None:
    record = stored(store, mention())

    store.record_failed_attempt(record, "the source answered 503", at(1))
    store.record_failed_attempt(record, "the source took too long to answer", at(2))

    now = reread(store, record.pk)
    assert (now.status, now.attempts, now.status_reason) == ("queued", 2, "the source took too long to answer")
    assert record.attempts == 2


def test_a_failed_attempt_on_a_mention_that_is_gone_raises(store: MentionStore) -> None:
    with pytest.raises(UpdateError) as raised:
        store.record_failed_attempt(mention(), "the source answered 503", at(1))

    assert raised.value.cause_response_code == "ConditionalCheckFailedException"


# --------------------------------------------------------------------------- undoing a receive


def test_a_mention_still_queued_is_discarded(store: MentionStore) -> None:
    record = stored(store, mention())

    store.discard_unqueued(record.pk)

    assert store.get(record.pk) is None


def test_a_mention_that_changed_meanwhile_is_not_discarded(store: MentionStore) -> None:
    record = stored(store, mention())
    store.record_verdict(record, Verdict(Status.APPROVED, "links"), at(1))

    store.discard_unqueued(record.pk)
    store.discard_unqueued("0123456789abcdef0123456789abcdef")  # gone already: nothing to undo, no error

    assert reread(store, record.pk).status == Status.APPROVED


# --------------------------------------------------------------------------- the owner's decisions


def history(record: MentionRecord) -> list[tuple[str, str, str, str | None, str]]:
    return [(c.by, c.from_status, c.to_status, c.note, c.at) for c in record.history or []]


def test_each_owner_decision_joins_the_history_in_order(store: MentionStore) -> None:
    record = stored(store, mention(status=Status.PENDING, verified=T0))

    assert store.decide_as_owner(record, Status.APPROVED, at(1), by="admin API", note="a friend")
    assert store.decide_as_owner(record, Status.DELETED, at(2), by="one-click link")
    assert store.decide_as_owner(record, Status.APPROVED, at(3), by="admin API")

    expected = [
        ("admin API", "pending", "approved", "a friend", isoformat(at(1))),
        ("one-click link", "approved", "deleted", None, isoformat(at(2))),
        ("admin API", "deleted", "approved", None, isoformat(at(3))),
    ]
    assert history(reread(store, record.pk)) == expected
    assert history(record) == expected  # each decision refreshed the record it was given


def test_an_owner_decision_says_who_took_it_in_the_status_reason(store: MentionStore) -> None:
    record = stored(store, mention(status=Status.PENDING, verified=T0))

    store.decide_as_owner(record, Status.SPAM, at(1), by="admin API", note="sells pills")

    assert reread(store, record.pk).status_reason == "spam by admin API: sells pills"


def test_an_owners_delete_says_who_deleted_it_and_a_restore_forgets_it(store: MentionStore) -> None:
    record = stored(store, mention(status=Status.APPROVED, verified=T0))

    store.decide_as_owner(record, Status.DELETED, at(1), by="admin API")
    deleted = reread(store, record.pk)
    store.decide_as_owner(record, Status.APPROVED, at(2), by="admin API")
    restored = reread(store, record.pk)

    assert (deleted.deleted_by, deleted.deleted_at) == ("owner", isoformat(at(1)))
    assert (restored.deleted_by, restored.deleted_at) == (None, None)
    assert ids(store.approved_for_target(TARGET, per_page=10, page=0)) == [record.pk]


def test_a_decision_on_a_stale_read_is_refused_and_writes_nothing(store: MentionStore) -> None:
    first = stored(store, mention(status=Status.PENDING, verified=T0))
    stale = reread(store, first.pk)
    assert store.decide_as_owner(first, Status.APPROVED, at(1), by="admin API")

    decided = store.decide_as_owner(stale, Status.SPAM, at(2), by="one-click link")

    assert decided is False
    now = reread(store, first.pk)
    assert now.status == Status.APPROVED
    assert [change.to_status for change in now.history] == ["approved"]
    assert stale.status == Status.PENDING  # a refused write refreshes nothing


def test_the_owners_spam_expires_after_the_retention_and_an_approval_keeps_it(build: Build) -> None:
    retaining = build(retention_days=RETENTION_DAYS)
    record = stored(retaining, mention(status=Status.PENDING, verified=T0))

    retaining.decide_as_owner(record, Status.SPAM, at(1), by="admin API")
    spam = reread(retaining, record.pk)
    retaining.decide_as_owner(record, Status.APPROVED, at(2), by="admin API")

    assert spam.expires_at == int(at(1).timestamp()) + RETENTION_DAYS * 86400
    assert reread(retaining, record.pk).expires_at is None


# --------------------------------------------------------------------------- single-use markers


def test_a_key_can_be_claimed_once(store: MentionStore) -> None:
    assert store.was_claimed("link#nonce-1") is False

    assert store.claim_once("link#nonce-1", now=at(0), keep_s=3600) is True
    assert store.claim_once("link#nonce-1", now=at(1), keep_s=3600) is False
    assert store.was_claimed("link#nonce-1") is True


def test_claiming_one_key_leaves_the_others_free(store: MentionStore) -> None:
    store.claim_once("link#nonce-1", now=at(0), keep_s=3600)

    assert store.was_claimed("link#nonce-2") is False
    assert store.claim_once("link#nonce-2", now=at(0), keep_s=3600) is True


# --------------------------------------------------------------------------- block and allow lists


def listed(entries: list) -> list[tuple[str, str, str]]:
    return [(entry.kind, entry.scope, entry.value) for entry in entries]


def test_list_entries_are_listed_by_kind_in_the_order_they_were_added(store: MentionStore) -> None:
    store.add_list_entry("block", "domain", "spam.example.net", by="admin API", now=at(2), note="pills")
    store.add_list_entry("allow", "domain", "friend.example.org", by="admin API", now=at(1))
    store.add_list_entry("block", "url", "https://blog.example.net/splog", by="one-click link", now=at(1))

    assert listed(store.list_entries("block")) == [
        ("block", "url", "https://blog.example.net/splog"),
        ("block", "domain", "spam.example.net"),
    ]
    assert listed(store.list_entries("allow")) == [("allow", "domain", "friend.example.org")]
    entry = store.list_entries("block")[1]
    assert (entry.note, entry.created_by, entry.received_at) == ("pills", "admin API", isoformat(at(2)))


def test_listing_an_entry_again_replaces_it(store: MentionStore) -> None:
    store.add_list_entry("block", "domain", "spam.example.net", by="admin API", now=at(1), note="first")

    store.add_list_entry("block", "domain", "spam.example.net", by="one-click link", now=at(2), note="again")

    [entry] = store.list_entries("block")
    assert (entry.note, entry.created_by) == ("again", "one-click link")


def test_a_removed_entry_is_no_longer_listed_and_removing_it_again_finds_nothing(store: MentionStore) -> None:
    store.add_list_entry("block", "domain", "spam.example.net", by="admin API", now=at(1))
    store.add_list_entry("block", "domain", "other.example.net", by="admin API", now=at(2))

    removed = store.remove_list_entry("block", "domain", "spam.example.net")

    assert removed is not None and removed.value == "spam.example.net"
    assert listed(store.list_entries("block")) == [("block", "domain", "other.example.net")]
    assert store.remove_list_entry("block", "domain", "spam.example.net") is None


def test_list_entries_never_show_in_a_sites_moderation_queue(store: MentionStore) -> None:
    held = stored(store, mention(status=Status.PENDING, verified=T0))
    store.add_list_entry("block", "domain", "spam.example.net", by="admin API", now=at(1))

    assert ids(store.for_site(SITE, Status.PENDING)[0]) == [held.pk]


SPAM_SOURCE = "https://www.spam.example.net/casino/page"
SPAM_HOST = "www.spam.example.net"
SPAM_DOMAIN = "example.net"


@pytest.mark.parametrize(
    ("entries", "expected"),
    [
        pytest.param([("block", "domain", SPAM_DOMAIN)], ("block", "domain", SPAM_DOMAIN), id="domain"),
        pytest.param([("allow", "domain", SPAM_HOST)], ("allow", "domain", SPAM_HOST), id="host"),
        pytest.param([("block", "url", SPAM_SOURCE)], ("block", "url", SPAM_SOURCE), id="url"),
        pytest.param(
            [("block", "domain", SPAM_DOMAIN), ("block", "domain", SPAM_HOST), ("allow", "url", SPAM_SOURCE)],
            ("allow", "url", SPAM_SOURCE),
            id="url-before-host-and-domain",
        ),
        pytest.param(
            [("block", "domain", SPAM_DOMAIN), ("allow", "domain", SPAM_HOST)],
            ("allow", "domain", SPAM_HOST),
            id="host-before-domain",
        ),
        pytest.param(
            [("allow", "url", SPAM_SOURCE), ("block", "url", SPAM_SOURCE)],
            ("block", "url", SPAM_SOURCE),
            id="block-before-allow-at-the-url",
        ),
        pytest.param(
            [("allow", "domain", SPAM_DOMAIN), ("block", "domain", SPAM_DOMAIN)],
            ("block", "domain", SPAM_DOMAIN),
            id="block-before-allow-at-the-domain",
        ),
    ],
)
def test_the_most_specific_list_entry_speaks_for_a_source(
    store: MentionStore, entries: list[tuple[str, str, str]], expected: tuple[str, str, str]
) -> None:
    for minute, (kind, scope, value) in enumerate(entries):
        store.add_list_entry(kind, scope, value, by="admin API", now=at(minute))

    entry = store.matching_list_entry(SPAM_SOURCE, (SPAM_HOST, SPAM_DOMAIN))

    assert entry is not None
    assert (entry.kind, entry.scope, entry.value) == expected


def test_the_domains_are_tried_in_the_order_given(store: MentionStore) -> None:
    store.add_list_entry("block", "domain", SPAM_DOMAIN, by="admin API", now=at(0))
    store.add_list_entry("allow", "domain", SPAM_HOST, by="admin API", now=at(1))

    entry = store.matching_list_entry(SPAM_SOURCE, (SPAM_DOMAIN, SPAM_HOST))

    assert entry is not None and (entry.kind, entry.value) == ("block", SPAM_DOMAIN)


@pytest.mark.parametrize(
    "entry",
    [
        ("block", "domain", "other.example.net"),
        ("block", "domain", "spam.example.net"),
        ("block", "url", "https://www.spam.example.net/casino/other-page"),
        ("block", "url", SPAM_HOST),
    ],
)
def test_an_entry_about_another_place_does_not_speak_for_a_source(
    store: MentionStore, entry: tuple[str, str, str]
) -> None:
    store.add_list_entry(*entry, by="admin API", now=at(1))

    assert store.matching_list_entry(SPAM_SOURCE, (SPAM_HOST, SPAM_DOMAIN)) is None


# --------------------------------------------------------------------------- a site's listings


def all_pages(store: MentionStore, site: str, status: Status, limit: int) -> list[list[str]]:
    """Every page, each cursor passed through JSON as the admin API hands it to a client and back."""
    pages: list[list[str]] = []
    cursor = None
    for _ in range(20):
        records, next_key = store.for_site(site, status, limit=limit, cursor=cursor)
        pages.append(ids(records))
        if next_key is None:
            return pages
        cursor = json.loads(json.dumps(next_key))
    raise AssertionError("the cursor never ran out")


@pytest.fixture
def site_mentions(store: MentionStore) -> dict[Status, list[str]]:
    """Five approved and five held mentions of SITE received out of order, with others around them; the
    ids in order of reception."""
    mentions: dict[Status, list[tuple[int, str]]] = {Status.APPROVED: [], Status.PENDING: []}
    for minute in (30, 10, 40, 0, 20):
        for status in mentions:
            record = stored(store, mention(f"https://blog.example.net/{status}-{minute}", status, received=at(minute)))
            mentions[status].append((minute, record.pk))
    stored(store, mention("https://blog.example.net/spam", Status.SPAM, received=at(5)))
    stored(store, mention("https://blog.example.net/elsewhere", Status.APPROVED, received=at(6), site=OTHER_SITE))
    stored(store, mention("https://blog.example.net/held-elsewhere", Status.PENDING, received=at(7), site=OTHER_SITE))
    return {status: [pk for _, pk in sorted(found)] for status, found in mentions.items()}


def test_approved_mentions_of_a_site_page_newest_first(
    store: MentionStore, site_mentions: dict[Status, list[str]]
) -> None:
    newest_first = site_mentions[Status.APPROVED][::-1]

    assert all_pages(store, SITE, Status.APPROVED, limit=2) == [newest_first[0:2], newest_first[2:4], newest_first[4:]]


def test_held_mentions_of_a_site_page_oldest_first(store: MentionStore, site_mentions: dict[Status, list[str]]) -> None:
    oldest_first = site_mentions[Status.PENDING]

    assert all_pages(store, SITE, Status.PENDING, limit=2) == [oldest_first[0:2], oldest_first[2:4], oldest_first[4:]]
    assert ids(store.held_for_site(SITE, limit=3)) == oldest_first[:3]


def test_a_page_that_takes_everything_left_gives_no_cursor(
    store: MentionStore, site_mentions: dict[Status, list[str]]
) -> None:
    records, next_key = store.for_site(SITE, Status.PENDING, limit=10)

    assert ids(records) == site_mentions[Status.PENDING]
    assert next_key is None


def test_a_full_last_page_gives_a_cursor_to_an_empty_page(
    store: MentionStore, site_mentions: dict[Status, list[str]]
) -> None:
    assert all_pages(store, SITE, Status.PENDING, limit=5) == [site_mentions[Status.PENDING], []]


@pytest.mark.parametrize(
    ("listed_from", "listing"),
    [
        pytest.param((SITE, Status.APPROVED), (SITE, Status.PENDING), id="approved-cursor-for-held"),
        pytest.param((SITE, Status.PENDING), (SITE, Status.APPROVED), id="held-cursor-for-approved"),
        pytest.param((SITE, Status.PENDING), (SITE, Status.SPAM), id="held-cursor-for-spam"),
        pytest.param((SITE, Status.PENDING), (OTHER_SITE, Status.PENDING), id="another-sites-cursor"),
    ],
)
def test_a_cursor_of_another_listing_is_refused(
    store: MentionStore,
    site_mentions: dict[Status, list[str]],
    listed_from: tuple[str, Status],
    listing: tuple[str, Status],
) -> None:
    _, cursor = store.for_site(*listed_from, limit=1)
    assert cursor is not None

    with pytest.raises(InvalidCursor):
        store.for_site(*listing, limit=10, cursor=cursor)


def test_a_cursor_naming_no_key_of_the_listing_is_refused(store: MentionStore) -> None:
    stored(store, mention(status=Status.PENDING, verified=T0))

    with pytest.raises(InvalidCursor):
        store.for_site(SITE, Status.PENDING, cursor={"pk": {"S": "0123456789abcdef0123456789abcdef"}})


# --------------------------------------------------------------------------- the public read and rechecks


def test_the_feed_of_a_target_is_newest_first_and_pages(store: MentionStore) -> None:
    first, second, third = (
        stored(store, mention(f"https://blog.example.net/{n}", Status.APPROVED, received=at(n), verified=at(n)))
        for n in (1, 2, 3)
    )
    stored(store, mention("https://blog.example.net/held", Status.PENDING, received=at(4)))

    assert ids(store.approved_for_target(TARGET, per_page=2, page=0)) == [third.pk, second.pk]
    assert ids(store.approved_for_target(TARGET, per_page=2, page=1)) == [first.pk]


def test_the_feed_since_a_time_or_a_mention_shows_only_later_ones(store: MentionStore) -> None:
    first, second, third = (
        stored(store, mention(f"https://blog.example.net/{n}", Status.APPROVED, received=at(n), verified=at(n)))
        for n in (1, 2, 3)
    )

    since_time = store.approved(FeedQuery(targets=(TARGET,), since=isoformat(at(1))))
    since_mention = store.approved(FeedQuery(targets=(TARGET,), since_id=second.pk, newest_first=False))

    assert ids(since_time) == [third.pk, second.pk]
    assert ids(since_mention) == [third.pk]
    assert first.pk not in ids(since_time)


def test_the_feed_carries_only_the_public_attributes(store: MentionStore) -> None:
    stored(store, mention(status=Status.APPROVED, verified=T0, title="A reply", sent_title="Sent"))

    [record] = store.approved_for_target(TARGET, per_page=10, page=0)

    assert (record.title, record.source) == ("A reply", SOURCE)
    assert (record.sender_ip, record.sent_title, record.site) == (None, None, None)


def test_a_whole_sites_feed_and_its_counts_by_type(store: MentionStore) -> None:
    stored(store, mention("https://a.example/1", Status.APPROVED, verified=T0, wm_property="like-of"))
    stored(store, mention("https://a.example/2", Status.APPROVED, verified=T0, wm_property="rsvp", rsvp="yes"))
    stored(store, mention("https://a.example/3", Status.APPROVED, verified=T0, target=f"{SITE}/2024/another-post"))
    stored(store, mention("https://a.example/4", Status.PENDING, verified=T0))
    stored(store, mention("https://a.example/5", Status.APPROVED, verified=T0, site=OTHER_SITE))

    assert len(store.approved(FeedQuery(domain="example.com"), site=SITE)) == 3
    assert store.count(site=SITE) == {"like-of": 1, "rsvp-yes": 1, "mention-of": 1}
    assert store.count((TARGET,)) == {"like-of": 1, "rsvp-yes": 1}
    assert store.count_for_target(f"{SITE}/2024/another-post") == {"mention-of": 1}


def test_approved_mentions_are_due_for_recheck_the_longest_unchecked_first(store: MentionStore) -> None:
    recent = stored(store, mention("https://a.example/recent", Status.APPROVED, verified=at(50)))
    oldest = stored(store, mention("https://a.example/oldest", Status.APPROVED, verified=at(10)))
    older = stored(store, mention("https://a.example/older", Status.APPROVED, verified=at(20)))
    stored(store, mention("https://a.example/held", Status.PENDING, verified=at(0)))

    assert store.due_for_recheck(isoformat(at(30)), limit=10) == [oldest.pk, older.pk]
    assert store.due_for_recheck(isoformat(at(60)), limit=2) == [oldest.pk, older.pk]
    assert recent.pk in store.due_for_recheck(isoformat(at(60)), limit=3)


def test_a_site_token_names_its_site_and_nothing_else_does(store: MentionStore) -> None:
    token = store.create_site_token(SITE, T0)  # the CLI's (linkback site token), beyond the contract

    assert store.site_for_token(token) == SITE
    assert store.site_for_token(token + "x") is None


# --------------------------------------------------------------------------- offences


def test_offences_are_counted_per_sender_address_and_per_source_domain(store: MentionStore) -> None:
    store.record_offence("192.0.2.7", "spam.example", at(0))
    store.record_offence("192.0.2.7", "spam.example", at(1))

    assert store.offences("192.0.2.7", "elsewhere.example", at(2)) == 2
    assert store.offences("198.51.100.9", "spam.example", at(2)) == 2
    assert store.offences("198.51.100.9", "elsewhere.example", at(2)) == 0


def test_offences_are_the_larger_of_the_address_and_domain_counts(store: MentionStore) -> None:
    for domain in ("one.example", "two.example", "three.example"):
        store.record_offence("192.0.2.7", domain, at(0))
    store.record_offence("198.51.100.9", "four.example", at(0))
    store.record_offence("203.0.113.5", "four.example", at(0))

    assert store.offences("192.0.2.7", "four.example", at(1)) == 3
    assert store.offences("198.51.100.9", "four.example", at(1)) == 2


def test_offences_older_than_the_memory_are_ignored(store: MentionStore) -> None:
    store.record_offence("192.0.2.7", "spam.example", at(0))
    remembered_until = at(0) + timedelta(seconds=OFFENCE_MEMORY_S)

    assert store.offences("192.0.2.7", "spam.example", remembered_until - timedelta(seconds=1)) == 1
    assert store.offences("192.0.2.7", "spam.example", remembered_until) == 0


def test_a_new_offence_renews_the_memory_of_the_earlier_ones(store: MentionStore) -> None:
    store.record_offence("192.0.2.7", "spam.example", at(0))
    store.record_offence("192.0.2.7", "spam.example", at(0) + timedelta(days=100))

    assert store.offences("192.0.2.7", "spam.example", at(0) + timedelta(seconds=OFFENCE_MEMORY_S + 1)) == 2


def test_a_sender_without_an_address_is_counted_by_domain_only(store: MentionStore) -> None:
    store.record_offence(None, "spam.example", at(0))

    assert store.offences(None, "spam.example", at(1)) == 1
    assert store.offences("192.0.2.7", "elsewhere.example", at(1)) == 0


# --------------------------------------------------------------------------- the rate limiter

WINDOW_START = 1_714_564_800.0  # 2024-05-01T12:00:00Z, a whole hour


def test_uses_up_to_the_limit_are_allowed_in_a_window(limiter: Limiter) -> None:
    answers = [limiter.take("sender", "192.0.2.7", limit=3, window_s=3600, now=WINDOW_START + n) for n in range(3)]

    assert answers == [None, None, None]


def test_a_use_over_the_limit_is_told_how_long_until_the_next_window(limiter: Limiter) -> None:
    for n in range(2):
        limiter.take("sender", "192.0.2.7", limit=2, window_s=3600, now=WINDOW_START + n)

    assert limiter.take("sender", "192.0.2.7", limit=2, window_s=3600, now=WINDOW_START + 600) == 3000
    assert limiter.take("sender", "192.0.2.7", limit=2, window_s=3600, now=WINDOW_START + 3599.5) == 1


def test_the_next_window_starts_afresh(limiter: Limiter) -> None:
    for n in range(3):
        limiter.take("sender", "192.0.2.7", limit=2, window_s=3600, now=WINDOW_START + n)

    assert limiter.take("sender", "192.0.2.7", limit=2, window_s=3600, now=WINDOW_START + 3600) is None


def test_each_scope_and_key_has_its_own_budget(limiter: Limiter) -> None:
    limiter.take("sender", "192.0.2.7", limit=1, window_s=60, now=WINDOW_START)

    assert limiter.take("sender", "198.51.100.9", limit=1, window_s=60, now=WINDOW_START) is None
    assert limiter.take("fetch", "192.0.2.7", limit=1, window_s=60, now=WINDOW_START) is None
    assert limiter.take("sender", "192.0.2.7", limit=1, window_s=60, now=WINDOW_START) is not None
