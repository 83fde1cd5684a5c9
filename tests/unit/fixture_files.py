"""Reading the unit tests' fixture files: raw HTTP requests and real-looking HTML pages."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

FIXTURES = Path(__file__).resolve().parent.parent / "fixtures" / "unit"


@dataclass(frozen=True)
class RawRequest:
    """An HTTP/1.1 request as a client sent it: request line, headers and the body's exact bytes."""

    method: str
    path: str
    headers: dict[str, str]
    body: bytes

    def header(self, name: str) -> str | None:
        return self.headers.get(name.lower())


def read_request(name: str) -> RawRequest:
    raw = (FIXTURES / name).read_bytes()
    head, _, body = raw.partition(b"\r\n\r\n")
    request_line, *header_lines = head.decode("ascii").split("\r\n")
    method, path, _version = request_line.split(" ")
    headers = {}
    for line in header_lines:
        key, _, value = line.partition(":")
        headers[key.strip().lower()] = value.strip()
    # A fixture whose length disagrees with its body was edited by hand and no longer says what it seems to.
    assert int(headers["content-length"]) == len(body), f"{name}: Content-Length does not match the body"
    return RawRequest(method=method, path=path, headers=headers, body=body)


def read_text(name: str) -> str:
    return (FIXTURES / name).read_text(encoding="utf-8")


def read_bytes(name: str) -> bytes:
    return (FIXTURES / name).read_bytes()
