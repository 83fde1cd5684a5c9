"""Per-request CPU of each receiver and of the public read handler, AWS calls answered instantly.

Run: .venv/bin/python bench/request_cpu.py [--requests 2000]
The handlers run in-process with API Gateway shaped events; botocore's `_make_api_call` (the one
door every boto3 and pynamodb call goes through) is replaced by canned answers, so the figure is
our own CPU: parsing, validation, pynamodb/boto3 marshalling, logging and metrics. CPU is
`time.process_time()` around the handler call. Budget: median ≤ 2 ms for each.
"""

from __future__ import annotations

import argparse
import contextlib
import logging
import os
import statistics
import sys
import time
import xmlrpc.client
from pathlib import Path
from typing import Any
from unittest import mock
from urllib.parse import urlencode

ROOT = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(ROOT / "functions"), str(ROOT / "infra")]

TARGET = "https://example.com/posts/hello/"
BUDGET_MS = 2.0
ENVIRONMENT = {
    "LINKBACK_SITES": "https://example.com",
    "LINKBACK_TABLE_NAME": "bench-mentions",
    "LINKBACK_QUEUE_URL": "https://sqs.us-east-1.amazonaws.com/123456789012/bench-verify",
    "LINKBACK_SENDER_PINGS_PER_HOUR": "1000000",
    "LINKBACK_RESEND_INTERVAL_SECONDS": "0",
    "AWS_REGION": "us-east-1",
    "AWS_DEFAULT_REGION": "us-east-1",
    "AWS_ACCESS_KEY_ID": "bench",
    "AWS_SECRET_ACCESS_KEY": "bench",
    "POWERTOOLS_SERVICE_NAME": "linkback",
    "POWERTOOLS_METRICS_NAMESPACE": "linkback",
    "POWERTOOLS_LOG_LEVEL": "WARNING",
}


def feed_items(count: int) -> list[dict[str, Any]]:
    """DynamoDB items of approved mentions, as a Query on the public index returns them."""
    from linkback.store.schema import MentionRecord

    items = []
    for n in range(count):
        record = MentionRecord(
            f"m{n:04d}",
            protocol="webmention",
            source=f"https://blog{n}.example.org/reply/",
            target=TARGET,
            site="https://example.com",
            status="approved",
            received_at=f"2026-01-01T00:{n // 60:02d}:{n % 60:02d}.000000Z",
            updated_at="2026-01-01T00:00:00.000000Z",
            title=f"Reply number {n}",
            excerpt="A reply that says something kind about the post. " * 3,
            author_name=f"Author {n}",
            author_url=f"https://blog{n}.example.org/",
            public_target=TARGET,
        )
        items.append(record.serialize())
    return items


def projected(item: dict[str, Any], params: dict[str, Any]) -> dict[str, Any]:
    """The item as DynamoDB returns it for the request's ProjectionExpression (top-level names only)."""
    expression = params.get("ProjectionExpression")
    if not expression:
        return item
    names = params.get("ExpressionAttributeNames", {})
    wanted = {names.get(name.strip(), name.strip()) for name in expression.split(",")}
    return {name: value for name, value in item.items() if name in wanted}


class InstantAws:
    """Canned answers for the operations the handlers make; counts what they asked for."""

    def __init__(self) -> None:
        self.calls: dict[str, int] = {}
        self.items = feed_items(20)

    def __call__(self, client: Any, operation: str, params: dict[str, Any]) -> dict[str, Any]:
        self.calls[operation] = self.calls.get(operation, 0) + 1
        if operation == "UpdateItem":
            return {"Attributes": {"hits": {"N": "1"}}}
        if operation == "Query":
            items = [projected(item, params) for item in self.items]
            return {"Items": items, "Count": len(items), "ScannedCount": len(items)}
        if operation == "SendMessage":
            return {"MessageId": "00000000-0000-0000-0000-000000000000", "MD5OfMessageBody": "0" * 32}
        if operation == "DescribeTable":
            return {"Table": {"TableName": ENVIRONMENT["LINKBACK_TABLE_NAME"], "TableStatus": "ACTIVE"}}
        return {}  # PutItem (a new mention), GetItem (nothing there)


def event(method: str, path: str, body: bytes = b"", query: str = "", content_type: str = "") -> dict:
    from linkback_infra.lambda_events import http_api_event

    headers = [("content-type", content_type)] if content_type else []
    return http_api_event(
        method=method,
        path=path,
        raw_query=query,
        headers=headers,
        body=body,
        source_ip="198.51.100.7",
        route_key=f"{method} {path}",
        host="linkback.example.com",
    )


def cpu_ms(call, runs: int) -> tuple[float, float]:
    for n in range(50):  # warm: the first request builds clients and caches (a cold start's cost)
        call(-n - 1)
    samples = []
    for n in range(runs):
        started = time.process_time_ns()
        call(n)
        samples.append((time.process_time_ns() - started) / 1e6)
    return statistics.median(samples), statistics.quantiles(samples, n=100)[98]


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--requests", type=int, default=2000)
    args = parser.parse_args()
    os.environ.update(ENVIRONMENT)
    logging.disable(logging.INFO)
    instant = InstantAws()
    with mock.patch("botocore.client.BaseClient._make_api_call", autospec=True, side_effect=instant):
        from handlers import mentions, pingback, trackback, webmention
        from linkback_infra.lambda_events import LambdaContext

        context = LambdaContext("bench")
        form = "application/x-www-form-urlencoded"
        target_query = urlencode({"target": TARGET})
        answers: dict[str, set[int]] = {}

        def check(name: str, response: dict, ok: tuple[int, ...], marker: str = "") -> None:
            good = response["statusCode"] in ok and marker in response.get("body", "")
            answers.setdefault(name, set()).add(response["statusCode"] if good else -1)

        def send_trackback(n: int) -> None:
            body = urlencode({"url": f"https://blog.example.org/tb-{n}", "title": "t", "excerpt": "e" * 200})
            response = trackback.handler(event("POST", "/trackback", body.encode(), target_query, form), context)
            check("TrackBack", response, (200,), "<error>0</error>")

        def send_pingback(n: int) -> None:
            body = xmlrpc.client.dumps((f"https://blog.example.org/pb-{n}", TARGET), "pingback.ping").encode()
            response = pingback.handler(event("POST", "/pingback", body, "", "text/xml"), context)
            check("Pingback", response, (200,), "<string>")

        def send_webmention(n: int) -> None:
            body = urlencode({"source": f"https://blog.example.org/wm-{n}", "target": TARGET}).encode()
            response = webmention.handler(event("POST", "/webmention", body, "", form), context)
            check("Webmention", response, (201, 202))

        def read_feed(_: int) -> None:
            response = mentions.handler(event("GET", "/api/mentions.jf2", query=target_query), context)
            check("jf2", response, (200,), '"children"')

        rows = []
        # Powertools writes each invocation's metrics to stdout (CloudWatch EMF): paid here, not shown.
        with open(os.devnull, "w") as sink, contextlib.redirect_stdout(sink):
            for name, call in (
                ("TrackBack receive", send_trackback),
                ("Pingback receive", send_pingback),
                ("Webmention receive", send_webmention),
                ("jf2 feed, 20 entries", read_feed),
            ):
                median, p99 = cpu_ms(call, args.requests)
                rows.append((name, median, p99))
    failed = {name: codes for name, codes in answers.items() if -1 in codes}
    print(f"per-request CPU, AWS answered instantly (botocore stubbed), {args.requests} requests each")
    print(f"  {'handler':<22} {'median':>9} {'p99':>9}  budget (median)")
    for name, median, p99 in rows:
        mark = "✓" if median <= BUDGET_MS else "✗"
        print(f"  {name:<22} {median:6.2f} ms {p99:6.2f} ms  ≤ {BUDGET_MS:.0f} ms {mark}")
    print(f"  AWS calls answered: {dict(sorted(instant.calls.items()))}")
    if failed:
        print(f"  unexpected replies: {sorted(failed)}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
