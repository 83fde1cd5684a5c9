"""The owner's decisions (`moderation.actions`) on the in-memory repository: the status and audit trail each
leaves, the lists and offences they teach, restore, a concurrent change, an unknown mention, one-click links
acting once, and bulk decisions. (Against DynamoDB Local: tests/integration/test_moderation_storage.py.)"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from linkback.model import Protocol, Status, Verdict, isoformat, mention_id
from linkback.moderation import actions as moderation
from linkback.store.memory import InMemoryRepository
from linkback.store.schema import MentionRecord

SITE = "https://example.com"
TARGET = f"{SITE}/2024/a-post"
SOURCE = "https://www.casino.example.net/bonus"
SENDER_IP = "203.0.113.5"
T0 = datetime(2024, 5, 1, 12, 0, tzinfo=UTC)


def at(minutes: int) -> datetime:
    return T0 + timedelta(minutes=minutes)


@pytest.fixture
def repository() -> InMemoryRepository:
    return InMemoryRepository()


def verified(repository: InMemoryRepository, status: Status = Status.PENDING, source: str = SOURCE) -> str:
    """A mention as the verifier left it; its id."""
    record = MentionRecord(
        mention_id(source, TARGET),
        protocol=str(Protocol.WEBMENTION),
        source=source,
        target=TARGET,
        site=SITE,
        status=str(status),
        received_at=isoformat(T0),
        updated_at=isoformat(T0),
        verified_at=isoformat(T0),
        sender_ip=SENDER_IP,
    )
    assert repository.create(record)
    return record.pk


def stored(repository: InMemoryRepository, identifier: str) -> MentionRecord:
    record = repository.get(identifier)
    assert record is not None
    return record


def history(record: MentionRecord) -> list[tuple[str, str, str, str | None]]:
    return [(c.by, c.from_status, c.to_status, c.note) for c in record.history or []]


def listed(repository: InMemoryRepository, kind: str) -> list[tuple[str, str, str]]:
    return [(entry.kind, entry.scope, entry.value) for entry in repository.list_entries(kind)]


@dataclass
class SpamService:
    """Stands in for Akismet's submit-spam/submit-ham."""

    reports: list[tuple[str, bool]] = field(default_factory=list)

    def report(self, record: MentionRecord, *, spam: bool) -> None:
        self.reports.append((record.source, spam))


# --------------------------------------------------------------------------- decisions


def test_approving_a_pending_mention_publishes_it_and_joins_the_history(repository: InMemoryRepository) -> None:
    mention = verified(repository)

    result = moderation.act(repository, mention, "approve", by="admin API", now=at(1), note="a friend")

    assert result.ok
    assert result.record is not None and result.record.status == Status.APPROVED  # as stored, not as read
    record = stored(repository, mention)
    assert (record.status, record.status_reason) == ("approved", "approved by admin API: a friend")
    assert history(record) == [("admin API", "pending", "approved", "a friend")]
    assert record.history[0].at == isoformat(at(1))
    assert [r.pk for r in repository.approved_for_target(TARGET, per_page=10, page=0)] == [mention]
    assert repository.held_for_site(SITE) == []


def test_deleting_a_mention_takes_it_out_of_the_feed_as_deleted_by_the_owner(repository: InMemoryRepository) -> None:
    mention = verified(repository, Status.APPROVED)

    moderation.act(repository, mention, "delete", by="admin API", now=at(1))

    record = stored(repository, mention)
    assert (record.status, record.deleted_by, record.deleted_at) == ("deleted", "owner", isoformat(at(1)))
    assert repository.approved_for_target(TARGET, per_page=10, page=0) == []


def test_spam_with_block_domain_lists_the_registrable_domain_of_the_source(repository: InMemoryRepository) -> None:
    mention = verified(repository)

    result = moderation.act(repository, mention, "spam", by="admin API", now=at(1), block="domain")

    assert result.listed is not None
    assert stored(repository, mention).status == Status.SPAM
    assert listed(repository, "block") == [("block", "domain", "example.net")]
    assert repository.list_entries("block")[0].note == f"from mention {mention}"
    entry = repository.matching_list_entry("https://other.example.net/page", ("other.example.net", "example.net"))
    assert entry is not None and entry.kind == "block"


def test_spam_with_block_url_lists_the_source_url(repository: InMemoryRepository) -> None:
    mention = verified(repository)

    moderation.act(repository, mention, "spam", by="admin API", now=at(1), block="url")

    assert listed(repository, "block") == [("block", "url", SOURCE)]


def test_a_spam_decision_counts_an_offence_for_the_sender_and_the_source_domain(
    repository: InMemoryRepository,
) -> None:
    mention = verified(repository)

    moderation.act(repository, mention, "spam", by="admin API", now=at(1))

    assert repository.offences(SENDER_IP, "elsewhere.example", at(2)) == 1
    assert repository.offences("198.51.100.9", "example.net", at(2)) == 1


@pytest.mark.parametrize("action", ["approve", "delete"])
def test_a_decision_other_than_spam_counts_no_offence(repository: InMemoryRepository, action: str) -> None:
    mention = verified(repository)

    moderation.act(repository, mention, action, by="admin API", now=at(1))

    assert repository.offences(SENDER_IP, "example.net", at(2)) == 0


def test_approving_the_verifiers_spam_tells_the_spam_service_it_was_ham(repository: InMemoryRepository) -> None:
    service = SpamService()
    mention = verified(repository, Status.SPAM)

    moderation.act(repository, mention, "approve", by="admin API", now=at(1), feedback=service, allow="domain")

    assert service.reports == [(SOURCE, False)]
    assert listed(repository, "allow") == [("allow", "domain", "example.net")]


# --------------------------------------------------------------------------- restore


@pytest.mark.parametrize(
    ("verified_as", "decisions", "restored"),
    [
        pytest.param(Status.PENDING, ("spam",), Status.PENDING, id="pending-spam"),
        pytest.param(Status.APPROVED, ("delete",), Status.APPROVED, id="approved-deleted"),
        pytest.param(Status.PENDING, ("approve", "delete"), Status.APPROVED, id="pending-approved-deleted"),
        pytest.param(Status.SPAM, (), Status.APPROVED, id="verifiers-spam"),
    ],
)
def test_restore_returns_to_the_status_before_the_owners_last_decision(
    repository: InMemoryRepository, verified_as: Status, decisions: tuple[str, ...], restored: Status
) -> None:
    mention = verified(repository, verified_as)
    for minute, action in enumerate(decisions, start=1):
        assert moderation.act(repository, mention, action, by="admin API", now=at(minute)).ok

    before = stored(repository, mention).status

    result = moderation.act(repository, mention, "restore", by="admin API", now=at(10))

    assert result.ok
    record = stored(repository, mention)
    assert record.status == restored
    assert history(record)[-1] == ("admin API", before, restored, None)


def test_a_mention_that_is_not_deleted_spam_or_rejected_cannot_be_restored(repository: InMemoryRepository) -> None:
    mention = verified(repository, Status.APPROVED)

    with pytest.raises(moderation.InvalidRequest):
        moderation.act(repository, mention, "restore", by="admin API", now=at(1))

    assert stored(repository, mention).history == []


# --------------------------------------------------------------------------- conflicts and unknown mentions


class VerifierRacingRepository(InMemoryRepository):
    """The store as the owner meets it when the verifier stores its verdict between the owner's read and
    the owner's write."""

    def decide_as_owner(self, record: MentionRecord, status: Status, now: datetime, **kwargs: Any) -> bool:
        fresh = self.get(record.pk)
        assert fresh is not None and self.record_verdict(fresh, Verdict(Status.APPROVED, "verifier"), now)
        return super().decide_as_owner(record, status, now, **kwargs)


def test_a_decision_on_a_mention_that_changed_meanwhile_is_a_conflict_and_writes_nothing() -> None:
    racing = VerifierRacingRepository()
    mention = verified(racing)

    result = moderation.act(racing, mention, "spam", by="admin API", now=at(1), block="domain")

    assert (result.ok, result.error) == (False, "conflict")
    assert result.record is not None and result.record.status == Status.APPROVED  # what the owner must look at
    assert stored(racing, mention).history == []
    assert racing.list_entries("block") == []
    assert racing.offences(SENDER_IP, "example.net", at(2)) == 0


def test_acting_on_an_unknown_mention_finds_nothing(repository: InMemoryRepository) -> None:
    result = moderation.act(repository, "0123456789abcdef0123456789abcdef", "approve", by="admin API", now=at(1))

    assert (result.error, result.record) == ("not_found", None)
    assert repository.mentions() == []


@pytest.mark.parametrize(
    ("action", "lists"),
    [("approve", {"block": "domain"}), ("spam", {"allow": "domain"}), ("frobnicate", {})],
)
def test_a_request_that_cannot_mean_anything_is_refused_before_anything_is_written(
    repository: InMemoryRepository, action: str, lists: dict[str, str]
) -> None:
    mention = verified(repository)

    with pytest.raises(moderation.InvalidRequest):
        moderation.act(repository, mention, action, by="admin API", now=at(1), **lists)

    assert stored(repository, mention).status == Status.PENDING
    assert repository.list_entries("block") == repository.list_entries("allow") == []


# --------------------------------------------------------------------------- one-click links and bulk decisions


def test_a_one_click_link_acts_once(repository: InMemoryRepository) -> None:
    mention = verified(repository)
    expires_at = at(60).timestamp()

    first = moderation.act_from_link(repository, mention, "approve", nonce="n-1", expires_at=expires_at, now=at(1))
    again = moderation.act_from_link(repository, mention, "spam", nonce="n-1", expires_at=expires_at, now=at(2))

    assert (first.ok, again.error) == (True, "used")
    record = stored(repository, mention)
    assert record.status == Status.APPROVED
    assert history(record) == [("one-click link", "pending", "approved", None)]


def test_a_bulk_decision_acts_on_each_mention_on_its_own(repository: InMemoryRepository) -> None:
    spam = verified(repository, Status.SPAM, "https://blog.example.net/spam")
    approved = verified(repository, Status.APPROVED, "https://blog.example.net/approved")

    outcomes = dict(moderation.act_on_many(repository, [approved, spam], "restore", by="admin API", now=at(1)))

    assert isinstance(outcomes[approved], moderation.InvalidRequest)  # an approved mention is not restorable
    assert isinstance(outcomes[spam], moderation.ActionResult) and outcomes[spam].ok
    assert (stored(repository, approved).status, stored(repository, spam).status) == ("approved", "approved")
