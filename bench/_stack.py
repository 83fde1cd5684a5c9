"""A local stack and a loopback source blog for the benchmarks (the same parts `linkback dev` runs)."""

from __future__ import annotations

import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(ROOT / "functions"), str(ROOT / "infra")]

from linkback_infra.dev import LocalStack  # noqa: E402
from linkback_infra.loopback_site import LoopbackSite  # noqa: E402

TARGET = "https://example.com/posts/hello/"
SECOND_TARGET = "https://example.com/posts/second/"
PAGE = (
    "<!doctype html><html><head><title>Reply {n}</title></head><body><article>"
    + "<p>Lorem ipsum dolor sit amet, consectetur adipiscing elit, sed do eiusmod tempor.</p>" * 40
    + "<p>I replied to <a href='{target}'>this post</a>.</p></article></body></html>"
)
# The abuse limits a benchmark must lift: one sender sends everything, and every source is on one host.
UNLIMITED = {"SenderPingsPerHour": "1000000", "ResendIntervalSeconds": "0", "SourceHostFetchesPerMinute": "1000000"}


def reply_page(path: str) -> tuple[int, str, str]:
    """Paths under /second/ link to SECOND_TARGET, every other path to TARGET."""
    target = SECOND_TARGET if path.startswith("/second/") else TARGET
    return 200, "text/html; charset=utf-8", PAGE.replace("{n}", path).replace("{target}", target)


def source_blog() -> LoopbackSite:
    return LoopbackSite(fallback=reply_page)


def local_stack(parameters: dict[str, str] | None = None) -> tuple[LocalStack, str]:
    data_dir = Path(tempfile.mkdtemp(prefix="linkback-bench-"))
    stack = LocalStack(
        port=0, data_dir=data_dir, allow_private_sources=True, log_level="ERROR", parameters=parameters or {}
    )
    return stack, stack.start()
