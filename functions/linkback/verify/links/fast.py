"""`find_link` in one left-to-right pass over the page with C-speed primitives (no I/O).

It gives the same answers as `links.find_link` (CPython 3.11's `html.parser` tokenizer, quirks
included: an unterminated comment or tag is read as text at the end of the page, as that parser does)
but finds every token with `str.find` and short, linear regular expressions matched at a position.
Where `html.parser` would rescan the rest of the page for every unterminated "<a", "<!--" or "</"
(CPython gh-135462, quadratic), the searches here are memoised, so the cost stays linear in the page.
The same handlers (`links.LinkScanner`) decide what is a link, the title and the context; runs of
tokens that would change nothing but the text are read with one match each, their text worked out only
when a link makes it matter, and a page that cannot spell the target's host is not tokenized at all.
"""

from __future__ import annotations

import functools
import re
import time
from collections.abc import Iterable
from encodings.idna import nameprep
from html import unescape
from html.entities import html5
from urllib.parse import urlsplit

from linkback.urls import InvalidUrl, normalise_url
from linkback.verify.links.reference import (
    CONTEXT_CHARS,
    FEED_SLICE,
    LINK_ATTRIBUTES,
    PARSE_BUDGET_S,
    SPACE,
    LinkEvidence,
    LinkScanner,
    ParseBudgetExceeded,
)

__all__ = ["LinkEvidence", "ParseBudgetExceeded", "find_link"]

# Tags whose start or end changes what the scanner records; every other tag is only skipped over.
_START_TAGS = frozenset(LINK_ATTRIBUTES) | {"base", "title", "svg", "math", "br", "script", "style"}
_START_TAGS |= frozenset({"template", "noscript"})
_END_TAGS = frozenset({"title", "svg", "math", "script", "style", "template", "noscript", "p", "div", "li", "br"})
_END_TAGS |= frozenset({"h1", "h2", "h3", "h4", "h5", "h6", "td", "blockquote"})
_BLOCK_END_TAGS = ("p", "div", "li", "br", "h1", "h2", "h3", "h4", "h5", "h6", "td", "blockquote")
_CDATA = ("script", "style")
_CDATA_END = {tag: re.compile(rf"</\s*{tag}\s*>", re.I) for tag in _CDATA}  # html.parser's set_cdata_mode
_BUDGET_EVERY = 512  # tokens between two looks at the thread's CPU time

# Each pattern below has at most one quantifier per alternative and none nested, so every match is
# linear in what it consumes; closing quotes and '>' are found with memoised str.find instead. Those that
# can match nothing (`*` alone) match everywhere: their `match` is asserted, never tested.
_NAME_REST = re.compile(r"[^\t\n\r\f />\x00]*")  # html.parser: tag name after its first letter
_SPACE_SLASH = re.compile(r"[\s/]*")
_SPACES = re.compile(r"\s*")
_SEPARATOR = re.compile(r"(?:\s|/(?!>))*")
_ATTR_NAME = re.compile(r"""(?<=['"\s/])[^\s/>][^\s/=>]*""")
_EQUALS = re.compile(r"\s*(=+)(\s*)")
_BARE = re.compile(r"[^>\s]*")
_END_TAG = re.compile(r"</\s*([a-zA-Z][-.a-zA-Z0-9:_]*)\s*>")
_COMMENT_CLOSE = re.compile(r"--\s*>")
_MARKED_CLOSE = re.compile(r"]\s*]\s*>")
_MS_MARKED_CLOSE = re.compile(r"]\s*>")
_DECL_NAME = re.compile(r"[a-zA-Z][-_.a-zA-Z0-9]*\s*")
_CHARREF_END = re.compile(r"[\s;]")
_LETTERS_EQ_SLASH = frozenset("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ=/")
_URL_CONTROL = re.compile(r"[\x00-\x20\\]")  # what urlsplit removes or might read otherwise
_PLAIN_ABSOLUTE = re.compile(r"https?://([a-zA-Z0-9.-]+)(?=[/?#]|$)", re.I)
_SIMPLE_END_TAG = re.compile(r"</([a-zA-Z][-.a-zA-Z0-9:_]*)>")
_SIMPLE_START_TAG = re.compile(r"<([a-zA-Z][-.a-zA-Z0-9:_]*)>")
# The common start tag: a plain name and up to 8 plain attributes, where html.parser cannot read
# anything else (anything unusual fails this pattern and goes the long way). Unrolled, not nested.
_FAST_ATTRIBUTE = (
    r"(?:[ \t\n\r\f]+([a-zA-Z_:@][-a-zA-Z0-9_:.@]*)"  # name
    r"""(?:[ \t\n\r\f]*=[ \t\n\r\f]*('[^']*'|"[^"]*"|[^\s"'=<>`]+(?=[\s>])))?)?"""  # value
)
_FAST_START_TAG = re.compile(r"<([a-zA-Z][a-zA-Z0-9-]*)" + _FAST_ATTRIBUTE * 8 + r"[ \t\n\r\f]*(/?)>")
_LT_RUN = re.compile(r"<+")

# A run of tokens the scanner would only count, read with one linear match instead of one loop turn each:
# text without markup, complete character references, and tags whose start or end changes nothing but
# the text (a space for the block ends). Quoted values hold no '>', so every tag in a run is `<[^>]*>`;
# every '&' starts a complete reference or stands before a space, so unescaping the run's text at once
# gives what unescaping each piece between tags gives. Possessive, so a failed match never backtracks.
_WS = r"[ \t\n\r\f]"
_ANY_VALUE = r"""(?:'[^'>]*'|"[^">]*"|[^\s"'=<>`]+(?=[\s>]))"""
# A value that cannot name another host: no scheme (':'), not network-path ('//'), no character
# reference, nothing urlsplit removes or strip() trims, so it resolves against the base URL's host.
_HOST_KEEPING = r"[-a-zA-Z0-9_.~!$()*+,;@/?#%]"
_HOST_KEEPING_VALUE = (
    rf"""(?:'(?!//)(?:{_HOST_KEEPING}|=)*'|"(?!//)(?:{_HOST_KEEPING}|=)*"|(?!//){_HOST_KEEPING}+(?=[\s>]))"""
)


def _attributes(value: str) -> str:
    return rf"(?:{_WS}++[a-zA-Z_:@][-a-zA-Z0-9_:.@]*+(?:{_WS}*+={_WS}*+{value})?+)*+{_WS}*+/?>"


def _names(names: Iterable[str]) -> str:
    """An alternation of ASCII names in any case, as a tree on their first letter (the `re` module tries
    alternatives one by one, and re.I would also let the long s, U+017F, stand for 's')."""
    by_first: dict[str, list[str]] = {}
    for name in sorted(names, key=len, reverse=True):
        by_first.setdefault(name[0], []).append(name[1:])
    branches = []
    for first, rests in sorted(by_first.items()):
        longer = "|".join("".join(f"[{c}{c.upper()}]" if c.isalpha() else c for c in rest) for rest in rests if rest)
        branch = f"[{first}{first.upper()}]"
        if longer:
            branch += f"(?:{longer})" + ("?" if "" in rests else "")
        branches.append(branch)
    return f"(?:{'|'.join(branches)})"


_QUIET_START_TAG = rf"(?!{_names(_START_TAGS)}[ \t\n\r\f/>])[a-zA-Z][a-zA-Z0-9-]*+" + _attributes(_ANY_VALUE)
_CHANGING_END_TAGS = ("title", "svg", "math", "script", "style", "template", "noscript")
_QUIET_END_TAG = rf"/(?!{_names(_CHANGING_END_TAGS)}>)[a-zA-Z][-.a-zA-Z0-9:_]*+>"
_COMPLETE_REFERENCE = r"&(?:[a-zA-Z0-9]++;|#[0-9]++;|#[xX][0-9a-fA-F]++;|(?=[ \t\n\f]))"


def _quiet_run(link_value: str) -> re.Pattern[str]:
    """Text, complete references and tags that change nothing the scanner keeps, with link attributes
    whose values match `link_value`."""
    link_tag = rf"|{_names(LINK_ATTRIBUTES)}(?=[ \t\n\r\f/>])" + _attributes(link_value)
    return re.compile(rf"(?:[^<&]++|<(?:{_QUIET_END_TAG}|{_QUIET_START_TAG}{link_tag})|{_COMPLETE_REFERENCE})*+")


@functools.lru_cache(maxsize=64)
def _quiet_run_for(target_netloc: str, relative_links_elsewhere: bool) -> re.Pattern[str]:
    """Quiet runs for links that cannot be to this netloc: absolute http(s) links whose plain host is
    another (what _FastScanner._is_target rejects without urljoin), and relative links too when the base
    URL is on another host."""
    netloc = "".join(f"[{c.lower()}{c.upper()}]" if c.isalpha() else re.escape(c) for c in target_netloc)

    def absolute(end: str, more: str) -> str:
        # the host runs to the first '/', '?', '#' or the value's end: that is the netloc urlsplit reads
        path = rf"(?:[/?#](?:{_HOST_KEEPING}|[{more}])*+)?"
        return rf"[hH][tT][tT][pP][sS]?://(?!{netloc}\.*+(?:[/?#]|{end}))[a-zA-Z0-9.-]++{path}"

    single, double, bare = absolute("'", ":="), absolute('"', ":="), absolute(r"[\s>]", ":")
    values = ["'" + single + "'", '"' + double + '"', bare + r"(?=[\s>])"]
    if relative_links_elsewhere:
        values.append(_HOST_KEEPING_VALUE)
    return _quiet_run(f"(?:{'|'.join(values)})")


_QUIET_RUN_ANY_LINKS = _quiet_run(_ANY_VALUE)  # the link is already found
_BLOCK_END = re.compile(rf"</{_names(_BLOCK_END_TAGS)}>")  # links.LinkScanner.handle_endtag adds a space
_TAG = re.compile(r"<[^>]*>")
_PLAIN_PATH = re.compile(r"/(?:[-a-zA-Z0-9_~]+/)*[-a-zA-Z0-9_~]*")


def _text_of(run: str) -> str:
    """The text the scanner would have recorded for a quiet run (or several, concatenated)."""
    if "<" in run:
        run = _TAG.sub("", _BLOCK_END.sub(" ", run))
    return unescape(run) if "&" in run else run


_ASCII_LETTERS = frozenset("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ")


class _Searches:
    """`str.find` / `pattern.search` from a position, memoised: the first hit at or after p is also
    the first at or after any later p' up to it, so rescans of the same stretch cost nothing."""

    def __init__(self, text: str) -> None:
        self.text = text
        self.memo: dict[object, tuple[int, int, int]] = {}

    def find(self, key: str, start: int) -> int:
        cached = self.memo.get(key)
        if cached is not None and cached[0] <= start and (cached[1] < 0 or cached[1] >= start):
            return cached[1]
        found = self.text.find(key, start)
        self.memo[key] = (start, found, found)
        return found

    def search(self, pattern: re.Pattern[str], start: int) -> tuple[int, int]:
        cached = self.memo.get(pattern)
        if cached is not None and cached[0] <= start and (cached[1] < 0 or cached[1] >= start):
            return cached[1], cached[2]
        match = pattern.search(self.text, start)
        found = (match.start(), match.end()) if match else (-1, -1)
        self.memo[pattern] = (start, *found)
        return found


class _FastScanner(LinkScanner):
    def __init__(self, target: str, base_url: str, deadline: float) -> None:
        super().__init__(target=target, base_url=base_url, deadline=deadline)
        self.tokens = 0
        parts = urlsplit(target)
        self.target_netloc = parts.netloc
        self.target_origin = (parts.scheme, parts.netloc)
        self.target_path = target[len(f"{parts.scheme}://{parts.netloc}") :]  # path and query, as normalised
        self.origin_of_base: tuple[str, tuple[str, str] | None] = ("", None)
        # Quiet runs read before the link is found: their text matters only if a link follows, so it is
        # worked out then (most pages that do not link never pay for it).
        self.quiet_runs: list[str] = []
        self.context_complete = False  # the text after the link already decides the evidence

    def base_origin(self) -> tuple[str, str] | None:
        """The normal (scheme, netloc) every relative link resolves to (None when the base URL is unusable)."""
        base, origin = self.origin_of_base
        if base != self.base_url:
            try:
                parts = urlsplit(normalise_url(self.base_url))
                origin = (parts.scheme, parts.netloc)
            except (InvalidUrl, ValueError):
                origin = None
            self.origin_of_base = (self.base_url, origin)
        return origin

    def _is_target(self, value: str) -> bool:
        # Cheap, sound rejections before urljoin + normalise_url (most links point elsewhere): a
        # normal URL equal to the target has the target's netloc.
        stripped = value.strip()
        if not _URL_CONTROL.search(stripped):
            absolute = _PLAIN_ABSOLUTE.match(stripped)
            if absolute is not None:
                if absolute.group(1).lower().rstrip(".") != self.target_netloc:
                    return False
            elif ":" not in stripped and stripped[:2] != "//":
                origin = self.base_origin()
                if origin is not None:
                    if origin[1] != self.target_netloc:
                        return False
                    if _PLAIN_PATH.fullmatch(stripped):
                        # No dot-segment, no escape, no empty segment (kept out of caution), no query:
                        # already in normal form, so the URL is the base's origin and this path.
                        return origin == self.target_origin and stripped == self.target_path
        return super()._is_target(value)

    def add_quiet_run(self, run: str) -> None:
        if self.link_tag is None:
            self.quiet_runs.append(run)
            return
        # After the link, text matters until evidence() has its 2 * CONTEXT_CHARS (whitespace collapsed)
        # and the raw text is as long (find_link's stop): read the run a growing head at a time until then.
        window = 4 * CONTEXT_CHARS
        while not self.context_complete:
            cut = run.find("<", window) if len(run) > window else -1
            text = _text_of(run if cut < 0 else run[:cut])
            if text:
                super()._add_text(text)
            if self.text_length - self.link_offset > 2 * CONTEXT_CHARS:
                after = "".join(self.text_parts)[self.link_offset :]
                self.context_complete = len(SPACE.sub(" ", after).rstrip()) > 2 * CONTEXT_CHARS
            if cut < 0:
                return
            run = run[cut:]
            window *= 4

    def _add_text(self, data: str) -> None:
        if self.quiet_runs:
            self._add_quiet_text()
        super()._add_text(data)

    def _add_quiet_text(self) -> None:
        text = _text_of("".join(self.quiet_runs))
        self.quiet_runs = []
        if text:
            super()._add_text(text)

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        super().handle_starttag(tag, attrs)
        if self.quiet_runs and self.link_tag is not None:
            self._add_text_before_link()

    def _add_text_before_link(self) -> None:
        """Only the end of the text before the link is read (evidence() keeps CONTEXT_CHARS of it once
        whitespace is collapsed): the quiet runs are turned into text from their end, a growing tail at a
        time, until that tail alone holds more than enough; the text before it is then dropped."""
        runs = "".join(self.quiet_runs)
        self.quiet_runs = []
        window = 4 * CONTEXT_CHARS
        while True:
            # every '<' in a quiet run starts a whole tag, and every reference ends before the next one
            cut = runs.rfind("<", 0, len(runs) - window) if len(runs) > window else -1
            tail = _text_of(runs[max(cut, 0) :])
            if len(SPACE.sub(" ", tail).lstrip()) > CONTEXT_CHARS:
                self.text_parts = [tail]  # what precedes it cannot change the evidence
                self.text_length = len(tail)
                break
            if cut <= 0:
                if tail:
                    super()._add_text(tail)
                break
            window *= 4
        self.link_offset = self.text_length

    def evidence(self) -> LinkEvidence | None:
        if self.quiet_runs and self.link_tag is not None:
            self._add_quiet_text()
        return super().evidence()

    def _check_budget(self) -> None:
        self.tokens += 1
        if not self.tokens % _BUDGET_EVERY and time.thread_time() > self.deadline:
            raise ParseBudgetExceeded("the page took too long to read")


class _Tokenizer:
    """html.parser's goahead() over the whole page at once, close() included."""

    # set by run(): the tag whose raw text is being read (script, style) and the pattern that ends it
    cdata: str | None
    cdata_end: re.Pattern[str] | None

    def __init__(self, text: str, scanner: _FastScanner, started: float, budget_s: float) -> None:
        self.text = text
        self.scanner = scanner
        self.started = started
        self.budget_s = budget_s
        self.searches = _Searches(text)
        self.name_span = (-1, -1)  # last tag name scanned: every start inside it ends at the same place
        self.attributes_end: dict[int, int] = {}  # attribute-list position -> where the start tag stops
        self.next_slice = FEED_SLICE

    # --- html.parser's feeding in slices: find_link stops after a slice once the context is complete

    def _found_with_context(self) -> bool:
        scanner = self.scanner
        return scanner.link_tag is not None and scanner.text_length > scanner.link_offset + 2 * CONTEXT_CHARS

    def _slice_done(self, upto: int) -> bool:
        """Called before a token ending at `upto` beyond the current slice: whether find_link stops here."""
        if self._found_with_context():
            return True
        if time.thread_time() - self.started > self.budget_s:
            raise ParseBudgetExceeded(f"the page took more than {self.budget_s:g} s to read")
        self.next_slice = ((upto - 1) // FEED_SLICE + 1) * FEED_SLICE
        return False

    # --- start tags -------------------------------------------------------------------------------

    def _name_end(self, start: int) -> int:
        low, high = self.name_span
        if low <= start <= high:
            return high
        name = _NAME_REST.match(self.text, start)
        assert name is not None
        end = name.end()
        self.name_span = (start, end)
        return end

    def _value(self, position: int) -> tuple[int, str | None]:
        r"""`(\s*=+\s*('[^']*'|"[^"]*"|(?!['"])[^>\s]*))?` at position, backtracking as `re` does."""
        text = self.text
        equals = _EQUALS.match(text, position)
        if equals is None:
            return position, None
        start = equals.end()
        quote = text[start : start + 1]
        if quote in ("'", '"'):
            close = self.searches.find(quote, start + 1)
            if close >= 0:
                return close + 1, text[start : close + 1]
            if equals.end(2) > equals.start(2):  # give back one space: an empty bare value
                return start - 1, ""
            if equals.end(1) - equals.start(1) >= 2:  # give back one '=': a bare value from it
                bare = _BARE.match(text, start - 1)
                assert bare is not None
                end = bare.end()
                return end, text[start - 1 : end]
            return position, None
        bare = _BARE.match(text, start)
        assert bare is not None
        end = bare.end()
        return end, text[start:end]

    def _start_tag_end(self, i: int) -> int:
        """html.parser's check_for_whole_start_tag without its backtracking pattern."""
        text = self.text
        space = _SPACE_SLASH.match(text, self._name_end(i + 2))
        assert space is not None
        position = space.end()
        visited = []
        attributes_end = self.attributes_end
        while True:
            end = attributes_end.get(position)
            if end is not None:
                break
            name = _ATTR_NAME.match(text, position)
            if name is None:
                spaces = _SPACES.match(text, position)
                assert spaces is not None
                end = spaces.end()
                break
            visited.append(position)
            after, _ = self._value(name.end())
            separator = _SEPARATOR.match(text, after)
            assert separator is not None
            position = separator.end()
        following = text[end : end + 1]
        if following == ">":
            return end + 1
        if following == "/":
            return end + 2 if text.startswith("/>", end) else self._unterminated(visited, end)
        if following == "" or following in _LETTERS_EQ_SLASH:
            return self._unterminated(visited, end)
        return end if end > i else i + 1

    def _unterminated(self, visited: list[int], end: int) -> int:
        for position in visited:  # the rest of the page may hold more such starts: remember this scan
            self.attributes_end[position] = end
        return -1

    def _start_tag(self, i: int) -> int:
        endpos = self._start_tag_end(i)
        if endpos < 0:
            return endpos
        text = self.text
        name_end = self._name_end(i + 2)
        tag = text[i + 1 : name_end].lower()
        separator = _SEPARATOR.match(text, name_end)
        assert separator is not None
        k = separator.end()
        wanted = tag in _START_TAGS
        attrs: list[tuple[str, str | None]] = []
        while k < endpos:
            name = _ATTR_NAME.match(text, k)
            if name is None:
                break
            k, value = self._value(name.end())
            if wanted:
                if value is not None and (value[:1] == "'" == value[-1:] or value[:1] == '"' == value[-1:]):
                    value = value[1:-1]
                if value:
                    value = unescape(value)
                attrs.append((name.group().lower(), value))
            separator = _SEPARATOR.match(text, k)
            assert separator is not None
            k = separator.end()
        scanner = self.scanner
        end = text[k:endpos].strip()
        if end not in (">", "/>"):
            scanner.handle_data(text[i:endpos])
            return endpos
        if end.endswith("/>"):
            if wanted:
                scanner.handle_startendtag(tag, attrs)
            else:
                scanner._check_budget()
        else:
            if wanted:
                scanner.handle_starttag(tag, attrs)
                if tag in _CDATA:
                    self.cdata = tag
                    self.cdata_end = _CDATA_END[tag]
            else:
                scanner._check_budget()
        return endpos

    # --- end tags, comments, declarations -----------------------------------------------------------

    def _end_tag(self, i: int) -> int:
        text = self.text
        gt = self.searches.find(">", i + 1)
        if gt < 0:
            return -1
        gtpos = gt + 1
        match = _END_TAG.match(text, i)
        scanner = self.scanner
        if not match:
            if self.cdata is not None:
                scanner.handle_data(text[i:gtpos])
                return gtpos
            if text[i + 2 : i + 3] not in _ASCII_LETTERS or i + 2 >= len(text):
                if text.startswith("</>", i):
                    return i + 3
                return self._bogus_comment(i)
            name_end = self._name_end(i + 3)
            tag = text[i + 2 : name_end].lower()
            separator = _SEPARATOR.match(text, name_end)
            assert separator is not None
            gtpos = self.searches.find(">", separator.end())
            self._end(tag)
            return gtpos + 1
        tag = match.group(1).lower()
        if self.cdata is not None and tag != self.cdata:
            scanner.handle_data(text[i:gtpos])
            return gtpos
        self._end(tag)
        self.cdata = None
        return gtpos

    def _end(self, tag: str) -> None:
        if tag in _END_TAGS:
            self.scanner.handle_endtag(tag)
        else:
            self.scanner._check_budget()

    def _bogus_comment(self, i: int) -> int:
        gt = self.searches.find(">", i + 2)
        if gt < 0:
            return -1
        self.scanner._check_budget()
        return gt + 1

    def _declaration(self, i: int) -> int:
        text = self.text
        if text.startswith("<!--", i):
            return self._comment(i)
        if text.startswith("<![", i):
            return self._marked_section(i)
        if text[i : i + 9].lower() == "<!doctype":
            gt = self.searches.find(">", i + 9)
            return -1 if gt < 0 else gt + 1
        return self._bogus_comment(i)

    def _comment(self, i: int) -> int:
        _, end = self.searches.search(_COMMENT_CLOSE, i + 4)
        if end < 0:
            return -1
        self.scanner._check_budget()
        return end

    def _marked_section(self, i: int) -> int:
        text = self.text
        if i + 3 == len(text):
            return -1
        name = _DECL_NAME.match(text, i + 3)
        if name is None:
            return self._bogus_comment(i)  # links.py: html.parser's assertion read as a bogus comment
        if name.end() == len(text):
            return -1
        keyword = name.group().strip().lower()
        if keyword in ("temp", "cdata", "ignore", "include", "rcdata"):
            _, end = self.searches.search(_MARKED_CLOSE, i + 3)
        elif keyword in ("if", "else", "endif"):
            _, end = self.searches.search(_MS_MARKED_CLOSE, i + 3)
        else:
            return self._bogus_comment(i)
        return end  # -1 when unterminated

    # --- runs of quiet tokens ----------------------------------------------------------------------

    def _quiet_run(self, i: int) -> int:
        """Read the quiet tokens from i up to the end of the slice at most; where they stop."""
        scanner = self.scanner
        if scanner.link_tag is not None:
            pattern = _QUIET_RUN_ANY_LINKS
        else:
            origin = scanner.base_origin()
            elsewhere = origin is not None and origin[1] != scanner.target_netloc
            pattern = _quiet_run_for(scanner.target_netloc, elsewhere)
        quiet = pattern.match(self.text, i, self.next_slice)
        assert quiet is not None  # every quiet run pattern is `(...)*+`
        end = quiet.end()
        if end > i:
            scanner.add_quiet_run(self.text[i:end])
        return end

    # --- the main loop ------------------------------------------------------------------------------

    def run(self) -> None:
        text = self.text
        scanner = self.scanner
        n = len(text)
        i = 0
        self.cdata = None
        self.cdata_end = None
        # Once a construct is unterminated, find_link waits for the rest of the page and then close()
        # reads everything left, without stopping early: `closing` is that phase.
        closing = False
        last_markup = n
        simple_end_tag = _SIMPLE_END_TAG.match
        simple_start_tag = _SIMPLE_START_TAG.match
        fast_start_tag = _FAST_START_TAG.match
        while i < n:
            if self.cdata is None:
                if closing and i > last_markup:
                    # No '>' and no '&' left: every token left is read as text, so all of it is.
                    scanner.handle_data(text[i:n])
                    return
                if not closing and i < self.next_slice and not scanner.in_title and not scanner.invisible_depth:
                    i = self._quiet_run(i)
                j = text.find("<", i)
                if j < 0:
                    j = n
            else:
                assert self.cdata_end is not None  # set with cdata
                found = self.cdata_end.search(text, i)
                if found is None:
                    return  # an unclosed script or style: html.parser drops the rest
                j = found.start()
            if i < j:
                while j > self.next_slice and self.cdata is None:
                    # find_link fed the page in slices: the text up to the slice's end came first
                    cut = self.next_slice
                    amp = text.rfind("&", max(i, cut - 34), cut)
                    if amp >= 0 and not _CHARREF_END.search(text, amp, cut):
                        if self._slice_done(j):  # html.parser waits for the rest of the entity
                            return
                        break
                    if i < cut:
                        scanner.handle_data(unescape(text[i:cut]))
                        i = cut
                    if self._slice_done(cut + 1):
                        return
                if i < j:
                    data = text[i:j]
                    scanner.handle_data(unescape(data) if "&" in data and not self.cdata else data)
                i = j
            if i == n:
                break
            # whether find_link, fed the page in slices, would stop before a token crossing a slice's end
            ready = scanner.link_tag is not None and self._found_with_context()
            if text.startswith("</", i):
                simple = simple_end_tag(text, i)
                fast = None
            else:
                simple = None
                fast = simple_start_tag(text, i) or fast_start_tag(text, i)
            if fast is not None:
                k = fast.end()
                tag = fast.group(1).lower()
                if tag in _START_TAGS:
                    groups = fast.groups() if fast.lastindex != 1 else (None,) * 18
                    attrs = []
                    for index in range(1, 17, 2):
                        name = groups[index]
                        if name is None:
                            break
                        value = groups[index + 1]
                        if value is not None and value[:1] in ("'", '"'):
                            value = value[1:-1]
                        attrs.append((name.lower(), unescape(value) if value else value))
                    if groups[17]:
                        scanner.handle_startendtag(tag, attrs)
                    else:
                        scanner.handle_starttag(tag, attrs)
                        if tag in _CDATA:
                            self.cdata = tag
                            self.cdata_end = _CDATA_END[tag]
                else:
                    scanner._check_budget()
            elif simple is not None:  # </name>
                k = simple.end()
                tag = simple.group(1).lower()
                if tag in _END_TAGS:
                    scanner.handle_endtag(tag)
                else:
                    scanner._check_budget()
                self.cdata = None
            else:
                nxt = text[i + 1 : i + 2]
                if nxt in _ASCII_LETTERS and nxt:
                    k = self._start_tag(i)
                elif nxt == "/":
                    k = self._end_tag(i)
                elif nxt == "!":
                    k = self._declaration(i)
                elif nxt == "?":
                    gt = self.searches.find(">", i + 2)
                    k = -1 if gt < 0 else gt + 1
                elif i + 1 < n:
                    # "<" before anything else is text; a run of them is read as one
                    lt_run = _LT_RUN.match(text, i)
                    assert lt_run is not None  # text[i] is "<"
                    k = min(lt_run.end() - 1, self.next_slice)
                    k = k if k > i else i + 1
                    scanner.handle_data("<" * (k - i))
                else:
                    if not closing and self._found_with_context():
                        return
                    break
            if k < 0:
                # Unterminated: find_link waits for more page, then close() reads up to the next '>'.
                if not closing:
                    if self._found_with_context():
                        return
                    closing = True
                    self.next_slice = n + 1
                    last_markup = max(text.rfind(">"), text.rfind("&"))
                gt = self.searches.find(">", i + 1)
                if gt < 0:
                    k = text.find("<", i + 1)
                    if k < 0:
                        k = i + 1
                else:
                    k = gt + 1
                scanner.handle_data(text[i:k] if self.cdata else unescape(text[i:k]))
            elif k > self.next_slice:
                if ready:
                    return
                self._slice_done(k)
            i = k
        if i < n and self.cdata is None:
            scanner.handle_data(unescape(text[i:n]))


# --- pages that cannot name the target's host ---------------------------------------------------------

_HOST_CHARACTERS = frozenset("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789.-")
_IDNA_DOTS = frozenset("\u3002\uff0e\uff61")  # label separators of Python's idna codec besides "."
_PLAIN_HOST = re.compile(r"[a-z0-9.-]+")
_NON_ASCII = re.compile(r"[^\x00-\x7f]")
_NUMERIC_REFERENCE = re.compile(r"&#(?:[0-9]+|[xX][0-9a-fA-F]+);?")
_NAMED_REFERENCE = re.compile(r"&([a-zA-Z0-9]+)")


@functools.lru_cache(maxsize=4096)
def _spells_host(char: str) -> bool:
    """Whether `char` can stand in a host name that normalise_url reads as an ASCII one: a host character
    itself, a tab or newline (urlsplit removes them), or a character that nameprep (IDNA 2003, applied to
    non-ASCII labels) maps to host characters or to nothing (fullwidth 'e', superscript '1', the soft hyphen)."""
    if char.isascii():
        return char in _HOST_CHARACTERS or char in "\t\n\r"
    if char in _IDNA_DOTS:
        return True
    try:
        mapped = nameprep(char)
    except UnicodeError:
        return False  # prohibited in a host name: normalise_url rejects the URL
    return all(c in _HOST_CHARACTERS for c in mapped)


@functools.cache
def _host_spelling_names() -> frozenset[str]:
    """Names of character references (with or without their ';') that decode to a character spelling a
    host. Built on first use, not at import: running nameprep over 2,231 entities costs ~10 ms of the
    verifier's cold start, and only pages with named references ever ask."""
    return frozenset(name.rstrip(";") for name, value in html5.items() if any(_spells_host(c) for c in value))


def _cannot_link(html: str, scanner: _FastScanner) -> bool:
    """Whether no attribute of `html` can hold a URL whose normal form has the target's host, so the page
    cannot link to the target, without tokenizing it (sound, not complete: False means "read it").

    With the base URL on another host, a link to the target is absolute or network-path, or relative to a
    <base> that is: either way the target's host is written in the page, in some case, possibly split by
    tabs or newlines, possibly through character references or non-ASCII characters IDNA maps to ASCII."""
    host = urlsplit(scanner.target).hostname or ""
    origin = scanner.base_origin()
    if origin is None or origin[1] == scanner.target_netloc or "xn--" in host or not _PLAIN_HOST.fullmatch(host):
        return False  # relative links may resolve to it, or its host has other spellings (IDN, IP)
    lowered = html.lower()
    if host in lowered:  # a <base> moving the base URL to that host spells it in its own href
        return False
    if host in lowered.replace("\t", "").replace("\n", "").replace("\r", ""):
        return False
    if not html.isascii() and any(_spells_host(c) for c in set(_NON_ASCII.findall(html))):
        return False
    if "&" in html:
        for reference in set(_NUMERIC_REFERENCE.findall(html)):
            if any(_spells_host(c) for c in unescape(reference)):
                return False
        for name in set(_NAMED_REFERENCE.findall(html)):
            # html.unescape also reads the longest known prefix of an unknown name ("&sup1x" is "¹x")
            names = _host_spelling_names()
            if any(name[:length] in names for length in range(1, min(len(name), 32) + 1)):
                return False
    return True


def find_link(html: str, *, base_url: str, target: str, budget_s: float = PARSE_BUDGET_S) -> LinkEvidence | None:
    """Evidence that the page at base_url links to target (both normalised), or None."""
    started = time.thread_time()  # this thread's CPU time, as links.find_link
    scanner = _FastScanner(target=target, base_url=base_url, deadline=started + budget_s)
    if _cannot_link(html, scanner):
        return None
    _Tokenizer(html, scanner, started, budget_s).run()
    return scanner.evidence()
