"""fastlinks.find_link gives exactly the answers of links.find_link (html.parser), only faster."""

from __future__ import annotations

import os

import pytest
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from linkback import fastlinks, links

from ..security import hostile_cases as cases
from .fixture_files import FIXTURES, read_text

TARGET = "https://example.com/posts/hello/"
SOURCE = "https://blog.example.org/2024/05/static-sites-deserve-comments/"


def both(html: str, *, base_url: str = SOURCE, target: str = TARGET, budget_s: float = 5.0) -> tuple:
    """What each finder answers: its evidence, or the name of the exception it raised."""
    answers = []
    for finder in (links.find_link, fastlinks.find_link):
        try:
            answers.append(finder(html, base_url=base_url, target=target, budget_s=budget_s))
        except Exception as error:  # the exception's type is part of the answer
            answers.append(type(error).__name__)
    return tuple(answers)


FIXTURE_PAGES = sorted(path.name for path in (FIXTURES / "html").glob("*.html"))
TARGETS = [TARGET, "https://example.com/photos/sunset.jpg", "https://example.com/posts/goodbye/"]
BASES = [SOURCE, "https://example.com/posts/one-month-later/", "https://mirror.example.net/jo/archive.html"]


@pytest.mark.parametrize("page", FIXTURE_PAGES)
@pytest.mark.parametrize("target", TARGETS)
@pytest.mark.parametrize("base_url", BASES)
def test_every_fixture_page_gives_the_same_evidence(page: str, target: str, base_url: str) -> None:
    old, new = both(read_text(f"html/{page}"), base_url=base_url, target=target)

    assert new == old


@pytest.mark.parametrize("page", FIXTURE_PAGES)
def test_a_fixture_page_beyond_a_feed_slice_gives_the_same_evidence(page: str) -> None:
    # links.find_link feeds html.parser 64 KB at a time and stops once the link has its context.
    html = read_text(f"html/{page}")
    padded = html.replace("<body>", "<body>" + "<p>padding words &amp; more</p>\n" * 3000, 1)
    twice = padded + padded

    old, new = both(twice)

    assert new == old


HTML_PIECES = st.sampled_from(
    ["<a href='https://example.com/p/'>", "<a href=/p/>", "</a>", "<base href='https://example.com/'>", "<title>",
     "</title>", "<script>", "</script>", "<svg>", "</svg>", "<!--", "-->", "<![CDATA[", "]]>", "<![", "<!", "<?",
     "</", "<", ">", "&", "&amp;", "&#", "&#x", "'", '"', "=", " ", "\n", "<br/>", "<img src=/p/>", "<p>", "x",
     "<a href=", "<a", "/", "==", "<style>", "</style >", "</p>", "<div/>", '<q cite="/p/">', "<![if x]>",
     "<!doctype html>", "<math>", "<title/>", "\t", "<noscript>", "</noscript>", "&lt;", "<a href='/p/' >",
     "<video poster=\"https://example.com/p/\" controls>", "<a title='x>y' href=/p/>", "words and more words ",
     "<div class='c' id=d>", "<td>", "\x00", "\x0b", "\xa0", "<A HREF='/P/'>", "<a\nhref\n=\n'/p/'>"]
)  # fmt: skip
HTML_TEXT = st.lists(st.one_of(HTML_PIECES, st.text(max_size=3)), max_size=60).map("".join)
EQUIVALENCE = settings(
    max_examples=int(os.environ.get("LINKBACK_FUZZ_EXAMPLES", "1000")),
    deadline=None,
    derandomize=os.environ.get("LINKBACK_FUZZ_RANDOM") != "1",
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)


@EQUIVALENCE
@given(HTML_TEXT)
@example("<![ x]><a href='https://example.com/p/'>x</a>")
@example("<!-- x > <a href=/p/>y")
@example("<a b='><a href=/p/>z")
@example("<title>a<script>b</script>c</title><a href=/p/>")
def test_any_markup_gives_the_same_evidence(html: str) -> None:
    old, new = both(html, base_url="https://source.example.net/", target="https://example.com/p/")

    assert new == old


@pytest.mark.parametrize("name", list(cases.HTML_CASES))
def test_a_hostile_page_completes_within_the_budget(name: str) -> None:
    page = cases.HTML_CASES[name]()

    try:
        evidence = fastlinks.find_link(page, base_url=cases.PAGE_URL, target=cases.TARGET, budget_s=0.5)
    except fastlinks.ParseBudgetExceeded:
        return

    assert evidence is None or isinstance(evidence, fastlinks.LinkEvidence)


@pytest.mark.parametrize("name", ["30 000 <base> elements", "a 1 MB <title>", "link first, then 1 MB of '<a'"])
def test_a_hostile_page_with_a_link_gives_the_same_evidence(name: str) -> None:
    page = cases.HTML_CASES[name]()

    old, new = both(page, base_url=cases.PAGE_URL, target=cases.TARGET)

    assert new == old
