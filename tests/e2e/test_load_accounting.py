"""Under load, every mention is accounted for exactly once: bench/load.py's run, scaled down.

300 pings from 10 concurrent senders to a stack of its own (a failed verification redelivered after
5 s, the verifier's back-off from 1 s): 10 mentions sent 10 times each over all three protocols,
interleaved with 200 mentions sent once; every fourth source answers 503 to every other request.
The pages are real replies (an h-entry by a named author, two paragraphs of their own words), so
each mention must end approved, and the table must hold exactly one record for each.
"""

from __future__ import annotations

import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from .conftest import start_dev, stop_dev

# The load run itself is shared with bench/load.py, which prints it at full size.
sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "bench"))
import _load

PINGS = 300
SENDERS = 10
REPEATED, COPIES = 10, 10
SETTLE_S = 45  # the whole module stays within 90 s: about 10 s to start, 10 s to send, the rest to verify


@pytest.fixture(scope="module")
def load(tmp_path_factory: pytest.TempPathFactory) -> Iterator[_load.Ledger]:
    # Given a stack of its own, and the plan: distinct mentions, repeated ones, flaky sources
    tmp = tmp_path_factory.mktemp("load")
    stack = start_dev(tmp, *_load.RETRY_ARGUMENTS, "--log-level", "ERROR")  # and NO_LIMITS
    try:
        # When every ping is sent and the stack has settled
        yield _load.run(
            stack.base_url,
            _load.StackFile.read(tmp / "data"),
            _load.plan(PINGS, repeated=REPEATED, copies=COPIES),
            senders=SENDERS,
            settle_s=SETTLE_S,
        )
    finally:
        stop_dev(stack)


def test_the_plan_has_repeated_mentions_and_flaky_sources() -> None:
    plan = _load.plan(PINGS, repeated=REPEATED, copies=COPIES)

    assert len(plan.requests) == PINGS
    assert len(plan.mentions) == PINGS - REPEATED * COPIES + REPEATED
    assert len(plan.repeated) == REPEATED
    assert len(plan.flaky) == len(plan.mentions) // 4
    assert any(m.flaky for m in plan.repeated)
    # a repeated mention arrives by every protocol
    for mention in plan.repeated:
        assert {protocol for m, protocol in plan.requests if m is mention} == set(_load.PROTOCOLS)


def test_no_sender_is_answered_with_a_server_error(load: _load.Ledger) -> None:
    assert [(a.protocol, a.http_status, a.reason) for a in load.server_errors()] == []


def test_every_ping_is_accepted_or_told_it_is_registered_already(load: _load.Ledger) -> None:
    assert load.refusals() == {}
    assert sum(load.outcomes().values()) == PINGS
    # "already registered" is Pingback's answer to a re-send, and only Pingback's
    assert {a.protocol for a in load.answers if a.outcome == "duplicate"} <= {"pingback"}


def test_each_distinct_mention_has_exactly_one_record(load: _load.Ledger) -> None:
    assert len(load.expected) == PINGS - REPEATED * COPIES + REPEATED
    assert (load.missing, load.unexpected, load.doubled) == (set(), set(), 0)
    assert len(load.records) == len(load.expected)


def test_every_mention_ends_approved(load: _load.Ledger) -> None:
    not_approved = [(r["source"], r["status"], r["reason"]) for r in load.records if r["status"] != "approved"]

    assert not_approved == []
    assert load.settled_after_s is not None, f"the verify queue still held {load.verify_depth} message(s)"


def test_a_flaky_source_is_retried_until_it_answers(load: _load.Ledger) -> None:
    assert load.source_unavailable > 0  # the flaky sources did fail
    assert len(load.flaky) == len([m for m in load.expected.values() if m.flaky])
    assert [(r["source"], r["attempts"]) for r in load.flaky if r["attempts"] < 2] == []


def test_nothing_is_left_in_the_dead_letter_queue(load: _load.Ledger) -> None:
    parked = [(i, load.by_id[i]["status"], load.by_id[i]["attempts"]) for i in load.dead_letter_ids if i in load.by_id]

    assert (load.dead_letters, parked) == (0, [])
