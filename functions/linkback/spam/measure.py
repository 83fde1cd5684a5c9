"""Measuring a page for the spam rules: visible and hidden text, links and where they go, in linear time
(regular expressions that read each character a bounded number of times, no tree: a hostile page must not
cost more than a plain one of the same size). No I/O, no judgement: the rules in `spam.rules` judge.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from functools import lru_cache
from typing import NamedTuple

from linkback.spam.domains import domain_of_host, registrable_domain
from linkback.text import LazyPattern as _Lazy

TEXT_KEEP = 200_000  # visible text kept for matching words and phrases; the length counts all of it
HIDING_REGIONS_MAX = 500  # a page hiding more blocks than this has made its point
LINKS_EXAMINED = 5_000  # links whose destination is looked at; the thresholds are far below
ANCHORS_KEPT = 1_000  # outbound anchor texts kept for the keyword checks
ELEMENT_SCAN_MAX = 5_000  # same-name tags followed to find where a hidden element ends

# Comments, and elements whose content is never shown as text.
# Lazy ".*?" to the closing mark (or the end: an unterminated comment or <script> runs to the end, as in
# a browser) costs the same per character whatever the content; the lookahead after "<" spares a page of
# nothing but "<" the branches (70 ms per MB without it, 9 with it).
_INVISIBLE = _Lazy(
    r"<(?=[!sStTnNmM])(?:!--(?s:.*?)(?:-->|\Z)"
    r"|((?i:script|style|template|noscript|title|svg|math))\b(?s:.*?)(?:</(?i:\1)\s*>|\Z))"
)
_TITLE = _Lazy(r"<(?=[tT])(?i:title)\b[^>]*>([^<]*)")
# Inline hiding, the way hidden-link spam does it: display/visibility, moved far off screen, shrunk to
# nothing, or the `hidden` attribute. Class-based hiding (`visually-hidden` for screen readers) is left
# alone: it needs the stylesheet, and legitimate pages use it for skip links. Searched for as the
# declaration itself (rare), not tag by tag (every tag): the enclosing tag is found afterwards.
_HIDING = _Lazy(
    r"\s(?=[sShH])(?:(?i:style)\s*=\s*[\"']?[^\"'<>]*?(?i:display\s*:\s*none|visibility\s*:\s*hidden"
    r"|(?:left|top|text-indent|margin-left)\s*:\s*-\s*\d{3,}"
    r"|font-size\s*:\s*(?:0(?:\.0+)?(?:px|pt|em|rem|%)?|1px|1pt)\s*(?:[;\"'}]|!)"
    r"|(?:height|max-height|width)\s*:\s*0(?:px)?\s*(?:[;\"'}]|!))"
    r"|(?i:hidden)(?=[\s/>=]))"
)
_TAG_NAME = _Lazy(r"[a-zA-Z][a-zA-Z0-9]*")
_QUOTED = _Lazy(r"\"[^\"]*\"|'[^']*'")
TITLE_WITHIN = 64 * 1024  # <title> belongs in <head>
TAG_MAX = 2048  # a hiding declaration further than this from its "<" is not looked for
_VOID = frozenset(("area", "base", "br", "col", "embed", "hr", "img", "input", "link", "meta", "param", "source"))
ANY_TAG = _Lazy(r"<[a-zA-Z/!?][^<>]*>")
# An <a> with an href: group 1 the host of an absolute http(s) or scheme-relative URL (None for a
# relative link), group 2 the anchor's text up to its first inner tag (spam anchors are plain text).
_LINK = _Lazy(
    r"<[aA]\s(?:[^<>]*?\s)?(?i:href)\s*=\s*[\"']?\s*"
    r"(?:(?i:https?:)?//(?:[^/\"'\s<>?#@\\]*@)?([^/\"'\s<>?#:\\]+))?[^<>]*>([^<]*)"
)
_TEXT_URL_HOST = _Lazy(r"\bhttps?://(?:[^/\s\"'<>?#@\\]*@)?([^/\s\"'<>?#:\\]+)", re.I)


class PageStats(NamedTuple):
    """What the rules need to know about the page, measured once."""

    title: str = ""
    text: str = ""  # visible text, entities decoded, whitespace collapsed, cut at TEXT_KEEP
    text_chars: int = 0  # length of the whole visible text, whitespace collapsed
    anchor_chars: int = 0  # of which the text of outbound links
    links: int = 0  # visible links, wherever they go
    outbound_links: int = 0  # visible links to another registrable domain than the page's own
    outbound_domains: int = 0
    hidden_text: str = ""  # text inside inline-hidden blocks
    hidden_outbound_links: int = 0
    hidden_domains: int = 0
    links_to_target: int = 0  # visible links to the target's site
    hidden_links_to_target: int = 0  # hidden links to the target's site: the link the mention rests on
    outbound_anchors: tuple[str, ...] = ()  # anchor texts of outbound links elsewhere, visible and hidden

    @property
    def prose_chars(self) -> int:
        """Visible text that is not the words of outbound links: what the author wrote."""
        return max(0, self.text_chars - self.anchor_chars)


def page_stats(page_text: str, content_type: str = "text/html", page_url: str = "", target: str = "") -> PageStats:
    """Measure the page in linear time: regular expressions that read each character a bounded number
    of times, no tree (a hostile page must not cost more than a plain one of the same size)."""
    from html import unescape  # the verifier has it loaded already; spam's own import stays small

    own = registrable_domain(page_url)
    target_domain = registrable_domain(target)
    if "html" not in content_type and content_type:
        text = " ".join(page_text.split())
        hosts = [(host, "") for host in _TEXT_URL_HOST().findall(page_text)]
        links = _count_links(hosts, own, target_domain)
        return PageStats(
            text=text[:TEXT_KEEP],
            text_chars=len(text),
            links=len(hosts),
            outbound_links=links.outbound,
            outbound_domains=len(links.domains),
        )
    title_match = _TITLE().search(page_text, 0, TITLE_WITHIN)
    title = " ".join(unescape(title_match.group(1)).split()) if title_match else ""
    shown_html, hidden_html = _split_hidden(_INVISIBLE().sub(" ", page_text))
    shown = _count_links(_LINK().findall(shown_html), own, target_domain)
    hidden = _count_links(_LINK().findall(hidden_html), own, target_domain) if hidden_html else _NO_LINKS
    text = " ".join(ANY_TAG().sub(" ", shown_html).split())
    hidden_text = " ".join(ANY_TAG().sub(" ", hidden_html).split()) if hidden_html else ""
    anchors = shown.anchors + hidden.anchors
    return PageStats(
        title=title,
        text=unescape(text[:TEXT_KEEP]),
        text_chars=len(text),
        anchor_chars=sum(len(anchor) for anchor in shown.anchors),
        links=shown.links,
        outbound_links=shown.outbound,
        outbound_domains=len(shown.domains),
        hidden_text=unescape(hidden_text[:TEXT_KEEP]),
        hidden_outbound_links=hidden.outbound,
        hidden_domains=len(hidden.domains),
        links_to_target=shown.to_target,
        hidden_links_to_target=hidden.to_target,
        outbound_anchors=tuple(" ".join((unescape(a) if "&" in a else a).split()) for a in anchors if a.strip()),
    )


class _Links:
    """What the links of one part of the page add up to (a plain class: each dataclass costs the import
    ~0.7 ms, and this one never leaves the module)."""

    __slots__ = ("anchors", "domains", "links", "outbound", "to_target")

    def __init__(
        self,
        links: int = 0,
        outbound: int = 0,
        domains: frozenset[str] = frozenset(),
        to_target: int = 0,
        anchors: tuple[str, ...] = (),
    ) -> None:
        self.links, self.outbound, self.domains, self.to_target, self.anchors = (
            links,
            outbound,
            domains,
            to_target,
            anchors,
        )


_NO_LINKS = _Links()


def _count_links(found: Sequence[tuple[str, str]], own: str, target_domain: str) -> _Links:
    domains: dict[str, str] = {}  # host → registrable domain, computed once per host
    outbound, to_target = 0, 0
    anchors: list[str] = []
    seen: set[str] = set()
    # A page with more links than LINKS_EXAMINED is a directory or a farm whichever they are; the rest
    # are counted, not examined, so 1 MB of links costs no more than 1 MB of prose.
    for host, anchor in found[:LINKS_EXAMINED]:
        if not host:
            continue  # relative: the page's own site
        domain = domains.get(host)
        if domain is None:
            domain = domains[host] = domain_of_host(host.rstrip(".").lower())
        if domain == own:
            continue
        outbound += 1
        seen.add(domain)
        if domain == target_domain:
            to_target += 1  # its words are usually our own post's title: not the page's choice
        elif len(anchors) < ANCHORS_KEPT:
            anchors.append(anchor)
    return _Links(len(found), outbound, frozenset(seen), to_target, tuple(anchors))


def _split_hidden(html: str) -> tuple[str, str]:
    """The markup shown, and the markup inside inline-hidden elements (opening tag to matching close)."""
    shown: list[str] = []
    hidden: list[str] = []
    position = 0  # end of the last hidden element taken
    searched = 0  # how far back a "<" has already been looked for
    for count, declaration in enumerate(_HIDING().finditer(html)):
        if count >= HIDING_REGIONS_MAX:
            break  # the page has made its point; the rest counts as shown
        at = declaration.start()
        if at < position:
            continue  # inside a hidden element already taken
        # Never look back over the same stretch twice: a page of "hidden" words costs one pass.
        start = html.rfind("<", max(searched, at - TAG_MAX), at)
        searched = declaration.end()
        if start < 0 or html.find(">", start, at) >= 0:
            continue  # the words "hidden" or "style=" in text, not in a tag
        unquoted = _QUOTED().sub("", html[start:at])
        if '"' in unquoted or "'" in unquoted:
            continue  # inside an attribute's value: class="mt-4 hidden lg:flex" is a class, not `hidden`
        name_match = _TAG_NAME().match(html, start + 1)
        if name_match is None:
            continue
        name = name_match.group(0).lower()
        close = html.find(">", declaration.end())
        close = len(html) if close < 0 else close + 1
        if name in _VOID or html[close - 2 : close] == "/>":
            continue
        end = _element_end(html, name, close)
        shown.append(html[position:start])
        hidden.append(html[start:end])
        position = searched = end
    shown.append(html[position:])
    return "".join(shown), "\n".join(hidden)


@lru_cache(maxsize=64)
def _tag_pattern(name: str) -> re.Pattern[str]:
    return re.compile(rf"<(/?){re.escape(name)}(?=[\s/>])[^<>]*>?", re.I)


def _element_end(html: str, name: str, start: int) -> int:
    """Where the element opened just before `start` ends: its matching end tag, or the end of the page
    (an unclosed hidden block hides the rest of it, as in a browser)."""
    depth = 1
    for count, tag in enumerate(_tag_pattern(name).finditer(html, start)):
        if count >= ELEMENT_SCAN_MAX:
            break  # thousands of nested <div>s inside a hidden one: hidden to the end, as far as we care
        depth += -1 if tag.group(1) else 1
        if depth == 0:
            return tag.end()
    return len(html)
