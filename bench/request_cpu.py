"""Per-request CPU of each handler, called in-process with API Gateway / SQS shaped events.

Run: .venv/bin/python bench/request_cpu.py [--requests 300]
CPU is `time.process_time()` of this process around the handler call: our parsing, pynamodb/boto3
marshalling and logging; DynamoDB Local and the SQS server run in other processes and are not counted.
"""

from __future__ import annotations

import argparse
import logging
import statistics
import time
import xmlrpc.client
from urllib.parse import urlencode

from _stack import TARGET, local_stack, source_blog

from linkback_infra.front import load_handler
from linkback_infra.lambda_events import LambdaContext, http_api_event


def event(method: str, path: str, body: bytes = b"", query: str = "", content_type: str = "") -> dict:
    headers = [("content-type", content_type)] if content_type else []
    return http_api_event(
        method=method,
        path=path,
        raw_query=query,
        headers=headers,
        body=body,
        source_ip="127.0.0.1",
        route_key=f"{method} {path}",
        host="localhost",
    )


def cpu_ms(call, runs: int) -> tuple[float, float]:
    samples = []
    for n in range(runs):
        started = time.process_time()
        call(n)
        samples.append((time.process_time() - started) * 1000)
    return statistics.median(samples), statistics.quantiles(samples, n=20)[18]


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--requests", type=int, default=300)
    args = parser.parse_args()
    logging.disable(logging.INFO)
    blog = source_blog()
    stack, _ = local_stack()
    try:
        stack.pollers[0].stop()  # the poller: this benchmark calls the verify handler itself
        trackback = load_handler("handlers.trackback.handler")
        pingback = load_handler("handlers.pingback.handler")
        mentions = load_handler("handlers.mentions.handler")
        verify = load_handler("handlers.verify.handler")
        context = LambdaContext("bench")
        form = "application/x-www-form-urlencoded"
        query = urlencode({"target": TARGET})
        sqs = __import__("boto3").client("sqs")
        queue_url = stack.queue_urls["VerifyQueue"]

        def send_trackback(n: int) -> None:
            body = urlencode({"url": blog.url(f"/tb-{n}"), "title": "t", "excerpt": "e" * 200}).encode()
            trackback(event("POST", "/trackback", body, query, form), context)

        def send_pingback(n: int) -> None:
            body = xmlrpc.client.dumps((blog.url(f"/pb-{n}"), TARGET), "pingback.ping").encode()
            pingback(event("POST", "/pingback", body, "", "text/xml"), context)

        def verify_one(_: int) -> None:
            messages = sqs.receive_message(QueueUrl=queue_url, MaxNumberOfMessages=1, AttributeNames=["All"])
            records = [
                {
                    "messageId": m["MessageId"],
                    "receiptHandle": m["ReceiptHandle"],
                    "body": m["Body"],
                    "attributes": m["Attributes"],
                    "messageAttributes": {},
                    "md5OfBody": "",
                    "eventSource": "aws:sqs",
                    "eventSourceARN": "arn",
                    "awsRegion": "us-east-1",
                }
                for m in messages.get("Messages", [])
            ]
            verify({"Records": records}, context)

        def read_feed(_: int) -> None:
            mentions(event("GET", "/api/mentions.jf2", query=query), context)

        print(f"per-request CPU in the handler process, median / p95 of {args.requests} requests")
        for name, call in (
            ("TrackBack receive", send_trackback),
            ("Pingback receive", send_pingback),
            ("verify one mention", verify_one),
            ("jf2 feed, 20 entries", read_feed),
        ):
            median, p95 = cpu_ms(call, args.requests)
            print(f"  {name:<22} {median:6.2f} ms  (p95 {p95:.2f} ms)")
    finally:
        stack.stop()
        blog.stop()


if __name__ == "__main__":
    main()
