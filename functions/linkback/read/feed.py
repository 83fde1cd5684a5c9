"""The public read model: approved mentions as jf2, webmention.io-compatible. No I/O."""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from html import escape
from typing import Any

from linkback.errors import LinkbackError
from linkback.fields import FEED_FIELDS, put_path
from linkback.model import isoformat
from linkback.urls import InvalidUrl, normalise_url

DEFAULT_PER_PAGE = 20
MAX_PER_PAGE = 100
# Let a CDN and browsers reuse a feed: fresh for a minute, served stale while revalidating, and
# kept through an outage of ours for a day.
CACHE_CONTROL = "public, max-age=60, s-maxage=300, stale-while-revalidate=600, stale-if-error=86400"


class InvalidQuery(LinkbackError):
    http_status = 400


def entry(record: Any) -> dict[str, Any]:
    """One mention as a jf2 entry, its fields placed as `fields.MENTION_FIELDS` says."""
    document: dict[str, Any] = {"type": "entry", "wm-private": False, "author": {"type": "card"}}
    for field in FEED_FIELDS:
        value = getattr(record, field.name)
        if value is None or value == "":
            value = field.jf2_empty
        put_path(document, field.jf2 or field.name, value)
    # webmention.io: `url` is the entry's own URL, else the source; the property itself names the target
    # ("in-reply-to": target, ...); and only an RSVP says "rsvp", with its answer.
    document.pop("rsvp")
    document["url"] = record.entry_url or record.source
    document[record.wm_property] = record.target
    if record.rsvp:
        document["rsvp"] = record.rsvp
    return document


def type_key(wm_property: str, rsvp: str | None) -> str:
    """The key `/api/count` counts a mention under: webmention.io's `rsvp-yes`, else the property."""
    return f"rsvp-{rsvp}" if wm_property == "rsvp" and rsvp else wm_property


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
            value = int(raw)
        except ValueError as error:
            raise InvalidQuery(f"{name} must be a whole number") from error
        if not low <= value <= high:
            raise InvalidQuery(f"{name} must be between {low} and {high}")
        return value

    # A larger per-page is capped rather than refused: webmention.js sends data-max-webmentions as is,
    # and a 400 would leave its widget empty.
    per_page = min(integer("per-page", DEFAULT_PER_PAGE, 1, 1_000_000), MAX_PER_PAGE)
    return per_page, integer("page", 0, 0, 200)


def render(document: Mapping[str, Any]) -> tuple[bytes, str]:
    """The body and its strong ETag (a hash of the exact bytes)."""
    body = json.dumps(document, ensure_ascii=False, separators=(",", ":")).encode()
    return body, '"' + hashlib.sha256(body).hexdigest()[:32] + '"'


def etag_matches(if_none_match: str | None, etag: str) -> bool:
    if not if_none_match:
        return False
    candidates = {tag.strip().removeprefix("W/") for tag in if_none_match.split(",")}
    return "*" in candidates or etag in candidates


MENTION_ID = re.compile(r"[0-9a-f]{32}")
SORT_FIELDS = {"created": "received_at", "updated": "updated_at", "published": "published"}
PROPERTIES = frozenset({"in-reply-to", "like-of", "repost-of", "bookmark-of", "mention-of", "rsvp"})


@dataclass(frozen=True)
class FeedQuery:
    """`/api/mentions.jf2`'s parameters, as webmention.io takes them."""

    targets: tuple[str, ...] = ()
    domain: str | None = None
    token: str | None = None
    per_page: int = DEFAULT_PER_PAGE
    page: int = 0
    sort_by: str = "created"
    newest_first: bool = True
    since: str | None = None  # our fixed-width UTC form, comparable with received_at
    since_id: str | None = None
    properties: frozenset[str] = frozenset()

    @property
    def plain(self) -> bool:
        """Answerable from the index order alone: no filter, sorted by reception."""
        return self.sort_by == "created" and not self.properties


def _iso_time(raw: str) -> str:
    try:
        moment = datetime.fromisoformat(raw.replace("Z", "+00:00"))
    except ValueError as error:
        raise InvalidQuery("since must be an ISO 8601 time, e.g. 2024-05-01T10:00:00Z") from error
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    try:
        return isoformat(moment)
    except OverflowError as error:  # e.g. 0001-01-01T00:00:00+01:00 is before year 1 in UTC
        raise InvalidQuery("since is out of range") from error


def _sort_time(value: str) -> str:
    """A time as written (published may carry an offset, or no fraction) in the comparable UTC form."""
    try:
        moment = datetime.fromisoformat(value.replace("Z", "+00:00"))
        return isoformat(moment if moment.tzinfo else moment.replace(tzinfo=UTC))
    except (ValueError, OverflowError):
        return value


def _mention_id(raw: str | None) -> str | None:
    if not raw:
        return None
    if not MENTION_ID.fullmatch(raw):
        raise InvalidQuery("since_id must be the wm-id of a mention")
    return raw


def parse_query(pairs: Iterable[tuple[str, str]]) -> FeedQuery:
    """Parameters from the raw query string: repeated `target[]` and `wm-property[]` are lists, which
    HTTP API's comma-joined `queryStringParameters` cannot carry (URLs contain commas)."""
    single: dict[str, str] = {}
    targets: list[str] = []
    properties: set[str] = set()
    for name, value in pairs:
        if name in ("target", "target[]"):
            try:
                targets.append(normalise_url(value))
            except InvalidUrl as error:
                raise InvalidQuery(f"target is not a usable URL: {error}") from error
        elif name == "wm-property[]" or name == "wm-property":
            if value not in PROPERTIES:
                raise InvalidQuery(f"wm-property must be one of {', '.join(sorted(PROPERTIES))}")
            properties.add(value)
        else:
            single.setdefault(name, value)
    per_page, page = parse_paging(single)
    sort_by = single.get("sort-by") or "created"
    if sort_by not in SORT_FIELDS:
        raise InvalidQuery("sort-by must be created, updated or published")
    sort_dir = single.get("sort-dir") or "down"
    if sort_dir not in ("down", "up"):
        raise InvalidQuery("sort-dir must be down or up")
    domain, token = single.get("domain") or None, single.get("token") or None
    if not targets and not (domain and token):
        raise InvalidQuery("give a target (or target[] several times), or a domain with its token")
    if targets and domain:
        raise InvalidQuery("give targets or a domain, not both")
    return FeedQuery(
        targets=tuple(dict.fromkeys(targets)),
        domain=domain.lower().rstrip(".") if domain else None,
        token=token,
        per_page=per_page,
        page=page,
        sort_by=sort_by,
        newest_first=sort_dir == "down",
        since=_iso_time(single["since"]) if single.get("since") else None,
        since_id=_mention_id(single.get("since_id")),
        properties=frozenset(properties),
    )


def select(records: Iterable[Any], query: FeedQuery) -> list[Any]:
    """Filter, sort and cut one page from the approved records the query's Query calls returned."""
    chosen = [record for record in records if not query.properties or record.wm_property in query.properties]
    field = SORT_FIELDS[query.sort_by]
    # Mentions without a published time sort by when we received them, as webmention.io does.
    chosen.sort(
        key=lambda record: (_sort_time(getattr(record, field) or record.received_at), record.pk),
        reverse=query.newest_first,
    )
    start = query.per_page * query.page
    return chosen[start : start + query.per_page]


def about_page(sites: Iterable[str]) -> str:
    """What a third party reads when linkback's verifier shows up in their logs."""
    listed = "".join(f"<li>{escape(site)}</li>" for site in sites) or "<li>(none configured)</li>"
    return f"""<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>linkback verifier</title></head>
<body><h1>Why did linkback fetch my page?</h1>
<p>Someone sent a TrackBack, Pingback or Webmention saying that your page links to a post on one of
these sites, which use linkback to receive them:</p><ul>{listed}</ul>
<p>linkback fetched your page once to check that the link is really there, as the Webmention and
Pingback specifications ask. The User-Agent names the site the notification was for. It fetches each
host at most a few times a minute, follows at most five redirects and reads at most 1 MB.</p>
<p>If you did not link to that site, someone else used your address: nothing was published. To stop
these checks, answer <code>403</code> or <code>410</code> to the User-Agent <code>linkback</code>, or
contact the owner of the site named in it.</p></body></html>
"""
