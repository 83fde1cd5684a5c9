"""The scheduled recheck against DynamoDB Local and the SQS server: the RecheckFunction handler queues
exactly the approved mentions whose last verification is older than LINKBACK_RECHECK_AFTER_DAYS, and
the verify handler (driven by QueuePoller) then deletes those whose source is gone or no longer links
and keeps the others public with a fresh verification time."""

from __future__ import annotations

import os
import time
from collections.abc import Callable
from datetime import timedelta
from typing import Any

import pytest

from linkback import wiring
from linkback.model import DeletedBy, Protocol, Status, Verdict, isoformat, utc_now
from linkback.receive.intake import Ping, receive
from linkback.store.queue import decode_message
from linkback.store.schema import MentionRecord
from linkback_infra.lambda_events import LambdaContext, scheduled_event
from linkback_infra.poller import QueuePoller
from linkback_infra.template import Template

from .conftest import SITE, Resources, SourcePages, messages_left, stored

TARGET = f"{SITE}/2024/rechecked-post"
RECHECK_AFTER_DAYS = 7
LOOP_LIMIT_S = 15.0
HTML = "text/html; charset=utf-8"

LINKING_PAGE = f"""<!doctype html>
<html><head><title>Still linking</title></head>
<body><article><p>Months later I still think <a href="{TARGET}">this post</a> was right.</p></article></body></html>"""

NOT_LINKING_PAGE = """<!doctype html>
<html><head><title>Edited</title></head>
<body><article><p>I removed the links from this old post.</p></article></body></html>"""


# --------------------------------------------------------------------------- fixtures


def _set_metrics_namespace(monkeypatch: pytest.MonkeyPatch) -> None:
    from linkback.observability import metrics

    if metrics.namespace is None:
        # Imported earlier in this session, before any test set POWERTOOLS_METRICS_NAMESPACE; Lambda
        # always has it (template Globals), and without it every flush of metrics raises.
        monkeypatch.setattr(metrics, "namespace", os.environ["POWERTOOLS_METRICS_NAMESPACE"])


@pytest.fixture
def recheck_env(linkback_env: Resources, monkeypatch: pytest.MonkeyPatch) -> Resources:
    monkeypatch.setenv("LINKBACK_RECHECK_AFTER_DAYS", str(RECHECK_AFTER_DAYS))
    wiring.reset()
    assert wiring.settings().recheck_after_days == RECHECK_AFTER_DAYS
    _set_metrics_namespace(monkeypatch)
    return linkback_env


@pytest.fixture
def run_recheck(recheck_env: Resources, template: Template) -> Callable[[], dict[str, Any]]:
    """EventBridge's part: invoke the template's scheduled RecheckFunction once."""
    from handlers.recheck import handler  # after linkback_env: Powertools reads its settings on import

    (schedule,) = [s for s in template.schedules if s.handler == "handlers.recheck.handler"]

    def run() -> dict[str, Any]:
        context = LambdaContext(function_name=schedule.function, timeout_s=template.function_timeout(schedule.function))
        return handler(scheduled_event(schedule.function), context)

    return run


class VerifierSpy:
    """The verify handler as the template wires it, noting which mention ids each batch brought."""

    def __init__(self) -> None:
        from handlers.verify import handler

        self.handler = handler
        self.delivered: list[str] = []

    def __call__(self, event: dict[str, Any], context: Any) -> Any:
        self.delivered += [decode_message(record["body"]) for record in event["Records"]]
        return self.handler(event, context)


@pytest.fixture
def verifier(recheck_env: Resources) -> VerifierSpy:
    return VerifierSpy()


@pytest.fixture
def poller(recheck_env: Resources, sqs: Any, template: Template, verifier: VerifierSpy) -> QueuePoller:
    (consumer,) = [consumer for consumer in template.consumers if consumer.handler == "handlers.verify.handler"]
    return QueuePoller(
        sqs,
        queue_url=recheck_env.queue.url,
        queue_arn=recheck_env.queue.arn,
        handler=verifier,
        function_name=consumer.function,
        batch_size=consumer.batch_size,
        wait_s=1,
        timeout_s=template.function_timeout(consumer.function),
    )


# --------------------------------------------------------------------------- helpers


class NoQueue:
    """The records below are set up as if verified long ago: their first message is long gone."""

    def enqueue(self, mention_id: str, correlation_id: str | None = None) -> None:
        pass


def mention(source: str, status: Status | None, *, verified_days_ago: float, protocol=Protocol.WEBMENTION) -> str:
    """A mention received through the intake and (unless `status` is None) given a verdict at a
    moment `verified_days_ago` in the past; its id. Nothing is queued for it."""
    repository = wiring.repository()
    moment = utc_now() - timedelta(days=verified_days_ago)
    receipt = receive(
        Ping(protocol=protocol, source=source, target=TARGET),
        sites=wiring.settings().sites,
        repository=repository,
        queue=NoQueue(),
        now=moment - timedelta(minutes=1),
    )
    assert receipt.created
    if status is not None:
        record = repository.get(receipt.mention_id)
        assert record is not None
        verdict = Verdict(
            status=status,
            reason=f"set up as {status}",
            fetch_status=200,
            fetched_url=source,
            title=f"Set up as {status}",
            deleted_by=str(DeletedBy.SOURCE) if status == Status.DELETED else None,
        )
        assert repository.record_verdict(record, verdict, moment)
    return receipt.mention_id


def public_ids() -> list[str]:
    return [record.id for record in wiring.repository().approved_for_target(TARGET, per_page=100, page=0)]


def drain(poller: QueuePoller, sqs: Any, queue_url: str, limit_s: float = LOOP_LIMIT_S) -> None:
    """Poll until the queue is empty (each poll waits at most the poller's wait_s)."""
    deadline = time.monotonic() + limit_s
    while messages_left(sqs, queue_url):
        assert time.monotonic() < deadline, f"{messages_left(sqs, queue_url)} messages left after {limit_s} s"
        poller.poll_once()


# --------------------------------------------------------------------------- which mentions are queued


def test_the_recheck_queues_exactly_the_approved_mentions_verified_before_the_cutoff(
    run_recheck: Callable[[], dict[str, Any]],
    poller: QueuePoller,
    verifier: VerifierSpy,
    source_pages: SourcePages,
    sqs: Any,
    recheck_env: Resources,
) -> None:
    # Given mentions in every status, verified long ago or recently
    for path in ("/old-1", "/old-2"):
        source_pages.pages[path] = (200, HTML, LINKING_PAGE)
    due = {
        mention(source_pages.url("/old-1"), Status.APPROVED, verified_days_ago=RECHECK_AFTER_DAYS + 1),
        mention(source_pages.url("/old-2"), Status.APPROVED, verified_days_ago=90, protocol=Protocol.PINGBACK),
    }
    not_due = {
        mention(source_pages.url("/recent"), Status.APPROVED, verified_days_ago=RECHECK_AFTER_DAYS - 1),
        mention(source_pages.url("/just-now"), Status.APPROVED, verified_days_ago=0),
        mention(source_pages.url("/held"), Status.PENDING, verified_days_ago=90),
        mention(source_pages.url("/rejected"), Status.REJECTED, verified_days_ago=90),
        mention(source_pages.url("/deleted"), Status.DELETED, verified_days_ago=90),
        mention(source_pages.url("/spam"), Status.SPAM, verified_days_ago=90),
        mention(source_pages.url("/queued"), None, verified_days_ago=90),
    }
    assert set(public_ids()) == due | {m for m in not_due if stored(m).status == Status.APPROVED}
    before = {mention_id: (stored(mention_id).status, stored(mention_id).attempts) for mention_id in not_due}
    # When the daily schedule runs the recheck
    result = run_recheck()
    # Then exactly the two old approved mentions were queued, once each, and verified again
    assert result == {"due": 2, "queued": 2}
    drain(poller, sqs, recheck_env.queue.url)
    assert sorted(verifier.delivered) == sorted(due)
    assert {source_pages.hits["/old-1"], source_pages.hits["/old-2"]} == {1}
    assert sum(source_pages.hits.values()) == 2  # no other source was fetched
    assert {m: (stored(m).status, stored(m).attempts) for m in not_due} == before  # untouched


def test_a_recheck_with_nothing_due_queues_nothing(
    run_recheck: Callable[[], dict[str, Any]], sqs: Any, recheck_env: Resources
) -> None:
    mention("https://elsewhere.example.net/recent", Status.APPROVED, verified_days_ago=1)

    assert run_recheck() == {"due": 0, "queued": 0}
    assert messages_left(sqs, recheck_env.queue.url) == 0


def test_the_mentions_unchecked_longest_go_first_when_a_run_is_capped(
    run_recheck: Callable[[], dict[str, Any]],
    poller: QueuePoller,
    verifier: VerifierSpy,
    source_pages: SourcePages,
    sqs: Any,
    recheck_env: Resources,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    import handlers.recheck

    monkeypatch.setattr(handlers.recheck, "MAX_PER_RUN", 2)
    ages = {"/10-days": 10, "/300-days": 300, "/30-days": 30}
    ids = {}
    for path, days in ages.items():
        source_pages.pages[path] = (200, HTML, LINKING_PAGE)
        ids[path] = mention(source_pages.url(path), Status.APPROVED, verified_days_ago=days)

    assert run_recheck() == {"due": 2, "queued": 2}
    drain(poller, sqs, recheck_env.queue.url)

    assert sorted(verifier.delivered) == sorted([ids["/300-days"], ids["/30-days"]])
    # The next run takes the one left over: the two just verified are fresh now.
    assert run_recheck() == {"due": 1, "queued": 1}
    drain(poller, sqs, recheck_env.queue.url)
    assert verifier.delivered[-1] == ids["/10-days"]
    assert run_recheck() == {"due": 0, "queued": 0}


# --------------------------------------------------------------------------- what verifying again finds


def test_after_a_recheck_a_gone_source_is_deleted_and_a_linking_one_stays_approved(
    run_recheck: Callable[[], dict[str, Any]],
    poller: QueuePoller,
    source_pages: SourcePages,
    sqs: Any,
    recheck_env: Resources,
) -> None:
    # Given three mentions approved 40 days ago: one page is gone now, one lost its link, one is unchanged
    source_pages.pages["/gone"] = (410, HTML, "<p>This post was deleted.</p>")
    source_pages.pages["/edited"] = (200, HTML, NOT_LINKING_PAGE)
    source_pages.pages["/unchanged"] = (200, HTML, LINKING_PAGE)
    gone = mention(source_pages.url("/gone"), Status.APPROVED, verified_days_ago=40)
    edited = mention(source_pages.url("/edited"), Status.APPROVED, verified_days_ago=40, protocol=Protocol.TRACKBACK)
    unchanged = mention(source_pages.url("/unchanged"), Status.APPROVED, verified_days_ago=40)
    verified_before = stored(unchanged).verified_at
    assert sorted(public_ids()) == sorted([gone, edited, unchanged])
    assert wiring.repository().count_for_target(TARGET)["mention-of"] == 3
    started = isoformat(utc_now())
    # When the recheck runs and the verifier drains the queue
    assert run_recheck() == {"due": 3, "queued": 3}
    drain(poller, sqs, recheck_env.queue.url)
    # Then the gone page's mention is deleted by its source, with the 410 as the reason
    record = stored(gone)
    assert (record.status, record.deleted_by) == (Status.DELETED, DeletedBy.SOURCE)
    assert (record.fetch_status, record.status_reason) == (410, "the source answered 410")
    assert record.deleted_at is not None and record.deleted_at >= started
    # And the edited page's mention too, because it no longer links
    record = stored(edited)
    assert (record.status, record.deleted_by) == (Status.DELETED, DeletedBy.SOURCE)
    assert record.status_reason == "the source no longer links to the target"
    # And only the unchanged one is still public, freshly verified
    assert public_ids() == [unchanged]
    assert wiring.repository().count_for_target(TARGET)["mention-of"] == 1
    record = stored(unchanged)
    assert record.status == Status.APPROVED
    assert record.verified_at is not None and verified_before is not None
    assert record.verified_at >= started > verified_before
    assert (record.deleted_by, record.deleted_at) == (None, None)
    assert record.title == "Still linking"
    # And none of them is due again
    assert run_recheck() == {"due": 0, "queued": 0}


def test_a_source_that_is_down_during_a_recheck_keeps_its_mention_public(
    run_recheck: Callable[[], dict[str, Any]],
    poller: QueuePoller,
    source_pages: SourcePages,
    sqs: Any,
    recheck_env: Resources,
) -> None:
    # Given an approved mention whose source is down for a moment when the recheck comes
    source_pages.pages["/flaky"] = (503, "text/plain", "try later")
    flaky = mention(source_pages.url("/flaky"), Status.APPROVED, verified_days_ago=40)
    assert run_recheck() == {"due": 1, "queued": 1}
    # When the first delivery fails
    result = poller.poll_once()
    assert (result.received, result.failed) == (1, 1)
    # Then the mention stays public and the message stays for another try
    assert stored(flaky).status == Status.APPROVED
    assert public_ids() == [flaky]
    assert messages_left(sqs, recheck_env.queue.url) == 1
    # And once the source is back, the redelivered message verifies it again
    source_pages.pages["/flaky"] = (200, HTML, LINKING_PAGE)
    drain(poller, sqs, recheck_env.queue.url)
    record = stored(flaky)
    assert record.status == Status.APPROVED
    assert record.status_reason == "the source links to the target"
    assert public_ids() == [flaky]


def test_a_mention_deleted_by_its_source_on_recheck_comes_back_on_re_send(
    run_recheck: Callable[[], dict[str, Any]],
    poller: QueuePoller,
    source_pages: SourcePages,
    sqs: Any,
    recheck_env: Resources,
) -> None:
    # Given a mention the recheck found gone
    source_pages.pages["/moved"] = (410, HTML, "<p>Moved away.</p>")
    moved = mention(source_pages.url("/moved"), Status.APPROVED, verified_days_ago=40)
    run_recheck()
    drain(poller, sqs, recheck_env.queue.url)
    assert stored(moved).status == Status.DELETED
    # When the page is back and its author sends the webmention again
    source_pages.pages["/moved"] = (200, HTML, LINKING_PAGE)
    again = receive(
        Ping(protocol=Protocol.WEBMENTION, source=source_pages.url("/moved"), target=TARGET),
        sites=wiring.settings().sites,
        repository=wiring.repository(),
        queue=wiring.verify_queue(),
        now=utc_now(),
    )
    assert (again.mention_id, again.created) == (moved, False)
    drain(poller, sqs, recheck_env.queue.url)
    # Then it is public again
    record = stored(moved)
    assert (record.status, record.deleted_by, record.deleted_at) == (Status.APPROVED, None, None)
    assert public_ids() == [moved]


# --------------------------------------------------------------------------- a re-send racing the verifier


class VerifierFinishesDuringResend:
    """The intake's view of the table, where the verifier's verdict lands right after the intake has
    read the record for a re-send and before it writes the update: the window of a sender re-sending
    while the first verification is still running."""

    def __init__(self, poller: QueuePoller) -> None:
        self.repository = wiring.repository()
        self.poller = poller
        self.armed = True

    def __getattr__(self, name: str) -> Any:
        return getattr(self.repository, name)

    def get(self, mention_id: str) -> MentionRecord | None:
        record = self.repository.get(mention_id)
        if self.armed:
            self.armed = False
            result = self.poller.poll_once()
            assert (result.received, result.failed) == (1, 0)
        return record


def test_a_re_send_that_races_the_first_verification_is_accepted(
    recheck_env: Resources, poller: QueuePoller, source_pages: SourcePages, sqs: Any
) -> None:
    # Given a webmention just received, its message waiting for the verifier
    source_pages.pages["/quick"] = (200, HTML, LINKING_PAGE)
    source = source_pages.url("/quick")
    ping = Ping(protocol=Protocol.WEBMENTION, source=source, target=TARGET)
    first = receive(
        ping, sites=wiring.settings().sites, repository=wiring.repository(), queue=wiring.verify_queue(), now=utc_now()
    )
    # When the sender sends it again and the verifier approves the first one in the middle of it
    again = receive(
        ping,
        sites=wiring.settings().sites,
        repository=VerifierFinishesDuringResend(poller),  # type: ignore[arg-type]
        queue=wiring.verify_queue(),
        now=utc_now(),
    )
    # Then the re-send is accepted like any other, and verified again
    assert (again.mention_id, again.created) == (first.mention_id, False)
    drain(poller, sqs, recheck_env.queue.url)
    assert stored(first.mention_id).status == Status.APPROVED
    assert source_pages.hits["/quick"] == 2
