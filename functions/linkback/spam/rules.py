"""Spam scoring for a mention whose source page links to its target: small named rules, summed. No I/O.

Almost every TrackBack and Pingback on the open web is spam, and no single clue proves it: indieweb notes are
as short as spam, roundups link out as much as link farms, hosted blogs ping from addresses their pages never
resolve to. So each rule in RULES reads one clue and returns a `Finding` (a score, > 0 spammy and < 0
trustworthy, and a sentence the owner can read), and `assess` adds them up. SPAM_AT (5.0) is above what any
one content rule scores (CONTENT_RULE_MAX, 4.5): a page is spam when two independent clues agree, or on
evidence that stands alone (the owner's block list, an owner's keyword weighted 5 or more, Akismet's "spam"
at 6.0, a page whose outbound links mostly sell something). HOLD_AT (2.5) is one strong clue or two weak
ones. Both err towards holding: a held mention costs the owner a click, a wrong "spam" costs a real person
their reply. Self-pings and the owner's lists are settled first; the page is measured once (`page_stats`).
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Sequence
from enum import StrEnum
from functools import lru_cache
from typing import NamedTuple

HOLD_AT = 2.5
SPAM_AT = 5.0
CONTENT_RULE_MAX = 4.5  # < SPAM_AT: one heuristic alone never calls a page spam
SELLING_PAGE_ANCHORS = 4  # sales-keyword anchors from which a page that mostly sells links is spam outright
SELLING_PAGE_SCORE = 5.0
BLOCK_SCORE = 10.0
ALLOW_SCORE = -5.0
SELF_PING_POLICIES = ("ignore", "hold", "allow")
TEXT_KEEP = 200_000  # visible text kept for matching words and phrases; the length counts all of it
THIN_CHARS = 280  # a little more than a toot: notes and likes are this short, with authorship markup
HIDING_REGIONS_MAX = 500  # a page hiding more blocks than this has made its point
LINKS_EXAMINED = 5_000  # links whose destination is looked at; the thresholds are far below
ANCHORS_KEPT = 1_000  # outbound anchor texts kept for the keyword checks
ELEMENT_SCAN_MAX = 5_000  # same-name tags followed to find where a hidden element ends


class _Lazy:
    """A regular expression compiled on first use: compiled at import, this module's patterns would cost
    a cold Lambda ~10 ms, and most of the functions that import the package never score a page."""

    __slots__ = ("compiled", "flags", "source")

    def __init__(self, source: str, flags: int = 0) -> None:
        self.source, self.flags = source, flags
        self.compiled: re.Pattern[str] | None = None

    def __call__(self) -> re.Pattern[str]:
        if self.compiled is None:
            self.compiled = re.compile(self.source, self.flags)
        return self.compiled


class Decision(StrEnum):
    APPROVE = "approve"
    HOLD = "hold"
    SPAM = "spam"
    IGNORE = "ignore"


# The value types the verifier loads are NamedTuples, not frozen dataclasses: CPython 3.12 defines a
# dataclass by exec-ing each generated method (~0.5 ms each class, at every cold start), a NamedTuple in
# ~0.08 ms (bench/cold_start.py; README, Performance).
class Finding(NamedTuple):
    rule: str  # the rule function's name, e.g. "link_farm"
    score: float  # > 0 spammy, < 0 trustworthy
    reason: str  # one sentence an owner understands


class KeywordRule(NamedTuple):
    pattern: str  # case-insensitive word or phrase, or a regular expression if it starts and ends with "/"
    score: float


# Words that have no business in a page about someone's post; each alone only nudges (a post about spam
# names them too), and together they are capped below SPAM_AT unless one rule alone weighs more.
DEFAULT_KEYWORD_RULES: tuple[KeywordRule, ...] = (
    KeywordRule("viagra", 2.0),
    KeywordRule("cialis", 2.0),
    KeywordRule("online casino", 2.0),
    KeywordRule("/no[- ]deposit bonus(es)?/", 2.0),
    KeywordRule("/payday loans?/", 2.0),
    KeywordRule("/(essay|dissertation|homework) (writing|help) services?/", 2.0),
    KeywordRule("write my essay", 2.0),
    KeywordRule("replica watches", 2.0),
    KeywordRule("/buy (cheap )?(instagram |tiktok |youtube )?(followers|likes|backlinks|views)/", 2.0),
    KeywordRule("/(cheap|best|guaranteed) seo services?/", 1.5),
    KeywordRule("/(crypto|bitcoin) (casino|giveaway|airdrop)/", 2.0),
)


class SpamPolicy:
    """The owner's thresholds, sites and keyword rules, checked when made."""

    __slots__ = ("hold_at", "keyword_rules", "own_sites", "self_pings", "spam_at")

    def __init__(
        self,
        *,
        hold_at: float = HOLD_AT,  # score >= hold_at → HOLD
        spam_at: float = SPAM_AT,  # score >= spam_at → SPAM
        self_pings: str = "ignore",  # "ignore" | "hold" | "allow"
        own_sites: tuple[str, ...] = (),  # origins like "https://example.com"
        keyword_rules: tuple[KeywordRule, ...] = DEFAULT_KEYWORD_RULES,
    ) -> None:
        self.hold_at, self.spam_at, self.self_pings = hold_at, spam_at, self_pings
        self.own_sites, self.keyword_rules = own_sites, keyword_rules
        if self.self_pings not in SELF_PING_POLICIES:
            raise ValueError(f"self_pings must be one of {', '.join(SELF_PING_POLICIES)}, not {self.self_pings!r}")
        if self.hold_at > self.spam_at:
            raise ValueError(f"hold_at ({self.hold_at}) must not be above spam_at ({self.spam_at})")
        for rule in self.keyword_rules:
            if rule in DEFAULT_KEYWORD_RULES:
                continue  # known good; compiled on first use, not at import
            try:
                _keyword_pattern(rule.pattern)
            except re.error as error:
                # Refused once, when the policy is made, rather than failing every page it scores.
                raise ValueError(f"keyword rule {rule.pattern!r} is not a valid regular expression: {error}") from None


DEFAULT_POLICY = SpamPolicy()


class Signals(NamedTuple):
    protocol: str  # "trackback" | "pingback" | "webmention"
    source: str  # the URL sent
    target: str
    page_url: str  # after redirects
    page_text: str  # the fetched body (HTML usually; may be text/plain or JSON)
    content_type: str  # "text/html", "text/plain", "application/json", ...
    link_context: str = ""  # visible text around the link to the target (already extracted)
    page_title: str = ""
    sender_ip: str | None = None
    source_addresses: tuple[str, ...] = ()  # addresses the source host resolved to when fetched
    sent_title: str = ""
    sent_excerpt: str = ""
    sent_blog_name: str = ""
    list_verdict: str | None = None  # "block" | "allow" | None: the owner's block/allow lists matched
    list_entry: str = ""  # what matched, e.g. "domain spam.example"
    offences: int = 0  # earlier mentions from the same sender IP or source domain marked spam
    has_h_entry: bool = False  # the page carries microformats2 h-entry (authorship markup)
    author_name: str = ""  # from the h-entry/h-card, if any
    external: tuple[Finding, ...] = ()  # findings computed elsewhere (Akismet) to be combined


class Assessment(NamedTuple):
    decision: Decision
    score: float
    findings: tuple[Finding, ...]  # every rule that fired, in rule order, then the external findings

    def reasons(self) -> tuple[str, ...]:
        """Each finding as "rule: reason (+2.0)", for storing on the record."""
        return tuple(f"{f.rule}: {f.reason} ({f.score:+.1f})" for f in self.findings)


# --- domains -------------------------------------------------------------------------------------------

# Two-label suffixes under which anyone registers a name (a small part of the Public Suffix List, ICANN
# section), and hosting platforms that give each customer a subdomain (its private section): two blogs
# on github.io belong to two people, and a link farm spread over blogspot.com is many sites.
_SUFFIXES_LISTED = """
    co.uk org.uk me.uk ac.uk gov.uk ltd.uk plc.uk net.uk sch.uk nhs.uk
    com.au net.au org.au edu.au gov.au id.au asn.au co.nz net.nz org.nz ac.nz govt.nz geek.nz
    co.jp ne.jp or.jp ac.jp go.jp gr.jp ed.jp co.kr or.kr ne.kr ac.kr go.kr
    com.cn net.cn org.cn gov.cn edu.cn ac.cn com.tw net.tw org.tw edu.tw idv.tw com.hk net.hk org.hk edu.hk
    com.sg net.sg org.sg edu.sg com.my net.my org.my co.in net.in org.in firm.in gen.in ind.in ac.in
    co.id or.id web.id ac.id co.th in.th ac.th com.vn net.vn com.ph net.ph org.ph com.pk net.pk org.pk
    co.za org.za net.za ac.za gov.za com.ng org.ng com.eg com.sa com.tr net.tr org.tr gen.tr co.il org.il
    ac.il com.ua net.ua org.ua in.ua kiev.ua com.ru net.ru org.ru spb.ru msk.ru com.pl net.pl org.pl
    com.br net.br org.br blog.br eng.br gov.br com.ar net.ar org.ar gob.ar com.mx net.mx org.mx gob.mx
    com.co net.co org.co com.pe org.pe com.ve com.ec com.uy com.py com.bo co.cr com.gt
    com.es org.es nom.es gob.es co.at or.at ac.at com.pt org.pt com.gr com.cy co.hu
    blogspot.com wordpress.com github.io gitlab.io netlify.app vercel.app pages.dev herokuapp.com
    tumblr.com substack.com neocities.org bearblog.dev micro.blog ghost.io webflow.io wixsite.com
    weebly.com blogger.com livejournal.com typepad.com squarespace.com firebaseapp.com web.app
    surge.sh glitch.me fly.dev onrender.com azurewebsites.net cloudfront.net s3.amazonaws.com
"""
_PUBLIC_SUFFIXES = frozenset(_SUFFIXES_LISTED.split())
_URL_HOST = _Lazy(r"\s*(?:[a-zA-Z][a-zA-Z0-9+.-]*:)?//(?:[^@/?#\\]*@)?(\[[^\]/]*\]|[^:/?#\\\s]*)")


def _host(host_or_url: str) -> str:
    match = _URL_HOST().match(host_or_url)
    if match:
        host = match.group(1)
    else:
        host = host_or_url.strip().split("/", 1)[0].rpartition("@")[2]
        if host.count(":") == 1:  # host:port (an IPv6 literal has more colons)
            host = host.split(":", 1)[0]
    return host.strip("[]").rstrip(".").lower()


def registrable_domain(host_or_url: str) -> str:
    """The name one owner registered: "www.blog.example.co.uk" → "example.co.uk" (an IP stays itself).

    Uses a small built-in list of common two-label public suffixes and blog hosts, not the whole Public
    Suffix List: the rules only need to tell one site from many, and a miss merely splits or joins domains.
    """
    return _domain_of_host(_host(host_or_url))


def _domain_of_host(host: str) -> str:
    # rpartition rather than split: a link farm has thousands of distinct hosts, and this runs for each.
    rest, _, top = host.rpartition(".")
    if not rest or ":" in host or top.isdigit():
        return host  # a bare name, an IPv6 literal, or an IPv4 address (a top-level domain is never digits)
    rest, _, second = rest.rpartition(".")
    if not rest:
        return host
    suffix = f"{second}.{top}"
    return f"{rest.rpartition('.')[2]}.{suffix}" if suffix in _PUBLIC_SUFFIXES else suffix


def _site_host(host_or_url: str) -> str:
    host = _host(host_or_url)
    return host[4:] if host.startswith("www.") else host


# --- page statistics -----------------------------------------------------------------------------------

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
_ANY_TAG = _Lazy(r"<[a-zA-Z/!?][^<>]*>")
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
    text = " ".join(_ANY_TAG().sub(" ", shown_html).split())
    hidden_text = " ".join(_ANY_TAG().sub(" ", hidden_html).split()) if hidden_html else ""
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
    outbound, to_target, anchors, seen = 0, 0, [], set()
    # A page with more links than LINKS_EXAMINED is a directory or a farm whichever they are; the rest
    # are counted, not examined, so 1 MB of links costs no more than 1 MB of prose.
    for host, anchor in found[:LINKS_EXAMINED]:
        if not host:
            continue  # relative: the page's own site
        domain = domains.get(host)
        if domain is None:
            domain = domains[host] = _domain_of_host(host.rstrip(".").lower())
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


# --- words ---------------------------------------------------------------------------------------------

_NON_WORD = _Lazy(r"[\W_]+")
_CJK = _Lazy(r"[\u3040-\u30ff\u3400-\u4dbf\u4e00-\u9fff\uac00-\ud7af\uf900-\ufaff]")
# Function words and link boilerplate: what is left of a context without them is what its author said.
_FILLER_LISTED = """
    a an the and or of to in on at for by with from via is are was were be it its this that these those
    i you he she we they my your our their his her me us them as so but not no yes do did has have had
    here there about post posts article blog read more full story original originally source link
    continue reading appeared first published see also posted written wrote new
"""
_FILLER = frozenset(_FILLER_LISTED.split())
# What RSS republishers and scraper plugins print around the link back to the post they copied.
_SCRAPER_PHRASES = _Lazy(
    r"\b(?:appeared first on|originally published (?:on|at)"
    r"|read (?:the )?(?:full|original|complete) (?:article|post|story)|read more at|continue reading at"
    r"|the original (?:article|post)|source\s*:|full story at)",
    re.I,
)
# Found anywhere on the page, these two only ever credit copied content (feed republishing plugins).
_REPUBLISHED = _Lazy(r"\b(?:appeared first on|was originally published (?:on|at))\b")  # on lower-cased text
# Praise that fits any post: what comment spam says, since it has not read the post.
_GENERIC_PRAISE = _Lazy(
    r"\b(?:(?:great|nice|good|awesome|amazing|excellent|wonderful|informative|helpful|useful|fantastic)"
    r" (?:post|article|blog|write-?up|content|information|info|site|website|read)"
    r"|thanks? (?:you )?for (?:sharing|this (?:great|nice|useful|informative)"
    r"|the (?:great|nice|useful) (?:post|article|info))"
    r"|keep (?:it )?up the (?:good|great) work|very (?:informative|helpful|useful|nice)"
    r"|i (?:really )?(?:like|love|enjoyed) (?:your|this) (?:blog|site|website|post|article)"
    r"|(?:check|visit) (?:out )?my (?:site|website|blog|page)|i will (?:bookmark|share) (?:it|this|your)"
    r"|bookmarked (?:it|this|your))",
    re.I,
)
# Anchor words that sell something: link farms and SEO spam anchor their links with the buyer's keywords.
_COMMERCIAL_ANCHOR = _Lazy(
    r"\b(?:casinos?|slots?|poker|sportsbook|betting|gambling|roulette|blackjack|jackpot|bookmaker"
    r"|viagra|cialis|levitra|pharmacy|pills|xanax|tramadol|oxycodone|kamagra|weight loss|diet pills|keto"
    r"|payday|loans?|cash advance|credit repair|debt relief|insurance quotes?|replicas?|knockoffs?"
    r"|cheap|discount|coupons?|promo codes?|for sale|buy|order online|essays?|dissertations?|term papers?"
    r"|homework|assignments? help|seo|backlinks?|link building|guest posts?|followers|escorts?|porn|xxx|dating|hookup"
    r"|forex|binary options|crypto|bitcoin|btc|nft|airdrop|cbd|kratom|vape|apk|torrent|free download"
    r"|near me|plumbers?|locksmiths?|roofing|lawyers?|attorneys?|dentists?|rehab|movers)\b",
    re.I,
)


def _count(number: int, noun: str) -> str:
    return f"{number} {noun}" if number == 1 else f"{number} {noun}s"


def _words(text: str) -> str:
    """Lower-case words separated by single spaces: the form titles and contexts are compared in."""
    return _NON_WORD().sub(" ", text.lower()).strip()


def _slug_words(target: str) -> list[str]:
    """The words of the target's last path segment ("/posts/static-comments/" → static, comments):
    the best guess at our post's title the verifier has without fetching our own page."""
    from urllib.parse import unquote, urlsplit

    path = urlsplit(target).path
    segment = next((part for part in reversed(path.split("/")) if part), "")
    segment = re.sub(r"\.(?:html?|php|aspx?)$", "", unquote(segment), flags=re.I)
    return [word for word in _words(segment).split() if not word.isdigit()]


def _squashed(text: str) -> str:
    """Letters and digits only, lower-cased: claims and pages compared without spaces or punctuation, so
    a tag boundary inside a Japanese sentence or a curly apostrophe does not count as a difference."""
    return _NON_WORD().sub("", text.lower())


def _appears(claim: str, page: str) -> bool:
    """Whether a sender's claim is on the (squashed) page. An excerpt is cropped at an arbitrary point and
    blog engines add "[…]": at least half of its 20-character stretches must appear, not the whole."""
    from html import unescape

    squashed = _squashed(_ANY_TAG().sub(" ", unescape(claim)))
    if len(squashed) <= 40:
        return squashed in page
    stretches = [squashed[i : i + 20] for i in range(0, len(squashed) - 19, 20)]
    return sum(stretch in page for stretch in stretches) * 2 >= len(stretches)


# --- the rules -----------------------------------------------------------------------------------------
# Each takes (signals, stats, policy) and returns a Finding, or None when it has nothing to say.


def owner_list(signals: Signals, stats: PageStats, policy: SpamPolicy) -> Finding | None:
    """The owner's block list decides; the allow list vouches strongly but the page is still scored."""
    entry = signals.list_entry or "an entry"
    if signals.list_verdict == "block":
        return Finding("owner_list", BLOCK_SCORE, f"the source matches your block list ({entry})")
    if signals.list_verdict == "allow":
        return Finding("owner_list", ALLOW_SCORE, f"the source matches your allow list ({entry})")
    return None


def self_ping(signals: Signals, stats: PageStats, policy: SpamPolicy) -> Finding | None:
    """A page of the owner's own site linking to another: WordPress pings its own posts by default."""
    if policy.self_pings == "allow" or not policy.own_sites:
        return None
    own = {_site_host(site) for site in policy.own_sites}
    for url in (signals.source, signals.page_url):
        if url and _site_host(url) in own:
            return Finding("self_ping", 0.0, f"the source is on your own site ({_host(url)})")
    return None


def repeat_offender(signals: Signals, stats: PageStats, policy: SpamPolicy) -> Finding | None:
    if signals.offences <= 0:
        return None
    score = min(CONTENT_RULE_MAX, 1.5 * signals.offences)
    times = "once" if signals.offences == 1 else f"{signals.offences} times"
    return Finding(
        "repeat_offender", score, f"mentions from this sender or the source's domain were marked spam {times} before"
    )


def sender_address(signals: Signals, stats: PageStats, policy: SpamPolicy) -> Finding | None:
    """Simple Trackback Validation's check: a ping should come from the server of the page it names.

    Only a weak signal: hosted blogs ping from other machines than the ones serving their pages (and a
    CDN answers for those), so a mismatch only nudges; a match vouches for nothing, since splogs ping from
    the servers that host them. Webmention senders are often services (Bridgy, webmention.app): not checked.
    """
    if signals.protocol not in ("trackback", "pingback") or not signals.sender_ip or not signals.source_addresses:
        return None
    import ipaddress

    def address(value: str) -> ipaddress.IPv4Address | ipaddress.IPv6Address | None:
        try:
            parsed = ipaddress.ip_address(value.strip().strip("[]"))
        except ValueError:
            return None
        mapped = getattr(parsed, "ipv4_mapped", None)
        return mapped or parsed

    sender = address(signals.sender_ip)
    hosts = [a for a in (address(value) for value in signals.source_addresses) if a is not None]
    if sender is None or not hosts:
        return None
    if sender in hosts:
        return None  # proves little: splogs ping from the very servers that host them
    for host in hosts:
        # One provider's neighbouring machines (a /24, or an IPv6 /48 site) count as the same server farm.
        prefix = 24 if host.version == 4 else 48
        if sender.version == host.version and sender in ipaddress.ip_network(f"{host}/{prefix}", strict=False):
            return None
    listed = ", ".join(str(host) for host in hosts[:3])
    return Finding(
        "sender_address", 1.0, f"the ping came from {sender}, not from the source host's addresses ({listed})"
    )


def trackback_claims(signals: Signals, stats: PageStats, policy: SpamPolicy) -> Finding | None:
    """A TrackBack describes its page (title, excerpt, blog name): a genuine one says what the page says;
    spam describes the page it wishes it were, or a page it does not control."""
    if signals.protocol != "trackback":
        return None
    page = _squashed(f"{stats.title or signals.page_title} {stats.text}")
    head = _squashed(signals.page_text[:20_000])  # the blog's name is often only in <meta> or the header logo
    claims = (
        ("title", signals.sent_title, 1.0, page),
        ("blog name", signals.sent_blog_name, 0.5, page + head),
        ("excerpt", signals.sent_excerpt, 1.5, page),
    )
    missing, present, score = [], [], 0.0
    for name, claim, weight, haystack in claims:
        if not _squashed(claim):
            continue
        if _appears(claim, haystack):
            present.append(name)
        else:
            missing.append(name)
            score += weight
    if missing:
        return Finding("trackback_claims", score, f"the page does not show the TrackBack's {' and '.join(missing)}")
    if present:
        trust = -1.0 if len(present) >= 2 else -0.5
        return Finding("trackback_claims", trust, f"the page shows the TrackBack's {' and '.join(present)}")
    return None


def copied_excerpt(signals: Signals, stats: PageStats, policy: SpamPolicy) -> Finding | None:
    """Scrapers and splogs: a copy of our post (or its feed item) that links back to it.

    The verifier does not fetch our own post, so "copied" is read from what such copies look like: the
    republisher's footer ("The post … appeared first on …"), a page titled with our post's title
    (guessed from the target's slug), words around the link that are only that title and "read more",
    and a TrackBack whose excerpt is all the page has around the link. Any one of these happens on a
    genuine reply ("Re: static comments"), so one alone does not fire.
    """
    clues: list[str] = []
    score = 0.0
    context = _words(signals.link_context)
    lowered = stats.text.lower()
    if _SCRAPER_PHRASES().search(signals.link_context):
        clues.append("a republisher's credit line surrounds the link")
        score += 2.5
    elif ("appeared first" in lowered or "originally published" in lowered) and _REPUBLISHED().search(lowered):
        clues.append("the page carries a republisher's credit line")
        score += 1.5
    slug = _slug_words(signals.target)
    if len(slug) >= 2:
        titles = (_words(stats.title or signals.page_title).split(), _words(signals.sent_title).split())
        if any(set(slug) <= set(title) for title in titles):
            clues.append("its title is your post's title")
            score += 1.5
        if context:
            own_words = [w for w in context.split() if w not in _FILLER and w not in slug]
            if set(slug) <= set(context.split()) and len(own_words) < 5:
                clues.append("the text around the link is little more than your post's title")
                score += 1.0
    excerpt = _words(signals.sent_excerpt)
    # The sender's excerpt is meant to summarise their page; here it is the page, around our link.
    echoed = excerpt in context or (len(context) >= 40 and context in excerpt)
    if signals.protocol == "trackback" and len(excerpt) >= 40 and context and echoed:
        clues.append("the TrackBack's excerpt is all the text around the link")
        score += 1.0
    if score < 2.0:
        return None
    return Finding(
        "copied_excerpt", min(score, CONTENT_RULE_MAX), "looks like a copy of your post: " + "; ".join(clues)
    )


def thin_content(signals: Signals, stats: PageStats, policy: SpamPolicy) -> Finding | None:
    """Little to read and nobody signing it. A note or a like is as short but carries an h-entry, so
    this only counts for anonymous pages, and alone stays below HOLD_AT."""
    if signals.has_h_entry or stats.text_chars >= THIN_CHARS:
        return None
    # A Chinese, Japanese or Korean character says about as much as a short word: 274 characters of
    # Japanese are a full post, not a thin page.
    if stats.text_chars + 2 * _CJK().subn("", stats.text)[1] >= THIN_CHARS:
        return None
    return Finding(
        "thin_content", 1.5, f"the page has only {stats.text_chars} characters of text and no authorship markup"
    )


def link_farm(signals: Signals, stats: PageStats, policy: SpamPolicy) -> Finding | None:
    """Many outbound links to many sites, with little else to read. A roundup links out as much, but
    says something about each link: the measure is links per thousand characters of the author's own
    words, and the number of different sites."""
    domains, links = stats.outbound_domains, stats.outbound_links
    density = 1000 * links / max(stats.prose_chars, 200)
    if domains >= 150:
        score = 4.5 if density >= 5 else 3.0
    elif domains >= 50 and density >= 15:
        score = 3.5
    elif domains >= 20 and density >= 25:
        score = 2.5
    else:
        return None
    return Finding(
        "link_farm",
        score,
        f"the page has {links} outbound links to {domains} sites ({density:.0f} per 1,000 characters of its own words)",
    )


def hidden_links(signals: Signals, stats: PageStats, policy: SpamPolicy) -> Finding | None:
    """Links a visitor cannot see are for search engines: hidden-text spam. A hidden link to our own
    post is worse: the page pretends to link to it."""
    if not stats.hidden_outbound_links:
        return None
    score = 1.0 + 0.5 * stats.hidden_outbound_links + (1.5 if stats.hidden_links_to_target else 0.0)
    hidden = _count(stats.hidden_outbound_links, "outbound link")
    reason = f"the page hides {hidden} to {_count(stats.hidden_domains, 'site')} from its readers"
    if stats.hidden_links_to_target:
        reason += ", including the link to your site"
    return Finding("hidden_links", min(score, CONTENT_RULE_MAX), reason)


def commercial_anchors(signals: Signals, stats: PageStats, policy: SpamPolicy) -> Finding | None:
    """Outbound links anchored with what a customer paid to rank for ("cheap viagra", "online casino")."""
    selling = [anchor for anchor in stats.outbound_anchors if _COMMERCIAL_ANCHOR().search(anchor)]
    if not selling:
        return None
    examples = ", ".join(f"“{anchor[:40]}”" for anchor in list(dict.fromkeys(selling))[:3])
    elsewhere = (
        stats.outbound_links + stats.hidden_outbound_links - stats.links_to_target - stats.hidden_links_to_target
    )
    if len(selling) >= SELLING_PAGE_ANCHORS and 2 * len(selling) >= elsewhere:
        # The one clue strong enough to stand alone: a page whose links out mostly sell something
        # exists to sell links. Below SELLING_PAGE_ANCHORS, a shopping guide or a post about SEO could.
        return Finding(
            "commercial_anchors",
            SELLING_PAGE_SCORE,
            f"{len(selling)} of its {elsewhere} outbound links anchored with sales keywords ({examples})",
        )
    return Finding(
        "commercial_anchors",
        min(CONTENT_RULE_MAX, 1.0 + len(selling)),
        f"{_count(len(selling), 'outbound link')} anchored with sales keywords ({examples})",
    )


def generic_praise(signals: Signals, stats: PageStats, policy: SpamPolicy) -> Finding | None:
    """Comment spam's stock phrases next to our link: praise that fits any post."""
    said = f"{signals.link_context} {signals.sent_excerpt}"
    phrases = {match.group(0).lower() for match in _GENERIC_PRAISE().finditer(said)}
    if not phrases:
        return None
    quoted = ", ".join(f"“{phrase}”" for phrase in sorted(phrases)[:3])
    return Finding(
        "generic_praise", 1.0 + 1.0 * min(len(phrases), 2), f"the words around the link are stock praise ({quoted})"
    )


def keyword_rules(signals: Signals, stats: PageStats, policy: SpamPolicy) -> Finding | None:
    """The keyword rules (built-in and the owner's) on the page's title and text, hidden text included,
    and on what a TrackBack claimed. Each matching rule counts once."""
    if not policy.keyword_rules:
        return None
    haystack = "\n".join(
        (stats.title, signals.page_title, stats.text, stats.hidden_text, signals.sent_title, signals.sent_excerpt)
    )
    lowered = haystack.lower()
    matched = [rule for rule in policy.keyword_rules if _keyword_found(rule.pattern, haystack, lowered)]
    if not matched:
        return None
    total = sum(rule.score for rule in matched)
    if total == 0:
        return None
    # Keywords alone stay below SPAM_AT unless the owner weighted one rule to decide by itself.
    cap = max(CONTENT_RULE_MAX, *(rule.score for rule in matched))
    score = min(total, cap)
    words = ", ".join(f"“{rule.pattern.strip('/')}”" for rule in matched[:4])
    return Finding("keyword_rules", score, f"the page matches keyword rules {words}")


def _keyword_found(pattern: str, haystack: str, lowered: str) -> bool:
    compiled, whole_words = _keyword_pattern(pattern)
    if whole_words:
        # Whole words only ("cialis" is inside "specialist"); the left edge is checked here because a
        # pattern that starts with a literal is searched for at memchr speed, one with \b is not.
        return any(
            found.start() == 0 or not _is_word_char(lowered[found.start() - 1]) for found in compiled.finditer(lowered)
        )
    return compiled.search(haystack if compiled.flags & re.IGNORECASE else lowered) is not None


def _is_word_char(char: str) -> bool:
    return char.isalnum() or char == "_"


@lru_cache(maxsize=256)
def _keyword_pattern(pattern: str) -> tuple[re.Pattern[str], bool]:
    """The compiled rule, and whether it is a phrase to match as whole words. Matching runs on the
    lower-cased page where it can: case-insensitive matching is 3 to 10 times slower."""
    if len(pattern) > 2 and pattern.startswith("/") and pattern.endswith("/"):
        source = pattern[1:-1]
        # Lower-casing a pattern with capitals would change its escapes (\S is not \s): those run as given.
        return (re.compile(source), False) if source == source.lower() else (re.compile(source, re.I), False)
    words = [re.escape(word.lower()) for word in pattern.split()]
    return re.compile(r"\s+".join(words) + r"(?!\w)"), True


def authorship(signals: Signals, stats: PageStats, policy: SpamPolicy) -> Finding | None:
    """An h-entry with a named author is someone's post, published as indieweb sites publish; spam
    rarely bothers. Trustworthy, not proof: markup can be copied."""
    if not signals.has_h_entry:
        return None
    if signals.author_name.strip():
        return Finding("authorship", -2.0, f"the page is an h-entry by {signals.author_name.strip()[:80]}")
    return Finding("authorship", -0.5, "the page is an h-entry, without an author")


RULES: tuple[Callable[[Signals, PageStats, SpamPolicy], Finding | None], ...] = (
    owner_list,
    self_ping,
    repeat_offender,
    sender_address,
    trackback_claims,
    copied_excerpt,
    thin_content,
    link_farm,
    hidden_links,
    commercial_anchors,
    generic_praise,
    keyword_rules,
    authorship,
)


# --- deciding ------------------------------------------------------------------------------------------


def decision_for(findings: Iterable[Finding], policy: SpamPolicy = DEFAULT_POLICY) -> tuple[Decision, float]:
    """The decision the findings add up to: self-pings and the owner's lists first, then the thresholds."""
    findings = tuple(findings)
    score = round(sum(finding.score for finding in findings), 3)
    rules = {finding.rule: finding for finding in findings}
    if "self_ping" in rules and policy.self_pings == "ignore":
        return Decision.IGNORE, score
    listed = rules.get("owner_list")
    if listed is not None and listed.score > 0:
        return Decision.SPAM, score
    if "self_ping" in rules and policy.self_pings == "hold":
        return Decision.HOLD, score
    if score >= policy.spam_at:
        decision = Decision.SPAM
    elif score >= policy.hold_at:
        decision = Decision.HOLD
    else:
        decision = Decision.APPROVE
    if listed is not None and decision == Decision.SPAM:
        return Decision.HOLD, score  # allowed by the owner: at worst the owner looks at it
    return decision, score


def assess(signals: Signals, policy: SpamPolicy = DEFAULT_POLICY) -> Assessment:
    """Score a mention whose source links to its target; every rule that fired is kept as a reason."""
    ping = self_ping(signals, PageStats(), policy)
    if ping is not None and policy.self_pings == "ignore":
        # Nothing to score: the page is the owner's own.
        return Assessment(Decision.IGNORE, 0.0, (ping,))
    stats = page_stats(signals.page_text, signals.content_type, signals.page_url or signals.source, signals.target)
    findings = [finding for rule in RULES if (finding := rule(signals, stats, policy)) is not None]
    findings.extend(signals.external)
    decision, score = decision_for(findings, policy)
    return Assessment(decision, score, tuple(findings))
