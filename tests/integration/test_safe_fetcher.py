"""The safe fetcher against a real HTTP server on loopback: pinning, redirects, caps and deadlines."""

from __future__ import annotations

import gzip
import threading
import time
from collections.abc import Callable, Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from linkback import fetch
from linkback.errors import PermanentFetchError, TransientFetchError
from linkback.fetch import SafeFetcher

USER_AGENT = "linkback/0.1 (+https://example.com; verifying a mention of this site)"
Route = Callable[[BaseHTTPRequestHandler], None]


class Server:
    def __init__(self) -> None:
        self.routes: dict[str, Route] = {}
        self.requests: list[dict[str, str]] = []
        server = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *args: object) -> None:
                pass

            def do_GET(self) -> None:
                server.requests.append({"path": self.path, **{k.lower(): v for k, v in self.headers.items()}})
                server.routes.get(self.path, lambda h: reply(h, 404, b"missing", "text/plain"))(self)

        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.httpd.daemon_threads = True
        self.thread = threading.Thread(target=self.httpd.serve_forever, daemon=True)
        self.thread.start()

    @property
    def port(self) -> int:
        return self.httpd.server_address[1]

    def stop(self) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()


def reply(handler: BaseHTTPRequestHandler, status: int, body: bytes, content_type: str = "text/html", **headers: str):
    handler.send_response(status)
    handler.send_header("Content-Type", content_type)
    handler.send_header("Content-Length", str(len(body)))
    for name, value in headers.items():
        handler.send_header(name.replace("_", "-"), value)
    handler.end_headers()
    handler.wfile.write(body)


@pytest.fixture
def server() -> Iterator[Server]:
    running = Server()
    yield running
    running.stop()


@pytest.fixture
def names(server: Server, monkeypatch: pytest.MonkeyPatch) -> dict[str, list[str]]:
    """A DNS of our own: `blog.test` is the loopback server, which this test counts as public;
    `internal.test` is 10.0.0.1. Every lookup is recorded."""
    lookups: dict[str, list[str]] = {}
    table = {"blog.test": ["127.0.0.1"], "internal.test": ["10.0.0.1"]}
    real_denied = fetch.is_denied_address
    monkeypatch.setattr(fetch, "is_denied_address", lambda address: address != "127.0.0.1" and real_denied(address))

    def resolver(host: str, port: int) -> list[str]:
        lookups.setdefault(host, []).append(str(port))
        return table[host]

    lookups["_resolver"] = resolver  # type: ignore[assignment]
    return lookups


def fetcher(server: Server, names: dict, **options: object) -> SafeFetcher:
    return SafeFetcher(
        user_agent=USER_AGENT,
        resolver=names["_resolver"],  # type: ignore[arg-type]
        allowed_ports=frozenset({server.port}),
        **options,  # type: ignore[arg-type]
    )


def test_it_connects_to_the_checked_address_and_sends_the_name_as_host(server: Server, names: dict) -> None:
    server.routes["/post"] = lambda h: reply(h, 200, b"<a href='https://example.com/'>x</a>")

    page = fetcher(server, names).fetch(f"http://blog.test:{server.port}/post")

    assert page.status == 200
    assert server.requests[0]["host"] == f"blog.test:{server.port}"
    assert names["blog.test"] == [str(server.port)]  # resolved once, never again for the connection


def test_it_names_linkback_and_the_site_in_the_user_agent(server: Server, names: dict) -> None:
    server.routes["/post"] = lambda h: reply(h, 200, b"<p>hi</p>")

    fetcher(server, names).fetch(f"http://blog.test:{server.port}/post")

    assert server.requests[0]["user-agent"] == USER_AGENT


def test_a_redirect_to_an_internal_address_is_refused_before_any_connection(server: Server, names: dict) -> None:
    server.routes["/hop"] = lambda h: reply(h, 302, b"", Location=f"http://internal.test:{server.port}/admin")

    with pytest.raises(PermanentFetchError, match="non-public"):
        fetcher(server, names).fetch(f"http://blog.test:{server.port}/hop")

    assert [r["path"] for r in server.requests] == ["/hop"]


def test_redirects_are_followed_and_each_hop_is_checked(server: Server, names: dict) -> None:
    server.routes["/old"] = lambda h: reply(h, 301, b"", Location="/new")
    server.routes["/new"] = lambda h: reply(h, 200, b"<title>moved</title>")

    page = fetcher(server, names).fetch(f"http://blog.test:{server.port}/old")

    assert page.url == f"http://blog.test:{server.port}/new"
    assert len(names["blog.test"]) == 2


def test_a_redirect_loop_stops_after_the_limit(server: Server, names: dict) -> None:
    server.routes["/loop"] = lambda h: reply(h, 302, b"", Location="/loop")

    with pytest.raises(PermanentFetchError, match="redirected more than"):
        fetcher(server, names).fetch(f"http://blog.test:{server.port}/loop")

    assert len(server.requests) == fetch.MAX_REDIRECTS + 1


def test_a_gzip_bomb_stops_at_the_body_cap_on_decoded_bytes(server: Server, names: dict) -> None:
    bomb = gzip.compress(b"<p>" + b"A" * 20_000_000)  # ~20 KB on the wire, 20 MB decoded
    server.routes["/bomb"] = lambda h: reply(h, 200, bomb, Content_Encoding="gzip")

    page = fetcher(server, names, max_body_bytes=256 * 1024).fetch(f"http://blog.test:{server.port}/bomb")

    assert page.truncated
    assert len(page.text) <= 256 * 1024


def test_a_page_that_drips_slowly_hits_the_total_deadline(server: Server, names: dict) -> None:
    def drip(handler: BaseHTTPRequestHandler) -> None:
        handler.send_response(200)
        handler.send_header("Content-Type", "text/html")
        handler.send_header("Content-Length", "100000")
        handler.end_headers()
        try:
            for _ in range(40):  # 100 bytes every 0.1 s: each receive is quick, the whole would take 100 s
                handler.wfile.write(b"x" * 100)
                handler.wfile.flush()
                time.sleep(0.1)
        except (BrokenPipeError, ConnectionResetError):
            pass  # the fetcher gave up, as it should

    server.routes["/slow"] = drip
    started = time.monotonic()

    with pytest.raises(TransientFetchError, match="too long"):
        fetcher(server, names, deadline_s=0.5, max_body_bytes=10_000_000).fetch(f"http://blog.test:{server.port}/slow")

    assert time.monotonic() - started < 3


@pytest.mark.parametrize(
    ("status", "error"),
    [(404, PermanentFetchError), (410, PermanentFetchError), (503, TransientFetchError), (429, TransientFetchError)],
)
def test_statuses_map_to_permanent_or_transient_failures(server: Server, names: dict, status: int, error) -> None:
    server.routes["/x"] = lambda h: reply(h, status, b"no")

    with pytest.raises(error):
        fetcher(server, names).fetch(f"http://blog.test:{server.port}/x")


def test_a_source_that_is_not_a_web_page_is_refused(server: Server, names: dict) -> None:
    server.routes["/file.zip"] = lambda h: reply(h, 200, b"PK\x03\x04", "application/zip")

    with pytest.raises(PermanentFetchError, match="not a web page"):
        fetcher(server, names).fetch(f"http://blog.test:{server.port}/file.zip")


def test_loopback_is_refused_by_default_without_any_request(server: Server) -> None:
    server.routes["/post"] = lambda h: reply(h, 200, b"<p>hi</p>")

    with pytest.raises(PermanentFetchError):
        SafeFetcher(user_agent=USER_AGENT, allowed_ports=frozenset({server.port})).fetch(
            f"http://127.0.0.1:{server.port}/post"
        )

    assert server.requests == []
