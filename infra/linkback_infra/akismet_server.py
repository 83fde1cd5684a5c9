"""Akismet on loopback: the REST API 1.1 as the client sees it, for tests and the local stack.

It answers `comment-check`, `submit-spam`, `submit-ham` and `verify-key` the way Akismet documents them:
- a wrong or missing `api_key` (or a missing `blog`/`user_ip`) is answered `invalid` with the cause in
  `X-akismet-debug-help`; `verify-key` answers `valid` or `invalid`;
- Akismet's documented test values decide: `comment_author` "akismet-guaranteed-spam" (or that address as
  `comment_author_email`) is always spam, `user_role` "administrator" always ham; then any configured spam
  URL in the author URL or the content, or spam word in the author or content, is spam; the rest is ham;
- `discard = True` adds `X-akismet-pro-tip: discard` to spam answers (Akismet's "blatant spam").

For failure tests: `fail_with = 500` answers that status to everything; `hang_s` waits that long before
answering (longer than a client's timeout); `drip_s` sends the answer's body one byte per `drip_s` (a
trickle that resets a read timeout on every byte). Every request is recorded, parsed, in `received` — including
the ones it then fails or hangs on — so a test can assert exactly what the client sent.

    with AkismetServer("key", spam_words={"casino"}) as akismet:
        client = AkismetClient("key", endpoint=akismet.endpoint_url)

`python -m linkback_infra.akismet_server --key KEY` serves one until Ctrl-C, for `linkback dev`.
"""

from __future__ import annotations

import argparse
import signal
import threading
from collections.abc import Iterable
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from types import FrameType, TracebackType
from typing import Any
from urllib.parse import parse_qsl

API_PREFIX = "/1.1/"
COMMENT_METHODS = frozenset({"comment-check", "submit-spam", "submit-ham"})
METHODS = COMMENT_METHODS | {"verify-key"}
SUBMITTED = "Thanks for making the web a better place."
# Akismet's documented test values: they force an answer whatever else the request says.
GUARANTEED_SPAM_AUTHOR = "akismet-guaranteed-spam"
GUARANTEED_SPAM_EMAIL = "akismet-guaranteed-spam@example.com"
HAM_ROLE = "administrator"
MAX_BODY_BYTES = 64 * 1024
# An answer sent without reading the body must end a keep-alive connection, or the unread body would be
# taken for the next request.
CLOSE = {"Connection": "close"}


@dataclass(frozen=True)
class AkismetRequest:
    """One request as the server received it."""

    method: str  # "comment-check", "submit-spam", "submit-ham", "verify-key"
    form: dict[str, str]
    user_agent: str
    content_type: str


class AkismetServer:
    """A local Akismet: `start()`/`stop()` or a context manager; `endpoint_url` is the client's `endpoint`."""

    def __init__(
        self,
        api_key: str = "local-akismet-key",
        *,
        host: str = "127.0.0.1",
        port: int = 0,
        spam_urls: Iterable[str] = (),
        spam_words: Iterable[str] = (),
    ) -> None:
        self.api_key = api_key
        self.host = host
        self.spam_urls = set(spam_urls)
        self.spam_words = {word.lower() for word in spam_words}
        self.discard = False
        self.fail_with: int | None = None
        self.hang_s = 0.0
        self.drip_s = 0.0
        self._port = port
        self._received: list[AkismetRequest] = []
        self._lock = threading.Lock()
        self._stopping = threading.Event()
        self._server: ThreadingHTTPServer | None = None
        self._thread: threading.Thread | None = None

    # ------------------------------------------------------------------ lifecycle

    def start(self) -> AkismetServer:
        if self._server is not None:
            return self
        akismet = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"  # keep-alive, as the client's pooled session expects

            def log_message(self, format: str, *args: Any) -> None:
                pass

            def do_POST(self) -> None:
                akismet._answer(self)

            def do_GET(self) -> None:
                # Akismet takes POST only: a GET means the client is wrong, and the test should see it.
                akismet._send(self, 405, "", {"Allow": "POST", **CLOSE})

        class Server(ThreadingHTTPServer):
            daemon_threads = True

            def handle_error(self, request: Any, client_address: Any) -> None:
                # A client that gave up (timeout tests) leaves a broken pipe behind; that is the point.
                pass

        self._stopping.clear()
        self._server = Server((self.host, self._port), Handler)
        self._thread = threading.Thread(
            target=self._server.serve_forever, kwargs={"poll_interval": 0.05}, name="akismet-server", daemon=True
        )
        self._thread.start()
        return self

    def stop(self) -> None:
        if self._server is None:
            return
        self._stopping.set()  # wakes a hanging answer so shutdown does not wait for it
        self._server.shutdown()
        self._server.server_close()
        if self._thread is not None:
            self._thread.join(timeout=5)
        self._server = None
        self._thread = None

    def __enter__(self) -> AkismetServer:
        return self.start()

    def __exit__(
        self, kind: type[BaseException] | None, error: BaseException | None, traceback: TracebackType | None
    ) -> None:
        self.stop()

    @property
    def port(self) -> int:
        if self._server is None:
            raise RuntimeError("the Akismet server is not started")
        return int(self._server.server_address[1])

    @property
    def endpoint_url(self) -> str:
        return f"http://{self.host}:{self.port}"

    # ------------------------------------------------------------------ what tests look at

    @property
    def received(self) -> list[AkismetRequest]:
        with self._lock:
            return list(self._received)

    def received_for(self, method: str) -> list[AkismetRequest]:
        return [request for request in self.received if request.method == method]

    def is_spam(self, form: dict[str, str]) -> bool:
        """The decision comment-check answers, for a request with a valid key."""
        if form.get("comment_author") == GUARANTEED_SPAM_AUTHOR or form.get("comment_author_email") == (
            GUARANTEED_SPAM_EMAIL
        ):
            return True
        if form.get("user_role") == HAM_ROLE:
            return False
        author_url = form.get("comment_author_url", "")
        content = form.get("comment_content", "")
        if any(url in author_url or url in content for url in self.spam_urls):
            return True
        words = f"{form.get('comment_author', '')} {content}".lower()
        return any(word in words for word in self.spam_words)

    # ------------------------------------------------------------------ the protocol

    def _answer(self, request: BaseHTTPRequestHandler) -> None:
        path = request.path.split("?", 1)[0]
        method = path.removeprefix(API_PREFIX) if path.startswith(API_PREFIX) else ""
        if method not in METHODS:
            self._send(request, 404, "", CLOSE)
            return
        try:
            length = int(request.headers.get("Content-Length") or 0)
        except ValueError:
            self._send(request, 400, "", CLOSE)
            return
        if not 0 <= length <= MAX_BODY_BYTES:
            self._send(request, 413, "", CLOSE)
            return
        body = request.rfile.read(length).decode("utf-8", errors="replace")
        content_type = request.headers.get("Content-Type", "")
        form = dict(parse_qsl(body, keep_blank_values=True)) if "x-www-form-urlencoded" in content_type else {}
        with self._lock:
            self._received.append(
                AkismetRequest(
                    method=method,
                    form=form,
                    user_agent=request.headers.get("User-Agent", ""),
                    content_type=content_type,
                )
            )

        if self.hang_s and self._stopping.wait(self.hang_s):
            request.close_connection = True
            return
        if self.fail_with is not None:
            self._send(request, self.fail_with, "")
            return
        status, answer, headers = self._respond(method, form)
        self._send(request, status, answer, headers)

    def _respond(self, method: str, form: dict[str, str]) -> tuple[int, str, dict[str, str]]:
        key_ok = form.get("api_key") == self.api_key
        if method == "verify-key":
            if not form.get("blog"):
                return 200, "invalid", {"X-akismet-debug-help": 'Empty "blog" value'}
            if not key_ok:
                return 200, "invalid", {"X-akismet-debug-help": "Invalid API key"}
            return 200, "valid", {}
        if not key_ok:
            return 200, "invalid", {"X-akismet-debug-help": "Invalid API key"}
        for required in ("blog", "user_ip"):
            if not form.get(required):
                return 200, "invalid", {"X-akismet-debug-help": f'Empty "{required}" value'}
        if method != "comment-check":
            return 200, SUBMITTED, {}
        if not self.is_spam(form):
            return 200, "false", {}
        return 200, "true", {"X-akismet-pro-tip": "discard"} if self.discard else {}

    def _send(
        self, request: BaseHTTPRequestHandler, status: int, body: str, headers: dict[str, str] | None = None
    ) -> None:
        payload = body.encode("utf-8")
        request.send_response(status)
        request.send_header("Content-Type", "text/plain; charset=utf-8")
        request.send_header("Content-Length", str(len(payload)))
        for name, value in (headers or {}).items():
            request.send_header(name, value)
        request.end_headers()
        if not self.drip_s:
            request.wfile.write(payload)
            return
        for byte in payload:
            request.wfile.write(bytes([byte]))
            request.wfile.flush()
            if self._stopping.wait(self.drip_s):
                return


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description="A local server speaking Akismet's REST API 1.1.")
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=0, help="0: any free port")
    parser.add_argument("--key", default="local-akismet-key", help="the API key it accepts")
    parser.add_argument("--spam-url", action="append", default=[], help="an URL whose mentions are spam")
    parser.add_argument("--spam-word", action="append", default=[], help="a word that makes a mention spam")
    parser.add_argument("--discard", action="store_true", help="mark spam answers X-akismet-pro-tip: discard")
    arguments = parser.parse_args(argv)

    done = threading.Event()

    def finish(signum: int, frame: FrameType | None) -> None:
        done.set()

    signal.signal(signal.SIGTERM, finish)
    signal.signal(signal.SIGINT, finish)
    server = AkismetServer(
        arguments.key,
        host=arguments.host,
        port=arguments.port,
        spam_urls=arguments.spam_url,
        spam_words=arguments.spam_word,
    )
    server.discard = arguments.discard
    with server:
        print(f"Akismet (local) at {server.endpoint_url}  key {arguments.key}", flush=True)
        done.wait()


if __name__ == "__main__":
    main()
