"""`linkback dev --faults ... --visibility-timeout 1`: the local stack itself crashes a verification after
its fetch, another after its write, and loses one batch's acknowledgement; senders and readers over
HTTP still see every mention once, approved, and nothing reaches the dead-letter queue."""

from __future__ import annotations

import json
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import boto3
import pytest
import requests

from linkback_infra.loopback_site import LoopbackSite

from .conftest import DevStack, start_dev, stop_dev

POST = "https://example.com/2024/06/exactly-once/"
FAULTS = "after_fetch=1,after_write=1,before_ack=1"
WAIT_S = 30
SOURCES = ("/first-reply", "/second-reply", "/third-reply", "/fourth-reply")


@pytest.fixture(scope="module")
def faulty_stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[DevStack, Path]]:
    tmp = tmp_path_factory.mktemp("faults")
    stack = start_dev(tmp, "--faults", FAULTS, "--visibility-timeout", "1")
    yield stack, tmp / "data"
    stop_dev(stack)


@pytest.fixture
def blog() -> Iterator[LoopbackSite]:
    site = LoopbackSite()
    site.fallback = lambda path: (
        200,
        "text/html; charset=utf-8",
        f"<!doctype html><title>Reply {path}</title><article><p>I agree with <a href='{POST}'>this post</a>, "
        "mostly.</p></article>",
    )
    yield site
    site.stop()


def sqs_of(data_dir: Path) -> tuple[Any, dict[str, str]]:
    stack = json.loads((data_dir / "stack.json").read_text(encoding="utf-8"))
    client = boto3.client(
        "sqs",
        endpoint_url=stack["endpoints"]["sqs"],
        region_name="us-east-1",
        aws_access_key_id="local",
        aws_secret_access_key="local",
    )
    return client, stack["queues"]


def messages_in(sqs: Any, url: str) -> int:
    attributes = sqs.get_queue_attributes(
        QueueUrl=url, AttributeNames=["ApproximateNumberOfMessages", "ApproximateNumberOfMessagesNotVisible"]
    )["Attributes"]
    return int(attributes["ApproximateNumberOfMessages"]) + int(attributes["ApproximateNumberOfMessagesNotVisible"])


def test_every_mention_ends_approved_once_though_the_stack_crashed_and_lost_an_acknowledgement(
    faulty_stack: tuple[DevStack, Path], blog: LoopbackSite
) -> None:
    stack, data_dir = faulty_stack
    assert f"injecting faults {FAULTS}" in stack.output.read_text()
    # Given four webmentions accepted by the stack
    locations = []
    for path in SOURCES:
        response = requests.post(
            f"{stack.base_url}/webmention", data={"source": blog.url(path), "target": POST}, timeout=10
        )
        assert response.status_code == 201, response.text
        locations.append(response.headers["Location"])
    # When the verifier has worked through its crashes and redeliveries
    sqs, queues = sqs_of(data_dir)
    deadline = time.monotonic() + WAIT_S
    while messages_in(sqs, queues["VerifyQueue"]) and time.monotonic() < deadline:
        time.sleep(0.2)
    assert messages_in(sqs, queues["VerifyQueue"]) == 0, stack.output.read_text()[-3000:]
    # Then each mention is approved, once in the public feed, and nothing was dead-lettered
    statuses = [requests.get(location, timeout=10).json()["status"] for location in locations]
    assert statuses == ["approved"] * len(SOURCES)
    feed = requests.get(f"{stack.base_url}/api/mentions.jf2", params={"target": POST}, timeout=10).json()
    assert sorted(entry["wm-source"] for entry in feed["children"]) == sorted(blog.url(path) for path in SOURCES)
    assert messages_in(sqs, queues["VerifyDeadLetterQueue"]) == 0
    # and the faults did happen: a crash after a fetch, one after a write, a lost acknowledgement, and
    # the sources they concerned were fetched again
    output = stack.output.read_text()
    assert "injected crash after fetching the source" in output
    assert "injected crash after storing the verdict" in output
    assert "a verify batch's acknowledgement is lost" in output
    assert sum(blog.hits.values()) >= len(SOURCES) + 3


def test_a_fault_plan_with_a_typo_stops_the_stack_before_it_starts(tmp_path: Path) -> None:
    # A fault that silently does not happen would let a recovery test pass for nothing.
    finished = subprocess.run(
        [sys.executable, "-m", "linkback_infra.cli", "dev", "--data-dir", str(tmp_path), "--faults", "after_fech=1"],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )

    assert finished.returncode == 2
    assert "after_fech=1" in finished.stderr
    assert not (tmp_path / "stack.json").exists()
