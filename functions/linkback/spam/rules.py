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
from collections.abc import Callable, Iterable
from enum import StrEnum
from functools import lru_cache
from typing import NamedTuple

from linkback.spam.domains import host_of, site_host
from linkback.spam.measure import ANY_TAG, PageStats, page_stats
from linkback.text import LazyPattern as _Lazy

HOLD_AT = 2.5
SPAM_AT = 5.0
CONTENT_RULE_MAX = 4.5  # < SPAM_AT: one heuristic alone never calls a page spam
SELLING_PAGE_ANCHORS = 4  # sales-keyword anchors from which a page that mostly sells links is spam outright
SELLING_PAGE_SCORE = 5.0
BLOCK_SCORE = 10.0
ALLOW_SCORE = -5.0
SELF_PING_POLICIES = ("ignore", "hold", "allow")
THIN_CHARS = 280  # a little more than a toot: notes and likes are this short, with authorship markup


class Decision(StrEnum):
    APPROVE = "approve"
    HOLD = "hold"
    SPAM = "spam"
    IGNORE = "ignore"


# The value types the verifier loads are NamedTuples, not frozen dataclasses: CPython 3.12 defines a
# dataclass by exec-ing each generated method (~0.5 ms each class, at every cold start), a NamedTuple in
# ~0.08 ms (bench/cold_start.py; docs/performance.md).
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

    squashed = _squashed(ANY_TAG().sub(" ", unescape(claim)))
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
    own = {site_host(site) for site in policy.own_sites}
    for url in (signals.source, signals.page_url):
        if url and site_host(url) in own:
            return Finding("self_ping", 0.0, f"the source is on your own site ({host_of(url)})")
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
