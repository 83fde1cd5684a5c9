"""The verify Lambda handler, driven by the local SQS event source (QueuePoller) against the real SQS
server and DynamoDB Local, fetching sources served on loopback: verdicts, partial batch failures,
redelivery after the visibility timeout, the redrive to the DLQ, and concurrency within a batch."""

from __future__ import annotations

import os
import time
from collections.abc import Callable
from typing import Any

import pytest

from linkback import wiring
from linkback.model import Protocol, Status, Verdict, utc_now
from linkback.receive.intake import Ping, receive
from linkback.store.queue import encode_message
from linkback_infra.poller import BatchResult, QueuePoller
from linkback_infra.template import Template

from .conftest import SITE, VISIBILITY_TIMEOUT_S, Resources, SourcePages, messages_left, stored

TARGET = f"{SITE}/2024/a-post"
LOOP_LIMIT_S = 15.0

LINKING_PAGE = f"""<!doctype html>
<html><head><title>A reply to a post</title></head>
<body><article><p>Some thoughts first. I read <a href="{TARGET}">this post about static sites</a>
twice, and here is why it changed how I publish.</p></article></body></html>"""

NOT_LINKING_PAGE = f"""<!doctype html>
<html><head><title>Elsewhere</title></head>
<body><p>A link to <a href="{SITE}/2024/another-post">another post</a> only.</p></body></html>"""

HTML = "text/html; charset=utf-8"


@pytest.fixture
def poller(linkback_env: Resources, sqs: Any, template: Template, monkeypatch: pytest.MonkeyPatch) -> QueuePoller:
    """The template's event source for the verify queue, invoking the real handler."""
    from handlers.verify import handler  # after linkback_env: Powertools reads its settings on import
    from linkback.observability import metrics

    if metrics.namespace is None:
        # Imported earlier in this session, before any test set POWERTOOLS_METRICS_NAMESPACE; Lambda
        # always has it (template Globals), and without it every flush of metrics raises.
        monkeypatch.setattr(metrics, "namespace", os.environ["POWERTOOLS_METRICS_NAMESPACE"])

    (consumer,) = [consumer for consumer in template.consumers if consumer.handler == "handlers.verify.handler"]
    return QueuePoller(
        sqs,
        queue_url=linkback_env.queue.url,
        queue_arn=linkback_env.queue.arn,
        handler=handler,
        function_name=consumer.function,
        batch_size=consumer.batch_size,
        wait_s=1,
        timeout_s=template.function_timeout(consumer.function),
    )


def queue_mention(source: str, protocol: Protocol = Protocol.WEBMENTION) -> str:
    """Receive a mention through the intake (real table, real queue); its id."""
    receipt = receive(
        Ping(protocol=protocol, source=source, target=TARGET),
        sites=wiring.settings().sites,
        repository=wiring.repository(),
        queue=wiring.verify_queue(),
        now=utc_now(),
    )
    assert receipt.created
    return receipt.mention_id


def poll_until(poller: QueuePoller, done: Callable[[BatchResult], bool], limit_s: float = LOOP_LIMIT_S) -> BatchResult:
    """Poll until a batch satisfies `done` (each poll waits at most the poller's wait_s)."""
    deadline = time.monotonic() + limit_s
    polls = 0
    while time.monotonic() < deadline and polls < 50:
        result = poller.poll_once()
        polls += 1
        if done(result):
            return result
    raise AssertionError(f"no batch as expected within {limit_s} s ({polls} polls)")


# ---------------------------------------------------------------------------------- verdicts


def test_a_source_linking_to_the_target_is_approved_and_its_message_deleted(
    poller: QueuePoller, source_pages: SourcePages, sqs: Any, linkback_env: Resources
) -> None:
    # Given a queued mention whose source links to the target
    source_pages.pages["/reply"] = (200, HTML, LINKING_PAGE)
    mention = queue_mention(source_pages.url("/reply"))
    # When the verifier receives the batch
    result = poller.poll_once()
    # Then the mention is approved with what the page says, and the message is gone
    assert result == BatchResult(received=1, failed=0)
    record = stored(mention)
    assert record.status == Status.APPROVED, (record.status_reason, record.spam_reasons)
    assert record.title == "A reply to a post"
    assert record.excerpt is not None
    assert "I read this post about static sites twice" in record.excerpt
    assert (record.fetch_status, record.fetched_url) == (200, source_pages.url("/reply"))
    assert record.verified_at is not None
    assert record.attempts == 1
    assert source_pages.hits["/reply"] == 1
    assert messages_left(sqs, linkback_env.queue.url) == 0
    assert [r.id for r in wiring.repository().approved_for_target(TARGET, per_page=10, page=0)] == [mention]


def test_a_source_without_the_link_is_rejected_with_the_reason(
    poller: QueuePoller, source_pages: SourcePages, sqs: Any, linkback_env: Resources
) -> None:
    source_pages.pages["/unrelated"] = (200, HTML, NOT_LINKING_PAGE)
    mention = queue_mention(source_pages.url("/unrelated"))

    assert poller.poll_once() == BatchResult(received=1, failed=0)

    record = stored(mention)
    assert (record.status, record.status_reason) == (Status.REJECTED, "the source does not link to the target")
    assert record.fetch_status == 200
    assert record.title is None
    assert messages_left(sqs, linkback_env.queue.url) == 0


@pytest.mark.parametrize("status", [404, 410])
def test_a_source_that_is_gone_is_rejected(
    poller: QueuePoller, source_pages: SourcePages, sqs: Any, linkback_env: Resources, status: int
) -> None:
    source_pages.pages["/gone"] = (status, "text/html", "<p>nothing here</p>")
    mention = queue_mention(source_pages.url("/gone"))

    assert poller.poll_once() == BatchResult(received=1, failed=0)

    record = stored(mention)
    assert record.status == Status.REJECTED
    assert record.fetch_status == status
    assert record.status_reason == f"the source answered {status}"
    assert messages_left(sqs, linkback_env.queue.url) == 0


def test_a_redirected_source_is_verified_at_its_final_url(poller: QueuePoller, source_pages: SourcePages) -> None:
    source_pages.pages["/old"] = (301, "text/html", "")
    source_pages.headers["/old"] = {"Location": "/new"}
    source_pages.pages["/new"] = (200, HTML, LINKING_PAGE)
    mention = queue_mention(source_pages.url("/old"))

    assert poller.poll_once() == BatchResult(received=1, failed=0)

    record = stored(mention)
    assert (record.status, record.fetched_url) == (Status.APPROVED, source_pages.url("/new"))
    assert (source_pages.hits["/old"], source_pages.hits["/new"]) == (1, 1)


def test_manual_moderation_holds_a_verified_mention(
    poller: QueuePoller, source_pages: SourcePages, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("LINKBACK_MODERATION", "manual")
    wiring.reset()
    source_pages.pages["/reply"] = (200, HTML, LINKING_PAGE)
    mention = queue_mention(source_pages.url("/reply"))

    assert poller.poll_once() == BatchResult(received=1, failed=0)

    assert stored(mention).status == Status.PENDING
    assert [r.id for r in wiring.repository().held_for_site(SITE)] == [mention]
    assert wiring.repository().approved_for_target(TARGET, per_page=10, page=0) == []


def test_a_mention_whose_source_no_longer_links_leaves_the_public_feed(
    poller: QueuePoller, source_pages: SourcePages
) -> None:
    # Given an approved TrackBack
    source_pages.pages["/reply"] = (200, HTML, LINKING_PAGE)
    mention = queue_mention(source_pages.url("/reply"), Protocol.TRACKBACK)
    assert poller.poll_once() == BatchResult(received=1, failed=0)
    assert stored(mention).status == Status.APPROVED
    # When its source drops the link and the sender pings again
    source_pages.pages["/reply"] = (200, HTML, NOT_LINKING_PAGE)
    again = receive(
        Ping(protocol=Protocol.TRACKBACK, source=source_pages.url("/reply"), target=TARGET),
        sites=wiring.settings().sites,
        repository=wiring.repository(),
        queue=wiring.verify_queue(),
        now=utc_now(),
    )
    assert (again.mention_id, again.created) == (mention, False)
    assert poller.poll_once() == BatchResult(received=1, failed=0)
    # Then the verifier's new verdict takes it out of the public feed: deleted by its source
    assert stored(mention).status == Status.DELETED
    assert stored(mention).deleted_by == "source"
    assert wiring.repository().approved_for_target(TARGET, per_page=10, page=0) == []


# ------------------------------------------------------------------- the owner's verdict


def owner_marks(mention_id: str, status: Status) -> None:
    """The owner's decision, stored through the repository as moderation would."""
    repository = wiring.repository()
    record = repository.get(mention_id)
    assert record is not None
    repository.record_verdict(record, Verdict(status=status, reason="the owner decided"), utc_now())


@pytest.mark.parametrize("verdict", [Status.SPAM, Status.DELETED])
def test_an_owners_verdict_given_before_verification_stands(
    poller: QueuePoller, source_pages: SourcePages, sqs: Any, linkback_env: Resources, verdict: Status
) -> None:
    source_pages.pages["/reply"] = (200, HTML, LINKING_PAGE)
    mention = queue_mention(source_pages.url("/reply"))
    owner_marks(mention, verdict)

    assert poller.poll_once() == BatchResult(received=1, failed=0)

    assert stored(mention).status == verdict
    assert source_pages.hits["/reply"] == 0  # not even fetched
    assert messages_left(sqs, linkback_env.queue.url) == 0


@pytest.mark.parametrize("verdict", [Status.SPAM, Status.DELETED])
def test_an_owners_verdict_given_during_verification_stands(
    poller: QueuePoller, source_pages: SourcePages, verdict: Status
) -> None:
    # Given a queued mention whose source links to the target
    source_pages.pages["/reply"] = (200, HTML, LINKING_PAGE)
    mention = queue_mention(source_pages.url("/reply"))
    # When the owner marks it while the verifier is fetching its source
    source_pages.on_request = lambda _path: owner_marks(mention, verdict)
    poll_until(poller, lambda batch: batch.received > 0 and batch.failed == 0)
    # Then the owner's verdict stands and the mention is not public
    assert source_pages.hits["/reply"] == 1
    assert stored(mention).status == verdict
    assert wiring.repository().approved_for_target(TARGET, per_page=10, page=0) == []


# ------------------------------------------------------------------- failures and redelivery


def test_a_transient_failure_is_verified_again_after_the_visibility_timeout(
    poller: QueuePoller, source_pages: SourcePages, sqs: Any, linkback_env: Resources
) -> None:
    # Given a source that is down for a moment
    source_pages.pages["/flaky"] = (503, "text/plain", "try later")
    mention = queue_mention(source_pages.url("/flaky"))
    # When the first delivery fails, the message stays and the attempt is on the record
    assert poller.poll_once() == BatchResult(received=1, failed=1)
    record = stored(mention)
    assert (record.status, record.attempts) == (Status.QUEUED, 1)
    assert "503" in (record.status_reason or "")
    assert messages_left(sqs, linkback_env.queue.url) == 1
    # Then once the source is back, the redelivered message verifies it
    source_pages.pages["/flaky"] = (200, HTML, LINKING_PAGE)
    started = time.monotonic()
    assert poll_until(poller, lambda batch: batch.received > 0) == BatchResult(received=1, failed=0)
    assert time.monotonic() - started < VISIBILITY_TIMEOUT_S + 2
    record = stored(mention)
    assert (record.status, record.attempts) == (Status.APPROVED, 2)
    assert source_pages.hits["/flaky"] == 2
    assert messages_left(sqs, linkback_env.queue.url) == 0


def test_only_the_failed_message_of_a_batch_is_delivered_again(
    poller: QueuePoller, source_pages: SourcePages, sqs: Any, linkback_env: Resources
) -> None:
    source_pages.pages["/good"] = (200, HTML, LINKING_PAGE)
    source_pages.pages["/down"] = (503, "text/plain", "try later")
    good = queue_mention(source_pages.url("/good"))
    failing = queue_mention(source_pages.url("/down"))

    assert poller.poll_once() == BatchResult(received=2, failed=1)

    assert stored(good).status == Status.APPROVED
    assert (stored(failing).status, stored(failing).attempts) == (Status.QUEUED, 1)
    # What comes back after the visibility timeout is the failed message alone, on its 2nd receive.
    redelivered = sqs.receive_message(
        QueueUrl=linkback_env.queue.url,
        MaxNumberOfMessages=10,
        WaitTimeSeconds=VISIBILITY_TIMEOUT_S + 3,
        AttributeNames=["ApproximateReceiveCount"],
    ).get("Messages", [])
    assert [(m["Body"], m["Attributes"]["ApproximateReceiveCount"]) for m in redelivered] == [
        (encode_message(failing), "2")
    ]
    assert messages_left(sqs, linkback_env.queue.url) == 1  # the one just received, in flight
    assert source_pages.hits["/good"] == 1


def test_messages_that_keep_failing_end_in_the_dead_letter_queue(
    poller: QueuePoller, source_pages: SourcePages, sqs: Any, linkback_env: Resources
) -> None:
    # Given a message no handler can read and a mention whose source is always down
    source_pages.pages["/always-down"] = (503, "text/plain", "try later")
    down = queue_mention(source_pages.url("/always-down"))
    sqs.send_message(QueueUrl=linkback_env.queue.url, MessageBody="not json")
    max_receives = linkback_env.max_receive_count  # 5, from the template's redrive policy
    # When the verifier keeps receiving them until the queue runs dry
    received = failed = 0
    deadline = time.monotonic() + LOOP_LIMIT_S
    for _ in range(4 * max_receives):
        batch = poller.poll_once()
        received += batch.received
        failed += batch.failed
        if batch.received == 0 and messages_left(sqs, linkback_env.queue.url) == 0:
            break
        assert time.monotonic() < deadline, f"still {messages_left(sqs, linkback_env.queue.url)} in the queue"
    # Then each was tried maxReceiveCount times, failed each time, and now waits in the DLQ
    assert (received, failed) == (2 * max_receives, 2 * max_receives)
    assert messages_left(sqs, linkback_env.queue.url) == 0
    dead = sqs.receive_message(
        QueueUrl=linkback_env.dead_letter_queue.url, MaxNumberOfMessages=10, WaitTimeSeconds=1
    ).get("Messages", [])
    assert sorted(message["Body"] for message in dead) == sorted(["not json", encode_message(down)])
    record = stored(down)
    assert (record.status, record.attempts) == (Status.QUEUED, max_receives)
    assert source_pages.hits["/always-down"] == max_receives


# ------------------------------------------------------------------------------- concurrency


def test_the_messages_of_a_batch_are_verified_concurrently(
    poller: QueuePoller, source_pages: SourcePages, sqs: Any, linkback_env: Resources
) -> None:
    # Given five queued mentions whose sources each take a second to answer
    source_pages.delay_s = 1.0
    mentions = []
    for number in range(5):
        source_pages.pages[f"/slow-{number}"] = (200, HTML, LINKING_PAGE)
        mentions.append(queue_mention(source_pages.url(f"/slow-{number}")))
    # When one batch brings all five
    started = time.monotonic()
    result = poller.poll_once()
    elapsed = time.monotonic() - started
    # Then they were fetched side by side, not one after the other
    assert result == BatchResult(received=5, failed=0)
    assert elapsed < 3.5, f"a batch of 5 one-second fetches took {elapsed:.1f} s"
    assert source_pages.most_in_flight > 1
    assert {stored(mention).status for mention in mentions} == {Status.APPROVED}
    assert messages_left(sqs, linkback_env.queue.url) == 0


def test_the_verifiers_log_line_names_the_request_that_brought_the_mention(
    poller: QueuePoller, source_pages: SourcePages, caplog: pytest.LogCaptureFixture
) -> None:
    # Given a mention received by a request whose id the intake saw
    source_pages.pages["/correlated"] = (200, HTML, LINKING_PAGE)
    receive(
        Ping(
            protocol=Protocol.WEBMENTION,
            source=source_pages.url("/correlated"),
            target=TARGET,
            correlation_id="req-7f3a",
        ),
        sites=wiring.settings().sites,
        repository=wiring.repository(),
        queue=wiring.verify_queue(),
        now=utc_now(),
    )
    caplog.clear()
    # When the verifier handles its message
    assert poller.poll_once() == BatchResult(received=1, failed=0)
    # Then its structured log line carries that request's id, through SQS
    verified = [record for record in caplog.records if record.getMessage() == "Mention verified"]
    assert verified and verified[0].request_correlation_id == "req-7f3a"
