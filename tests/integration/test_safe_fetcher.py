"""The safe fetcher against a real HTTP server on loopback: pinning, redirects, caps and deadlines."""

from __future__ import annotations

import gzip
import threading
import time
from collections.abc import Callable, Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from linkback.errors import PermanentFetchError, TransientFetchError
from linkback.verify import fetch
from linkback.verify.fetch import SafeFetcher

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


# ----------------------------------------------------------------------------- TLS


def _certificate_authority(tmp_path, names: list[str]):  # type: ignore[no-untyped-def]
    """A throwaway CA and a server certificate for `names`, as PEM files."""
    import datetime

    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import NameOID

    now = datetime.datetime.now(datetime.UTC)
    ca_key = ec.generate_private_key(ec.SECP256R1())
    ca_name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "linkback test CA")])
    ca = (
        x509.CertificateBuilder()
        .subject_name(ca_name)
        .issuer_name(ca_name)
        .public_key(ca_key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(days=1))
        .not_valid_after(now + datetime.timedelta(days=1))
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .sign(ca_key, hashes.SHA256())
    )
    key = ec.generate_private_key(ec.SECP256R1())
    cert = (
        x509.CertificateBuilder()
        .subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, names[0])]))
        .issuer_name(ca_name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(days=1))
        .not_valid_after(now + datetime.timedelta(days=1))
        .add_extension(x509.SubjectAlternativeName([x509.DNSName(n) for n in names]), critical=False)
        .sign(ca_key, hashes.SHA256())
    )
    ca_file, cert_file, key_file = tmp_path / "ca.pem", tmp_path / "cert.pem", tmp_path / "key.pem"
    ca_file.write_bytes(ca.public_bytes(serialization.Encoding.PEM))
    cert_file.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    key_file.write_bytes(
        key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption())
    )
    return ca_file, cert_file, key_file


@pytest.fixture
def tls_server(server: Server, tmp_path) -> Iterator[tuple[Server, str, list[str]]]:  # type: ignore[no-untyped-def]
    import ssl

    ca_file, cert_file, key_file = _certificate_authority(tmp_path, ["blog.test"])
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(cert_file, key_file)
    server_names: list[str] = []
    context.sni_callback = lambda sock, name, ctx: server_names.append(name)  # type: ignore[func-returns-value]
    server.httpd.socket = context.wrap_socket(server.httpd.socket, server_side=True)
    yield server, str(ca_file), server_names


def test_https_to_the_pinned_address_keeps_sni_and_the_certificate_check_for_the_name(
    tls_server: tuple[Server, str, list[str]], names: dict
) -> None:
    server, ca_file, server_names = tls_server
    server.routes["/post"] = lambda h: reply(h, 200, b"<title>over TLS</title>")

    page = fetcher(server, names, ca_bundle=ca_file).fetch(f"https://blog.test:{server.port}/post")

    assert page.status == 200
    assert server_names == ["blog.test"]
    assert server.requests[0]["host"] == f"blog.test:{server.port}"


def test_https_with_a_certificate_for_another_name_is_refused(
    tls_server: tuple[Server, str, list[str]], names: dict
) -> None:
    server, ca_file, _ = tls_server
    names_for_other = {**names}
    resolver = names["_resolver"]
    names_for_other["_resolver"] = lambda host, port: resolver("blog.test", port)  # other.test → same address

    with pytest.raises(PermanentFetchError, match="certificate"):
        fetcher(server, names_for_other, ca_bundle=ca_file).fetch(f"https://other.test:{server.port}/post")
