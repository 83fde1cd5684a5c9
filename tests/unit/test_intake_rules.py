"""The intake's rules, on the in-memory repository and rate limiter: what is stored and queued for a new
ping, a re-send, a refused one, a sender over its budget, an owner's verdict, and a queue that fails.
(The same path against DynamoDB Local and the SQS server: tests/integration/test_storage.py.)"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

import pytest

from linkback.errors import AlreadyRegistered, RateLimited, SourceIsTarget, TargetNotAccepted, UpstreamError
from linkback.model import Protocol, Status, Verdict
from linkback.receive.intake import IntakeLimits, Ping, Receipt, receive
from linkback.store.memory import InMemoryRateLimiter, InMemoryRepository
from linkback.store.schema import MentionRecord

SITE = "https://example.com"
SITES = (SITE,)
TARGET = f"{SITE}/2024/a-post"
SOURCE = "https://blog.example.net/reply"
SENDER_IP = "192.0.2.7"
T0 = datetime(2024, 5, 1, 12, 0, tzinfo=UTC)
RESEND_INTERVAL_S = 30
PINGS_PER_HOUR = 5


def at(seconds: float) -> datetime:
    return T0 + timedelta(seconds=seconds)


@dataclass
class RecordingQueue:
    """Stands in for the SQS adapter (MentionQueue.enqueue): keeps the ids it is given, or fails."""

    enqueued: list[str] = field(default_factory=list)
    failing: bool = False

    def enqueue(self, mention_id: str, correlation_id: str | None = None) -> None:
        if self.failing:
            raise ConnectionError("SQS is unreachable")
        self.enqueued.append(mention_id)


@dataclass
class Intake:
    repository: InMemoryRepository = field(default_factory=InMemoryRepository)
    queue: RecordingQueue = field(default_factory=RecordingQueue)
    limits: IntakeLimits = field(
        default_factory=lambda: IntakeLimits(
            limiter=InMemoryRateLimiter(), sender_pings_per_hour=PINGS_PER_HOUR, resend_interval_s=RESEND_INTERVAL_S
        )
    )

    def send(
        self,
        source: str = SOURCE,
        target: str = TARGET,
        *,
        now: datetime = T0,
        protocol: Protocol = Protocol.WEBMENTION,
        sender_ip: str = SENDER_IP,
        sent: dict[str, str] | None = None,
    ) -> Receipt:
        ping = Ping(protocol=protocol, source=source, target=target, sender_ip=sender_ip, sent=sent or {})
        return receive(ping, sites=SITES, repository=self.repository, queue=self.queue, now=now, limits=self.limits)

    def stored(self, receipt: Receipt) -> MentionRecord:
        record = self.repository.get(receipt.mention_id)
        assert record is not None
        return record


@pytest.fixture
def intake() -> Intake:
    return Intake()


# --------------------------------------------------------------------------- a new ping


def test_a_new_ping_is_stored_queued_and_enqueued_once(intake: Intake) -> None:
    receipt = intake.send(sent={"title": "A reply", "excerpt": ""})

    assert receipt.created is True
    record = intake.stored(receipt)
    assert (record.status, record.source, record.target, record.site) == ("queued", SOURCE, TARGET, SITE)
    assert (record.sender_ip, record.sent_title, record.sent_excerpt) == (SENDER_IP, "A reply", None)
    assert intake.queue.enqueued == [receipt.mention_id]


def test_the_same_mention_in_another_spelling_is_the_same_mention(intake: Intake) -> None:
    first = intake.send()

    again = intake.send("HTTPS://Blog.Example.NET:443/reply#comment-3", now=at(RESEND_INTERVAL_S + 1))

    assert (again.mention_id, again.created) == (first.mention_id, False)
    assert len(intake.repository.mentions()) == 1


# --------------------------------------------------------------------------- re-sends


def test_a_resend_inside_the_interval_is_rate_limited_and_queued_no_second_time(intake: Intake) -> None:
    first = intake.send()

    with pytest.raises(RateLimited) as refused:
        intake.send(now=at(10), sender_ip="198.51.100.9")

    assert 1 <= refused.value.retry_after_s <= RESEND_INTERVAL_S
    assert intake.queue.enqueued == [first.mention_id]
    assert intake.stored(first).sender_ip == SENDER_IP  # the refused re-send changed nothing


def test_a_resend_after_the_interval_is_queued_again(intake: Intake) -> None:
    first = intake.send()

    again = intake.send(now=at(RESEND_INTERVAL_S + 1), sender_ip="198.51.100.9")

    assert (again.mention_id, again.created) == (first.mention_id, False)
    assert intake.queue.enqueued == [first.mention_id, first.mention_id]
    assert intake.stored(again).sender_ip == "198.51.100.9"


def test_a_resent_rejected_mention_is_queued_for_a_fresh_verification(intake: Intake) -> None:
    first = intake.send()
    record = intake.stored(first)
    assert intake.repository.record_verdict(record, Verdict(Status.REJECTED, "no link", fetch_status=200), at(5))

    intake.send(now=at(RESEND_INTERVAL_S + 1))

    again = intake.stored(first)
    assert (again.status, again.status_reason, again.fetch_status) == ("queued", None, None)
    assert intake.queue.enqueued == [first.mention_id, first.mention_id]


def test_a_resent_approved_mention_stays_public_until_verified_again(intake: Intake) -> None:
    first = intake.send()
    assert intake.repository.record_verdict(intake.stored(first), Verdict(Status.APPROVED, "links"), at(5))

    intake.send(now=at(RESEND_INTERVAL_S + 1))

    assert intake.stored(first).status == Status.APPROVED
    assert [r.pk for r in intake.repository.approved_for_target(TARGET, per_page=10, page=0)] == [first.mention_id]
    assert intake.queue.enqueued == [first.mention_id, first.mention_id]


def test_a_pingback_sent_again_is_already_registered(intake: Intake) -> None:
    first = intake.send(protocol=Protocol.PINGBACK)

    with pytest.raises(AlreadyRegistered):
        intake.send(protocol=Protocol.PINGBACK, now=at(RESEND_INTERVAL_S + 1))

    assert intake.queue.enqueued == [first.mention_id]


@pytest.mark.parametrize("verdict", [Status.SPAM, Status.DELETED])
def test_an_owners_verdict_survives_a_resend(intake: Intake, verdict: Status) -> None:
    # Given a mention the owner marked spam (or deleted)
    first = intake.send()
    assert intake.repository.decide_as_owner(intake.stored(first), verdict, at(5), by="admin API")
    # When the sender sends it again
    again = intake.send(now=at(RESEND_INTERVAL_S + 1))
    # Then the owner's verdict stands and nothing is queued for verification
    assert (again.mention_id, again.created) == (first.mention_id, False)
    record = intake.stored(first)
    assert record.status == verdict
    assert [change.to_status for change in record.history] == [verdict]
    assert intake.queue.enqueued == [first.mention_id]


# --------------------------------------------------------------------------- refused before anything is stored


@pytest.mark.parametrize(
    "target",
    [
        pytest.param("https://elsewhere.example.org/2024/a-post", id="another-site"),
        pytest.param("http://example.com/2024/a-post", id="another-scheme"),
        pytest.param("mailto:owner@example.com", id="not-a-web-url"),
    ],
)
def test_a_target_outside_the_sites_is_refused_and_nothing_stored(intake: Intake, target: str) -> None:
    with pytest.raises(TargetNotAccepted):
        intake.send(target=target)

    assert intake.repository.mentions() == []
    assert intake.queue.enqueued == []


def test_a_source_that_is_the_target_is_refused_and_nothing_stored(intake: Intake) -> None:
    with pytest.raises(SourceIsTarget):
        intake.send(source=f"{TARGET}#comments")

    assert intake.repository.mentions() == []
    assert intake.queue.enqueued == []


def test_a_sender_over_its_hourly_budget_is_rate_limited_and_nothing_stored(intake: Intake) -> None:
    for number in range(PINGS_PER_HOUR):
        intake.send(f"https://blog.example.net/post-{number}", now=at(number))

    with pytest.raises(RateLimited) as refused:
        intake.send("https://blog.example.net/one-too-many", now=at(60))

    assert "too many pings from your address" in refused.value.message
    assert refused.value.retry_after_s == 3600 - 60  # T0 starts an hour's window
    assert len(intake.repository.mentions()) == PINGS_PER_HOUR
    assert len(intake.queue.enqueued) == PINGS_PER_HOUR


def test_another_sender_has_its_own_budget(intake: Intake) -> None:
    for number in range(PINGS_PER_HOUR):
        intake.send(f"https://blog.example.net/post-{number}", now=at(number))

    receipt = intake.send("https://blog.example.net/from-elsewhere", now=at(60), sender_ip="198.51.100.9")

    assert receipt.created is True


# --------------------------------------------------------------------------- the queue fails


def test_a_failed_enqueue_discards_the_just_created_mention(intake: Intake) -> None:
    intake.queue.failing = True

    with pytest.raises(UpstreamError):
        intake.send()

    assert intake.repository.mentions() == []


def test_the_senders_retry_after_a_failed_enqueue_starts_afresh(intake: Intake) -> None:
    intake.queue.failing = True
    with pytest.raises(UpstreamError):
        intake.send()
    intake.queue.failing = False

    receipt = intake.send(now=at(1))

    assert receipt.created is True
    assert intake.queue.enqueued == [receipt.mention_id]


def test_a_failed_enqueue_of_a_resend_keeps_the_mention(intake: Intake) -> None:
    first = intake.send()
    assert intake.repository.record_verdict(intake.stored(first), Verdict(Status.APPROVED, "links"), at(5))
    intake.queue.failing = True

    with pytest.raises(UpstreamError):
        intake.send(now=at(RESEND_INTERVAL_S + 1))

    assert intake.stored(first).status == Status.APPROVED
