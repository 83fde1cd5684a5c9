"""Moving in: the linkbacks another system kept, as mentions of ours. Bytes in, values out; no I/O.

Two exports are read:
- a WordPress export (WXR: RSS 2.0 plus the `wp:` namespace), where pingbacks and trackbacks are
  comments of a post (`wp:comment_type`), the moderation state is `wp:comment_approved` and the post's
  permalink is the item's `link`;
- webmention.io's jf2 dump (`/api/mentions.jf2`: `{"type": "feed", "children": [entry, ...]}`), whose
  entries are approved mentions. `linkback export --format jf2` writes the same shape with each
  mention's status in a `linkback` member, so an export read back here keeps its statuses.

An entry that cannot become a mention is skipped and counted under its reason; only a file that cannot
be read at all (not XML or JSON, too large, an XML bomb) raises `UnreadableImport`.
"""

from __future__ import annotations

import json
import math
import re
from collections import Counter
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from enum import StrEnum
from html.parser import HTMLParser
from typing import Any, TypeVar
from xml.etree.ElementTree import Element

from defusedxml import DTDForbidden, EntitiesForbidden, ExternalReferenceForbidden
from defusedxml.ElementTree import ParseError, fromstring

from linkback.fields import AUTHOR_NAME_MAX, EXCERPT_MAX, PUBLISHED_MAX, SPAM_REASONS_MAX, TITLE_MAX
from linkback.model import DeletedBy, Protocol, Status, isoformat, mention_id
from linkback.read.feed import PROPERTIES
from linkback.text import clean_text
from linkback.urls import InvalidUrl, normalise_origin, normalise_url, site_of

# A large blog's whole export (every post's content comes along) stays far below this; the cap keeps a
# wrong file from being read into memory whole.
MAX_WXR_BYTES = 64 * 1024 * 1024
MAX_JF2_BYTES = 32 * 1024 * 1024
# The limits the verifier applies to what it extracts from a page (extract.py, trackback.py).

# WXR 1.0 (WordPress 2.x) to 1.2 (every WordPress since 3.1): the same elements in each namespace.
WXR_NAMESPACES = (
    "http://wordpress.org/export/1.2/",
    "http://wordpress.org/export/1.1/",
    "http://wordpress.org/export/1.0/",
)
# `wp:comment_type`: "pingback" and "trackback" since WordPress 1.5; "webmention" is what the
# Webmention plugin stores, a linkback too. An empty type (or "comment") is a visitor's comment.
WXR_LINKBACK_TYPES = {"pingback": Protocol.PINGBACK, "trackback": Protocol.TRACKBACK, "webmention": Protocol.WEBMENTION}
WXR_COMMENT_TYPES = frozenset({"", "comment"})
# `wp:comment_approved`; "post-trashed" marks the comments of a post that went to the trash.
WXR_STATES = {
    "1": Status.APPROVED,
    "approve": Status.APPROVED,
    "0": Status.PENDING,
    "hold": Status.PENDING,
    "spam": Status.SPAM,
    "trash": Status.DELETED,
    "post-trashed": Status.DELETED,
}
WXR_DATE = "%Y-%m-%d %H:%M:%S"
# WordPress writes "[&#8230;]" (an ellipsis in brackets) around the context it quotes from a pingback's
# source; older versions three dots.
_ELIDED = re.compile(r"^\s*\[(?:…|\.\.\.)\]\s*|\s*\[(?:…|\.\.\.)\]\s*$")
# A trackback's comment is "<strong>title</strong>\n\nexcerpt" (wp-trackback.php).
_TRACKBACK_CONTENT = re.compile(r"^\s*<strong>(.*?)</strong>(.*)$", re.DOTALL | re.IGNORECASE)
RSVP_VALUES = frozenset({"yes", "no", "maybe", "interested"})

_Choice = TypeVar("_Choice", bound=StrEnum)

SKIP_COMMENT = "a visitor's comment, not a linkback"
SKIP_NOT_LINKBACK = "comment type is not a linkback"
SKIP_STATE = "unknown approval state"
SKIP_NO_SOURCE = "no source URL"
SKIP_BAD_SOURCE = "source is not a usable URL"
SKIP_NO_TARGET = "no target URL"
SKIP_BAD_TARGET = "target is not a usable URL"
SKIP_OFF_SITE = "target not on a configured site"
SKIP_SAME_PAGE = "source and target are the same page"
SKIP_NO_DATE = "no usable date"
SKIP_NOT_ENTRY = "not a jf2 entry"
SKIP_PRIVATE = "private mention (wm-private)"
SKIP_PROPERTY = "unknown wm-property"


class UnreadableImport(ValueError):
    """The file cannot be read as the export it should be; the message says why in plain words."""


@dataclass(frozen=True)
class ImportedMention:
    """One mention as it will be stored: normalised URLs, our status, the dates the old system kept."""

    source: str
    target: str
    site: str
    protocol: Protocol
    status: Status
    received_at: str  # our fixed-width UTC form (model.isoformat): the indexes' sort key
    published: str | None = None
    title: str | None = None
    excerpt: str | None = None
    author_name: str | None = None
    author_url: str | None = None
    author_photo: str | None = None
    entry_url: str | None = None
    wm_property: str = "mention-of"
    rsvp: str | None = None
    deleted_by: str | None = None
    spam_score: float = 0
    spam_reasons: tuple[str, ...] = ()
    # What linkback's own export carries over from the stack it left: why the status, when last verified.
    status_reason: str | None = None
    verified_at: str | None = None

    @property
    def id(self) -> str:
        return mention_id(self.source, self.target)


@dataclass
class ImportReport:
    """What became of each entry of the file: read, then stored or found already there, or skipped."""

    imported: int = 0
    already_there: int = 0
    skipped: Counter[str] = field(default_factory=Counter)

    def skip(self, reason: str) -> None:
        self.skipped[reason] += 1


@dataclass(frozen=True)
class ImportBatch:
    """The mentions a file holds, the report of what was skipped, and what the file says about itself."""

    mentions: list[ImportedMention]
    report: ImportReport
    origin: str  # "WordPress export", "jf2 feed": how the stored mentions say where they came from
    site: str | None = None  # the site a WordPress export is of (`wp:base_blog_url`)


class _PlainText(HTMLParser):
    """The text of a comment's markup: tags dropped, character references decoded."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.parts: list[str] = []
        self._hidden = 0

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag in ("script", "style"):
            self._hidden += 1

    def handle_endtag(self, tag: str) -> None:
        if tag in ("script", "style") and self._hidden:
            self._hidden -= 1

    def handle_data(self, data: str) -> None:
        if not self._hidden:
            self.parts.append(data)


def plain_text(markup: str) -> str:
    parser = _PlainText()
    parser.feed(markup)
    parser.close()
    return "".join(parser.parts)


def _optional(text: str, max_length: int) -> str | None:
    return clean_text(text, max_length) or None


def _usable_url(raw: Any) -> str | None:
    """A normalised http(s) URL, or None: an author's link or photo that is not one is dropped, so a
    `javascript:` URL never reaches a page that renders the feed."""
    if not isinstance(raw, str) or not raw.strip():
        return None
    try:
        return normalise_url(raw)
    except InvalidUrl:
        return None


def _utc_time(raw: Any) -> str | None:
    """An ISO 8601 time in our fixed-width UTC form (a time without an offset is taken as UTC)."""
    if not isinstance(raw, str) or not raw.strip():
        return None
    try:
        moment = datetime.fromisoformat(raw.strip().replace("Z", "+00:00"))
        return isoformat(moment if moment.tzinfo else moment.replace(tzinfo=UTC))
    except (ValueError, OverflowError):
        return None


def _endpoints(
    raw_source: Any, raw_target: Any, sites: tuple[str, ...], report: ImportReport
) -> tuple[str, str, str] | None:
    """(source, target, site) normalised, or None with the reason counted: the same URL rules as a
    mention received over the wire (urls.py), so an imported one gets the id a re-send would."""
    if not isinstance(raw_source, str) or not raw_source.strip():
        report.skip(SKIP_NO_SOURCE)
        return None
    if not isinstance(raw_target, str) or not raw_target.strip():
        report.skip(SKIP_NO_TARGET)
        return None
    try:
        source = normalise_url(raw_source)
    except InvalidUrl:
        report.skip(SKIP_BAD_SOURCE)
        return None
    try:
        target = normalise_url(raw_target)
    except InvalidUrl:
        report.skip(SKIP_BAD_TARGET)
        return None
    site = site_of(target, sites)
    if site is None:
        report.skip(SKIP_OFF_SITE)
        return None
    if source == target:
        report.skip(SKIP_SAME_PAGE)
        return None
    return source, target, site


def _origins(sites: Sequence[str]) -> tuple[str, ...]:
    return tuple(normalise_origin(site) for site in sites)


# --- WordPress (WXR) ------------------------------------------------------------------------------


def _parse_xml(data: bytes) -> Element:
    if len(data) > MAX_WXR_BYTES:
        raise UnreadableImport(f"the file is larger than {MAX_WXR_BYTES // (1024 * 1024)} MB")
    try:
        # A WordPress export declares no entities and no external DTD. Entities are how XML bombs
        # ("billion laughs": nested entities that expand to gigabytes) and XXE (an entity that reads a
        # local file or a URL) work, so any declaration refuses the whole file.
        return fromstring(data, forbid_dtd=False, forbid_entities=True, forbid_external=True)
    except EntitiesForbidden as error:
        raise UnreadableImport(
            f"the file declares the XML entity {error.name!r}: refused, as a WordPress export never does "
            "and entities are how XML bombs (billion laughs) and external-entity (XXE) attacks work"
        ) from error
    except (ExternalReferenceForbidden, DTDForbidden) as error:
        raise UnreadableImport(
            "the file refers to an external DTD or entity: refused, as a WordPress export never does"
        ) from error
    except ParseError as error:
        raise UnreadableImport(f"the file is not well-formed XML ({error})") from error
    except (LookupError, ValueError, UnicodeError) as error:
        raise UnreadableImport(f"the file cannot be decoded ({error})") from error


def _text(element: Element, path: str) -> str:
    found = element.find(path)
    return (found.text or "").strip() if found is not None else ""


def _wxr_time(comment: Element, wp: str) -> str | None:
    """`wp:comment_date_gmt`, "YYYY-MM-DD HH:MM:SS" in UTC; WordPress leaves it "0000-00-00 00:00:00"
    on comments it never stamped, and then only the blog's local time is known (taken as UTC)."""
    for name in ("comment_date_gmt", "comment_date"):
        try:
            moment = datetime.strptime(_text(comment, f"{wp}{name}"), WXR_DATE).replace(tzinfo=UTC)
        except ValueError:
            continue
        return isoformat(moment)
    return None


def _wxr_words(protocol: Protocol, author: str, content: str) -> tuple[str | None, str | None, str | None]:
    """(title, excerpt, author name) from what WordPress stored for the linkback."""
    title = None
    if protocol is Protocol.TRACKBACK:
        quoted = _TRACKBACK_CONTENT.match(content)
        if quoted:
            title, content = _optional(plain_text(quoted.group(1)), TITLE_MAX), quoted.group(2)
    excerpt = _ELIDED.sub("", " ".join(plain_text(content).split()))
    # A pingback's author is the source page's title (wp-includes/class-wp-xmlrpc-server.php), the
    # name WordPress showed for it; a trackback's is the sender's blog_name.
    name = _optional(plain_text(author), AUTHOR_NAME_MAX)
    if title is None and protocol is Protocol.PINGBACK:
        title = _optional(plain_text(author), TITLE_MAX)
    return title, _optional(excerpt, EXCERPT_MAX), name


def read_wxr(data: bytes, sites: Sequence[str] = ()) -> ImportBatch:
    """The pingbacks and trackbacks of a WordPress export. `sites` are the origins whose pages may be
    targets; none given, the export's own site (`wp:base_blog_url`)."""
    root = _parse_xml(data)
    channel = root.find("channel")
    if root.tag != "rss" or channel is None:
        raise UnreadableImport("not a WordPress export: the document is not an RSS channel")
    wp = next((f"{{{ns}}}" for ns in WXR_NAMESPACES if channel.find(f"{{{ns}}}wxr_version") is not None), None)
    if wp is None:
        raise UnreadableImport("not a WordPress export: the channel has no wp:wxr_version")
    own_site = None
    for raw in (_text(channel, f"{wp}base_blog_url"), _text(channel, "link")):
        try:
            own_site = normalise_origin(raw)
            break
        except InvalidUrl:
            continue
    allowed = _origins(sites) if sites else ((own_site,) if own_site else ())
    report = ImportReport()
    mentions = []
    for item in channel.iterfind("item"):
        post = _text(item, "link")
        for comment in item.iterfind(f"{wp}comment"):
            mention = _wxr_mention(comment, wp, post, allowed, report)
            if mention is not None:
                mentions.append(mention)
    return ImportBatch(mentions, report, origin="WordPress export", site=own_site)


def _wxr_mention(
    comment: Element, wp: str, post: str, sites: tuple[str, ...], report: ImportReport
) -> ImportedMention | None:
    kind = _text(comment, f"{wp}comment_type").lower()
    if kind in WXR_COMMENT_TYPES:
        report.skip(SKIP_COMMENT)
        return None
    protocol = WXR_LINKBACK_TYPES.get(kind)
    if protocol is None:
        report.skip(SKIP_NOT_LINKBACK)
        return None
    status = WXR_STATES.get(_text(comment, f"{wp}comment_approved").lower())
    if status is None:
        report.skip(SKIP_STATE)
        return None
    # The source of a linkback is what WordPress shows as the comment's author URL.
    endpoints = _endpoints(_text(comment, f"{wp}comment_author_url"), post, sites, report)
    if endpoints is None:
        return None
    received_at = _wxr_time(comment, wp)
    if received_at is None:
        report.skip(SKIP_NO_DATE)
        return None
    source, target, site = endpoints
    title, excerpt, author = _wxr_words(
        protocol, _text(comment, f"{wp}comment_author"), _text(comment, f"{wp}comment_content")
    )
    return ImportedMention(
        source=source,
        target=target,
        site=site,
        protocol=protocol,
        status=status,
        received_at=received_at,
        published=received_at,
        title=title,
        excerpt=excerpt,
        author_name=author,
        deleted_by=DeletedBy.OWNER if status is Status.DELETED else None,
    )


# --- jf2 (webmention.io, and linkback's own export) ----------------------------------------------


def read_jf2(data: bytes, sites: Sequence[str]) -> ImportBatch:
    """The entries of a jf2 feed as webmention.io's `/api/mentions.jf2` (or `linkback export`) writes it."""
    if len(data) > MAX_JF2_BYTES:
        raise UnreadableImport(f"the file is larger than {MAX_JF2_BYTES // (1024 * 1024)} MB")
    try:
        document = json.loads(data.decode("utf-8-sig"))
    except UnicodeDecodeError as error:
        raise UnreadableImport("the file is not UTF-8 text") from error
    except (ValueError, RecursionError) as error:
        raise UnreadableImport(f"the file is not JSON ({error})") from error
    children = document.get("children") if isinstance(document, dict) else None
    if not isinstance(children, list):
        raise UnreadableImport('not a jf2 feed: expected {"type": "feed", "children": [...]}')
    allowed = _origins(sites)
    report = ImportReport()
    mentions = []
    for child in children:
        mention = _jf2_mention(child, allowed, report)
        if mention is not None:
            mentions.append(mention)
    return ImportBatch(mentions, report, origin="jf2 feed")


def _member(document: Mapping[str, Any], name: str) -> Mapping[str, Any]:
    value = document.get(name)
    return value if isinstance(value, dict) else {}


def _jf2_text(value: Any, max_length: int) -> str | None:
    return _optional(value, max_length) if isinstance(value, str) else None


def _choice(kind: type[_Choice], value: Any, default: _Choice) -> _Choice:
    """One of an enumeration's values, or the default for anything else (a number, a list, a typo)."""
    return kind(value) if isinstance(value, str) and value in set(kind) else default


def _score(value: Any) -> float:
    # JSON allows NaN and Infinity, which DynamoDB refuses to store.
    if isinstance(value, int | float) and not isinstance(value, bool) and math.isfinite(value):
        return float(value)
    return 0


def _jf2_status(ours: Mapping[str, Any]) -> Status:
    """The status `linkback export` recorded; webmention.io's entries are all approved ones."""
    status = _choice(Status, ours.get("status"), Status.APPROVED)
    # Nothing will verify an imported mention: one that was still waiting is held for the owner instead.
    return Status.PENDING if status is Status.QUEUED else status


def _jf2_mention(entry: Any, sites: tuple[str, ...], report: ImportReport) -> ImportedMention | None:
    if not isinstance(entry, dict) or entry.get("type", "entry") != "entry":
        report.skip(SKIP_NOT_ENTRY)
        return None
    if entry.get("wm-private") is True:
        # Only its sender and the owner were meant to see it, and our feed is public.
        report.skip(SKIP_PRIVATE)
        return None
    wm_property = entry.get("wm-property") or "mention-of"
    if not isinstance(wm_property, str) or wm_property not in PROPERTIES:
        report.skip(SKIP_PROPERTY)
        return None
    endpoints = _endpoints(entry.get("wm-source"), entry.get("wm-target"), sites, report)
    if endpoints is None:
        return None
    published = _jf2_text(entry.get("published"), PUBLISHED_MAX)
    published = published if _utc_time(published) else None
    received_at = _utc_time(entry.get("wm-received")) or _utc_time(published)
    if received_at is None:
        report.skip(SKIP_NO_DATE)
        return None
    source, target, site = endpoints
    protocol = _choice(Protocol, entry.get("wm-protocol"), Protocol.WEBMENTION)
    author = _member(entry, "author")
    content = _member(entry, "content")
    text = content.get("text")
    if not isinstance(text, str) and isinstance(content.get("html"), str):
        text = plain_text(content["html"])
    ours = _member(entry, "linkback")
    status = _jf2_status(ours)
    entry_url = _usable_url(entry.get("url"))
    rsvp = entry.get("rsvp") if wm_property == "rsvp" else None
    reasons = ours.get("spam_reasons")
    score = ours.get("spam_score")
    return ImportedMention(
        source=source,
        target=target,
        site=site,
        protocol=protocol,
        status=status,
        received_at=received_at,
        published=published,
        title=_jf2_text(entry.get("name"), TITLE_MAX),
        excerpt=_jf2_text(text, EXCERPT_MAX),
        author_name=_jf2_text(author.get("name"), AUTHOR_NAME_MAX),
        author_url=_usable_url(author.get("url")),
        author_photo=_usable_url(author.get("photo")),
        # The feed shows the source where a mention has no URL of its own: storing it again adds nothing.
        entry_url=entry_url if entry_url != source else None,
        wm_property=wm_property,
        rsvp=rsvp if isinstance(rsvp, str) and rsvp in RSVP_VALUES else None,
        deleted_by=_choice(DeletedBy, ours.get("deleted_by"), DeletedBy.OWNER) if status is Status.DELETED else None,
        spam_score=_score(score),
        status_reason=_jf2_text(ours.get("status_reason"), TITLE_MAX),
        verified_at=_utc_time(ours.get("verified_at")),
        spam_reasons=tuple(
            str(reason)[:TITLE_MAX] for reason in (reasons if isinstance(reasons, list) else [])[:SPAM_REASONS_MAX]
        ),
    )
