"""The widget script MentionsFunction serves at `GET /widget.js`, and its cache rules. No I/O beyond
reading the committed build (`static/widget.js`, made by `widget/build.mjs`) once per process."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from functools import cache
from importlib import resources

CONTENT_TYPE = "text/javascript; charset=utf-8"
# A URL carrying the content's hash never changes meaning: caches may keep it for a year and need not
# revalidate (`immutable`). The bare URL (and an old hash) is revalidated soon, so a new release
# reaches pages that embed it without the version.
IMMUTABLE = "public, max-age=31536000, immutable"
SHORT = "public, max-age=300, stale-while-revalidate=86400"
VERSION_LENGTH = 12


@dataclass(frozen=True)
class Asset:
    body: bytes
    digest: str  # sha256, hex

    @property
    def version(self) -> str:
        """The `v` of the versioned URL `/widget.js?v=<version>`."""
        return self.digest[:VERSION_LENGTH]

    @property
    def etag(self) -> str:
        return f'"{self.digest[:32]}"'

    def cache_control(self, version: str | None) -> str:
        return IMMUTABLE if version == self.version else SHORT

    def path(self) -> str:
        return f"/widget.js?v={self.version}"


def from_bytes(body: bytes) -> Asset:
    return Asset(body=body, digest=hashlib.sha256(body).hexdigest())


@cache
def widget() -> Asset:
    return from_bytes(resources.files("linkback.read").joinpath("static", "widget.js").read_bytes())
