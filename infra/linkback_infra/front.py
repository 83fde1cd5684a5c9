"""The local HTTP front: API Gateway HTTP API's part, for the routes template.yaml declares."""

from __future__ import annotations

import importlib
import re
import threading
import traceback
from collections.abc import Callable
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import urlsplit

from .lambda_events import LambdaContext, http_api_event, http_response
from .template import Route

Handler = Callable[[dict[str, Any], Any], Any]
MAX_REQUEST_BYTES = 10 * 1024 * 1024  # API Gateway's payload limit


def load_handler(dotted: str) -> Handler:
    """`handlers.trackback.handler` → the function, imported as Lambda would."""
    module_name, _, attribute = dotted.rpartition(".")
    return getattr(importlib.import_module(module_name), attribute)


def _path_pattern(path: str) -> re.Pattern[str]:
    """`/webmention/status/{id}` → a regex with a named group per path parameter (one segment each,
    as HTTP API matches them; `{proxy+}` greedy)."""
    pattern = ""
    for literal, name, greedy in re.findall(r"([^{]*)(?:\{(\w+)(\+?)\})?", path):
        pattern += re.escape(literal)
        if name:
            pattern += f"(?P<{name}>.+)" if greedy else f"(?P<{name}>[^/]+)"
    return re.compile(pattern + "$")


class _RouteTable:
    def __init__(self, routes: tuple[Route, ...], timeouts: dict[str, int]) -> None:
        self.routes = [(route, _path_pattern(route.path)) for route in routes]
        self.handlers = {route.function: load_handler(route.handler) for route in routes}
        self.timeouts = timeouts
        # One Lambda instance handles one request at a time; the front may serve several threads,
        # so each function's handler is serialised like a single warm instance.
        self.locks = {function: threading.Lock() for function in self.handlers}

    def match(self, method: str, path: str) -> tuple[Route | None, dict[str, str]]:
        # Literal routes win over parameterised ones, as in HTTP API ("most specific match").
        for route, pattern in sorted(self.routes, key=lambda item: "{" in item[0].path):
            found = pattern.match(path)
            if route.method == method and found:
                return route, found.groupdict()
        return None, {}


def _request_handler(table: _RouteTable) -> type[BaseHTTPRequestHandler]:
    class Front(BaseHTTPRequestHandler):
        server_version = "linkback-local"
        protocol_version = "HTTP/1.1"

        def log_message(self, format: str, *args: Any) -> None:
            pass  # the handlers log structured lines; an access log would double them

        def _serve(self) -> None:
            parts = urlsplit(self.path)
            route, path_parameters = table.match(self.command, parts.path)
            length = int(self.headers.get("Content-Length") or 0)
            if length > MAX_REQUEST_BYTES:
                self._reply(413, [("content-type", "application/json")], b'{"message":"Request Entity Too Large"}')
                return
            body = self.rfile.read(length) if length else b""
            if route is None:
                # What HTTP API answers for a path or method no route matches.
                self._reply(404, [("content-type", "application/json")], b'{"message":"Not Found"}')
                return
            event = http_api_event(
                method=self.command,
                path=parts.path,
                raw_query=parts.query,
                headers=list(self.headers.items()),
                body=body,
                source_ip=self.client_address[0],
                route_key=f"{route.method} {route.path}",
                host=self.headers.get("Host", "localhost"),
                path_parameters=path_parameters,
            )
            context = LambdaContext(function_name=route.function, timeout_s=table.timeouts.get(route.function, 10))
            try:
                with table.locks[route.function]:
                    result = table.handlers[route.function](event, context)
                status, headers, payload = http_response(result)
            except Exception:
                # What the Lambda runtime does with an unhandled error: the traceback goes to the log.
                traceback.print_exc()
                status, headers, payload = (
                    500,
                    [("content-type", "application/json")],
                    b'{"message":"Internal Server Error"}',
                )
            self._reply(status, headers, payload)

        def _reply(self, status: int, headers: list[tuple[str, str]], payload: bytes) -> None:
            self.send_response(status)
            for name, value in headers:
                if name.lower() not in ("content-length", "connection"):
                    self.send_header(name, value)
            self.send_header("Content-Length", str(len(payload)))
            self.end_headers()
            if self.command != "HEAD" and status != 304:
                self.wfile.write(payload)

        do_GET = do_POST = do_PUT = do_DELETE = do_PATCH = do_OPTIONS = do_HEAD = _serve

    return Front


class LocalFront:
    """A threaded HTTP server on loopback that turns requests into HTTP API events."""

    def __init__(self, routes: tuple[Route, ...], timeouts: dict[str, int], host: str, port: int) -> None:
        self.server = ThreadingHTTPServer((host, port), _request_handler(_RouteTable(routes, timeouts)))
        self.server.daemon_threads = True
        self.thread = threading.Thread(target=self.server.serve_forever, name="linkback-front", daemon=True)

    @property
    def base_url(self) -> str:
        host, port = self.server.server_address[:2]
        assert isinstance(host, str)  # AF_INET: getsockname() gives the host as text
        return f"http://{host}:{port}"

    def start(self) -> None:
        self.thread.start()

    def stop(self) -> None:
        self.server.shutdown()
        self.server.server_close()
        self.thread.join(timeout=5)
