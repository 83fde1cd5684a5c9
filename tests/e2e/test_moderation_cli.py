"""`linkback moderate` against a stack in manual moderation: held mentions are listed, approved into
the feed, and a spam verdict takes one out and survives a re-send."""

from __future__ import annotations

import subprocess
import sys
import time
from collections.abc import Iterator

import pytest
import requests

from linkback_infra.loopback_site import LoopbackSite

from .conftest import DevStack, start_dev, stop_dev

POST = "https://example.com/posts/hello/"
LINKING = (200, "text/html", f"<title>Held reply</title><p>About <a href='{POST}'>this</a>.</p>")


@pytest.fixture(scope="module")
def manual_stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[DevStack]:
    stack = start_dev(tmp_path_factory.mktemp("manual"), "--moderation", "manual")
    yield stack
    stop_dev(stack)


def linkback(stack: DevStack, *args: str) -> str:
    data_dir = str(stack.output.parent / "data")
    done = subprocess.run(
        [sys.executable, "-m", "linkback_infra.cli", *args, "--data-dir", data_dir],
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
    )
    return done.stdout


def status(location: str) -> str:
    return requests.get(location, timeout=10).json()["status"]


def feed_sources(stack: DevStack) -> list[str]:
    response = requests.get(f"{stack.base_url}/api/mentions.jf2", params={"target": POST}, timeout=10)
    return [entry["wm-source"] for entry in response.json()["children"]]


def test_a_held_mention_is_listed_then_approved_into_the_feed_then_kept_out_as_spam(manual_stack: DevStack) -> None:
    site = LoopbackSite()
    try:
        site.pages["/held"] = LINKING
        source = site.url("/held")
        sent = requests.post(f"{manual_stack.base_url}/webmention", data={"source": source, "target": POST}, timeout=10)
        location = sent.headers["Location"]
        mention_id = location.rsplit("/", 1)[1]
        deadline = time.monotonic() + 15
        while status(location) != "pending" and time.monotonic() < deadline:
            time.sleep(0.2)
        assert status(location) == "pending"
        assert source not in feed_sources(manual_stack)

        assert mention_id in linkback(manual_stack, "moderate", "list", "--site", "https://example.com")
        assert "pending → approved" in linkback(manual_stack, "moderate", "approve", mention_id)
        assert source in feed_sources(manual_stack)

        assert "approved → spam" in linkback(manual_stack, "moderate", "spam", mention_id)
        assert source not in feed_sources(manual_stack)
        # the sender re-sending does not overturn the owner's verdict
        requests.post(f"{manual_stack.base_url}/webmention", data={"source": source, "target": POST}, timeout=10)
        time.sleep(1)
        assert source not in feed_sources(manual_stack)
        assert mention_id in linkback(
            manual_stack, "moderate", "list", "--site", "https://example.com", "--status", "spam"
        )
    finally:
        site.stop()
