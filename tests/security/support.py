"""The test network and loopback server of tests/security (fixtures in conftest.py).

Nothing in tests/security reaches the network: `socket.getaddrinfo` answers from the test's table
(IP literals are parsed by the real getaddrinfo with AI_NUMERICHOST, which never asks DNS, so
`2130706433` and `0x7f.1` read as glibc reads them), and `socket.socket.connect` / `connect_ex`
raise ConnectionRefusedError for any address the test did not allow.
"""

from __future__ import annotations

import contextlib
import errno
import ipaddress
import socket
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

from linkback.verify import fetch

USER_AGENT = "linkback-security-tests/1.0"
_REAL_GETADDRINFO = socket.getaddrinfo
_REAL_CONNECT = socket.socket.connect
_REAL_CONNECT_EX = socket.socket.connect_ex


def is_ip_literal(host: str) -> bool:
    try:
        ipaddress.ip_address(host.split("%", 1)[0])
    except ValueError:
        return False
    return True


@dataclass
class Network:
    """The test's DNS and a record of every lookup and connection attempt."""

    answers: dict[str, list[list[str]]] = field(default_factory=dict)
    lookups: list[str] = field(default_factory=list)
    connects: list[tuple[str, int]] = field(default_factory=list)
    allowed: set[tuple[str, int]] = field(default_factory=set)

    def answer(self, name: str, *rounds: list[str]) -> None:
        """`name` answers rounds[0] at the first lookup, rounds[1] at the second...; the last repeats."""
        self.answers[name] = [list(addresses) for addresses in rounds]

    def allow(self, port: int, host: str = "127.0.0.1") -> None:
        self.allowed.add((host, port))

    def name_lookups(self) -> list[str]:
        """Lookups of names; the connection layer asking about the pinned IP literal is not DNS."""
        return [host for host in self.lookups if not is_ip_literal(host)]

    def refused_connects(self) -> list[tuple[str, int]]:
        return [endpoint for endpoint in self.connects if endpoint not in self.allowed]

    # -- the patched functions -----------------------------------------------------------------

    def getaddrinfo(self, host: Any, port: Any, family: int = 0, type: int = 0, proto: int = 0, flags: int = 0):
        name = host.decode() if isinstance(host, bytes) else str(host)
        self.lookups.append(name)
        if name in self.answers:
            rounds = self.answers[name]
            addresses = rounds.pop(0) if len(rounds) > 1 else rounds[0]
            number = int(port or 0)
            infos = []
            for address in addresses:
                if ":" in address:
                    info = (socket.AF_INET6, socket.SOCK_STREAM, 6, "", (address, number, 0, 0))
                else:
                    info = (socket.AF_INET, socket.SOCK_STREAM, 6, "", (address, number))
                if family in (0, info[0]):
                    infos.append(info)
            return infos
        try:
            # Numeric hosts only: glibc parses "2130706433" or "0x7f.1" itself, without any DNS query.
            return _REAL_GETADDRINFO(host, port, family, type, proto, flags | socket.AI_NUMERICHOST)
        except socket.gaierror:
            raise socket.gaierror(socket.EAI_NONAME, "Name or service not known") from None

    def connect(self, sock: socket.socket, address: Any) -> None:
        endpoint = (str(address[0]), int(address[1]))
        self.connects.append(endpoint)
        if endpoint not in self.allowed:
            raise ConnectionRefusedError(errno.ECONNREFUSED, f"refused by the test: {endpoint}")
        _REAL_CONNECT(sock, address)

    def connect_ex(self, sock: socket.socket, address: Any) -> int:
        endpoint = (str(address[0]), int(address[1]))
        self.connects.append(endpoint)
        if endpoint not in self.allowed:
            return errno.ECONNREFUSED
        return _REAL_CONNECT_EX(sock, address)


# ------------------------------------------------------------------------------ a loopback server

Route = Callable[[BaseHTTPRequestHandler], None]


class Server:
    """An HTTP/1.1 server on 127.0.0.1 whose routes the test writes; it records the paths asked for."""

    def __init__(self) -> None:
        self.routes: dict[str, Route] = {}
        self.paths: list[str] = []
        server = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *args: object) -> None:
                pass

            def do_GET(self) -> None:
                server.paths.append(self.path)
                route = server.routes.get(self.path.split("?", 1)[0])
                if route is None:
                    reply(self, 404, b"missing", "text/plain")
                else:
                    with contextlib.suppress(BrokenPipeError, ConnectionResetError):
                        route(self)  # a reset: the fetcher gave up, as it should

        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.httpd.daemon_threads = True
        # A client that gives up mid-response (as the fetcher must) is not an error worth a traceback.
        self.httpd.handle_error = lambda request, client_address: None  # type: ignore[method-assign]
        self.thread = threading.Thread(target=self.httpd.serve_forever, args=(0.05,), daemon=True)
        self.thread.start()

    @property
    def port(self) -> int:
        return self.httpd.server_address[1]

    @property
    def endpoint(self) -> tuple[str, int]:
        return ("127.0.0.1", self.port)

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


def fetcher(**options: Any) -> fetch.SafeFetcher:
    return fetch.SafeFetcher(user_agent=USER_AGENT, **options)


def site_fetcher(server: Server, **options: Any) -> fetch.SafeFetcher:
    return fetcher(allowed_ports=frozenset({80, 443, server.port}), **options)


# ------------------------------------------------------------------------------ the Lambda handlers

RECEIVERS = {
    # protocol: (module, path, raw query, content type)
    "trackback": (
        "handlers.trackback",
        "/trackback",
        "target=https%3A%2F%2Fexample.com%2Fposts%2Fhello%2F",
        "application/x-www-form-urlencoded",
    ),
    "pingback": ("handlers.pingback", "/pingback", "", "text/xml"),
    "webmention": ("handlers.webmention", "/webmention", "", "application/x-www-form-urlencoded"),
}


@dataclass(frozen=True)
class HandlerReply:
    status: int
    headers: dict[str, str]
    body: bytes


def post(protocol: str, body: bytes, headers: list[tuple[str, str]] | None = None) -> HandlerReply:
    """POST `body` to a receiver's real Lambda handler, as API Gateway's HTTP API would."""
    import importlib

    from linkback_infra.lambda_events import LambdaContext, http_api_event, http_response

    module, path, query, content_type = RECEIVERS[protocol]
    handler = importlib.import_module(module).handler
    names = {name.lower() for name, _ in headers or []}
    all_headers = [*(headers or []), *([("content-type", content_type)] if "content-type" not in names else [])]
    event = http_api_event(
        method="POST",
        path=path,
        raw_query=query,
        headers=[("user-agent", "hostile/1.0"), *all_headers],
        body=body,
        source_ip="198.51.100.7",
        route_key=f"POST {path}",
        host="linkback.example",
    )
    status, reply_headers, reply_body = http_response(handler(event, LambdaContext(f"{protocol}Function")))
    return HandlerReply(status, {name.lower(): value for name, value in reply_headers}, reply_body)
