"""Find a link to the target in a fetched page and the words around it. No I/O.

A real HTML tokenizer (the standard library's `html.parser`, no tree): it reads markup as browsers
tokenize it, so a target mentioned in a comment, a script or an attribute we do not follow is not a
link, and the cost stays linear in the page size with no tree to build.
"""

from __future__ import annotations

import json
import re
import time
from html.parser import HTMLParser
from typing import NamedTuple
from urllib.parse import urljoin

from linkback.fields import TITLE_MAX
from linkback.text import clean_text
from linkback.urls import InvalidUrl, normalise_url

# Attributes that make a document link to a URL (Webmention: "an HTML link ... a, img, video, audio").
LINK_ATTRIBUTES: dict[str, tuple[str, ...]] = {
    "a": ("href",),
    "area": ("href",),
    "img": ("src",),
    "video": ("src", "poster"),
    "audio": ("src",),
    "source": ("src",),
    "track": ("src",),
    "blockquote": ("cite",),
    "q": ("cite",),
    "ins": ("cite",),
    "del": ("cite",),
}
INVISIBLE = frozenset({"script", "style", "template", "noscript"})
CONTEXT_CHARS = 100
PARSE_BUDGET_S = 2.0
FEED_SLICE = 64 * 1024
SPACE = re.compile(r"\s+")


class LinkEvidence(NamedTuple):
    tag: str
    title: str
    context: str  # about CONTEXT_CHARS of visible text either side of the link


class LinkScanner(HTMLParser):
    """What counts as a link, the page title and the words around the link: the handlers both finders share
    (the fast one feeds them the tokens it finds itself)."""

    def __init__(self, target: str, base_url: str, deadline: float = float("inf")) -> None:
        super().__init__(convert_charrefs=True)
        self.deadline = deadline  # in time.thread_time()
        self.target = target
        self.base_url = base_url
        self.base_seen = False
        self.title_parts: list[str] = []
        self.in_title = False
        self.title_done = False
        self.foreign_depth = 0
        self.invisible_depth = 0
        self.text_parts: list[str] = []
        self.text_length = 0
        self.link_tag: str | None = None
        self.link_offset = 0

    def _check_budget(self) -> None:
        # Checked in every callback: html.parser's close() rescans the rest of the page for every
        # unterminated "<a", "<!--", "</" (CPython gh-135462), minutes for 1 MB, without returning.
        if time.thread_time() > self.deadline:
            raise ParseBudgetExceeded("the page took too long to read")

    def parse_html_declaration(self, i: int) -> int:
        try:
            return super().parse_html_declaration(i)
        except AssertionError:
            # _markupbase asserts on "<![" followed by a non-name; HTML reads it as a bogus comment.
            return self.parse_bogus_comment(i)

    def handle_comment(self, data: str) -> None:
        self._check_budget()

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self._check_budget()
        if tag == "base" and not self.base_seen:
            # "The first base element with an href attribute" sets the document base URL.
            href = dict(attrs).get("href")
            if href:
                self.base_url = urljoin(self.base_url, href.strip())
                self.base_seen = True
        elif tag == "title":
            self.in_title = not self.title_done and not self.foreign_depth
        elif tag in INVISIBLE:
            self.invisible_depth += 1
        elif tag in ("svg", "math"):
            self.foreign_depth += 1
        elif tag == "br":
            self._add_text(" ")
        if self.link_tag is None and tag in LINK_ATTRIBUTES:
            values = dict(attrs)
            for attribute in LINK_ATTRIBUTES[tag]:
                value = values.get(attribute)
                if value and self._is_target(value):
                    self.link_tag = tag
                    self.link_offset = self.text_length
                    break

    def handle_startendtag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.handle_starttag(tag, attrs)
        if tag in INVISIBLE:
            self.invisible_depth = max(0, self.invisible_depth - 1)
        elif tag == "title":
            self.in_title = False
        elif tag in ("svg", "math"):
            self.foreign_depth = max(0, self.foreign_depth - 1)

    def handle_endtag(self, tag: str) -> None:
        self._check_budget()
        if tag == "title":
            if self.in_title:
                self.title_done = True
            self.in_title = False
        elif tag in ("svg", "math"):
            self.foreign_depth = max(0, self.foreign_depth - 1)
        elif tag in INVISIBLE:
            self.invisible_depth = max(0, self.invisible_depth - 1)
        elif tag in ("p", "div", "li", "br", "h1", "h2", "h3", "h4", "h5", "h6", "td", "blockquote"):
            self._add_text(" ")

    def handle_data(self, data: str) -> None:
        self._check_budget()
        if self.in_title:
            self.title_parts.append(data)
        elif not self.invisible_depth:
            self._add_text(data)

    def _add_text(self, data: str) -> None:
        self.text_parts.append(data)
        self.text_length += len(data)

    def _is_target(self, value: str) -> bool:
        try:
            return normalise_url(urljoin(self.base_url, value.strip())) == self.target
        except (InvalidUrl, ValueError):
            return False

    def evidence(self) -> LinkEvidence | None:
        if self.link_tag is None:
            return None
        text = "".join(self.text_parts)
        # Measure the windows on the text as shown (whitespace collapsed), not on the markup's indentation.
        prefix = SPACE.sub(" ", text[: self.link_offset]).lstrip()
        rest = SPACE.sub(" ", text[self.link_offset :])
        cut_before = len(prefix) > CONTEXT_CHARS
        before = prefix[-CONTEXT_CHARS:] if cut_before else prefix
        # Trim to whole words at both ends so an excerpt never starts or ends mid-word.
        if cut_before and prefix[-CONTEXT_CHARS - 1] != " " and " " in before:
            before = before.split(" ", 1)[1]
        after = rest[: 2 * CONTEXT_CHARS]
        cut_after = len(rest.rstrip()) > 2 * CONTEXT_CHARS
        context = (before + after).strip()
        if cut_after:
            if rest[2 * CONTEXT_CHARS] != " " and " " in context:
                context = context.rsplit(" ", 1)[0]
            context += " …"
        if cut_before:
            context = "… " + context
        return LinkEvidence(
            tag=self.link_tag,
            title=clean_text("".join(self.title_parts), TITLE_MAX),
            context=clean_text(context, 3 * CONTEXT_CHARS + 10),
        )


class ParseBudgetExceeded(Exception):
    """The page is too expensive to read; verification gives up on it (a hostile page, not a blog)."""


def find_link(html: str, *, base_url: str, target: str, budget_s: float = PARSE_BUDGET_S) -> LinkEvidence | None:
    """Evidence that the page at base_url links to target (both normalised), or None.

    The reference: the verifier uses `fastlinks.find_link`, which tokenizes in linear time and is held to
    this function's answers by tests/unit/test_fastlinks.py (html.parser is quadratic on some pages).
    """
    scanner = LinkScanner(target=target, base_url=base_url, deadline=time.thread_time() + budget_s)
    # CPU time of this thread, not wall time: the verifier runs a batch's records in threads sharing one
    # GIL, and a page must not fail its budget because its neighbours were busy.
    started = time.thread_time()
    # Fed in slices so a page that is slow to tokenize (1 MB of "<" takes ~1 s) is cut off at the
    # budget instead of holding the verifier; the link, if any, is usually found long before.
    for start in range(0, len(html), FEED_SLICE):
        scanner.feed(html[start : start + FEED_SLICE])
        if scanner.link_tag is not None and scanner.text_length > scanner.link_offset + 2 * CONTEXT_CHARS:
            break  # found, with its context: the rest of the page cannot change the answer
        if time.thread_time() - started > budget_s:
            raise ParseBudgetExceeded(f"the page took more than {budget_s:g} s to read")
    else:
        scanner.close()
    return scanner.evidence()


def tokenizes_within(html: str, budget_s: float) -> bool:
    """Whether html.parser gets through `html`, close() included, within `budget_s` of this thread's CPU."""
    scanner = LinkScanner(target="", base_url="http://invalid/", deadline=time.thread_time() + budget_s)
    try:
        scanner.feed(html)
        scanner.close()
    except ParseBudgetExceeded:
        return False
    return True


def find_in_text(text: str, *, target: str) -> LinkEvidence | None:
    """For text/plain sources: the target appearing as a substring is the link."""
    # The URL must end where the target ends: /posts/hello-again/ is not a link to /posts/hello.
    found = re.search(re.escape(target) + r"(?![\w\-~%/])", text)
    if found is None:
        return None
    offset = found.start()
    start = max(0, offset - CONTEXT_CHARS)
    return LinkEvidence(
        tag="text", title="", context=clean_text(text[start : offset + len(target) + CONTEXT_CHARS], 400)
    )


def find_in_json(text: str, *, target: str) -> LinkEvidence | None:
    """For JSON sources: "a property value equal to the target" (Webmention §3.2.2), at any depth."""
    try:
        document = json.loads(text)
    except ValueError:
        return None
    stack = [document]
    while stack:
        value = stack.pop()
        if isinstance(value, dict):
            stack.extend(value.values())
        elif isinstance(value, list):
            stack.extend(value)
        elif isinstance(value, str) and value[:8].lower().startswith(("http://", "https://")):
            try:
                if normalise_url(value) == target:
                    name = document.get("name") or document.get("title") if isinstance(document, dict) else None
                    return LinkEvidence(tag="json", title=clean_text(str(name or ""), TITLE_MAX), context="")
            except InvalidUrl:
                continue
    return None
