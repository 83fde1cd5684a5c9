"""What kind of response the source is, who wrote it and what it says, read from microformats2. No I/O.

The page is parsed with mf2py, the reference microformats2 parser (implied properties, value-class
pattern, <base>, relative URLs and img alt as the parsing spec defines them), on the standard
library's HTML tokenizer through BeautifulSoup's "html.parser" builder:
- never html5lib, mf2py's default: on 40-220 KB of unclosed or deeply nested tags it spends 35 s to 2 min
  (bench/extraction.py --hostile-html5lib), past the verifier's timeout, where html.parser gives up
  with a RecursionError in ~0.2 s;
- never a fetch: mf2py GETs `url` itself when no document is given, so the document is always passed,
  and metaformats (OGP / Twitter cards) stay off;
- only when the page has an `h-entry` class token at all: a substring scan costs microseconds, so
  plain Pingback and TrackBack pages never import or run the parser;
- only on the first MF2_MAX_CHARS of the page.

webmention.io's jf2 is the model for the result: `wm-property` is the response property that holds
the target (Post Type Discovery's order), `rsvp` carries the RSVP value, `name` is only a real title.
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from typing import Any
from urllib.parse import urljoin

from linkback.fields import AUTHOR_NAME_MAX, EXCERPT_MAX, PUBLISHED_MAX, TITLE_MAX
from linkback.text import clean_text
from linkback.urls import InvalidUrl, normalise_url
from linkback.verify.links.fast import find_link
from linkback.verify.links.reference import tokenizes_within

CONTENT_MAX = EXCERPT_MAX  # an entry's e-content is stored as the mention's excerpt
# mf2py costs ~0.7 ms per KB here and several times that on a 512 MB Lambda; the verifier runs up to
# 10 messages per batch within 30 s and the fetcher admits 1 MB. Reading only the first 256 KB bounds
# a page at ~0.2 s here; an entry's name, author and response properties come first in the markup.
MF2_MAX_CHARS = 256 * 1024
MF2_TOKENIZE_BUDGET_S = 1.0
# Post Type Discovery checks rsvp, then in-reply-to, repost-of, like-of; bookmark-of is not in its
# list and comes last, so a page that both likes and bookmarks the target counts as a like.
RESPONSE_PROPERTIES = ("in-reply-to", "repost-of", "like-of", "bookmark-of")
RSVP_VALUES = frozenset({"yes", "no", "maybe", "interested"})
# A class token, not a substring of one: "h-entry-list" or "wp-h-entry" is not a root class name.
_H_ENTRY = re.compile(r"(?<![\w-])h-entry(?![\w-])")
_SPACE_RUN = re.compile(r"\s+")
# mf2py writes a datetime's offset as "+0200" (the parsing spec's normalised form); the sources write,
# and webmention.io returns, RFC 3339's "+02:00".
_BASIC_OFFSET = re.compile(r"(\d{2}:\d{2}(?::\d{2}(?:\.\d+)?)?[+-]\d{2})(\d{2})$")

Item = Mapping[str, Any]  # one parsed microformat: {"type": [...], "properties": {...}, "children": [...]}
Author = tuple[str | None, str | None, str | None]  # name, url, photo


@dataclass(frozen=True)
class Extracted:
    wm_property: str  # "in-reply-to" | "like-of" | "repost-of" | "bookmark-of" | "rsvp" | "mention-of"
    rsvp: str | None  # "yes" | "no" | "maybe" | "interested" when wm_property == "rsvp"
    name: str | None  # a real title only, never the content repeated (Post Type Discovery)
    content: str | None  # plain text of e-content (or summary), cropped to CONTENT_MAX
    published: str | None  # dt-published as written
    url: str | None  # the entry's u-url, absolute and normalised
    author_name: str | None
    author_url: str | None
    author_photo: str | None


def has_h_entry(html: str) -> bool:
    """Cheap pre-check: could the page hold an h-entry at all?"""
    # The substring test runs at memchr speed (~0.1 ms per MB) and settles most pages; the regex,
    # ~30 times slower, only confirms a token on pages that mention "h-entry" at all.
    return "h-entry" in html and _H_ENTRY.search(html) is not None


def extract(html: str, *, page_url: str, target: str) -> Extracted | None:
    """None when the page has no h-entry (caller falls back to <title> + context).

    Also None when the first MF2_MAX_CHARS of the page hold none, or the parser fails on the markup.
    `target` is normalised (linkback.urls.normalise_url); `page_url` is the URL the page came from.
    """
    # html.parser reads a document cut mid-tag as browsers would: the cut element just ends there.
    html = html[:MF2_MAX_CHARS]
    if not has_h_entry(html):
        return None
    if not tokenizes_within(html, MF2_TOKENIZE_BUDGET_S):
        # bs4 drives the same tokenizer: a slice html.parser cannot get through in time (a page
        # whose link came first, so find_link stopped early, then 250 KB of "<a") is not read as mf2.
        return None
    # Imported here, not at module level: ~60 ms of import (soupsieve's regexes, bs4) that a cold
    # Lambda should pay only when a page carries microformats.
    import mf2py

    try:
        # filter_roots: Tailwind's h-full / h-screen are not microformats; read as roots, a
        # <body class="h-full"> would turn every h-entry into a child of a made-up item.
        parsed = mf2py.parse(doc=html, url=page_url, html_parser="html.parser", metaformats=False, filter_roots=True)
    except Exception:
        # mf2py and bs4 walk the tree recursively: a page nesting thousands of elements raises
        # RecursionError. A page we cannot read as mf2 still links; the caller's fallback stands.
        return None
    items: list[Item] = [item for item in parsed.get("items", []) if isinstance(item, Mapping)]
    reader = _Reader(page_url=page_url, target=target)
    entries = list(_entries(items))
    if not entries:
        return None
    # With one entry there is nothing to choose, and the check would tokenize its content once more.
    entry, feed = entries[0]
    if len(entries) > 1:
        entry, feed = next(((e, f) for e, f in entries if reader.mentions_target(e)), entries[0])
    properties = _properties(entry)

    wm_property, rsvp = reader.response_type(properties)
    content = _content_text(properties)
    author_name, author_url, author_photo = reader.author(entry, feed, items)
    return Extracted(
        wm_property=wm_property,
        rsvp=rsvp,
        name=_title(properties, content),
        content=clean_text(content, CONTENT_MAX) or None,
        published=_published(properties),
        url=reader.http_url(_first_text(properties.get("url"))),
        author_name=author_name,
        author_url=author_url,
        author_photo=author_photo,
    )


def _entries(items: Sequence[Item]) -> Iterator[tuple[Item, Item | None]]:
    """Top-level h-entries and the h-entries of top-level h-feeds, in document order, with their feed."""
    for item in items:
        types = item.get("type", [])
        if "h-entry" in types:
            yield item, None
        elif "h-feed" in types:
            for child in item.get("children", []):
                if isinstance(child, Mapping) and "h-entry" in child.get("type", []):
                    yield child, item


def _properties(item: Item) -> Mapping[str, list[Any]]:
    properties = item.get("properties")
    return properties if isinstance(properties, Mapping) else {}


def _first_text(values: Sequence[Any] | None) -> str:
    """The first value as text: a string, an embedded value's "value", or an h-* item's "value"."""
    for value in values or ():
        if isinstance(value, str) and value.strip():
            return value
        if isinstance(value, Mapping) and isinstance(value.get("value"), str) and value["value"].strip():
            return value["value"]
    return ""


def _collapse(text: str) -> str:
    return _SPACE_RUN.sub(" ", text).strip()


def _content_text(properties: Mapping[str, list[Any]]) -> str:
    # Post Type Discovery: the first non-empty content, else the first non-empty summary.
    return _collapse(_first_text(properties.get("content")) or _first_text(properties.get("summary")))


def _published(properties: Mapping[str, list[Any]]) -> str | None:
    published = clean_text(_first_text(properties.get("published")), PUBLISHED_MAX)
    return _BASIC_OFFSET.sub(r"\1:\2", published) or None


def _title(properties: Mapping[str, list[Any]], content: str) -> str | None:
    """The name, only when Post Type Discovery would call the post an article."""
    name = _collapse(_first_text(properties.get("name")))
    # "If the post has no content ... it is a note post"; "if this processed name property value is
    # NOT a prefix of the processed content property, then it is an article post", else a note, whose
    # name is only its text (mf2's implied name) and would show the content twice.
    if not name or not content or content.startswith(name):
        return None
    return clean_text(name, TITLE_MAX) or None


@dataclass(frozen=True)
class _Reader:
    """The checks that need the page's URL and the (normalised) target."""

    page_url: str
    target: str

    def same_as_target(self, value: str) -> bool:
        try:
            return normalise_url(urljoin(self.page_url, value.strip())) == self.target
        except (InvalidUrl, ValueError):
            return False

    def http_url(self, value: str) -> str | None:
        """An absolute http(s) URL, or None: a `javascript:` u-url must never reach the widget's href."""
        if not value:
            return None
        try:
            return normalise_url(urljoin(self.page_url, value.strip()))
        except (InvalidUrl, ValueError):
            return None

    def cites_target(self, value: Any) -> bool:
        """A response property's value: the target's URL, or an h-cite whose url is the target."""
        if isinstance(value, str):
            return self.same_as_target(value)
        if isinstance(value, Mapping):
            urls = list(_properties(value).get("url", []))
            if "properties" not in value:  # an embedded value, e.g. {"value": url, "alt": ...}
                urls.append(value.get("value"))
            return any(isinstance(url, str) and self.same_as_target(url) for url in urls)
        return False

    def mentions_target(self, item: Item) -> bool:
        """Whether any property, nested item or content of an entry links to the target."""
        for values in _properties(item).values():
            for value in values:
                if isinstance(value, str):
                    # Only absolute URLs: a p-* text like "hello" must not resolve to /posts/hello.
                    if value.lower().startswith(("http://", "https://")) and self.same_as_target(value):
                        return True
                elif isinstance(value, Mapping):
                    if "html" in value:
                        # mf2py has resolved the links inside e-* HTML; our link finder decides what
                        # is a link exactly as the verification did.
                        if find_link(str(value["html"]), base_url=self.page_url, target=self.target):
                            return True
                    elif "properties" in value:
                        if self.mentions_target(value):
                            return True
                    elif isinstance(value.get("value"), str) and self.same_as_target(value["value"]):
                        return True
        return any(isinstance(child, Mapping) and self.mentions_target(child) for child in item.get("children", []))

    def response_type(self, properties: Mapping[str, list[Any]]) -> tuple[str, str | None]:
        replies = any(self.cites_target(value) for value in properties.get("in-reply-to", []))
        rsvp = _collapse(_first_text(properties.get("rsvp"))).lower()
        # An RSVP answers the event it replies to; an RSVP to another event that links here is a mention.
        if replies and rsvp in RSVP_VALUES:
            return "rsvp", rsvp
        for name in RESPONSE_PROPERTIES:
            if any(self.cites_target(value) for value in properties.get(name, [])):
                return name, None
        return "mention-of", None

    def author(self, entry: Item, feed: Item | None, items: Sequence[Item]) -> Author:
        """(name, url, photo) by the authorship algorithm (indieweb.org/authorship), simplified.

        The entry's author, else its h-feed's author, else the page's first top-level h-card. Left
        out, because each needs another fetch or a full representative-h-card check: rel=author
        links, fetching an author URL for its h-card (an author URL is only matched against the
        h-cards of this page), and the rule that the page's h-card must have uid = url = page URL.
        """
        for holder in (entry, feed):
            values = _properties(holder).get("author") if holder is not None else None
            if values:
                return self._author_value(values[0], items)
        card = next((item for item in items if "h-card" in item.get("type", [])), None)
        return self._card(card) if card is not None else (None, None, None)

    def _author_value(self, value: Any, items: Sequence[Item]) -> Author:
        if isinstance(value, Mapping) and "properties" in value:
            return self._card(value)
        text = _first_text([value])
        url = self.http_url(text) if text.lower().startswith(("http://", "https://")) else None
        if url is None:
            return clean_text(text, AUTHOR_NAME_MAX) or None, None, None
        # Authorship: "if author is a URL", the h-card for it. We look only on this page (a top-level
        # h-card whose url is that URL); fetching the author page is I/O this step must not do.
        for item in items:
            if "h-card" in item.get("type", []) and any(
                isinstance(card_url, str) and self.http_url(card_url) == url
                for card_url in _properties(item).get("url", [])
            ):
                return self._card(item)
        return None, url, None

    def _card(self, card: Item) -> Author:
        """Name, url and photo of an h-card (mf2 photo may be {"value": url, "alt": text})."""
        properties = _properties(card)
        name = _first_text(properties.get("name")) or (card.get("value") if isinstance(card.get("value"), str) else "")
        return (
            clean_text(name, AUTHOR_NAME_MAX) or None,
            self.http_url(_first_text(properties.get("url"))),
            self.http_url(_first_text(properties.get("photo"))),
        )
