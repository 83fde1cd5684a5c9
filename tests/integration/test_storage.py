"""The mentions table and the intake against DynamoDB Local and the SQS server: idempotent receive,
re-sends, and the access patterns of docs/architecture.md served by Query on the template's indexes."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from linkback.errors import AlreadyRegistered, UpstreamError
from linkback.model import Protocol, Status, Verdict, isoformat, mention_id
from linkback.receive.intake import Ping, Receipt, receive
from linkback.store.queue import MentionQueue, decode_message
from linkback.store.repository import MentionRepository
from linkback.store.schema import MentionRecord

from .conftest import REGION, SITE, Resources

OTHER_SITE = "https://blog.example.org"
SITES = (SITE, OTHER_SITE)
TARGET = f"{SITE}/2024/a-post"
OTHER_TARGET = f"{SITE}/2024/another-post"
T0 = datetime(2024, 5, 1, 12, 0, tzinfo=UTC)


def at(minutes: int) -> datetime:
    return T0 + timedelta(minutes=minutes)


@dataclass
class Intake:
    """The intake path as every front calls it, bound to this test's table and queue."""

    repository: MentionRepository
    queue: MentionQueue

    def send(
        self,
        source: str,
        target: str = TARGET,
        *,
        protocol: Protocol = Protocol.TRACKBACK,
        now: datetime = T0,
        sent: dict[str, str] | None = None,
    ) -> Receipt:
        ping = Ping(protocol=protocol, source=source, target=target, sender_ip="192.0.2.7", sent=sent or {})
        return receive(ping, sites=SITES, repository=self.repository, queue=self.queue, now=now)

    def judge(self, receipt: Receipt, status: Status, *, now: datetime = T0) -> None:
        """Store a verdict (the verifier's, or the owner's) through the repository."""
        record = self.repository.get(receipt.mention_id)
        assert record is not None
        self.repository.record_verdict(record, Verdict(status=status, reason=f"test: {status}"), now)

    def status(self, receipt: Receipt) -> str:
        record = self.repository.get(receipt.mention_id)
        assert record is not None
        return record.status


@pytest.fixture
def repository(linkback_env: Resources) -> MentionRepository:
    return MentionRepository(linkback_env.table_name, REGION)


@pytest.fixture
def intake(repository: MentionRepository, linkback_env: Resources) -> Intake:
    return Intake(repository, MentionQueue(linkback_env.queue.url, REGION))


# ------------------------------------------------------------- what the tests look at directly


def count_items(dynamodb: Any, table_name: str) -> int:
    """How many items the table holds (a Scan: the test's view, never the code's)."""
    total = 0
    for page in dynamodb.get_paginator("scan").paginate(TableName=table_name, Select="COUNT"):
        total += page["Count"]
    return total


def get_item(dynamodb: Any, table_name: str, identifier: str) -> dict[str, Any] | None:
    return dynamodb.get_item(TableName=table_name, Key={"pk": {"S": identifier}}, ConsistentRead=True).get("Item")


def queued_ids(sqs: Any, queue_url: str) -> list[str]:
    """Drain the queue; the mention ids its messages name, in no particular order."""
    ids: list[str] = []
    for _ in range(20):
        messages = sqs.receive_message(
            QueueUrl=queue_url, MaxNumberOfMessages=10, WaitTimeSeconds=0, VisibilityTimeout=60
        ).get("Messages", [])
        if not messages:
            return ids
        ids += [decode_message(message["Body"]) for message in messages]
    raise AssertionError(f"{queue_url} did not run dry after 200 messages")


def public_ids_by_query(dynamodb: Any, table_name: str, target: str) -> list[str]:
    response = dynamodb.query(
        TableName=table_name,
        IndexName="public-by-target",  # the template's name for it
        KeyConditionExpression="public_target = :target",
        ExpressionAttributeValues={":target": {"S": target}},
        ScanIndexForward=False,
    )
    return [item["pk"]["S"] for item in response["Items"]]


@pytest.fixture
def dynamodb_calls(repository: MentionRepository) -> Iterator[list[str]]:
    """The names of the DynamoDB operations pynamodb sends while the test runs."""
    calls: list[str] = []
    client = MentionRecord._get_connection().connection.client

    def record(model: Any, **_: Any) -> None:
        calls.append(model.name)

    client.meta.events.register("before-call.dynamodb", record)
    yield calls
    client.meta.events.unregister("before-call.dynamodb", record)


# ------------------------------------------------------------------------- idempotent receive


@pytest.mark.parametrize(
    ("first", "again", "stored_source"),
    [
        pytest.param(
            ("https://blog.example.net/reply", TARGET),
            ("https://blog.example.net/reply", TARGET),
            "https://blog.example.net/reply",
            id="identical",
        ),
        pytest.param(
            ("https://blog.example.net/reply", TARGET),
            ("HTTPS://Blog.Example.NET:443/reply#comment-3", "https://EXAMPLE.com:443/2024/a-post#respond"),
            "https://blog.example.net/reply",
            id="host-case-default-port-fragment",
        ),
        pytest.param(
            ("http://blog.example.net:80/reply", TARGET),
            ("http://BLOG.example.net/reply#top", "HTTPS://example.com/2024/a-post"),
            "http://blog.example.net/reply",
            id="http-default-port",
        ),
    ],
)
def test_receiving_the_same_mention_twice_keeps_one_record(
    intake: Intake,
    dynamodb: Any,
    linkback_env: Resources,
    first: tuple[str, str],
    again: tuple[str, str],
    stored_source: str,
) -> None:
    # Given a mention received once
    one = intake.send(*first, now=at(0))
    # When it is received again, however the URLs are spelled
    two = intake.send(*again, now=at(1))
    # Then both receipts name one record, created only the first time
    assert (one.created, two.created) == (True, False)
    assert one.mention_id == two.mention_id
    item = get_item(dynamodb, linkback_env.table_name, one.mention_id)
    assert item is not None
    assert item["source"]["S"] == stored_source
    assert item["target"]["S"] == TARGET
    assert item["received_at"]["S"] == isoformat(at(0))
    assert item["updated_at"]["S"] == isoformat(at(1))
    assert count_items(dynamodb, linkback_env.table_name) == 1


def test_a_mention_id_is_the_hash_of_the_normalised_urls(intake: Intake) -> None:
    receipt = intake.send("https://Blog.Example.NET/reply#x", "https://example.com:443/2024/a-post")
    assert receipt.mention_id == mention_id("https://blog.example.net/reply", TARGET)


def test_a_duplicate_pingback_is_already_registered(
    intake: Intake, dynamodb: Any, sqs: Any, linkback_env: Resources
) -> None:
    first = intake.send("https://blog.example.net/reply", protocol=Protocol.PINGBACK)
    with pytest.raises(AlreadyRegistered) as refused:
        intake.send("https://blog.example.net/reply#again", protocol=Protocol.PINGBACK, now=at(5))
    # "0x0030 (48) The pingback has already been registered."
    assert refused.value.fault_code == 48
    assert count_items(dynamodb, linkback_env.table_name) == 1
    assert queued_ids(sqs, linkback_env.queue.url) == [first.mention_id]
    assert intake.status(first) == Status.QUEUED


def test_a_duplicate_trackback_is_accepted_and_queued_again(
    intake: Intake, repository: MentionRepository, dynamodb: Any, sqs: Any, linkback_env: Resources
) -> None:
    first = intake.send("https://blog.example.net/reply", sent={"title": "First try"})
    again = intake.send("https://blog.example.net/reply", sent={"title": "Second try"}, now=at(5))
    assert again == Receipt(first.mention_id, created=False)
    assert count_items(dynamodb, linkback_env.table_name) == 1
    assert queued_ids(sqs, linkback_env.queue.url) == [first.mention_id, first.mention_id]
    record = repository.get(first.mention_id)
    assert record is not None
    assert (record.status, record.sent_title, record.updated_at) == (Status.QUEUED, "Second try", isoformat(at(5)))


@pytest.mark.parametrize("protocol", list(Protocol))
def test_a_rejected_mention_that_is_sent_again_is_queued_again(
    intake: Intake, sqs: Any, linkback_env: Resources, protocol: Protocol
) -> None:
    first = intake.send("https://blog.example.net/reply", protocol=protocol)
    intake.judge(first, Status.REJECTED, now=at(1))

    again = intake.send("https://blog.example.net/reply", protocol=protocol, now=at(2))

    assert again == Receipt(first.mention_id, created=False)
    assert intake.status(first) == Status.QUEUED
    assert queued_ids(sqs, linkback_env.queue.url) == [first.mention_id, first.mention_id]


@pytest.mark.parametrize("verdict", [Status.SPAM, Status.DELETED])
@pytest.mark.parametrize("protocol", [Protocol.TRACKBACK, Protocol.WEBMENTION])
def test_the_owners_verdict_stands_when_a_mention_is_sent_again(
    intake: Intake, sqs: Any, linkback_env: Resources, verdict: Status, protocol: Protocol
) -> None:
    first = intake.send("https://blog.example.net/reply", protocol=protocol)
    intake.judge(first, verdict, now=at(1))

    again = intake.send("https://blog.example.net/reply", protocol=protocol, now=at(2))

    assert again == Receipt(first.mention_id, created=False)
    assert intake.status(first) == verdict
    assert queued_ids(sqs, linkback_env.queue.url) == [first.mention_id]  # only the first send's message


@pytest.mark.parametrize("verdict", [Status.SPAM, Status.DELETED])
def test_a_pingback_of_a_mention_the_owner_judged_is_already_registered(
    intake: Intake, sqs: Any, linkback_env: Resources, verdict: Status
) -> None:
    first = intake.send("https://blog.example.net/reply", protocol=Protocol.PINGBACK)
    intake.judge(first, verdict, now=at(1))
    with pytest.raises(AlreadyRegistered):
        intake.send("https://blog.example.net/reply", protocol=Protocol.PINGBACK, now=at(2))
    assert intake.status(first) == verdict
    assert queued_ids(sqs, linkback_env.queue.url) == [first.mention_id]


def unreachable_queue(linkback_env: Resources) -> MentionQueue:
    """A queue URL the SQS server does not know: every send fails, as when SQS is unavailable."""
    return MentionQueue(f"{linkback_env.queue.url}-missing", REGION)


def test_a_trackback_whose_enqueue_failed_is_queued_when_sent_again(
    intake: Intake, repository: MentionRepository, sqs: Any, linkback_env: Resources
) -> None:
    # Given a TrackBack stored while the queue could not take its message
    with pytest.raises(UpstreamError):
        Intake(repository, unreachable_queue(linkback_env)).send("https://blog.example.net/reply")
    # When the sender retries, as the error asks
    receipt = intake.send("https://blog.example.net/reply", now=at(1))
    # Then the mention is queued for verification
    assert queued_ids(sqs, linkback_env.queue.url) == [receipt.mention_id]


def test_a_pingback_whose_enqueue_failed_is_queued_when_sent_again(
    intake: Intake, repository: MentionRepository, sqs: Any, linkback_env: Resources
) -> None:
    with pytest.raises(UpstreamError) as refused:
        Intake(repository, unreachable_queue(linkback_env)).send(
            "https://blog.example.net/reply", protocol=Protocol.PINGBACK
        )
    assert refused.value.fault_code == 50  # "could not communicate with an upstream server": retry later

    receipt = intake.send("https://blog.example.net/reply", protocol=Protocol.PINGBACK, now=at(1))

    assert queued_ids(sqs, linkback_env.queue.url) == [receipt.mention_id]


# ------------------------------------------------------------------------------ public index


@pytest.fixture
def published(intake: Intake) -> list[str]:
    """Three approved mentions of TARGET (ids newest first) amid others that must never show."""
    approved = []
    for minute in (0, 10, 20):
        receipt = intake.send(f"https://blog.example.net/approved-{minute}", now=at(minute))
        intake.judge(receipt, Status.APPROVED, now=at(minute + 1))
        approved.append(receipt.mention_id)
    intake.send("https://blog.example.net/still-queued", now=at(30))
    for status in (Status.REJECTED, Status.PENDING, Status.SPAM, Status.DELETED):
        intake.judge(intake.send(f"https://blog.example.net/{status}", now=at(40)), status, now=at(41))
    elsewhere = intake.send("https://blog.example.net/approved-0", OTHER_TARGET, now=at(50))
    intake.judge(elsewhere, Status.APPROVED, now=at(51))
    # Approved once, then the owner deleted it: it must leave the public index.
    gone = intake.send("https://blog.example.net/approved-then-deleted", now=at(60))
    intake.judge(gone, Status.APPROVED, now=at(61))
    intake.judge(gone, Status.DELETED, now=at(62))
    return approved[::-1]


def ids(records: list[MentionRecord]) -> list[str]:
    return [record.id for record in records]


def test_approved_mentions_of_a_target_come_newest_first(repository: MentionRepository, published: list[str]) -> None:
    records = repository.approved_for_target(TARGET, per_page=20, page=0)
    assert ids(records) == published
    assert {record.status for record in records} == {Status.APPROVED}
    assert {record.target for record in records} == {TARGET}


@pytest.mark.parametrize(
    ("per_page", "page", "expected"),
    [(2, 0, slice(0, 2)), (2, 1, slice(2, 3)), (2, 2, slice(3, 3)), (1, 1, slice(1, 2)), (3, 0, slice(0, 3))],
)
def test_approved_mentions_are_paginated(
    repository: MentionRepository, published: list[str], per_page: int, page: int, expected: slice
) -> None:
    assert ids(repository.approved_for_target(TARGET, per_page=per_page, page=page)) == published[expected]


def test_the_public_read_is_a_query_on_the_public_index(
    repository: MentionRepository,
    published: list[str],
    dynamodb: Any,
    linkback_env: Resources,
    dynamodb_calls: list[str],
) -> None:
    records = repository.approved_for_target(TARGET, per_page=20, page=0)
    repository.count_for_target(TARGET)
    assert set(dynamodb_calls) == {"Query"}
    assert ids(records) == public_ids_by_query(dynamodb, linkback_env.table_name, TARGET)


def test_the_public_read_loads_no_sender_address_spam_reasons_or_audit_trail(
    repository: MentionRepository, intake: Intake
) -> None:
    receipt = intake.send("https://blog.example.net/private-parts", now=at(0))
    record = repository.get(receipt.mention_id)
    assert record is not None
    verdict = Verdict(status=Status.APPROVED, reason="links", title="Hello", spam_score=1.5, spam_reasons=("x: y",))
    repository.record_verdict(record, verdict, at(1))
    stored = repository.get(receipt.mention_id)
    assert stored is not None and stored.sender_ip == "192.0.2.7" and stored.spam_reasons == ["x: y"]

    [public] = repository.approved_for_target(TARGET, per_page=20, page=0)

    assert (public.pk, public.title, public.status) == (receipt.mention_id, "Hello", Status.APPROVED)
    assert public.sender_ip is None and public.user_agent is None and public.spam_reasons == []
    assert public.history == [] and public.site is None


def test_a_target_without_approved_mentions_reads_empty(repository: MentionRepository, published: list[str]) -> None:
    assert repository.approved_for_target(f"{SITE}/never-mentioned", per_page=20, page=0) == []
    assert repository.count_for_target(f"{SITE}/never-mentioned") == {}


def test_counts_per_target_are_by_wm_property(repository: MentionRepository, intake: Intake) -> None:
    def store(name: str, status: Status, wm_property: str, target: str = TARGET) -> None:
        source = f"https://blog.example.net/{name}"
        created = repository.create(
            MentionRecord(
                mention_id(source, target),
                protocol=str(Protocol.WEBMENTION),
                source=source,
                target=target,
                site=SITE,
                status=str(status),
                received_at=isoformat(T0),
                updated_at=isoformat(T0),
                wm_property=wm_property,
            )
        )
        assert created

    store("a", Status.APPROVED, "mention-of")
    store("b", Status.APPROVED, "in-reply-to")
    store("c", Status.APPROVED, "in-reply-to")
    store("d", Status.APPROVED, "like-of")
    store("e", Status.PENDING, "like-of")
    store("f", Status.QUEUED, "in-reply-to")
    store("g", Status.APPROVED, "in-reply-to", target=OTHER_TARGET)
    # And one through the intake and the verifier's verdict: the default property.
    intake.judge(intake.send("https://blog.example.net/h", now=at(1)), Status.APPROVED)

    assert repository.count_for_target(TARGET) == {"mention-of": 2, "in-reply-to": 2, "like-of": 1}
    assert repository.count_for_target(OTHER_TARGET) == {"in-reply-to": 1}


# -------------------------------------------------------------------------- moderation index


def test_held_mentions_of_a_site_come_oldest_first(repository: MentionRepository, intake: Intake) -> None:
    held = {}
    for minute in (20, 0, 10):  # received out of order
        receipt = intake.send(f"https://blog.example.net/held-{minute}", now=at(minute))
        intake.judge(receipt, Status.PENDING, now=at(30))
        held[minute] = receipt.mention_id
    for status in (Status.APPROVED, Status.REJECTED, Status.DELETED):
        intake.judge(intake.send(f"https://blog.example.net/{status}", now=at(5)), status, now=at(30))
    spam = intake.send("https://blog.example.net/spam", now=at(6))
    intake.judge(spam, Status.SPAM, now=at(30))
    intake.send("https://blog.example.net/queued", now=at(7))
    other_site = intake.send("https://blog.example.net/held-elsewhere", f"{OTHER_SITE}/post", now=at(8))
    intake.judge(other_site, Status.PENDING, now=at(30))
    # Held, then approved by the owner: it leaves the moderation queue.
    released = intake.send("https://blog.example.net/released", now=at(9))
    intake.judge(released, Status.PENDING, now=at(30))
    intake.judge(released, Status.APPROVED, now=at(31))

    assert ids(repository.held_for_site(SITE)) == [held[0], held[10], held[20]]
    assert ids(repository.held_for_site(SITE, Status.SPAM)) == [spam.mention_id]
    assert ids(repository.held_for_site(OTHER_SITE)) == [other_site.mention_id]
    assert ids(repository.held_for_site(SITE, limit=2)) == [held[0], held[10]]
    assert released.mention_id in ids(repository.approved_for_target(TARGET, per_page=20, page=0))
