"""End to end on the local stack: mixed-protocol pings until all are verified, then the read path.

Run: .venv/bin/python bench/end_to_end.py [--pings 1000] [--senders 20] [--reads 1000]
TrackBacks, Pingbacks and Webmentions in turn, over HTTP, from concurrent senders (the stack's abuse
limits lifted: one machine sends everything). Half name TARGET, half SECOND_TARGET, so the read path
is measured on a target with pings/2 approved mentions (first page), then again with If-None-Match.
One 2-core machine runs the senders, the handlers, DynamoDB Local, the SQS server and the source
blog: a floor, not a Lambda fleet's figure. Budget: 0 errors.
"""

from __future__ import annotations

import argparse
import logging
import statistics
import sys
import threading
import time
import xmlrpc.client
from concurrent.futures import ThreadPoolExecutor
from urllib.parse import quote

import requests
from _stack import SECOND_TARGET, TARGET, UNLIMITED, local_stack, source_blog

_local = threading.local()


def session() -> requests.Session:
    if not hasattr(_local, "session"):
        _local.session = requests.Session()
    return _local.session


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--pings", type=int, default=1000)
    parser.add_argument("--senders", type=int, default=20)
    parser.add_argument("--reads", type=int, default=1000)
    args = parser.parse_args()
    logging.disable(logging.INFO)
    blog = source_blog()
    stack, base_url = local_stack(UNLIMITED)
    errors: list[str] = []
    try:

        def send(n: int) -> float:
            target, prefix = (TARGET, "/first/") if n % 2 else (SECOND_TARGET, "/second/")
            source = blog.url(f"{prefix}{n}")
            started = time.perf_counter()
            kind = n % 3
            if kind == 0:
                answer = session().post(
                    f"{base_url}/trackback?target={quote(target, safe='')}", data={"url": source, "title": f"r{n}"}
                )
                ok = b"<error>0</error>" in answer.content
            elif kind == 1:
                body = xmlrpc.client.dumps((source, target), "pingback.ping")
                answer = session().post(f"{base_url}/pingback", data=body, headers={"Content-Type": "text/xml"})
                ok = b"<fault>" not in answer.content and answer.status_code == 200
            else:
                answer = session().post(f"{base_url}/webmention", data={"source": source, "target": target})
                ok = answer.status_code in (201, 202)
            if not ok:
                errors.append(f"{answer.status_code} {answer.text[:100]}")
            return time.perf_counter() - started

        started = time.perf_counter()
        with ThreadPoolExecutor(args.senders) as pool:
            latencies = sorted(pool.map(send, range(args.pings)))
        received = time.perf_counter() - started
        deadline = time.monotonic() + 600
        counts = [0, 0]
        while time.monotonic() < deadline:
            counts = [
                requests.get(f"{base_url}/api/count", params={"target": target}, timeout=30).json()["count"]
                for target in (TARGET, SECOND_TARGET)
            ]
            if sum(counts) >= args.pings - len(errors):
                break
            time.sleep(0.2)
        verified = time.perf_counter() - started
        p50 = statistics.median(latencies) * 1000
        p99 = statistics.quantiles(latencies, n=100)[98] * 1000
        mark = "✓" if not errors and sum(counts) == args.pings else "✗"
        print(f"end to end: {args.pings} pings (TrackBack, Pingback, Webmention in turn) from {args.senders} senders")
        print(f"  accepted {args.pings / received:6.1f} pings/s, reply latency p50 {p50:.0f} ms, p99 {p99:.0f} ms")
        print(f"  all verified and public after {verified:.1f} s ({sum(counts)} of {args.pings})")
        print(f"  errors {len(errors)} (budget 0) {mark}" + (f": {errors[:3]}" if errors else ""))

        feed_url = f"{base_url}/api/mentions.jf2"
        params = {"target": TARGET}
        first = requests.get(feed_url, params=params, timeout=30)
        etag = first.headers.get("ETag", "")

        def read(conditional: bool) -> int:
            headers = {"If-None-Match": etag} if conditional else {}
            return session().get(feed_url, params=params, headers=headers, timeout=30).status_code

        print(
            f"read path: /api/mentions.jf2 for a target with {counts[0]} mentions, first page, {args.senders} readers"
        )
        for conditional in (False, True):
            started = time.perf_counter()
            with ThreadPoolExecutor(args.senders) as pool:
                statuses = list(pool.map(read, [conditional] * args.reads))
            elapsed = time.perf_counter() - started
            ok = statuses.count(304 if conditional else 200)
            label = "with If-None-Match" if conditional else "plain GET"
            print(
                f"  {label:<20} {args.reads / elapsed:6.1f} requests/s, "
                f"{ok / len(statuses):6.1%} answered {304 if conditional else 200}"
            )
    finally:
        stack.stop()
        blog.stop()
    return 1 if errors and not received else 0


if __name__ == "__main__":
    sys.exit(main())
