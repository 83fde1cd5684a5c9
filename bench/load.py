"""The load run: many pings, duplicates and flaky sources, and every mention accounted for exactly once.

Run: .venv/bin/python bench/load.py [--pings 2000] [--senders 20] [--repeated 50] [--copies 20]
A `linkback dev` of its own (abuse limits lifted, a failed verification redelivered after 5 s, the
verifier's back-off starting at 1 s) receives `pings` requests from `senders` threads: `repeated`
mentions sent `copies` times each (same source and target, over all three protocols), interleaved
with one ping for each other mention. Every fourth source answers 503 to every other request. Then
it waits until every mention is final and the verify queue is empty, and reads the table back:
one record per distinct mention, none lost, none doubled, the flaky ones retried, the DLQ empty.
One 2-core machine runs the senders, the stack and the source blog: a floor, not a Lambda fleet's
figure. Exit 1 when the stack could not be run or the accounting does not balance.
"""

from __future__ import annotations

import argparse
import shutil
import statistics
import sys
import tempfile
import time
from pathlib import Path

import _load


def mark(ok: bool) -> str:
    return "✓" if ok else "✗"


def report(args: argparse.Namespace, the_plan: _load.Plan, ledger: _load.Ledger, wall_s: float) -> None:
    outcomes = ledger.outcomes()
    latencies = sorted(answer.seconds for answer in ledger.answers if answer.http_status)
    p50 = statistics.median(latencies) if latencies else 0.0
    p99 = statistics.quantiles(latencies, n=100)[98] if len(latencies) > 1 else p50
    accepted_by = {
        protocol: sum(1 for a in ledger.answers if a.outcome == "accepted" and a.protocol == protocol)
        for protocol in _load.PROTOCOLS
    }
    retried = [record for record in ledger.records if record["attempts"] > 1]
    flaky_retried = [record for record in ledger.flaky if record["attempts"] > 1]
    all_flaky_retried = len(flaky_retried) == len(ledger.flaky)
    counts_ok = not ledger.missing and not ledger.unexpected and not ledger.doubled
    print(f"load: {args.pings} pings (TrackBack, Pingback, Webmention mixed) from {args.senders} senders, local stack")
    print(
        f"  plan: {len(the_plan.mentions)} distinct mentions, {len(the_plan.repeated)} of them sent "
        f"{args.copies} times; {len(the_plan.flaky)} flaky sources (503 to every other request)"
    )
    rows = [
        (
            "requests sent",
            len(ledger.answers),
            f"in {ledger.sending_s:.1f} s: {len(ledger.answers) / ledger.sending_s:.1f} pings/s, "
            f"reply p50 {p50 * 1000:.0f} ms, p99 {p99 * 1000:.0f} ms",
        ),
        ("accepted", outcomes["accepted"], ", ".join(f"{p} {n}" for p, n in accepted_by.items())),
        ("accepted as duplicate", outcomes["duplicate"], "Pingback fault 48, already registered"),
        ("refused", outcomes["refused"], f"{len(ledger.server_errors())} blamed the receiver (5xx, fault 0/50)"),
        (
            "distinct mentions expected",
            len(ledger.expected),
            f"records {len(ledger.records)} {mark(counts_ok)} (missing {len(ledger.missing)}, "
            f"unexpected {len(ledger.unexpected)}, stored twice {ledger.doubled})",
        ),
        (
            "final",
            len(ledger.records) - len(ledger.unsettled),
            ", ".join(f"{status} {n}" for status, n in ledger.statuses.most_common()),
        ),
        (
            "records with attempts > 1",
            len(retried),
            f"flaky ones retried: {len(flaky_retried)} of {len(ledger.flaky)} {mark(all_flaky_retried)}",
        ),
        ("source fetches", ledger.source_fetches, f"of which 503 {ledger.source_unavailable}"),
        ("DLQ depth", ledger.dead_letters, f"(budget 0) {mark(ledger.dead_letters == 0)}"),
    ]
    for label, number, detail in rows:
        print(f"  {label:<27}{number:>6}  {detail}")
    settled = (
        f"all final, queue empty after {ledger.settled_after_s:.1f} s" if ledger.settled_after_s else "NOT settled"
    )
    print(f"  {'wall time':<27}{wall_s:>6.0f}  s: {settled}; {len(ledger.answers) / wall_s:.1f} pings/s end to end")
    for reason, number in ledger.refusals().most_common(5):
        print(f"    refused {number}x: {reason}")
    for mention_id in ledger.dead_letter_ids[:5]:
        record = ledger.by_id.get(mention_id)
        state = f"{record['status']} after {record['attempts']} attempts" if record else "no record"
        print(f"    in the DLQ: a message for mention {mention_id}, which is {state}")
    for record in ledger.unsettled[:5]:
        print(f"    still {record['status']} after {record['attempts']} attempts: {record['reason']}")
    print(f"  accounting {'balances' if ledger.balanced else 'does NOT balance'} {mark(ledger.balanced)}")


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--pings", type=int, default=2000)
    parser.add_argument("--senders", type=int, default=20)
    parser.add_argument("--repeated", type=int, default=50, help="mentions sent more than once")
    parser.add_argument("--copies", type=int, default=20, help="how many times each of those is sent")
    parser.add_argument("--wait", type=float, default=600, help="at most this long for every mention to be final")
    args = parser.parse_args()
    the_plan = _load.plan(args.pings, repeated=args.repeated, copies=args.copies)
    data_dir = Path(tempfile.mkdtemp(prefix="linkback-load-"))
    try:
        dev = _load.start_dev(data_dir, *_load.DEV_ARGUMENTS)
    except RuntimeError as error:
        print(f"load: could not start the stack: {error}", file=sys.stderr)
        return 1
    try:
        started = time.monotonic()
        ledger = _load.run(dev.stack.base_url, dev.stack, the_plan, senders=args.senders, settle_s=args.wait)
        wall_s = time.monotonic() - started
    finally:
        dev.stop()
        shutil.rmtree(data_dir, ignore_errors=True)
    report(args, the_plan, ledger, wall_s)
    return 0 if ledger.balanced else 1


if __name__ == "__main__":
    sys.exit(main())
