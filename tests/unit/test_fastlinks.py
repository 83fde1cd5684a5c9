"""fastlinks.find_link gives exactly the answers of links.find_link (html.parser), only faster."""

from __future__ import annotations

import os

import pytest
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from linkback.verify.links import fast as fastlinks
from linkback.verify.links import reference as links

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


# Every way the quick rejections could be wrong: the target's host spelled otherwise than literally, relative
# links on the target's own host, and quiet runs (text and tags read in one match) around the link.
LINKING_PAGES = {
    "an uppercase host": "<p>See <a href='HTTPS://EXAMPLE.COM/posts/hello/'>this</a>.</p>",
    "an unquoted link among others": "<a href=https://a.example.net/>a</a><a href=https://example.com/posts/hello/>b",
    "the default port": "<a href='https://b.example.net/'>a</a><a href=\"https://Example.com:443/posts/hello/\">b</a>",
    "a host with a trailing dot": "<p>See <a href='https://example.com./posts/hello/'>this</a>.</p>",
    "a newline inside the host": "<p>See <a href='https://exam\nple.com/posts/hello/'>this</a>.</p>",
    "a tab inside the scheme and host": "<p>See <a href='ht\ttps://example.\tcom/posts/hello/'>this</a>.</p>",
    "a decimal reference in the host": "<p>See <a href='https://&#101;xample.com/posts/hello/'>this</a>.</p>",
    "a hexadecimal reference for the dot": "<p>See <a href='https://example&#x2E;com/posts/hello/'>this</a>.</p>",
    "a named reference for the dot": "<p>See <a href='https://example&period;com/posts/hello/'>this</a>.</p>",
    "a named reference for a newline": "<p>See <a href='https://exam&NewLine;ple.com/posts/hello/'>x</a>.</p>",
    "a soft hyphen inside the host": "<p>See <a href='https://exam&shy;ple.com/posts/hello/'>this</a>.</p>",
    "a literal soft hyphen inside the host": "<p>See <a href='https://exam\u00adple.com/posts/hello/'>x</a>.</p>",
    "fullwidth letters in the host": "<p>See <a href='https://\uff45\uff58ample.com/posts/hello/'>x</a>.</p>",
    "an ideographic full stop in the host": "<p>See <a href='https://example\u3002com/posts/hello/'>x</a>.</p>",
    "a network-path link": "<p>See <a href='//example.com/posts/hello/'>this</a>.</p>",
    "a relative link under a base": "<base href='https://example.com/'><p>See <a href='posts/hello/'>x</a>.</p>",
    "an uppercase base tag": "<BASE HREF='https://example.com/x/'><p>See <a href='/posts/hello/'>x</a>.</p>",
    "a link after long quiet text": "<div><p>Some <em>words</em> &amp; more.</p></div>\n" * 400
    + "<p>and <a href='https://example.com/posts/hello/'>the post</a> then"
    + " <b>more</b> words" * 60,
    "a link after whitespace-heavy text": "<li>a</li>"
    + " \n\t " * 2000
    + "<a href='https://example.com/posts/hello/'>x</a>",
    "a link after few words and much markup": "<span class='c'>w</span><br/>" * 3000
    + "<a href='https://example.com/posts/hello/'>x</a>"
    + "<i>y</i>\n" * 3000,
    "references across tags": "&am<em>p; &#10<i>4; &lt<b>;&nbsp;x <a href='//example.com/posts/hello/'>t</a>" * 3,
    "a link after 1000 relative links": "<a href='/p/1'>x</a>" * 1000 + "<a href='//example.com/posts/hello/'>t</a>",
}
SAME_HOST_BASE = "https://example.com/posts/one-month-later/"
SAME_HOST_LINKS = [
    "/posts/hello/", "/posts//hello/", "/posts/./hello/", "/posts/x/../hello/", "../hello/", "/posts/%68ello/",
    "/posts/hello", "/posts/hello/?", "/posts/hello/#c", "/Posts/hello/", "hello/", "/posts/hello/?a=1",
]  # fmt: skip
NOT_LINKING_PAGES = {
    "the host only in text": "<p>Read example.com for posts/hello.</p>",
    "the host in a comment": "<!-- <a href='https://example.com/posts/hello/'>x</a> --><p>words</p>",
    "another host containing it": "<a href='https://notexample.com/posts/hello/'>x</a>",
    "another host starting with it": "<a href='https://example.com.evil/posts/hello/'>x</a>",
    "another port": "<a href='https://example.com:8443/posts/hello/'>x</a>",
    "a lookalike host": "<a href='https://examp1e.com/posts/hello/'>x</a> &sup1; &eacute;",
    "a relative link on another host": "<a href='/posts/hello/'>x</a>",
    "a reference that spells nothing": "<a href='https://&eacute;xample.com/posts/hello/'>x</a>",
}


@pytest.mark.parametrize("name", list(LINKING_PAGES))
def test_a_page_linking_through_another_spelling_gives_the_same_evidence(name: str) -> None:
    old, new = both(LINKING_PAGES[name])

    assert isinstance(old, links.LinkEvidence)
    assert new == old


@pytest.mark.parametrize("href", SAME_HOST_LINKS)
def test_a_relative_link_on_the_target_host_gives_the_same_evidence(href: str) -> None:
    # Given a page on the target's own host, where relative links may resolve to the target
    html = f"<p>Before.</p><a href='/archive/1'>a</a><a href='{href}'>b</a><a href=\"{href}\">c</a><p>After.</p>"

    old, new = both(html, base_url=SAME_HOST_BASE)

    assert new == old


@pytest.mark.parametrize("name", list(NOT_LINKING_PAGES))
def test_a_page_naming_the_host_without_linking_gives_the_same_evidence(name: str) -> None:
    old, new = both(NOT_LINKING_PAGES[name])

    assert old is None
    assert new == old


@pytest.mark.parametrize("href", ["'https://example.com'", "https://example.com", '"https://EXAMPLE.com."'])
def test_a_link_to_a_home_page_written_without_its_path_gives_the_same_evidence(href: str) -> None:
    html = f"<p>Home: <a href='https://a.example.net/'>a</a> <a href={href}>b</a></p>"

    old, new = both(html, target="https://example.com/")

    assert isinstance(old, links.LinkEvidence)
    assert new == old


def test_an_idn_target_linked_in_unicode_form_gives_the_same_evidence() -> None:
    html = "<p>Voir <a href='https://b\u00fccher.example/posts/hello/'>le livre</a>.</p>"

    old, new = both(html, target="https://xn--bcher-kva.example/posts/hello/")

    assert isinstance(old, links.LinkEvidence)
    assert new == old


HTML_PIECES = st.sampled_from(
    ["<a href='https://example.com/p/'>", "<a href=/p/>", "</a>", "<base href='https://example.com/'>", "<title>",
     "</title>", "<script>", "</script>", "<svg>", "</svg>", "<!--", "-->", "<![CDATA[", "]]>", "<![", "<!", "<?",
     "</", "<", ">", "&", "&amp;", "&#", "&#x", "'", '"', "=", " ", "\n", "<br/>", "<img src=/p/>", "<p>", "x",
     "<a href=", "<a", "/", "==", "<style>", "</style >", "</p>", "<div/>", '<q cite="/p/">', "<![if x]>",
     "<!doctype html>", "<math>", "<title/>", "\t", "<noscript>", "</noscript>", "&lt;", "<a href='/p/' >",
     "<video poster=\"https://example.com/p/\" controls>", "<a title='x>y' href=/p/>", "words and more words ",
     "<div class='c' id=d>", "<td>", "\x00", "\x0b", "\xa0", "<A HREF='/P/'>", "<a\nhref\n=\n'/p/'>",
     "<em>", "</li>", "<LI>", "&nbsp;", "&am", "p;", "&#101;", "&period;", "<a href='#x'>", "<span title='a b'>",
     "<a href='https://EXAMPLE.com/p/'>", "<a href='https://exa\nmple.com/p/'>", "<a href=//example.com/p/>",
     "<img src='/i.png' alt=x/>", "</DIV>", "<h1>", "</h2>", "&shy;", "\u00ad", "<BASE href=/>",
     "<a href='https://example.com.x/p/'>", "<a href=https://example.com/p/>", "<a href=\"http://example.com.\">"]
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
