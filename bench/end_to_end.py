"""End-to-end throughput of the local stack: TrackBacks in over HTTP until all are public in the feed.

Run: .venv/bin/python bench/end_to_end.py [--mentions 200] [--senders 8]
One 2-core machine runs the senders, the handlers, DynamoDB Local, the SQS server and the source
blog, so this is a floor for what one verifier instance does, not a Lambda fleet's figure.
"""

from __future__ import annotations

import argparse
import logging
import time
from concurrent.futures import ThreadPoolExecutor
from urllib.parse import quote

import requests
from _stack import TARGET, local_stack, source_blog


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--mentions", type=int, default=200)
    parser.add_argument("--senders", type=int, default=8)
    args = parser.parse_args()
    logging.disable(logging.INFO)
    blog = source_blog()
    stack, base_url = local_stack()
    try:
        ping_url = f"{base_url}/trackback?target={quote(TARGET, safe='')}"
        session = requests.Session()

        def send(n: int) -> float:
            started = time.perf_counter()
            response = session.post(ping_url, data={"url": blog.url(f"/reply-{n}"), "title": f"r{n}"}, timeout=30)
            assert b"<error>0</error>" in response.content, response.content
            return time.perf_counter() - started

        started = time.perf_counter()
        with ThreadPoolExecutor(args.senders) as pool:
            latencies = sorted(pool.map(send, range(args.mentions)))
        received = time.perf_counter() - started
        deadline = time.monotonic() + 300
        count = 0
        while time.monotonic() < deadline:
            count = requests.get(f"{base_url}/api/count", params={"target": TARGET}, timeout=30).json()["count"]
            if count >= args.mentions:
                break
            time.sleep(0.2)
        public = time.perf_counter() - started
        p50 = latencies[len(latencies) // 2] * 1000
        p95 = latencies[int(len(latencies) * 0.95)] * 1000
        print(f"end to end: {args.mentions} TrackBacks from {args.senders} concurrent senders")
        print(f"  receive: {args.mentions / received:6.1f} pings/s   latency p50 {p50:.1f} ms, p95 {p95:.1f} ms")
        print(f"  public:  {count} in the feed after {public:.1f} s = {count / public:6.1f} mentions/s verified")
    finally:
        stack.stop()
        blog.stop()


if __name__ == "__main__":
    main()
