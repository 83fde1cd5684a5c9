"""Inputs built to exhaust time or memory: each case is held to a time bound and a memory bound.

Bounds come from measurements on the 2-core development machine (bench/hostile.py prints them),
with a margin of 3x or more. Time is measured without tracemalloc (it slows html.parser 3-12x):
CPU time for parsing (a loaded test machine does not inflate it), wall time for network deadlines;
then peak memory under tracemalloc. A CPU-time alarm stops a case that runs away, so a regression
fails in seconds instead of hanging the suite.
"""

from __future__ import annotations

import contextlib
import gzip
import time
import xml.etree.ElementTree as ET
import xmlrpc.client
import zlib
from collections.abc import Callable
from http.server import BaseHTTPRequestHandler
from typing import Any
from urllib.parse import urlencode

import pytest

from linkback.errors import (
    InvalidParams,
    InvalidXmlRpc,
    MalformedRequest,
    PayloadTooLarge,
    PermanentFetchError,
    TransientFetchError,
)
from linkback.receive import pingback
from linkback.verify.extract import extract
from linkback.verify.links.reference import find_link

from . import hostile_cases as cases
from .hostile_cases import MB, Measurement, measure
from .support import Network, Server, fetcher, post, reply, site_fetcher


def bounded(call: Callable[[], Any], *, seconds: float, megabytes: float, clock: str = "cpu") -> Measurement:
    """Run `call` twice: timed (cut off just past `seconds` of CPU), then under tracemalloc.

    clock="cpu" bounds the CPU time the call costs (parsing: what the Lambda pays, and what a busy
    test machine does not inflate); clock="wall" bounds the elapsed time (network deadlines)."""
    timed = measure(call, cpu_limit_s=seconds + 0.5, trace_memory=False)
    assert not timed.cut_off, f"still running after {seconds + 0.5:.1f} s of CPU"
    took = timed.cpu_seconds if clock == "cpu" else timed.seconds
    assert took < seconds, f"took {took:.2f} s of {clock} time (bound {seconds} s)"
    traced = measure(call, cpu_limit_s=max(10 * seconds, 10.0))
    assert traced.peak_mb < megabytes, f"peak {traced.peak_mb:.1f} MB (bound {megabytes} MB)"
    return timed


# ------------------------------------------------------------------------------- XML: parse_call


@pytest.mark.parametrize("build", list(cases.XML_BOMBS.values()), ids=list(cases.XML_BOMBS))
def test_an_xml_bomb_is_refused_by_parse_call_at_once(network: Network, build: Callable[[], bytes]) -> None:
    body = build()
    assert len(body) <= pingback.MAX_BODY_BYTES  # refused for what it is, not for its size

    measured = bounded(lambda: pingback.parse_call(body), seconds=0.1, megabytes=1)

    assert isinstance(measured.error, MalformedRequest)
    assert network.lookups == [] and network.connects == []  # no DTD or entity was fetched


def test_an_xinclude_in_a_parameter_is_not_followed() -> None:
    measured = bounded(lambda: pingback.parse_call(cases.xinclude()), seconds=0.1, megabytes=1)

    assert isinstance(measured.error, InvalidParams)


def test_xml_nested_as_deep_as_the_body_cap_allows_is_refused_at_once() -> None:
    measured = bounded(lambda: pingback.parse_call(cases.deep_xml()), seconds=0.2, megabytes=4)

    assert isinstance(measured.error, InvalidXmlRpc | InvalidParams | MalformedRequest)


def test_a_10_mb_call_is_refused_without_being_parsed() -> None:
    body = cases.huge_xml()

    measured = bounded(lambda: pingback.parse_call(body), seconds=0.05, megabytes=1)

    assert isinstance(measured.error, PayloadTooLarge)


# --------------------------------------------------------------------------- XML: the real handler


def fault_of(body: bytes) -> xmlrpc.client.Fault:
    with pytest.raises(xmlrpc.client.Fault) as fault:
        xmlrpc.client.loads(body)
    return fault.value


@pytest.mark.parametrize("build", list(cases.XML_BOMBS.values()), ids=list(cases.XML_BOMBS))
def test_the_pingback_handler_answers_an_xml_bomb_with_a_parse_error_fault(
    network: Network, no_backend: list[str], build: Callable[[], bytes]
) -> None:
    body = build()

    measured = bounded(lambda: post("pingback", body), seconds=0.5, megabytes=4)

    answer = measured.result
    assert (answer.status, answer.headers["content-type"].split(";")[0]) == (200, "text/xml")
    assert fault_of(answer.body).faultCode == -32700
    assert b"root:" not in answer.body
    assert network.connects == [] and no_backend == []


def test_the_pingback_handler_answers_a_10_mb_call_with_a_fault(no_backend: list[str]) -> None:
    body = cases.huge_xml()

    measured = bounded(lambda: post("pingback", body), seconds=1.0, megabytes=96)

    assert fault_of(measured.result.body).faultCode == -32700
    assert no_backend == []


# ------------------------------------------------------------------- compressed request bodies

VALID_BODIES = {
    "trackback": urlencode({"url": cases.SOURCE, "title": "A reply"}).encode(),
    "pingback": xmlrpc.client.dumps((cases.SOURCE, cases.TARGET), "pingback.ping").encode(),
    "webmention": urlencode({"source": cases.SOURCE, "target": cases.TARGET}).encode(),
}


def refusal_text(protocol: str, answer: Any) -> str:
    """The refusal as each protocol writes it; fails if the answer is not a refusal in that format."""
    if protocol == "trackback":
        assert answer.status == 200
        document = ET.fromstring(answer.body)
        assert document.findtext("error") == "1"
        return document.findtext("message") or ""
    if protocol == "pingback":
        assert answer.status == 200
        return fault_of(answer.body).faultString
    assert answer.status == 400
    assert answer.headers["content-type"].startswith("text/plain")
    return answer.body.decode()


@pytest.mark.parametrize("encoding", ["gzip", "x-gzip", "deflate", "br", "GZIP", "gzip, identity"])
@pytest.mark.parametrize("protocol", list(VALID_BODIES))
def test_a_compressed_request_body_is_refused_in_the_protocols_format(
    no_backend: list[str], protocol: str, encoding: str
) -> None:
    body = (
        gzip.compress(VALID_BODIES[protocol]) if "gzip" in encoding.lower() else zlib.compress(VALID_BODIES[protocol])
    )

    answer = post(protocol, body, [("content-encoding", encoding)])

    assert "compressed" in refusal_text(protocol, answer)
    assert no_backend == []


@pytest.mark.parametrize("protocol", list(VALID_BODIES))
def test_a_gzip_bomb_request_body_is_refused_without_inflating_it(no_backend: list[str], protocol: str) -> None:
    bomb = cases.gzip_bomb(decoded_mb=100)  # ~100 KB sent, 100 MB if inflated

    measured = bounded(lambda: post(protocol, bomb, [("content-encoding", "gzip")]), seconds=0.5, megabytes=8)

    assert "compressed" in refusal_text(protocol, measured.result)


# ------------------------------------------------------------------------- hostile source pages


def gzip_route(body: bytes, encoding: str = "gzip") -> Callable[[BaseHTTPRequestHandler], None]:
    return lambda handler: reply(handler, 200, body, "text/html", Content_Encoding=encoding)


@pytest.mark.parametrize(
    ("encoding", "build"),
    [
        ("gzip", lambda: cases.gzip_bomb(decoded_mb=100)),
        ("gzip, gzip", lambda: cases.gzip_bomb(decoded_mb=100, layers=2)),
        ("deflate", lambda: zlib.compress(bytes(64 * MB), 9)),
    ],
    ids=["gzip 100 MB", "gzip twice 100 MB", "deflate 64 MB"],
)
def test_a_compressed_bomb_from_a_source_stops_at_the_body_cap(
    site: Server, encoding: str, build: Callable[[], bytes]
) -> None:
    site.routes["/bomb"] = gzip_route(build(), encoding)
    url = f"http://blog.test:{site.port}/bomb"

    measured = bounded(lambda: site_fetcher(site).fetch(url), seconds=2.0, megabytes=12, clock="wall")

    page = measured.result
    assert page.truncated
    assert len(page.text) <= 1 * MB


def test_a_10_mb_page_stops_at_the_body_cap(site: Server) -> None:
    page_body = b"<p>" + b"A" * (10 * MB)
    site.routes["/big"] = lambda h: reply(h, 200, page_body)
    url = f"http://blog.test:{site.port}/big"

    measured = bounded(lambda: site_fetcher(site).fetch(url), seconds=2.0, megabytes=12, clock="wall")

    assert measured.result.truncated
    assert len(measured.result.text) == 1 * MB


def test_an_endless_chunked_page_stops_at_the_body_cap(site: Server) -> None:
    def endless(handler: BaseHTTPRequestHandler) -> None:
        handler.send_response(200)
        handler.send_header("Content-Type", "text/html")
        handler.send_header("Transfer-Encoding", "chunked")
        handler.end_headers()
        chunk = b"<p>" + b"x" * 65533
        started = time.monotonic()
        while time.monotonic() - started < 5:
            handler.wfile.write(b"%x\r\n%s\r\n" % (len(chunk), chunk))

    site.routes["/endless"] = endless
    url = f"http://blog.test:{site.port}/endless"

    measured = bounded(lambda: site_fetcher(site).fetch(url), seconds=2.0, megabytes=12, clock="wall")

    assert measured.result.truncated


def dripping(prelude: bytes, drip: bytes, every_s: float, for_s: float) -> Callable[[BaseHTTPRequestHandler], None]:
    """Send `prelude`, then `drip` every `every_s` seconds for at most `for_s` seconds."""

    def route(handler: BaseHTTPRequestHandler) -> None:
        handler.wfile.write(prelude)
        handler.wfile.flush()
        started = time.monotonic()
        while time.monotonic() - started < for_s:
            time.sleep(every_s)
            handler.wfile.write(drip)
            handler.wfile.flush()
        handler.close_connection = True

    return route


def test_a_body_trickled_one_byte_per_second_fails_within_the_deadline(site: Server) -> None:
    head = b"HTTP/1.1 200 OK\r\nContent-Type: text/html\r\nContent-Length: 100000\r\n\r\n<p>"
    site.routes["/trickle"] = dripping(head, b"x", every_s=1.0, for_s=8)
    started = time.perf_counter()

    with pytest.raises(TransientFetchError, match="too long"):
        site_fetcher(site, deadline_s=1.5).fetch(f"http://blog.test:{site.port}/trickle")

    assert time.perf_counter() - started < 1.5 + 1.0 + 0.75  # the deadline, one byte's wait, a margin


def test_headers_trickled_byte_by_byte_fail_within_the_deadline(site: Server) -> None:
    head = b"HTTP/1.1 200 OK\r\nContent-Type: text/html\r\nX-Slow: "
    site.routes["/slow-headers"] = dripping(head, b"a", every_s=0.2, for_s=2.5)
    started = time.perf_counter()

    with pytest.raises(TransientFetchError):
        site_fetcher(site, deadline_s=0.5).fetch(f"http://blog.test:{site.port}/slow-headers")

    assert time.perf_counter() - started < 0.5 + 1.0


def _self_signed(tmp_path: Any) -> tuple[str, str]:
    import datetime

    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import NameOID

    now = datetime.datetime.now(datetime.UTC)
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "blog.test")])
    certificate = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(days=1))
        .not_valid_after(now + datetime.timedelta(days=1))
        # Padding, so the handshake is long enough to drip for seconds.
        .add_extension(x509.SubjectAlternativeName([x509.DNSName(f"n{i}.blog.test") for i in range(40)]), False)
        .sign(key, hashes.SHA256())
    )
    cert_file, key_file = tmp_path / "cert.pem", tmp_path / "key.pem"
    cert_file.write_bytes(certificate.public_bytes(serialization.Encoding.PEM))
    key_file.write_bytes(
        key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption())
    )
    return str(cert_file), str(key_file)


def test_a_tls_handshake_trickled_byte_by_byte_fails_within_the_deadline(
    network: Network, monkeypatch: pytest.MonkeyPatch, tmp_path: Any
) -> None:
    """A real TLS server behind a relay that forwards its answer one byte every ~0.1 s: each receive of
    the handshake is quick, the whole handshake would take minutes. (The ssl module applies the
    socket timeout, here the connect timeout, to the whole handshake; this keeps it that way.)"""
    import socket
    import ssl
    import threading

    from linkback.verify import fetch

    cert_file, key_file = _self_signed(tmp_path)
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(cert_file, key_file)
    tls = socket.create_server(("127.0.0.1", 0))
    relay = socket.create_server(("127.0.0.1", 0))
    tls_port, relay_port = tls.getsockname()[1], relay.getsockname()[1]
    network.allow(tls_port)
    network.allow(relay_port)
    stop = threading.Event()

    def serve_tls() -> None:
        with contextlib.suppress(OSError, ssl.SSLError):
            client, _ = tls.accept()
            context.wrap_socket(client, server_side=True)

    def serve_relay() -> None:
        with contextlib.suppress(OSError):
            client, _ = relay.accept()
            upstream = socket.create_connection(("127.0.0.1", tls_port))
            client.settimeout(0.05)
            upstream.settimeout(0.05)
            while not stop.is_set():
                with contextlib.suppress(TimeoutError):
                    upstream.sendall(client.recv(65536))
                with contextlib.suppress(TimeoutError):
                    byte = upstream.recv(1)
                    if not byte:
                        break
                    client.sendall(byte)
                    time.sleep(0.05)
            client.close()
            upstream.close()

    threads = [threading.Thread(target=serve, daemon=True) for serve in (serve_tls, serve_relay)]
    for thread in threads:
        thread.start()
    real_denied = fetch.is_denied_address
    monkeypatch.setattr(fetch, "is_denied_address", lambda address: address != "127.0.0.1" and real_denied(address))
    network.answer("blog.test", ["127.0.0.1"])
    started = time.perf_counter()
    try:
        with pytest.raises((TransientFetchError, PermanentFetchError)):
            site_fetcher_for(relay_port, deadline_s=0.5).fetch(f"https://blog.test:{relay_port}/")
        elapsed = time.perf_counter() - started
    finally:
        stop.set()
        tls.close()
        relay.close()

    assert elapsed < 0.5 + 1.0


def site_fetcher_for(port: int, **options: Any) -> Any:
    return fetcher(allowed_ports=frozenset({80, 443, port}), **options)


def test_a_source_that_never_answers_fails_within_the_deadline(site: Server) -> None:
    site.routes["/silent"] = lambda handler: time.sleep(4)
    started = time.perf_counter()

    with pytest.raises(TransientFetchError):
        site_fetcher(site, deadline_s=1.0).fetch(f"http://blog.test:{site.port}/silent")

    assert time.perf_counter() - started < 1.0 + 0.75


@pytest.mark.parametrize(
    "head",
    [
        b"HTTP/1.1 200 OK\r\n" + b"".join(b"X-H%d: v\r\n" % i for i in range(5000)) + b"\r\n",
        b"HTTP/1.1 200 OK\r\nX-Long: " + b"v" * (1 * MB) + b"\r\n\r\n",
        b"HTTP/1.1 200 " + b"O" * (1 * MB) + b"\r\n\r\n",
    ],
    ids=["5 000 headers", "a 1 MB header", "a 1 MB status line"],
)
def test_an_oversized_response_head_is_refused_quickly(site: Server, head: bytes) -> None:
    site.routes["/head"] = lambda handler: handler.wfile.write(head)
    url = f"http://blog.test:{site.port}/head"

    measured = bounded(lambda: site_fetcher(site).fetch(url), seconds=2.0, megabytes=8, clock="wall")

    assert isinstance(measured.error, TransientFetchError | PermanentFetchError)


# ------------------------------------------------------------------------------ hostile HTML

FIND_BUDGET_S = 0.5  # find_link's budget in these tests (production: links.PARSE_BUDGET_S)
# CPython's html.parser (3.11.7 here; gh-135462 / CVE-2025-6069) rescans the rest of the page at close()
# for every unterminated '<a', '<!--', '</': quadratic, minutes for 1 MB. The budget is checked in every
# parser callback and extract() tokenizes within a budget before mf2py, so these stay bounded too.


def html_case(name: str) -> Any:
    return pytest.param(name, id=name)


@pytest.mark.parametrize(
    "name",
    [html_case(name) for name in cases.HTML_CASES if name != "1 MB of unclosed '</'"],
)
def test_find_link_on_a_hostile_page_stays_within_its_budget(name: str) -> None:
    page = cases.HTML_CASES[name]()
    megabytes = 8 + 8 * len(page) / MB  # measured: at most 5x the page (a 5 MB attribute: 25 MB)

    measured = bounded(
        lambda: find_link(page, base_url=cases.PAGE_URL, target=cases.TARGET, budget_s=FIND_BUDGET_S),
        seconds=FIND_BUDGET_S + 1.0,
        megabytes=megabytes,
    )

    assert measured.error is None or type(measured.error).__name__ == "ParseBudgetExceeded"


EXTRACT_SECONDS = 2.5  # measured worst benign case 0.6 s (50 000 unclosed <b>); the verifier has ~3 s a page
EXTRACT_MB = 128  # measured worst 52 MB (bs4's tree of 50 000 unclosed <b>); the verifier has 512 MB


@pytest.mark.parametrize(
    "name",
    [html_case(name) for name in cases.HTML_CASES if name not in ("1 MB of unclosed '<!--'", "1 MB of unclosed '</'")],
)
def test_extract_on_a_hostile_page_stays_within_its_bounds(name: str) -> None:
    page = cases.HTML_CASES[name]()
    page = page if page.startswith(cases.H_ENTRY) else cases.with_h_entry(page)

    measured = bounded(
        lambda: extract(page, page_url=cases.PAGE_URL, target=cases.TARGET),
        seconds=EXTRACT_SECONDS,
        megabytes=EXTRACT_MB,
    )

    assert measured.error is None


def test_only_the_first_base_element_counts() -> None:
    evidence = find_link(cases.many_bases(), base_url=cases.PAGE_URL, target=cases.TARGET)

    assert evidence is not None and evidence.tag == "a"


def test_a_huge_title_is_cropped() -> None:
    evidence = find_link(cases.huge_title(), base_url=cases.PAGE_URL, target=cases.TARGET)

    assert evidence is not None and len(evidence.title) <= 250


def test_a_link_found_early_does_not_wait_for_the_rest_of_a_hostile_page() -> None:
    page = cases.link_first_then_unclosed_tags()

    measured = bounded(lambda: find_link(page, base_url=cases.PAGE_URL, target=cases.TARGET), seconds=0.2, megabytes=8)

    assert measured.result is not None


def test_a_parse_error_fault_echoes_nothing_of_the_document(no_backend: list[str]) -> None:
    answer = post("pingback", cases.external_entity())

    assert "/etc/passwd" not in fault_of(answer.body).faultString


@pytest.mark.parametrize("page", ["<![ x]>", "<p>hi</p><![0>", "&uw<![\x7fuw|>"])
def test_find_link_reads_a_malformed_marked_section_as_browsers_do(page: str) -> None:
    # Found by tests/security/atheris_harness.py (target find_link).
    evidence = find_link(page + cases.LINK, base_url=cases.PAGE_URL, target=cases.TARGET)

    assert evidence is not None


def test_a_published_mention_is_not_deleted_because_its_page_was_slow_to_parse(monkeypatch: pytest.MonkeyPatch) -> None:
    from datetime import UTC, datetime

    from linkback.model import Status
    from linkback.store.schema import MentionRecord
    from linkback.verify import pipeline as verify
    from linkback.verify.fetch import FetchedPage
    from linkback.verify.links.reference import ParseBudgetExceeded

    record = MentionRecord(
        "m1",
        protocol="webmention",
        source=cases.SOURCE,
        target=cases.TARGET,
        site="https://example.com",
        status=str(Status.APPROVED),
        received_at="2026-01-01T00:00:00.000000Z",
        updated_at="2026-01-01T00:00:00.000000Z",
    )
    verdicts: list[Any] = []

    class Repository:
        def get(self, mention_id: str) -> MentionRecord:
            return record

        def record_verdict(self, record: MentionRecord, verdict: Any, now: datetime) -> bool:
            verdicts.append(verdict)
            return True

        def record_failed_attempt(self, record: MentionRecord, reason: str, now: datetime) -> None:
            pass

    class Fetcher:
        def fetch(self, url: str, on_behalf_of: str = "") -> FetchedPage:
            return FetchedPage(url=url, status=200, content_type="text/html", text=cases.LINK, truncated=False)

    def slow(*args: Any, **kwargs: Any) -> None:
        raise ParseBudgetExceeded("the page took more than 2 s to read")

    monkeypatch.setattr(verify, "find_link", slow)

    with contextlib.suppress(TransientFetchError):  # retrying later is a fine answer
        verify.verify_mention(
            "m1",
            repository=Repository(),  # type: ignore[arg-type]
            fetcher=Fetcher(),
            moderation="auto",
            now=datetime.now(UTC),
        )

    assert all(verdict.status != Status.DELETED for verdict in verdicts)
