"""The public read model: approved mentions as jf2, webmention.io-compatible. No I/O."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable, Mapping
from typing import Any

from .errors import LinkbackError

DEFAULT_PER_PAGE = 20
MAX_PER_PAGE = 100
# Let a CDN and browsers reuse a feed: fresh for a minute, served stale while revalidating, and
# kept through an outage of ours for a day.
CACHE_CONTROL = "public, max-age=60, s-maxage=300, stale-while-revalidate=600, stale-if-error=86400"


class InvalidQuery(LinkbackError):
    http_status = 400


def _author(record: Any) -> dict[str, Any]:
    return {
        "type": "card",
        "name": record.author_name or "",
        "url": record.author_url or "",
        "photo": record.author_photo or "",
    }


def entry(record: Any) -> dict[str, Any]:
    return {
        "type": "entry",
        "wm-id": record.pk,
        "wm-source": record.source,
        "wm-target": record.target,
        "wm-property": record.wm_property,
        "wm-received": record.received_at,
        "wm-protocol": record.protocol,
        "url": record.source,
        "name": record.title or "",
        "published": record.published,
        "author": _author(record),
        "content": {"text": record.excerpt or ""},
    }


def feed(records: Iterable[Any]) -> dict[str, Any]:
    return {"type": "feed", "name": "Webmentions", "children": [entry(record) for record in records]}


def count_document(counts: Mapping[str, int]) -> dict[str, Any]:
    # webmention.io names the types by their property without "-of"/"in-": like, repost, reply...
    names = {
        "in-reply-to": "reply",
        "like-of": "like",
        "repost-of": "repost",
        "bookmark-of": "bookmark",
        "mention-of": "mention",
        "rsvp": "rsvp",
    }
    by_type: dict[str, int] = {}
    for prop, number in counts.items():
        key = names.get(prop, prop)
        by_type[key] = by_type.get(key, 0) + number
    return {"count": sum(counts.values()), "type": by_type}


def parse_paging(params: Mapping[str, str | None]) -> tuple[int, int]:
    """(`per-page`, `page`) as webmention.io takes them: page counts from 0."""

    def integer(name: str, default: int, low: int, high: int) -> int:
        raw = params.get(name)
        if raw in (None, ""):
            return default
        try:
            value = int(raw)  # type: ignore[arg-type]
        except ValueError as error:
            raise InvalidQuery(f"{name} must be a whole number") from error
        if not low <= value <= high:
            raise InvalidQuery(f"{name} must be between {low} and {high}")
        return value

    return integer("per-page", DEFAULT_PER_PAGE, 1, MAX_PER_PAGE), integer("page", 0, 0, 200)


def render(document: Mapping[str, Any]) -> tuple[bytes, str]:
    """The body and its strong ETag (a hash of the exact bytes)."""
    body = json.dumps(document, ensure_ascii=False, separators=(",", ":")).encode()
    return body, '"' + hashlib.sha256(body).hexdigest()[:32] + '"'


def etag_matches(if_none_match: str | None, etag: str) -> bool:
    if not if_none_match:
        return False
    candidates = {tag.strip().removeprefix("W/") for tag in if_none_match.split(",")}
    return "*" in candidates or etag in candidates
