"""Hostile inputs shared by tests/security and bench/hostile.py, and one way to measure them.

Every input is built on demand (some are megabytes) and deterministic. `measure` runs a call under
tracemalloc with a CPU-time cut-off (SIGPROF, so it never disturbs pytest-timeout's SIGALRM): a
case that would run for minutes on a vulnerable parser is stopped and reported as cut off instead
of hanging the suite.
"""

from __future__ import annotations

import signal
import time
import tracemalloc
import zlib
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

TARGET = "https://example.com/posts/hello/"
SOURCE = "https://blog.example.org/2024/05/a-reply/"
PAGE_URL = "https://source.example.net/post"
LINK = f"<a href='{TARGET}'>the post</a>"
H_ENTRY = f'<div class="h-entry"><p class="e-content">Nice post: <a class="u-in-reply-to" href="{TARGET}">hello</a></p>'
MB = 1024 * 1024

# --------------------------------------------------------------------------------------- XML


def _call(value: str) -> str:
    return (
        "<methodCall><methodName>pingback.ping</methodName><params>"
        f"<param><value><string>{value}</string></value></param>"
        f"<param><value><string>{TARGET}</string></value></param></params></methodCall>"
    )


def billion_laughs() -> bytes:
    """Ten levels of ten references: 10^9 "lol"s (3 GB) if a parser expanded it; 1 KB on the wire."""
    entities = ['<!ENTITY lol0 "lol">'] + [
        f'<!ENTITY lol{level} "{f"&lol{level - 1};" * 10}">' for level in range(1, 10)
    ]
    return f'<?xml version="1.0"?><!DOCTYPE methodCall [{"".join(entities)}]>{_call("&lol9;")}'.encode()


def quadratic_blowup() -> bytes:
    """One 8 KB entity referenced 2 400 times (19 MB expanded), inside the 16 KB body cap."""
    return f'<?xml version="1.0"?><!DOCTYPE methodCall [<!ENTITY a "{"A" * 8000}">]>{_call("&a;" * 2400)}'.encode()


def external_entity() -> bytes:
    return f'<?xml version="1.0"?><!DOCTYPE methodCall [<!ENTITY xxe SYSTEM "file:///etc/passwd">]>{_call("&xxe;")}'.encode()


def external_dtd(url: str = "http://127.0.0.1:9/evil.dtd") -> bytes:
    return f'<?xml version="1.0"?><!DOCTYPE methodCall SYSTEM "{url}">{_call(SOURCE)}'.encode()


def parameter_entity(url: str = "http://127.0.0.1:9/evil.dtd") -> bytes:
    doctype = f'<!DOCTYPE methodCall [<!ENTITY % remote SYSTEM "{url}"> %remote;]>'
    return f'<?xml version="1.0"?>{doctype}{_call(SOURCE)}'.encode()


def xinclude() -> bytes:
    include = '<xi:include xmlns:xi="http://www.w3.org/2001/XInclude" href="file:///etc/passwd" parse="text"/>'
    return _call(include).encode()


def deep_xml() -> bytes:
    """As deep as 16 KB allows (~2 700 levels) inside a parameter."""
    depth = (16 * 1024 - 400) // 6
    return _call("<a>" * depth + "</a>" * depth).encode()[: 16 * 1024]


def huge_xml() -> bytes:
    return _call("x" * (10 * MB)).encode()


XML_BOMBS: dict[str, Callable[[], bytes]] = {
    "billion laughs": billion_laughs,
    "quadratic blowup": quadratic_blowup,
    "external entity file:///etc/passwd": external_entity,
    "external DTD": external_dtd,
    "parameter entity to a remote DTD": parameter_entity,
}

# --------------------------------------------------------------------------------------- HTML


def deep_nesting(depth: int = 100_000) -> str:
    return "<div>" * depth + LINK + "</div>" * depth


def unclosed_b(count: int = 50_000) -> str:
    return "<b>x" * count + LINK


def huge_attribute(size: int = 5 * MB) -> str:
    return f"<a title='{'x' * size}' href='{TARGET}'>t</a>"


def many_lt(size: int = MB) -> str:
    return "<" * size


def many_bases(count: int = 30_000) -> str:
    # Only the first <base href> counts: the relative link resolves against example.com.
    bases = "".join(f"<base href='https://b{i}.example.net/'>" for i in range(count))
    return "<base href='https://example.com/'>" + bases + "<a href='/posts/hello/'>rel</a>"


def huge_title(size: int = MB) -> str:
    return "<title>" + "t " * (size // 2) + "</title>" + LINK


def many_links(count: int = 100_000) -> str:
    return "".join(f"<a href='/p{i}'>x</a>" for i in range(count))[:MB] + LINK


def unclosed_start_tags(size: int = MB) -> str:
    """'<a<a<a...': CPython's html.parser rescans the rest at close() for every one (gh-135462)."""
    return "<a" * (size // 2)


def unclosed_comments(size: int = MB) -> str:
    return "<!--" * (size // 4)


def unclosed_end_tags(size: int = MB) -> str:
    return "</" * (size // 2)


def link_first_then_unclosed_tags(size: int = MB) -> str:
    """The link and its context come first, so find_link stops early; the rest costs the parser."""
    return H_ENTRY + " words" * 60 + "</div>" + "<a" * (size // 2)


def with_h_entry(page: str) -> str:
    return H_ENTRY + page


HTML_CASES: dict[str, Callable[[], str]] = {
    "deep nesting 100 000 <div>": deep_nesting,
    "50 000 unclosed <b>": unclosed_b,
    "a 5 MB attribute": huge_attribute,
    "1 MB of '<'": many_lt,
    "30 000 <base> elements": many_bases,
    "a 1 MB <title>": huge_title,
    "100 000 links (1 MB)": many_links,
    "1 MB of unclosed '<a'": unclosed_start_tags,
    "1 MB of unclosed '<!--'": unclosed_comments,
    "1 MB of unclosed '</'": unclosed_end_tags,
    "link first, then 1 MB of '<a'": link_first_then_unclosed_tags,
}

# --------------------------------------------------------------------------- compressed bodies


def gzip_bomb(decoded_mb: int = 100, layers: int = 1) -> bytes:
    """`decoded_mb` MB of zeros gzip-compressed (~1 KB per MB), optionally gzipped again."""
    compressor = zlib.compressobj(9, zlib.DEFLATED, 31)
    chunk = bytes(MB)
    body = b"".join(compressor.compress(chunk) for _ in range(decoded_mb)) + compressor.flush()
    for _ in range(layers - 1):
        outer = zlib.compressobj(9, zlib.DEFLATED, 31)
        body = outer.compress(body) + outer.flush()
    return body


# ----------------------------------------------------------------------------------- measuring


class CutOff(BaseException):
    """Raised by the CPU-time alarm; a BaseException so `except Exception` in the code under test
    cannot swallow it."""


@dataclass(frozen=True)
class Measurement:
    seconds: float  # wall clock
    peak_bytes: int
    cpu_seconds: float = 0.0  # CPU time of the process: what a parse costs, whatever else runs
    result: Any = None
    error: BaseException | None = None
    cut_off: bool = False

    @property
    def peak_mb(self) -> float:
        return self.peak_bytes / MB

    def describe(self) -> str:
        outcome = (
            "CUT OFF"
            if self.cut_off
            else (type(self.error).__name__ if self.error is not None else type(self.result).__name__)
        )
        return f"{self.seconds:7.3f} s  peak {self.peak_mb:7.1f} MB  -> {outcome}"


def _alarm(signum: int, frame: Any) -> None:
    raise CutOff


def measure(call: Callable[[], Any], *, cpu_limit_s: float = 10.0, trace_memory: bool = True) -> Measurement:
    """Time and peak traced memory of `call()`; stopped after `cpu_limit_s` of CPU time.

    Must run in the main thread (signals). Exceptions from `call` are returned, not raised.
    """
    previous = signal.signal(signal.SIGPROF, _alarm)
    tracing = trace_memory and not tracemalloc.is_tracing()
    if tracing:
        tracemalloc.start()
    if tracemalloc.is_tracing():
        tracemalloc.reset_peak()
    result: Any = None
    error: BaseException | None = None
    cut_off = False
    started, started_cpu = time.perf_counter(), time.process_time()
    signal.setitimer(signal.ITIMER_PROF, cpu_limit_s)
    try:
        result = call()
    except CutOff:
        cut_off = True
    except Exception as raised:
        error = raised
    finally:
        signal.setitimer(signal.ITIMER_PROF, 0)
        seconds, cpu_seconds = time.perf_counter() - started, time.process_time() - started_cpu
        peak = tracemalloc.get_traced_memory()[1] if tracemalloc.is_tracing() else 0
        if tracing:
            tracemalloc.stop()
        signal.signal(signal.SIGPROF, previous)
    return Measurement(
        seconds=seconds, peak_bytes=peak, cpu_seconds=cpu_seconds, result=result, error=error, cut_off=cut_off
    )
