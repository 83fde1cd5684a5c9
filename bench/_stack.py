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
PAGE = (
    "<!doctype html><html><head><title>Reply {n}</title></head><body><article>"
    + "<p>Lorem ipsum dolor sit amet, consectetur adipiscing elit, sed do eiusmod tempor.</p>" * 40
    + f"<p>I replied to <a href='{TARGET}'>this post</a>.</p></article></body></html>"
)


def source_blog() -> LoopbackSite:
    """Every path is a reply page that links to TARGET."""
    return LoopbackSite(fallback=lambda path: (200, "text/html; charset=utf-8", PAGE.replace("{n}", path)))


def local_stack() -> tuple[LocalStack, str]:
    data_dir = Path(tempfile.mkdtemp(prefix="linkback-bench-"))
    stack = LocalStack(port=0, data_dir=data_dir, allow_private_sources=True, log_level="ERROR")
    return stack, stack.start()
