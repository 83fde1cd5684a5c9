"""Abuse limits on a stack of their own, with small budgets: bursts are cut at the configured rates,
the legitimate ping beside them still lands, and no source host is fetched faster than its budget."""

from __future__ import annotations

import http.client
import time
import xmlrpc.client
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from urllib.parse import urlencode, urlsplit

import pytest

from linkback_infra.loopback_site import LoopbackSite

from .conftest import DevStack, start_dev, stop_dev

POST = "https://example.com/posts/hello/"
PINGS_PER_HOUR = 5
RESEND_INTERVAL_S = 30
FETCHES_PER_MINUTE = 3
LINKING = (200, "text/html", f"<title>ok</title><p>See <a href='{POST}'>this</a>.</p>")


@pytest.fixture(scope="module")
def limited_stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[DevStack]:
    stack = start_dev(
        tmp_path_factory.mktemp("limited"),
        limits=(
            "--parameter",
            f"SenderPingsPerHour={PINGS_PER_HOUR}",
            "--parameter",
            f"ResendIntervalSeconds={RESEND_INTERVAL_S}",
            "--parameter",
            f"SourceHostFetchesPerMinute={FETCHES_PER_MINUTE}",
        ),
    )
    yield stack
    stop_dev(stack)


def post_form(stack: DevStack, path: str, fields: dict[str, str], sender: str) -> tuple[int, dict[str, str], bytes]:
    """POST from a chosen loopback address, so each test is its own sender (127.0.0.0/8 is all ours)."""
    url = urlsplit(stack.base_url)
    connection = http.client.HTTPConnection(url.hostname, url.port, timeout=10, source_address=(sender, 0))
    try:
        connection.request("POST", path, urlencode(fields), {"Content-Type": "application/x-www-form-urlencoded"})
        response = connection.getresponse()
        return response.status, {k.lower(): v for k, v in response.getheaders()}, response.read()
    finally:
        connection.close()


def webmention(stack: DevStack, source: str, sender: str) -> tuple[int, dict[str, str], bytes]:
    return post_form(stack, "/webmention", {"source": source, "target": POST}, sender)


def test_a_burst_from_one_sender_is_cut_at_its_hourly_budget_and_another_sender_still_lands(
    limited_stack: DevStack,
) -> None:
    site = LoopbackSite()
    try:
        site.fallback = lambda path: LINKING
        # Given a burst of 20 concurrent webmentions from one address
        with ThreadPoolExecutor(10) as pool:
            burst = list(pool.map(lambda n: webmention(limited_stack, site.url(f"/burst-{n}"), "127.0.0.2"), range(20)))
            # and, in the middle of it, one from somebody else
            legitimate = pool.submit(webmention, limited_stack, site.url("/legit"), "127.0.0.3").result()
        statuses = sorted(status for status, _, _ in burst)
        # Then exactly the budget got through and the rest were told when to come back
        assert statuses.count(201) == PINGS_PER_HOUR
        assert statuses.count(429) == 20 - PINGS_PER_HOUR
        refused = next(headers for status, headers, _ in burst if status == 429)
        assert 0 < int(refused["retry-after"]) <= 3600
        # and the other sender's mention was accepted
        assert legitimate[0] == 201
    finally:
        site.stop()


def test_the_same_mention_again_within_the_interval_is_refused_politely_in_each_protocol(
    limited_stack: DevStack,
) -> None:
    site = LoopbackSite()
    try:
        site.fallback = lambda path: LINKING
        source = site.url("/resent")
        assert webmention(limited_stack, source, "127.0.0.4")[0] == 201

        status, headers, body = webmention(limited_stack, source, "127.0.0.4")
        assert status == 429
        assert 0 < int(headers["retry-after"]) <= RESEND_INTERVAL_S + 1
        assert b"again in" in body

        tb_source = site.url("/resent-tb")
        target = urlencode({"target": POST})
        assert (
            b"<error>0</error>" in post_form(limited_stack, f"/trackback?{target}", {"url": tb_source}, "127.0.0.5")[2]
        )
        status, _, body = post_form(limited_stack, f"/trackback?{target}", {"url": tb_source}, "127.0.0.5")
        # TrackBack: always 200, the refusal is in the XML
        assert status == 200
        assert body.startswith(b'<?xml version="1.0" encoding="utf-8"?><response><error>1</error><message>')
        assert b"again in" in body
    finally:
        site.stop()


def test_a_sender_over_budget_gets_pingback_fault_49(limited_stack: DevStack) -> None:
    site = LoopbackSite()
    try:
        site.fallback = lambda path: LINKING

        class FromAddress(xmlrpc.client.Transport):
            def make_connection(self, host):  # type: ignore[no-untyped-def]
                connection = super().make_connection(host)
                connection.source_address = ("127.0.0.6", 0)
                return connection

        server = xmlrpc.client.ServerProxy(f"{limited_stack.base_url}/pingback", transport=FromAddress())
        for n in range(PINGS_PER_HOUR):
            server.pingback.ping(site.url(f"/pb-{n}"), POST)
        with pytest.raises(xmlrpc.client.Fault) as fault:
            server.pingback.ping(site.url("/pb-over"), POST)
        assert fault.value.faultCode == 49
    finally:
        site.stop()


def test_no_source_host_is_fetched_faster_than_its_budget(limited_stack: DevStack) -> None:
    # Given more mentions than the budget whose sources are all on one third-party host (an address
    # of its own, so no other test spent its budget)
    site = LoopbackSite(host="127.0.0.7")
    try:
        site.fallback = lambda path: LINKING
        for n in range(FETCHES_PER_MINUTE + 2):
            assert webmention(limited_stack, site.url(f"/flood-{n}"), f"127.0.1.{n + 1}")[0] == 201
        # When the verifier works through them
        deadline = time.monotonic() + 10
        while sum(site.hits.values()) < FETCHES_PER_MINUTE and time.monotonic() < deadline:
            time.sleep(0.2)
        time.sleep(2)
        # Then that host saw exactly its per-minute budget; the rest wait in the queue
        assert sum(site.hits.values()) == FETCHES_PER_MINUTE
    finally:
        site.stop()
