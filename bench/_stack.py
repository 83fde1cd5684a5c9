"""A local stack and a loopback source blog for the benchmarks (the same parts `linkback dev` runs)."""

from __future__ import annotations

import sys
import tempfile
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(ROOT / "functions"), str(ROOT / "infra")]

from linkback_infra.dev import LocalStack  # noqa: E402

TARGET = "https://example.com/posts/hello/"
PAGE = (
    "<!doctype html><html><head><title>Reply {n}</title></head><body><article>"
    + "<p>Lorem ipsum dolor sit amet, consectetur adipiscing elit, sed do eiusmod tempor.</p>" * 40
    + f"<p>I replied to <a href='{TARGET}'>this post</a>.</p></article></body></html>"
)


class SourceBlog:
    def __init__(self) -> None:
        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args: object) -> None:
                pass

            def do_GET(self) -> None:
                payload = PAGE.replace("{n}", self.path).encode()
                self.send_response(200)
                self.send_header("Content-Type", "text/html; charset=utf-8")
                self.send_header("Content-Length", str(len(payload)))
                self.end_headers()
                self.wfile.write(payload)

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    def url(self, path: str) -> str:
        return f"http://127.0.0.1:{self.server.server_address[1]}{path}"

    def stop(self) -> None:
        self.server.shutdown()
        self.server.server_close()


def local_stack() -> tuple[LocalStack, str]:
    data_dir = Path(tempfile.mkdtemp(prefix="linkback-bench-"))
    stack = LocalStack(port=0, data_dir=data_dir, allow_private_sources=True, log_level="ERROR")
    return stack, stack.start()
