"""Time and peak memory of every hostile input in tests/security, one line each, slowest last.

Wall and CPU time are measured without tracemalloc (it slows html.parser 3-12x), peak memory in a
second run under tracemalloc. A case still running after --limit seconds of CPU is cut off and reported as
"> LIMIT s": unbounded cases (a quadratic parser) would otherwise run for minutes.

Run: .venv/bin/python bench/hostile.py [--limit 60] [--only SUBSTRING]
"""

from __future__ import annotations

import argparse
import contextlib
import gzip
import io
import os
import sys
import time
import zlib
from collections.abc import Callable
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
for folder in (ROOT, ROOT / "functions", ROOT / "infra"):
    sys.path.insert(0, str(folder))
os.environ.setdefault("POWERTOOLS_SERVICE_NAME", "linkback")
os.environ.setdefault("POWERTOOLS_METRICS_NAMESPACE", "Linkback")
os.environ.setdefault("POWERTOOLS_TRACE_DISABLED", "true")
os.environ.setdefault("POWERTOOLS_LOG_LEVEL", "WARNING")
os.environ.setdefault("AWS_DEFAULT_REGION", "us-east-1")
os.environ["LINKBACK_SITES"] = "https://example.com"

from tests.security import hostile_cases as cases  # noqa: E402
from tests.security.hostile_cases import MB, Measurement, measure  # noqa: E402
from tests.security.support import Server, post, reply  # noqa: E402

from linkback import wiring  # noqa: E402
from linkback.receive import pingback  # noqa: E402
from linkback.verify.extract import extract  # noqa: E402
from linkback.verify.fetch import SafeFetcher  # noqa: E402
from linkback.verify.links.reference import find_link  # noqa: E402

Row = tuple[str, str, Measurement, Measurement | None]


def _no_backend() -> None:
    """The receivers must refuse every case before storage; make sure nothing real is reached."""

    def forbidden(*args: object, **kwargs: object) -> None:
        raise RuntimeError("a hostile request reached the backend")

    for name in ("repository", "verify_queue", "intake_limits", "rate_limiter"):
        if hasattr(wiring, name):
            setattr(wiring, name, forbidden)


def _quiet(call: Callable[[], Any]) -> Callable[[], Any]:
    def run() -> Any:
        with contextlib.redirect_stdout(io.StringIO()):  # Powertools prints its metrics
            return call()

    return run


def _drip(prelude: bytes, drip: bytes, every_s: float, for_s: float) -> Callable[[Any], None]:
    def route(handler: Any) -> None:
        handler.wfile.write(prelude)
        handler.wfile.flush()
        started = time.monotonic()
        while time.monotonic() - started < for_s:
            time.sleep(every_s)
            handler.wfile.write(drip)
            handler.wfile.flush()
        handler.close_connection = True

    return route


def _cases(server: Server) -> list[tuple[str, str, Callable[[], Any], bool]]:
    """(group, name, call, measure memory too)."""
    rows: list[tuple[str, str, Callable[[], Any], bool]] = []
    for name, build in {
        **cases.XML_BOMBS,
        "XInclude of file:///etc/passwd": cases.xinclude,
        "2 700 levels deep": cases.deep_xml,
        "10 MB call": cases.huge_xml,
    }.items():
        body = build()
        rows.append(("pingback.parse_call", name, lambda body=body: pingback.parse_call(body), True))
        rows.append(("Pingback handler", name, _quiet(lambda body=body: post("pingback", body)), True))
    bomb = cases.gzip_bomb(decoded_mb=100)
    for protocol in ("trackback", "pingback", "webmention"):
        call = _quiet(lambda protocol=protocol: post(protocol, bomb, [("content-encoding", "gzip")]))
        rows.append((f"{protocol} handler", "gzip bomb request body (100 MB inflated)", call, True))

    base = f"http://blog.test:{server.port}"
    # Built once, here: the server thread's own allocations would count in the traced peak.
    gzip_once, gzip_twice = cases.gzip_bomb(100), cases.gzip_bomb(100, layers=2)
    deflated, big = zlib.compress(bytes(64 * MB), 9), b"<p>" + b"A" * (10 * MB)
    server.routes.update(
        {
            "/gzip": lambda h: reply(h, 200, gzip_once, Content_Encoding="gzip"),
            "/gzip2": lambda h: reply(h, 200, gzip_twice, Content_Encoding="gzip, gzip"),
            "/deflate": lambda h: reply(h, 200, deflated, Content_Encoding="deflate"),
            "/10mb": lambda h: reply(h, 200, big),
            "/trickle": _drip(
                b"HTTP/1.1 200 OK\r\nContent-Type: text/html\r\nContent-Length: 100000\r\n\r\n", b"x", 1.0, 8
            ),
            "/slow-headers": _drip(b"HTTP/1.1 200 OK\r\nContent-Type: text/html\r\nX-Slow: ", b"a", 0.2, 4),
            "/silent": lambda h: time.sleep(4),
        }
    )
    for name, path, options in [
        ("gzip bomb, 100 MB inflated", "/gzip", {}),
        ("gzip twice, 100 MB inflated", "/gzip2", {}),
        ("deflate bomb, 64 MB inflated", "/deflate", {}),
        ("10 MB page", "/10mb", {}),
        ("body trickled 1 byte/s (deadline 1.5 s)", "/trickle", {"deadline_s": 1.5}),
        ("headers trickled for 4 s (deadline 0.5 s)", "/slow-headers", {"deadline_s": 0.5}),
        ("never answers (deadline 1 s)", "/silent", {"deadline_s": 1.0}),
    ]:
        options = {**options}
        deadline = options.pop("deadline_s", None)
        chosen = SafeFetcher(
            user_agent="linkback-bench",
            allow_private=True,
            resolver=lambda host, port: ["127.0.0.1"],
            **({"deadline_s": deadline} if deadline else {}),
        )
        rows.append(
            ("SafeFetcher.fetch", name, lambda chosen=chosen, path=path: chosen.fetch(base + path), not deadline)
        )

    for name, build in cases.HTML_CASES.items():
        page = build()
        rows.append(
            (
                "links.find_link",
                f"{name} ({len(page) / MB:.1f} MB)",
                lambda page=page: find_link(page, base_url=cases.PAGE_URL, target=cases.TARGET),
                True,
            )
        )
        entry = page if page.startswith(cases.H_ENTRY) else cases.with_h_entry(page)
        rows.append(
            (
                "extract.extract",
                name,
                lambda entry=entry: extract(entry, page_url=cases.PAGE_URL, target=cases.TARGET),
                True,
            )
        )
    return rows


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--limit", type=float, default=60.0, help="CPU seconds before a case is cut off")
    parser.add_argument("--only", default="", help="run the cases whose group or name contains this")
    arguments = parser.parse_args()
    _no_backend()
    gzip.compress(b"warm up")
    server = Server()
    results: list[Row] = []
    try:
        for group, name, call, with_memory in _cases(server):
            if arguments.only.lower() not in f"{group} {name}".lower():
                continue
            timed = measure(call, cpu_limit_s=arguments.limit, trace_memory=False)
            traced = measure(call, cpu_limit_s=arguments.limit) if with_memory and not timed.cut_off else None
            results.append((group, name, timed, traced))
            seconds = f"> {arguments.limit:.0f} s" if timed.cut_off else f"{timed.seconds:8.3f} s"
            cpu = f"{timed.cpu_seconds:8.3f} s"
            memory = f"{traced.peak_mb:7.1f} MB" if traced else "      -   "
            outcome = "cut off" if timed.cut_off else type(timed.error or timed.result).__name__
            print(f"{group:22} {name:46} {seconds:>10} (CPU {cpu})  peak {memory}  {outcome}", flush=True)
    finally:
        server.stop()
    if results:
        group, name, timed, _ = max(results, key=lambda row: (row[2].cut_off, row[2].seconds))
        print(f"\nslowest: {group}: {name}: {'cut off after ' if timed.cut_off else ''}{timed.seconds:.2f} s")


if __name__ == "__main__":
    main()
