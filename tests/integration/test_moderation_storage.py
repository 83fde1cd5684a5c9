"""The owner's moderation against DynamoDB Local: decisions with their audit trail and optimistic
concurrency, restore, retention of spam, the block and allow lists, offences, single-use markers, the
paged moderation listing, and `moderation.act` tying them together."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from linkback.model import Protocol, Status, Verdict, isoformat, mention_id
from linkback.moderation import actions as moderation
from linkback.moderation import documents
from linkback.store.repository import MentionRepository
from linkback.store.schema import OFFENCE_MEMORY_S, ListEntry, MentionRecord
from linkback_infra.template import Template

from .conftest import REGION, SITE, Resources

OTHER_SITE = "https://blog.example.org"
TARGET = f"{SITE}/2024/a-post"
T0 = datetime(2024, 5, 1, 12, 0, tzinfo=UTC)
RETENTION_DAYS = 30
SENDER_IP = "192.0.2.7"


def at(minutes: int) -> datetime:
    return T0 + timedelta(minutes=minutes)


# --------------------------------------------------------------------------- fixtures and helpers


@pytest.fixture
def table_name(linkback_env: Resources) -> str:
    return linkback_env.table_name


@pytest.fixture
def repository(table_name: str) -> MentionRepository:
    return MentionRepository(table_name, REGION)


@pytest.fixture
def retaining(table_name: str) -> MentionRepository:
    """The same table, with spam and rejected mentions kept RETENTION_DAYS."""
    return MentionRepository(table_name, REGION, retention_days=RETENTION_DAYS)


def stored(
    repository: MentionRepository,
    source: str,
    status: Status = Status.PENDING,
    *,
    received: datetime = T0,
    site: str = SITE,
    sender_ip: str | None = SENDER_IP,
) -> MentionRecord:
    """A verified mention as the verifier left it."""
    target = f"{site}/2024/a-post"
    record = MentionRecord(
        mention_id(source, target),
        protocol=str(Protocol.WEBMENTION),
        source=source,
        target=target,
        site=site,
        status=str(status),
        received_at=isoformat(received),
        updated_at=isoformat(received),
        verified_at=isoformat(received),
        sender_ip=sender_ip,
    )
    assert repository.create(record)
    return reread(repository, record.pk)


def reread(repository: MentionRepository, identifier: str) -> MentionRecord:
    record = repository.get(identifier)
    assert record is not None
    return record


def history(record: MentionRecord) -> list[tuple[str, str, str, str | None, str]]:
    return [(c.by, c.from_status, c.to_status, c.note, c.at) for c in record.history or []]


def raw_item(dynamodb: Any, table_name: str, identifier: str) -> dict[str, Any]:
    """The item as DynamoDB holds it: the test's own look, not the code's."""
    return dynamodb.get_item(TableName=table_name, Key={"pk": {"S": identifier}}, ConsistentRead=True)["Item"]


# --------------------------------------------------------------------------- decisions and their history


def test_each_owner_decision_joins_the_history_in_order(repository: MentionRepository) -> None:
    record = stored(repository, "https://blog.example.net/reply")

    assert repository.decide_as_owner(record, Status.APPROVED, at(1), by="admin API", note="a friend")
    assert repository.decide_as_owner(record, Status.DELETED, at(2), by="one-click link")
    assert repository.decide_as_owner(record, Status.APPROVED, at(3), by="admin API")

    assert history(reread(repository, record.pk)) == [
        ("admin API", "pending", "approved", "a friend", isoformat(at(1))),
        ("one-click link", "approved", "deleted", None, isoformat(at(2))),
        ("admin API", "deleted", "approved", None, isoformat(at(3))),
    ]


def test_an_owner_decision_says_who_took_it_in_the_status_reason(repository: MentionRepository) -> None:
    record = stored(repository, "https://blog.example.net/reply")

    repository.decide_as_owner(record, Status.SPAM, at(1), by="admin API", note="sells pills")

    assert reread(repository, record.pk).status_reason == "spam by admin API: sells pills"


def test_a_decision_on_a_stale_read_is_refused_and_writes_nothing(repository: MentionRepository) -> None:
    # Given two reads of a held mention, and one decision taken on the first
    first = stored(repository, "https://blog.example.net/reply")
    stale = reread(repository, first.pk)
    assert repository.decide_as_owner(first, Status.APPROVED, at(1), by="admin API")

    # When the other read is used to decide too
    decided = repository.decide_as_owner(stale, Status.SPAM, at(2), by="one-click link")

    # Then nothing of the second decision is written
    assert decided is False
    now = reread(repository, first.pk)
    assert now.status == Status.APPROVED
    assert [change.to_status for change in now.history] == ["approved"]


class VerifierRacingRepository(MentionRepository):
    """The table as the owner meets it when the verifier stores its verdict between the owner's read and
    the owner's write (the interleaving is the test's; every read and write goes to DynamoDB Local)."""

    verdict: Status = Status.SPAM

    def decide_as_owner(self, record: MentionRecord, status: Status, now: datetime, **kwargs: Any) -> bool:
        fresh = self.get(record.pk)
        assert fresh is not None and self.record_verdict(fresh, Verdict(status=self.verdict, reason="verifier"), now)
        return super().decide_as_owner(record, status, now, **kwargs)


def test_act_reports_a_conflict_when_the_mention_changed_meanwhile_and_writes_nothing(table_name: str) -> None:
    racing = VerifierRacingRepository(table_name, REGION)
    racing.verdict = Status.APPROVED
    record = stored(racing, "https://www.spam.example.net/reply")

    result = moderation.act(racing, record.pk, "spam", by="admin API", now=at(1), block="domain")

    assert (result.ok, result.error) == (False, "conflict")
    assert result.record is not None and result.record.status == Status.APPROVED  # what the owner must look at
    assert not result.record.history
    assert racing.list_entries("block") == []
    assert racing.offences(SENDER_IP, "example.net", at(2)) == 0


# --------------------------------------------------------------------------- restore


def owner_path(repository: MentionRepository, record: MentionRecord, *actions: str) -> None:
    for minute, action in enumerate(actions, start=1):
        assert moderation.act(repository, record.pk, action, by="admin API", now=at(minute)).ok


@pytest.mark.parametrize(
    ("verified", "decisions", "restored"),
    [
        pytest.param(Status.APPROVED, ("delete",), Status.APPROVED, id="approved-deleted"),
        pytest.param(Status.APPROVED, ("spam",), Status.APPROVED, id="approved-spam"),
        pytest.param(Status.PENDING, ("spam",), Status.PENDING, id="pending-spam"),
        pytest.param(Status.PENDING, ("delete",), Status.PENDING, id="pending-deleted"),
        pytest.param(Status.PENDING, ("approve", "delete"), Status.APPROVED, id="pending-approved-deleted"),
        pytest.param(Status.PENDING, ("approve", "delete", "restore", "spam"), Status.APPROVED, id="twice"),
        pytest.param(Status.SPAM, (), Status.APPROVED, id="verifiers-spam"),
        pytest.param(Status.REJECTED, (), Status.APPROVED, id="verifiers-rejection"),
        pytest.param(Status.SPAM, ("delete",), Status.APPROVED, id="verifiers-spam-then-deleted"),
    ],
)
def test_restore_returns_to_the_status_before_the_owners_last_decision(
    repository: MentionRepository, verified: Status, decisions: tuple[str, ...], restored: Status
) -> None:
    record = stored(repository, "https://blog.example.net/reply", verified)
    owner_path(repository, record, *decisions)

    result = moderation.act(repository, record.pk, "restore", by="admin API", now=at(10))

    assert result.ok
    assert result.record is not None
    assert result.record.status == restored
    assert result.record.history[-1].to_status == restored


def test_a_restored_approval_is_public_again(repository: MentionRepository) -> None:
    record = stored(repository, "https://blog.example.net/reply", Status.APPROVED)
    owner_path(repository, record, "delete")
    assert repository.for_site(SITE, Status.APPROVED)[0] == []

    moderation.act(repository, record.pk, "restore", by="admin API", now=at(5))

    assert [r.pk for r in repository.for_site(SITE, Status.APPROVED)[0]] == [record.pk]
    assert [r.pk for r in repository.approved_for_target(TARGET, per_page=10, page=0)] == [record.pk]
    assert repository.for_site(SITE, Status.DELETED)[0] == []


# --------------------------------------------------------------------------- retention


def expiry_after(now: datetime, days: int = RETENTION_DAYS) -> int:
    return int(now.timestamp()) + days * 86400


@pytest.mark.parametrize("status", [Status.SPAM, Status.REJECTED])
def test_a_spam_or_rejected_verdict_expires_after_the_retention(
    retaining: MentionRepository, dynamodb: Any, table_name: str, template: Template, status: Status
) -> None:
    record = stored(retaining, "https://blog.example.net/reply", Status.QUEUED)

    retaining.record_verdict(record, Verdict(status=status, reason="verifier"), at(1))

    assert reread(retaining, record.pk).expires_at == expiry_after(at(1))
    # Written where the table's TTL looks, or DynamoDB never deletes it.
    assert template.ttl_attribute is not None
    assert raw_item(dynamodb, table_name, record.pk)[template.ttl_attribute] == {"N": str(expiry_after(at(1)))}


@pytest.mark.parametrize("status", [Status.APPROVED, Status.PENDING])
def test_a_published_or_held_verdict_never_expires(retaining: MentionRepository, status: Status) -> None:
    record = stored(retaining, "https://blog.example.net/reply", Status.QUEUED)

    retaining.record_verdict(record, Verdict(status=status, reason="verifier"), at(1))

    assert reread(retaining, record.pk).expires_at is None


def test_the_owners_spam_expires_after_the_retention(retaining: MentionRepository) -> None:
    record = stored(retaining, "https://blog.example.net/reply")

    retaining.decide_as_owner(record, Status.SPAM, at(3), by="admin API")

    assert reread(retaining, record.pk).expires_at == expiry_after(at(3))


def test_an_owners_delete_is_kept(retaining: MentionRepository) -> None:
    record = stored(retaining, "https://blog.example.net/reply", Status.APPROVED)

    retaining.decide_as_owner(record, Status.DELETED, at(3), by="admin API")

    assert reread(retaining, record.pk).expires_at is None


@pytest.mark.parametrize("marked_by", ["verifier", "owner"])
def test_approving_a_spam_mention_keeps_it_for_good(retaining: MentionRepository, marked_by: str) -> None:
    record = stored(retaining, "https://blog.example.net/reply", Status.QUEUED)
    if marked_by == "verifier":
        retaining.record_verdict(record, Verdict(status=Status.SPAM, reason="verifier"), at(1))
    else:
        retaining.decide_as_owner(record, Status.SPAM, at(1), by="admin API")
    assert reread(retaining, record.pk).expires_at is not None

    moderation.act(retaining, record.pk, "approve", by="admin API", now=at(2))

    assert reread(retaining, record.pk).expires_at is None


def test_a_rejected_mention_verified_again_and_approved_is_kept_for_good(retaining: MentionRepository) -> None:
    record = stored(retaining, "https://blog.example.net/reply", Status.QUEUED)
    retaining.record_verdict(record, Verdict(status=Status.REJECTED, reason="no link"), at(1))

    retaining.record_verdict(record, Verdict(status=Status.APPROVED, reason="the link is back"), at(2))

    assert reread(retaining, record.pk).expires_at is None


def test_without_a_retention_spam_is_never_set_to_expire(repository: MentionRepository) -> None:
    by_verifier = stored(repository, "https://blog.example.net/one", Status.QUEUED)
    by_owner = stored(repository, "https://blog.example.net/two")

    repository.record_verdict(by_verifier, Verdict(status=Status.SPAM, reason="verifier"), at(1))
    repository.decide_as_owner(by_owner, Status.SPAM, at(1), by="admin API")

    assert reread(repository, by_verifier.pk).expires_at is None
    assert reread(repository, by_owner.pk).expires_at is None


# --------------------------------------------------------------------------- block and allow lists


def listed(entries: list[ListEntry]) -> list[tuple[str, str, str]]:
    return [(entry.kind, entry.scope, entry.value) for entry in entries]


def test_list_entries_are_listed_by_kind_in_the_order_they_were_added(repository: MentionRepository) -> None:
    repository.add_list_entry("block", "domain", "spam.example.net", by="admin API", now=at(2), note="pills")
    repository.add_list_entry("allow", "domain", "friend.example.org", by="admin API", now=at(1))
    repository.add_list_entry("block", "url", "https://blog.example.net/splog", by="one-click link", now=at(1))

    assert listed(repository.list_entries("block")) == [
        ("block", "url", "https://blog.example.net/splog"),
        ("block", "domain", "spam.example.net"),
    ]
    assert listed(repository.list_entries("allow")) == [("allow", "domain", "friend.example.org")]
    entry = repository.list_entries("block")[1]
    assert (entry.note, entry.created_by, entry.received_at) == ("pills", "admin API", isoformat(at(2)))


def test_a_removed_entry_is_no_longer_listed(repository: MentionRepository) -> None:
    repository.add_list_entry("block", "domain", "spam.example.net", by="admin API", now=at(1))
    repository.add_list_entry("block", "domain", "other.example.net", by="admin API", now=at(2))

    removed = repository.remove_list_entry("block", "domain", "spam.example.net")

    assert removed is not None and removed.value == "spam.example.net"
    assert listed(repository.list_entries("block")) == [("block", "domain", "other.example.net")]


def test_removing_an_entry_that_is_not_listed_finds_nothing(repository: MentionRepository) -> None:
    repository.add_list_entry("block", "domain", "spam.example.net", by="admin API", now=at(1))

    assert repository.remove_list_entry("allow", "domain", "spam.example.net") is None
    assert repository.remove_list_entry("block", "url", "spam.example.net") is None
    assert len(repository.list_entries("block")) == 1


def test_list_entries_never_show_in_a_sites_moderation_queue(repository: MentionRepository) -> None:
    held = stored(repository, "https://blog.example.net/reply")
    repository.add_list_entry("block", "domain", "spam.example.net", by="admin API", now=at(1))

    assert [record.pk for record in repository.for_site(SITE, Status.PENDING)[0]] == [held.pk]


SPAM_SOURCE = "https://www.spam.example.net/casino/page"
SPAM_HOST = "www.spam.example.net"
SPAM_DOMAIN = "example.net"  # its registrable domain


@pytest.mark.parametrize(
    ("entries", "expected"),
    [
        pytest.param([("block", "domain", SPAM_DOMAIN)], ("block", "domain", SPAM_DOMAIN), id="domain"),
        pytest.param([("allow", "domain", SPAM_HOST)], ("allow", "domain", SPAM_HOST), id="host"),
        pytest.param([("block", "url", SPAM_SOURCE)], ("block", "url", SPAM_SOURCE), id="url"),
        pytest.param(
            [("block", "domain", SPAM_HOST), ("allow", "url", SPAM_SOURCE)],
            ("allow", "url", SPAM_SOURCE),
            id="url-before-host",
        ),
        pytest.param(
            [("block", "domain", SPAM_DOMAIN), ("allow", "url", SPAM_SOURCE)],
            ("allow", "url", SPAM_SOURCE),
            id="url-before-domain",
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
            [("allow", "domain", SPAM_HOST), ("block", "domain", SPAM_HOST)],
            ("block", "domain", SPAM_HOST),
            id="block-before-allow-at-the-host",
        ),
        pytest.param(
            [("allow", "domain", SPAM_DOMAIN), ("block", "domain", SPAM_DOMAIN)],
            ("block", "domain", SPAM_DOMAIN),
            id="block-before-allow-at-the-domain",
        ),
    ],
)
def test_the_most_specific_list_entry_speaks_for_a_source(
    repository: MentionRepository, entries: list[tuple[str, str, str]], expected: tuple[str, str, str]
) -> None:
    for minute, (kind, scope, value) in enumerate(entries):
        repository.add_list_entry(kind, scope, value, by="admin API", now=at(minute))

    entry = repository.matching_list_entry(SPAM_SOURCE, (SPAM_HOST, SPAM_DOMAIN))

    assert entry is not None
    assert (entry.kind, entry.scope, entry.value) == expected


@pytest.mark.parametrize(
    "entry",
    [
        ("block", "domain", "other.example.net"),  # a sibling host
        ("block", "domain", "spam.example.net"),  # between the host and its registrable domain
        ("block", "url", "https://www.spam.example.net/casino/other-page"),
        ("block", "url", SPAM_HOST),  # a domain's value under the url scope
    ],
)
def test_an_entry_about_another_place_does_not_speak_for_a_source(
    repository: MentionRepository, entry: tuple[str, str, str]
) -> None:
    repository.add_list_entry(*entry, by="admin API", now=at(1))

    assert repository.matching_list_entry(SPAM_SOURCE, (SPAM_HOST, SPAM_DOMAIN)) is None


# --------------------------------------------------------------------------- offences


def test_offences_are_counted_per_sender_address_and_per_source_domain(repository: MentionRepository) -> None:
    repository.record_offence("192.0.2.7", "spam.example", at(0))
    repository.record_offence("192.0.2.7", "spam.example", at(1))

    assert repository.offences("192.0.2.7", "elsewhere.example", at(2)) == 2
    assert repository.offences("198.51.100.9", "spam.example", at(2)) == 2
    assert repository.offences("198.51.100.9", "elsewhere.example", at(2)) == 0


def test_offences_are_the_larger_of_the_address_and_domain_counts(repository: MentionRepository) -> None:
    # Given one address that spammed three times from different domains, and a domain spammed from two addresses
    for domain in ("one.example", "two.example", "three.example"):
        repository.record_offence("192.0.2.7", domain, at(0))
    repository.record_offence("198.51.100.9", "four.example", at(0))
    repository.record_offence("203.0.113.5", "four.example", at(0))

    assert repository.offences("192.0.2.7", "four.example", at(1)) == 3
    assert repository.offences("198.51.100.9", "four.example", at(1)) == 2
    assert repository.offences("198.51.100.9", "one.example", at(1)) == 1


def test_offences_older_than_the_memory_are_ignored(repository: MentionRepository) -> None:
    repository.record_offence("192.0.2.7", "spam.example", at(0))
    remembered_until = at(0) + timedelta(seconds=OFFENCE_MEMORY_S)

    assert repository.offences("192.0.2.7", "spam.example", remembered_until - timedelta(seconds=1)) == 1
    assert repository.offences("192.0.2.7", "spam.example", remembered_until) == 0


def test_a_new_offence_renews_the_memory_of_the_earlier_ones(repository: MentionRepository) -> None:
    repository.record_offence("192.0.2.7", "spam.example", at(0))
    later = at(0) + timedelta(days=100)
    repository.record_offence("192.0.2.7", "spam.example", later)

    assert repository.offences("192.0.2.7", "spam.example", at(0) + timedelta(seconds=OFFENCE_MEMORY_S + 1)) == 2


def test_a_sender_without_an_address_is_counted_by_domain_only(repository: MentionRepository) -> None:
    repository.record_offence(None, "spam.example", at(0))

    assert repository.offences(None, "spam.example", at(1)) == 1
    assert repository.offences("192.0.2.7", "elsewhere.example", at(1)) == 0


# --------------------------------------------------------------------------- single-use markers


def test_a_key_can_be_claimed_once(repository: MentionRepository) -> None:
    assert repository.was_claimed("link#nonce-1") is False

    assert repository.claim_once("link#nonce-1", now=at(0), keep_s=3600) is True
    assert repository.claim_once("link#nonce-1", now=at(1), keep_s=3600) is False
    assert repository.was_claimed("link#nonce-1") is True


def test_claiming_one_key_leaves_the_others_free(repository: MentionRepository) -> None:
    repository.claim_once("link#nonce-1", now=at(0), keep_s=3600)

    assert repository.was_claimed("link#nonce-2") is False
    assert repository.claim_once("link#nonce-2", now=at(0), keep_s=3600) is True


def test_a_claim_expires_through_the_tables_ttl(
    repository: MentionRepository, dynamodb: Any, table_name: str, template: Template
) -> None:
    repository.claim_once("link#nonce-1", now=at(0), keep_s=3600)

    assert template.ttl_attribute is not None
    item = raw_item(dynamodb, table_name, "once#link#nonce-1")
    assert item[template.ttl_attribute] == {"N": str(int(at(0).timestamp()) + 3600)}


# --------------------------------------------------------------------------- paging a site's mentions


def all_pages(repository: MentionRepository, site: str, status: Status, limit: int) -> list[list[str]]:
    """Every page, each cursor passed through the admin API's encoding as a client would."""
    pages: list[list[str]] = []
    cursor = None
    for _ in range(20):
        records, next_key = repository.for_site(site, status, limit=limit, cursor=documents.decode_cursor(cursor))
        pages.append([record.pk for record in records])
        cursor = documents.encode_cursor(next_key)
        if cursor is None:
            return pages
    raise AssertionError("the cursor never ran out")


@pytest.fixture
def site_mentions(repository: MentionRepository) -> dict[Status, list[str]]:
    """Five approved and five held mentions of SITE, received out of order, with others around them;
    the ids in order of reception."""
    mentions: dict[Status, list[tuple[int, str]]] = {Status.APPROVED: [], Status.PENDING: []}
    for minute in (30, 10, 40, 0, 20):
        for status in mentions:
            record = stored(repository, f"https://blog.example.net/{status}-{minute}", status, received=at(minute))
            mentions[status].append((minute, record.pk))
    stored(repository, "https://blog.example.net/spam", Status.SPAM, received=at(5))
    stored(repository, "https://blog.example.net/elsewhere", Status.APPROVED, received=at(6), site=OTHER_SITE)
    stored(repository, "https://blog.example.net/held-elsewhere", received=at(7), site=OTHER_SITE)
    return {status: [pk for _, pk in sorted(found)] for status, found in mentions.items()}


def test_approved_mentions_of_a_site_page_newest_first(
    repository: MentionRepository, site_mentions: dict[Status, list[str]]
) -> None:
    newest_first = site_mentions[Status.APPROVED][::-1]

    assert all_pages(repository, SITE, Status.APPROVED, limit=2) == [
        newest_first[0:2],
        newest_first[2:4],
        newest_first[4:5],
    ]


def test_held_mentions_of_a_site_page_oldest_first(
    repository: MentionRepository, site_mentions: dict[Status, list[str]]
) -> None:
    oldest_first = site_mentions[Status.PENDING]

    assert all_pages(repository, SITE, Status.PENDING, limit=2) == [
        oldest_first[0:2],
        oldest_first[2:4],
        oldest_first[4:5],
    ]


def test_a_page_that_takes_everything_left_gives_no_cursor(
    repository: MentionRepository, site_mentions: dict[Status, list[str]]
) -> None:
    records, next_key = repository.for_site(SITE, Status.PENDING, limit=10)

    assert [record.pk for record in records] == site_mentions[Status.PENDING]
    assert next_key is None


# --------------------------------------------------------------------------- act: lists, offences, feedback


@dataclass
class SpamService:
    """Stands in for Akismet's submit-spam/submit-ham: what the owner's decisions taught it."""

    reports: list[tuple[str, bool]] = field(default_factory=list)

    def report(self, record: MentionRecord, *, spam: bool) -> None:
        self.reports.append((record.source, spam))


def test_spam_with_block_domain_lists_the_registrable_domain_of_the_source(repository: MentionRepository) -> None:
    record = stored(repository, "https://www.casino.example.co.uk/bonus")

    result = moderation.act(repository, record.pk, "spam", by="admin API", now=at(1), block="domain")

    assert result.listed is not None
    assert listed(repository.list_entries("block")) == [("block", "domain", "example.co.uk")]
    assert repository.list_entries("block")[0].note == f"from mention {record.pk}"


def test_spam_with_block_url_lists_the_source_url(repository: MentionRepository) -> None:
    record = stored(repository, "https://www.casino.example.co.uk/bonus")

    moderation.act(repository, record.pk, "spam", by="admin API", now=at(1), block="url")

    assert listed(repository.list_entries("block")) == [("block", "url", "https://www.casino.example.co.uk/bonus")]


@pytest.mark.parametrize("action", ["approve", "restore"])
def test_approving_with_allow_domain_lists_the_registrable_domain_as_allowed(
    repository: MentionRepository, action: str
) -> None:
    record = stored(repository, "https://notes.friend.example.org/reply", Status.SPAM)

    result = moderation.act(repository, record.pk, action, by="admin API", now=at(1), allow="domain")

    assert result.record is not None and result.record.status == Status.APPROVED
    assert listed(repository.list_entries("allow")) == [("allow", "domain", "example.org")]
    assert repository.list_entries("block") == []


def test_an_allowed_domain_then_speaks_for_its_other_pages(repository: MentionRepository) -> None:
    record = stored(repository, "https://notes.friend.example.org/reply", Status.SPAM)
    moderation.act(repository, record.pk, "approve", by="admin API", now=at(1), allow="domain")

    entry = repository.matching_list_entry("https://friend.example.org/other", ("friend.example.org", "example.org"))

    assert entry is not None and entry.kind == "allow"


def test_a_spam_decision_counts_an_offence_for_the_sender_and_the_source_domain(
    repository: MentionRepository,
) -> None:
    record = stored(repository, "https://www.casino.example.net/bonus", sender_ip="203.0.113.5")

    moderation.act(repository, record.pk, "spam", by="admin API", now=at(1))

    assert repository.offences("203.0.113.5", "elsewhere.example", at(2)) == 1
    assert repository.offences("198.51.100.9", "example.net", at(2)) == 1


@pytest.mark.parametrize("action", ["approve", "delete"])
def test_a_decision_other_than_spam_counts_no_offence(repository: MentionRepository, action: str) -> None:
    record = stored(repository, "https://www.casino.example.net/bonus", sender_ip="203.0.113.5")

    moderation.act(repository, record.pk, action, by="admin API", now=at(1))

    assert repository.offences("203.0.113.5", "example.net", at(2)) == 0


def test_the_owner_approving_spam_tells_the_spam_service_it_was_ham(repository: MentionRepository) -> None:
    service = SpamService()
    record = stored(repository, "https://blog.example.net/reply", Status.SPAM)

    moderation.act(repository, record.pk, "approve", by="admin API", now=at(1), feedback=service)

    assert service.reports == [("https://blog.example.net/reply", False)]


@pytest.mark.parametrize("verified", [Status.APPROVED, Status.PENDING])
def test_the_owner_marking_a_mention_spam_tells_the_spam_service(
    repository: MentionRepository, verified: Status
) -> None:
    service = SpamService()
    record = stored(repository, "https://blog.example.net/reply", verified)

    moderation.act(repository, record.pk, "spam", by="admin API", now=at(1), feedback=service)

    assert service.reports == [("https://blog.example.net/reply", True)]


@pytest.mark.parametrize(
    ("verified", "action"),
    [(Status.PENDING, "approve"), (Status.APPROVED, "delete"), (Status.SPAM, "spam"), (Status.SPAM, "delete")],
)
def test_a_decision_that_overrules_no_spam_verdict_tells_the_spam_service_nothing(
    repository: MentionRepository, verified: Status, action: str
) -> None:
    service = SpamService()
    record = stored(repository, "https://blog.example.net/reply", verified)

    assert moderation.act(repository, record.pk, action, by="admin API", now=at(1), feedback=service).ok

    assert service.reports == []


def test_acting_on_an_unknown_mention_finds_nothing(repository: MentionRepository) -> None:
    result = moderation.act(repository, "0123456789abcdef0123456789abcdef", "approve", by="admin API", now=at(1))

    assert (result.error, result.record) == ("not_found", None)


@pytest.mark.parametrize(
    ("action", "lists"),
    [
        ("approve", {"block": "domain"}),
        ("spam", {"block": "host"}),
        ("spam", {"allow": "domain"}),
        ("approve", {"allow": "url"}),
        ("frobnicate", {}),
    ],
)
def test_a_request_that_cannot_mean_anything_is_refused_before_anything_is_written(
    repository: MentionRepository, action: str, lists: dict[str, str]
) -> None:
    record = stored(repository, "https://blog.example.net/reply")

    with pytest.raises(moderation.InvalidRequest):
        moderation.act(repository, record.pk, action, by="admin API", now=at(1), **lists)

    assert reread(repository, record.pk).status == Status.PENDING
    assert repository.list_entries("block") == repository.list_entries("allow") == []
