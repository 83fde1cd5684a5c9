"""Other people's blogs, on loopback: the pages the verifier fetches in tests, benchmarks and demos."""

from __future__ import annotations

import threading
import time
from collections import Counter
from collections.abc import Callable
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

Page = tuple[int, str, str | bytes]  # status, content type, body
NOT_FOUND: Page = (404, "text/plain", "not found")


class LoopbackSite:
    """`pages[path] = (status, content_type, body)`, else `fallback(path)`, else 404.

    `headers[path]` adds response headers (a redirect's Location); `on_request(path)` runs while a
    request is being answered, before the answer is sent (to act "during" a fetch); `delay_s` makes
    every answer wait (a slow source); `hits` and `most_in_flight` say how it was fetched.
    """

    def __init__(self, host: str = "127.0.0.1", fallback: Callable[[str], Page | None] | None = None) -> None:
        self.host = host
        self.pages: dict[str, Page] = {}
        self.headers: dict[str, dict[str, str]] = {}
        self.fallback = fallback
        self.hits: Counter[str] = Counter()
        self.delay_s = 0.0
        self.on_request: Callable[[str], None] | None = None
        self.most_in_flight = 0
        self._in_flight = 0
        self._lock = threading.Lock()
        site = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, format: str, *args: Any) -> None:
                pass

            def do_GET(self) -> None:
                site._answer(self)

        self._server = ThreadingHTTPServer((host, 0), Handler)
        self._server.daemon_threads = True
        self._thread = threading.Thread(
            target=self._server.serve_forever, kwargs={"poll_interval": 0.05}, name="loopback-site", daemon=True
        )
        self._thread.start()

    @property
    def port(self) -> int:
        return int(self._server.server_address[1])

    def url(self, path: str) -> str:
        return f"http://{self.host}:{self.port}{path}"

    def _page(self, path: str) -> Page:
        if path in self.pages:
            return self.pages[path]
        return (self.fallback(path) if self.fallback else None) or NOT_FOUND

    def _answer(self, request: BaseHTTPRequestHandler) -> None:
        with self._lock:
            self.hits[request.path] += 1
            self._in_flight += 1
            self.most_in_flight = max(self.most_in_flight, self._in_flight)
        try:
            if self.delay_s:
                time.sleep(self.delay_s)
            if self.on_request is not None:
                self.on_request(request.path)
            status, content_type, body = self._page(request.path)
            payload = body.encode("utf-8") if isinstance(body, str) else body
            request.send_response(status)
            request.send_header("Content-Type", content_type)
            for name, value in self.headers.get(request.path, {}).items():
                request.send_header(name, value)
            request.send_header("Content-Length", str(len(payload)))
            request.end_headers()
            request.wfile.write(payload)
        finally:
            with self._lock:
                self._in_flight -= 1

    def stop(self) -> None:
        self._server.shutdown()
        self._server.server_close()
        self._thread.join(timeout=5)
