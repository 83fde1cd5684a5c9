"""Verifier concurrency: one SQS batch of 10 mentions whose sources each take 1 s to answer.

Run: .venv/bin/python bench/verifier_concurrency.py [--delay 1.0]
The local stack receives 10 Webmentions; its queue poller is stopped, so this script takes the 10
messages from the SQS server itself and hands them to the verify handler as one SQS batch event.
The source blog sleeps `--delay` seconds before every answer. Budget: batch wall time ≤ 1.5 s.
"""

from __future__ import annotations

import argparse
import logging
import sys
import time

import requests
from _stack import TARGET, UNLIMITED, local_stack, source_blog

from linkback_infra.front import load_handler
from linkback_infra.lambda_events import LambdaContext, sqs_event

BUDGET_S = 1.5


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--delay", type=float, default=1.0)
    args = parser.parse_args()
    logging.disable(logging.INFO)
    blog = source_blog()
    stack, base_url = local_stack(UNLIMITED)
    try:
        stack.pollers[0].stop()  # this script delivers the batch itself
        for n in range(10):
            answer = requests.post(
                f"{base_url}/webmention", data={"source": blog.url(f"/slow-{n}"), "target": TARGET}, timeout=30
            )
            answer.raise_for_status()
        sqs = __import__("boto3").client("sqs")
        queue_url = stack.queue_urls["VerifyQueue"]
        messages: list[dict] = []
        while len(messages) < 10:
            messages += sqs.receive_message(
                QueueUrl=queue_url, MaxNumberOfMessages=10 - len(messages), AttributeNames=["All"], WaitTimeSeconds=1
            ).get("Messages", [])
        verify = load_handler("handlers.verify.handler")
        blog.delay_s = args.delay
        started = time.perf_counter()
        result = verify(
            sqs_event(messages, "arn:aws:sqs:us-east-1:000000000000:verify", "us-east-1"), LambdaContext("bench")
        )
        wall = time.perf_counter() - started
        failures = len(result.get("batchItemFailures", []))
        mark = "✓" if wall <= BUDGET_S and not failures else "✗"
        print(
            f"verifier concurrency: one batch of {len(messages)} messages, each source answers after {args.delay:g} s"
        )
        print(f"  batch wall time {wall:5.2f} s  (budget ≤ {BUDGET_S} s) {mark}")
        print(f"  sources fetched at once: {blog.most_in_flight}, failed records: {failures}")
    finally:
        stack.stop()
        blog.stop()
    return 0


if __name__ == "__main__":
    sys.exit(main())
