"""Exactly-once effects under SQS's at-least-once delivery, proven with injected faults (LINKBACK_FAULTS)
against DynamoDB Local and the SQS server: redelivered and duplicated messages, crashes after the fetch,
after the write and before the acknowledgement, an owner deciding while a verification runs, DynamoDB
throttled for half a minute, and the back-off between the receives of a failing message.

"Exactly one correct state" means: one record per mention, the verdict its source deserves, every
verification that wrote counted once in `attempts`, the owner told once, nothing left in the queue and
nothing in the dead-letter queue.
"""

from __future__ import annotations

import os
import time
import uuid
from collections.abc import Iterator
from typing import Any

import pytest

from linkback import wiring
from linkback.faults import InjectedCrash
from linkback.model import Protocol, Status, utc_now
from linkback.receive.intake import Ping, receive
from linkback.store.queue import decode_message, encode_message
from linkback_infra.poller import BatchResult, QueuePoller
from linkback_infra.template import Template

from .conftest import SITE, VISIBILITY_TIMEOUT_S, Resources, SourcePages, messages_left, stored

TARGET = f"{SITE}/2024/a-post-worth-replying-to"
HTML = "text/html; charset=utf-8"
LOOP_LIMIT_S = 20.0
OUTAGE_S = 30
# Five receives (the template's maxReceiveCount) with a doubling back-off span 3+6+12+24 = 45 s: the
# last one comes after a 30 s outage. With 2 s the fifth would come at 30 s, on the outage's edge.
OUTAGE_RETRY_S = 3

LINKING_PAGE = f"""<!doctype html>
<html><head><title>Why I moved my blog to a static site</title></head>
<body><article class="h-entry"><h1 class="p-name">Why I moved my blog to a static site</h1>
<div class="e-content"><p>After reading <a href="{TARGET}">this post on static publishing</a> I finally
moved everything off the old CMS; here is what broke and what did not.</p></div></article></body></html>"""


# --------------------------------------------------------------------------- fixtures


@pytest.fixture
def notify_queue(linkback_env: Resources, sqs: Any, monkeypatch: pytest.MonkeyPatch) -> Iterator[str]:
    """Where the verifier announces held mentions: counting its messages counts the notifications."""
    url = sqs.create_queue(QueueName=f"it{uuid.uuid4().hex[:12]}-notify")["QueueUrl"]
    monkeypatch.setenv("LINKBACK_NOTIFY_QUEUE_URL", url)
    wiring.reset()
    yield url
    sqs.delete_queue(QueueUrl=url)


class Stack:
    """The verify handler behind the template's event source, with faults set per test."""

    def __init__(self, env: Resources, sqs: Any, template: Template, monkeypatch: pytest.MonkeyPatch) -> None:
        from handlers.verify import handler  # after linkback_env: Powertools reads its settings on import

        self.env = env
        self.sqs = sqs
        self.monkeypatch = monkeypatch
        self.batches: list[list[str]] = []  # the mention ids each invocation brought
        self.invoked_at: list[float] = []  # when each invocation began, just after its receive
        self.crashes = 0
        (consumer,) = [c for c in template.consumers if c.handler == "handlers.verify.handler"]

        def invoke(event: dict[str, Any], context: Any) -> Any:
            self.invoked_at.append(time.monotonic())
            self.batches.append([decode_message(record["body"]) for record in event["Records"]])
            try:
                return handler(event, context)
            except InjectedCrash:
                self.crashes += 1
                raise

        def loses_ack() -> bool:
            faults = wiring.faults()
            return faults is not None and faults.loses_ack()

        self.poller = QueuePoller(
            sqs,
            queue_url=env.queue.url,
            queue_arn=env.queue.arn,
            handler=invoke,
            function_name=consumer.function,
            batch_size=consumer.batch_size,
            wait_s=1,
            timeout_s=template.function_timeout(consumer.function),
            loses_ack=loses_ack,
        )

    def inject(self, faults: str, *, retry_s: int | None = None, moderation: str = "auto") -> None:
        self.monkeypatch.setenv("LINKBACK_FAULTS", faults)
        self.monkeypatch.setenv("LINKBACK_MODERATION", moderation)
        if retry_s is None:
            self.monkeypatch.delenv("LINKBACK_VERIFY_RETRY_SECONDS", raising=False)
        else:
            self.monkeypatch.setenv("LINKBACK_VERIFY_RETRY_SECONDS", str(retry_s))
        wiring.reset()

    def deliveries(self, mention_id: str) -> int:
        return sum(batch.count(mention_id) for batch in self.batches)

    def drain(self, limit_s: float = LOOP_LIMIT_S) -> list[BatchResult]:
        """Poll until the queue is empty (visible or in flight); the batches seen on the way."""
        results = []
        deadline = time.monotonic() + limit_s
        while messages_left(self.sqs, self.env.queue.url):
            assert time.monotonic() < deadline, f"the queue did not drain in {limit_s} s: {results}"
            result = self.poller.poll_once()
            if result.received:
                results.append(result)
        return results


@pytest.fixture
def stack(linkback_env: Resources, sqs: Any, template: Template, monkeypatch: pytest.MonkeyPatch) -> Stack:
    from linkback.observability import metrics

    if metrics.namespace is None:
        # Imported earlier in this session, before any test set POWERTOOLS_METRICS_NAMESPACE; Lambda
        # always has it (template Globals), and without it every flush of metrics raises.
        monkeypatch.setattr(metrics, "namespace", os.environ["POWERTOOLS_METRICS_NAMESPACE"])
    return Stack(linkback_env, sqs, template, monkeypatch)


# --------------------------------------------------------------------------- helpers


def queue_mention(source: str) -> str:
    """A mention received through the intake (real table, real queue); its id."""
    receipt = receive(
        Ping(protocol=Protocol.WEBMENTION, source=source, target=TARGET),
        sites=wiring.settings().sites,
        repository=wiring.repository(),
        queue=wiring.verify_queue(),
        now=utc_now(),
    )
    assert receipt.created
    return receipt.mention_id


def announced(sqs: Any, notify_queue: str) -> list[str]:
    """The mention ids the verifier announced to the owner, each message once."""
    ids = []
    while True:
        messages = sqs.receive_message(QueueUrl=notify_queue, MaxNumberOfMessages=10, WaitTimeSeconds=0).get(
            "Messages", []
        )
        if not messages:
            return ids
        for message in messages:
            ids.append(decode_message(message["Body"]))
            sqs.delete_message(QueueUrl=notify_queue, ReceiptHandle=message["ReceiptHandle"])


def dead_letters(sqs: Any, env: Resources) -> int:
    return messages_left(sqs, env.dead_letter_queue.url)


def public() -> list[str]:
    return sorted(record.id for record in wiring.repository().approved_for_target(TARGET, per_page=50, page=0))


def linking(source_pages: SourcePages, *paths: str) -> list[str]:
    for path in paths:
        source_pages.pages[path] = (200, HTML, LINKING_PAGE)
    return [source_pages.url(path) for path in paths]


# --------------------------------------------------------------------------- redelivery


def test_a_message_delivered_four_times_leaves_one_verdict_and_tells_the_owner_once(
    stack: Stack, source_pages: SourcePages, notify_queue: str, sqs: Any, linkback_env: Resources
) -> None:
    # Given a mention held for moderation, whose message is redelivered three times because the
    # poller dies before each acknowledgement
    stack.inject("before_ack=3", moderation="manual")
    (source,) = linking(source_pages, "/held")
    mention = queue_mention(source)
    # When the verifier works until the queue is empty
    results = stack.drain()
    # Then it was verified four times, and there is one record, held, every verification counted
    assert stack.deliveries(mention) == 4
    assert [result.received for result in results] == [1, 1, 1, 1]
    record = stored(mention)
    assert (record.status, record.attempts) == (Status.PENDING, 4)
    assert source_pages.hits["/held"] == 4
    # and the owner was told once, by the first verdict; nothing is left anywhere
    assert announced(sqs, notify_queue) == [mention]
    assert dead_letters(sqs, linkback_env) == 0


def test_copies_of_one_message_verified_at_once_leave_one_verdict(
    stack: Stack, source_pages: SourcePages, notify_queue: str, sqs: Any, linkback_env: Resources
) -> None:
    # Given a held-for-moderation mention whose message SQS delivers twice, in one batch, so that both
    # copies are verified concurrently (as two Lambda instances would) against a slow source
    stack.inject("", moderation="manual")
    (source,) = linking(source_pages, "/twice")
    source_pages.delay_s = 0.5
    mention = queue_mention(source)
    sqs.send_message(QueueUrl=linkback_env.queue.url, MessageBody=encode_message(mention))
    # When one invocation receives both
    results = stack.drain()
    # Then both were fetched side by side, and only the first write counted: the second found the
    # status changed and was dropped, its message acknowledged all the same
    assert results == [BatchResult(received=2, failed=0)]
    assert source_pages.most_in_flight == 2
    record = stored(mention)
    assert (record.status, record.attempts) == (Status.PENDING, 1)
    assert announced(sqs, notify_queue) == [mention]
    assert dead_letters(sqs, linkback_env) == 0


def test_a_copy_failing_after_a_later_verification_stood_is_acknowledged_not_retried(
    stack: Stack, source_pages: SourcePages, sqs: Any, linkback_env: Resources
) -> None:
    # Given a mention whose message SQS delivers twice, one copy at a time
    stack.inject("", retry_s=2)
    (source,) = linking(source_pages, "/once")
    mention = queue_mention(source)
    sqs.send_message(QueueUrl=linkback_env.queue.url, MessageBody=encode_message(mention))
    stack.poller.batch_size = 1
    assert stack.poller.poll_once() == BatchResult(received=1, failed=0)
    assert stored(mention).status == Status.APPROVED
    # When the source is down for the second copy, sent before that verification began
    source_pages.pages["/once"] = (503, "text/plain", "down for maintenance")
    result = stack.poller.poll_once()
    # Then that copy asked for nothing the first did not do: it is acknowledged, not retried into the DLQ
    assert result == BatchResult(received=1, failed=0)
    assert messages_left(sqs, linkback_env.queue.url) == 0
    record = stored(mention)
    assert (record.status, record.attempts) == (Status.APPROVED, 2)  # the verdict, and the failed try
    assert public() == [mention]


def test_a_resend_failing_after_the_last_verification_is_retried(
    stack: Stack, source_pages: SourcePages, sqs: Any, linkback_env: Resources
) -> None:
    # Given an approved mention, and a message for it sent after its verification (a re-send, a recheck)
    stack.inject("", retry_s=2)
    (source,) = linking(source_pages, "/changed")
    mention = queue_mention(source)
    stack.drain()
    time.sleep(0.01)  # SentTimestamp counts milliseconds
    wiring.verify_queue().enqueue(mention)
    # When its verification fails for a reason that may pass
    source_pages.pages["/changed"] = (503, "text/plain", "down for maintenance")
    result = stack.poller.poll_once()
    # Then it waits to be tried again: nothing since it was sent has verified the mention
    assert result == BatchResult(received=1, failed=1)
    assert messages_left(sqs, linkback_env.queue.url) == 1
    assert stored(mention).status == Status.APPROVED


# --------------------------------------------------------------------------- crashes


def test_a_crash_after_the_fetch_loses_the_batch_and_every_mention_is_verified_after_recovery(
    stack: Stack, source_pages: SourcePages, sqs: Any, linkback_env: Resources
) -> None:
    # Given three mentions in one batch, one of which dies after fetching its source
    stack.inject("after_fetch=1")
    sources = linking(source_pages, "/a", "/b", "/c")
    mentions = [queue_mention(source) for source in sources]
    # When the verifier works until the queue is empty
    results = stack.drain()
    # Then the crashed invocation returned no answer, so all three messages came back once more
    assert stack.crashes == 1
    assert results[0] == BatchResult(received=3, failed=3)
    assert all(stack.deliveries(mention) == 2 for mention in mentions)
    # and each mention is approved once, in the feed once: the crashed one counts its one verdict,
    # the two that had written theirs count the equal second write too
    assert {stored(mention).status for mention in mentions} == {Status.APPROVED}
    assert sorted(stored(mention).attempts for mention in mentions) == [1, 2, 2]
    assert public() == sorted(mentions)
    assert dead_letters(sqs, linkback_env) == 0


def test_a_crash_after_the_write_makes_the_second_pass_an_equal_write(
    stack: Stack, source_pages: SourcePages, sqs: Any, linkback_env: Resources
) -> None:
    # Given a mention whose verification dies right after its verdict is stored
    stack.inject("after_write=1")
    (source,) = linking(source_pages, "/written")
    mention = queue_mention(source)
    assert stack.poller.poll_once() == BatchResult(received=1, failed=1)
    first = stored(mention)
    assert (first.status, first.attempts) == (Status.APPROVED, 1)
    assert public() == [mention]
    # When its message comes back after the visibility timeout
    stack.drain()
    # Then the second pass wrote what the owner already sees: the same status and the same words
    second = stored(mention)
    assert stack.deliveries(mention) == 2
    assert (second.status, second.attempts) == (Status.APPROVED, 2)
    seen = ("title", "excerpt", "author_name", "wm_property", "fetched_url", "status_reason")
    assert {name: getattr(second, name) for name in seen} == {name: getattr(first, name) for name in seen}
    assert public() == [mention]
    assert dead_letters(sqs, linkback_env) == 0


def test_a_crash_between_the_held_verdict_and_the_notification_still_tells_the_owner(
    stack: Stack, source_pages: SourcePages, notify_queue: str, sqs: Any
) -> None:
    stack.inject("after_write=1", moderation="manual")
    (source,) = linking(source_pages, "/held-then-crash")
    mention = queue_mention(source)

    stack.drain()

    assert stored(mention).status == Status.PENDING
    assert announced(sqs, notify_queue) == [mention]


def test_a_batch_whose_acknowledgement_is_lost_is_verified_again_without_changing_any_verdict(
    stack: Stack, source_pages: SourcePages, sqs: Any, linkback_env: Resources
) -> None:
    # Given a batch of a linking and a not-linking source, whose first acknowledgement is lost
    stack.inject("before_ack=1")
    source_pages.pages["/elsewhere"] = (200, HTML, "<p>No link to <a href='https://example.org/'>you</a>.</p>")
    (good,) = linking(source_pages, "/linking")
    approved = queue_mention(good)
    rejected = queue_mention(source_pages.url("/elsewhere"))
    # When the verifier works until the queue is empty
    results = stack.drain()
    # Then both came back once, and each verdict is the one the first pass stored
    assert [result.received for result in results] == [2, 2]
    assert (stored(approved).status, stored(approved).attempts) == (Status.APPROVED, 2)
    assert (stored(rejected).status, stored(rejected).attempts) == (Status.REJECTED, 2)
    assert public() == [approved]
    assert dead_letters(sqs, linkback_env) == 0


# --------------------------------------------------------------------------- the owner


def test_the_owner_deciding_during_a_reverification_stands(
    stack: Stack, source_pages: SourcePages, sqs: Any, linkback_env: Resources
) -> None:
    # Given an approved mention, queued again for verification (a re-send, a recheck)
    stack.inject("")
    (source,) = linking(source_pages, "/reply")
    mention = queue_mention(source)
    stack.drain()
    assert stored(mention).status == Status.APPROVED
    wiring.verify_queue().enqueue(mention)
    # When the owner marks it spam while the verifier is fetching its source
    decided: list[bool] = []
    source_pages.on_request = lambda _path: decided.append(
        wiring.repository().decide_as_owner(stored(mention), Status.SPAM, utc_now(), note="a link farm")
    )
    results = stack.drain()
    # Then the verifier's write failed its condition and was dropped; the owner's decision stands
    assert decided == [True]
    assert results == [BatchResult(received=1, failed=0)]
    record = stored(mention)
    assert record.status == Status.SPAM
    assert record.attempts == 1  # the dropped write counted nothing
    assert [(change.by, change.to_status) for change in record.history] == [("owner", Status.SPAM)]
    assert public() == []
    assert dead_letters(sqs, linkback_env) == 0


def test_the_owners_decision_made_while_a_crashed_verification_waits_for_redelivery_stands(
    stack: Stack, source_pages: SourcePages, sqs: Any, linkback_env: Resources
) -> None:
    # Given a held mention whose verification died after fetching its source
    stack.inject("after_fetch=1", moderation="manual")
    (source,) = linking(source_pages, "/crashed")
    mention = queue_mention(source)
    assert stack.poller.poll_once() == BatchResult(received=1, failed=1)
    # When the owner approves it before the message comes back
    record = stored(mention)
    assert wiring.repository().decide_as_owner(record, Status.APPROVED, utc_now())
    stack.drain()
    # Then the redelivered verification keeps the owner's approval
    record = stored(mention)
    assert stack.deliveries(mention) == 2
    assert record.status == Status.APPROVED
    assert [(change.by, change.to_status) for change in record.history] == [("owner", Status.APPROVED)]
    assert public() == [mention]
    assert dead_letters(sqs, linkback_env) == 0


# --------------------------------------------------------------------------- DynamoDB and back-off


def test_mentions_queued_during_a_half_minute_dynamodb_outage_are_all_verified_after_it(
    stack: Stack, source_pages: SourcePages, sqs: Any, linkback_env: Resources
) -> None:
    # Given three queued mentions, and DynamoDB throttling every call for 30 s from the first verification
    stack.inject(f"dynamodb={OUTAGE_S}s", retry_s=OUTAGE_RETRY_S)
    sources = linking(source_pages, "/one", "/two", "/three")
    mentions = [queue_mention(source) for source in sources]
    started = time.monotonic()
    # When the verifier works until the queue is empty
    results = stack.drain(limit_s=OUTAGE_S + 45)
    elapsed = time.monotonic() - started
    # Then every try during the outage failed, each message within its receive limit, none went to
    # the DLQ, and every mention was verified once DynamoDB answered again
    faults = wiring.faults()
    assert faults is not None and faults.injected["dynamodb"] >= 3
    assert sum(result.failed for result in results) >= 3
    assert all(2 <= stack.deliveries(mention) <= linkback_env.max_receive_count for mention in mentions)
    assert elapsed >= OUTAGE_S
    assert dead_letters(sqs, linkback_env) == 0
    # (the failed tries could not be counted: DynamoDB was the thing that was down)
    assert [(stored(mention).status, stored(mention).attempts) for mention in mentions] == [(Status.APPROVED, 1)] * 3
    assert public() == sorted(mentions)


def receive_times(stack: Stack, count: int, limit_s: float) -> list[float]:
    """When each of the first `count` batches reached the handler."""
    deadline = time.monotonic() + limit_s
    while len(stack.invoked_at) < count:
        assert time.monotonic() < deadline, f"only {len(stack.invoked_at)} receives in {limit_s} s"
        stack.poller.poll_once()
    return stack.invoked_at[:count]


def test_a_transiently_failing_message_comes_back_after_a_doubling_delay(
    stack: Stack, source_pages: SourcePages, sqs: Any, linkback_env: Resources
) -> None:
    # Given a source that is down, a back-off of 2 s, and a queue whose own visibility timeout is 1 s
    retry_s = 2
    assert retry_s > VISIBILITY_TIMEOUT_S
    stack.inject("", retry_s=retry_s)
    source_pages.pages["/down"] = (503, "text/plain", "try later")
    mention = queue_mention(source_pages.url("/down"))
    # When the verifier keeps receiving it
    first, second, third = receive_times(stack, 3, limit_s=15)
    # Then the second receive waited the base delay and the third twice that, not the queue's 1 s
    assert second - first >= retry_s
    assert third - second >= 2 * retry_s
    record = stored(mention)
    assert (record.status, record.attempts) == (Status.QUEUED, 3)
    assert "503" in (record.status_reason or "")
    assert dead_letters(sqs, linkback_env) == 0


def test_without_a_configured_back_off_a_failing_message_comes_back_after_the_visibility_timeout(
    stack: Stack, source_pages: SourcePages
) -> None:
    stack.inject("")
    source_pages.pages["/down"] = (503, "text/plain", "try later")
    queue_mention(source_pages.url("/down"))

    first, second = receive_times(stack, 2, limit_s=10)

    assert second - first < VISIBILITY_TIMEOUT_S + 1.5
