"""Coverage-guided fuzzing of the parsers with atheris (libFuzzer), beside the Hypothesis properties.

Not part of the default run. atheris is not a project dependency: install it first
(`.venv/bin/pip install atheris`; version 3.0.0 ships a CPython 3.11 wheel for x86_64 Linux), then:

    LINKBACK_ATHERIS=1 .venv/bin/python -m tests.security.atheris_harness parse_ping -max_total_time=60
    LINKBACK_ATHERIS=1 .venv/bin/pytest tests/security/test_atheris.py   # every target, 20 s each

Targets: parse_ping, parse_call, parse_request, normalise_url, find_link, replies. An uncaught
exception other than LinkbackError / InvalidUrl (or a reply that does not parse) is a crash:
atheris prints the input and writes it to ./crash-<sha1>, which `python -m
tests.security.atheris_harness TARGET crash-<sha1>` replays.
"""

from __future__ import annotations

import contextlib
import os
import sys
import xml.etree.ElementTree as ET
import xmlrpc.client
from collections.abc import Callable

if os.environ.get("LINKBACK_ATHERIS") != "1":
    sys.exit("atheris fuzzing runs only with LINKBACK_ATHERIS=1 (see the module docstring)")

import atheris

with atheris.instrument_imports():
    from linkback import urls
    from linkback.errors import LinkbackError
    from linkback.receive import pingback, trackback, webmention
    from linkback.verify.links import reference as links

CONTENT_TYPES = [
    None,
    "application/x-www-form-urlencoded",
    "application/x-www-form-urlencoded; charset=utf-8",
    "text/plain; charset=iso-8859-1",
    "text/xml",
]


def _refused(call: Callable[[], object], *allowed: type[BaseException]) -> None:
    try:
        call()
    except (LinkbackError, *allowed):
        pass


def parse_ping(data: bytes) -> None:
    provider = atheris.FuzzedDataProvider(data)
    # Header values arrive as text without lone surrogates (API Gateway's JSON event is valid UTF-8).
    content_type = (
        provider.PickValueInList(CONTENT_TYPES) if provider.ConsumeBool() else provider.ConsumeUnicodeNoSurrogates(40)
    )
    body = provider.ConsumeBytes(provider.remaining_bytes())
    _refused(lambda: trackback.parse_ping(body, content_type))


def parse_call(data: bytes) -> None:
    _refused(lambda: pingback.parse_call(data))


def parse_request(data: bytes) -> None:
    provider = atheris.FuzzedDataProvider(data)
    content_type = provider.PickValueInList(CONTENT_TYPES)
    _refused(lambda: webmention.parse_request(provider.ConsumeBytes(provider.remaining_bytes()), content_type))


def normalise_url(data: bytes) -> None:
    text = atheris.FuzzedDataProvider(data).ConsumeUnicodeNoSurrogates(2100)
    try:
        normal = urls.normalise_url(text)
    except urls.InvalidUrl:
        return
    assert urls.normalise_url(normal) == normal, (text, normal)
    assert not any(char in normal for char in '"<> ') and normal.isprintable(), (text, normal)


def find_link(data: bytes) -> None:
    html = atheris.FuzzedDataProvider(data).ConsumeUnicodeNoSurrogates(64 * 1024)
    _refused(
        lambda: links.find_link(
            html, base_url="https://s.example.net/p", target="https://example.com/p/", budget_s=1.0
        ),
        links.ParseBudgetExceeded,
    )


def replies(data: bytes) -> None:
    provider = atheris.FuzzedDataProvider(data)
    code = provider.ConsumeIntInRange(-(2**31), 2**31 - 1)
    message = provider.ConsumeUnicode(200)
    ET.fromstring(trackback.error_reply(message))
    with contextlib.suppress(xmlrpc.client.Fault):
        xmlrpc.client.loads(pingback.fault_reply(code, message))


TARGETS: dict[str, Callable[[bytes], None]] = {
    target.__name__: target for target in (parse_ping, parse_call, parse_request, normalise_url, find_link, replies)
}


def main(argv: list[str]) -> None:
    if len(argv) < 2 or argv[1] not in TARGETS:
        sys.exit(f"usage: {argv[0]} {{{','.join(TARGETS)}}} [libFuzzer options...]")
    target = TARGETS[argv[1]]
    atheris.Setup([argv[0], *argv[2:]], target)
    atheris.Fuzz()


if __name__ == "__main__":
    main(sys.argv)
