"""`linkback snippet`'s text, read back the way senders discover endpoints.

Webmention discovery follows W3C Webmention §3.1.2 (Link header first, then the first `<link>` or `<a>`
with rel="webmention" in document order, resolved against the page URL); Pingback's is the regular
expression the Pingback 1.0 spec gives; the TrackBack RDF is parsed as XML, as TrackBack clients do
after cutting the `<rdf:RDF>` block out of the page.
"""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET
from html.parser import HTMLParser
from urllib.parse import parse_qs, urljoin, urlsplit

import pytest

from linkback.read import widget_asset
from linkback_infra.cli import main
from linkback_infra.snippet import DC, RDF, TRACKBACK, SnippetError, snippet

API = "https://abc123.execute-api.eu-west-1.amazonaws.com/"
PAGE = "https://example.com/posts/hello/"

# Pingback 1.0, "Autodiscovery with link elements": clients MAY use exactly this expression.
PINGBACK_LINK = re.compile(r'<link rel="pingback" href="([^"]+)" ?/?>')
RDF_BLOCK = re.compile(r"<rdf:RDF\b.*?</rdf:RDF>", re.DOTALL)


class _RelFinder(HTMLParser):
    """The first <link> or <a> whose rel contains `rel`, in document order; and the comments seen."""

    def __init__(self, rel: str) -> None:
        super().__init__(convert_charrefs=True)
        self.rel = rel
        self.href: str | None = None
        self.comments: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if self.href is not None or tag not in ("link", "a"):
            return
        values = dict(attrs)
        rels = (values.get("rel") or "").lower().split()
        if self.rel in rels and values.get("href") is not None:
            self.href = values["href"]

    def handle_comment(self, data: str) -> None:
        self.comments.append(data)


def _link_header_target(header: str, rel: str) -> str | None:
    for part in header.split(","):
        match = re.match(r"\s*<([^>]*)>(.*)", part)
        if not match:
            continue
        rels = re.search(r'rel\s*=\s*"?([^";]+)"?', match.group(2))
        if rels and rel in rels.group(1).lower().split():
            return match.group(1)
    return None


def discover_webmention(page_url: str, html: str, link_header: str = "") -> str | None:
    """W3C Webmention §3.1.2: the Link header wins; else the first <link>/<a> rel=webmention; relative
    URLs are resolved against the page URL (an empty href is the page itself)."""
    found = _link_header_target(link_header, "webmention") if link_header else None
    if found is None:
        finder = _RelFinder("webmention")
        finder.feed(html)
        found = finder.href
    return None if found is None else urljoin(page_url, found)


def discover_pingback(html: str) -> str | None:
    match = PINGBACK_LINK.search(html)
    return match.group(1) if match else None


def trackback_descriptions(html: str) -> list[ET.Element]:
    descriptions = []
    for block in RDF_BLOCK.findall(html):
        root = ET.fromstring(block)
        descriptions.extend(root.iter(f"{{{RDF}}}Description"))
    return descriptions


def page_with(text: str) -> str:
    head, _, body = text.partition("<!-- linkback: in each post")
    return (
        "<!doctype html><html><head><meta charset='utf-8'><title>Hello</title>\n"
        f"{head}</head><body><article><h1>Hello</h1><a href='/about'>About</a>\n"
        f"<!-- linkback: in each post{body}</article></body></html>"
    )


# ------------------------------------------------------------------------- the discovery routine itself


def test_the_discovery_routine_prefers_the_link_header_and_resolves_relative_urls() -> None:
    html = '<html><head><link rel="webmention" href="/from-html"></head></html>'
    assert discover_webmention(PAGE, html, '<https://wm.example/e>; rel="webmention"') == "https://wm.example/e"
    assert discover_webmention(PAGE, html) == "https://example.com/from-html"
    assert discover_webmention(PAGE, '<a rel="nofollow Webmention" href="">x</a>') == PAGE
    assert discover_webmention(PAGE, "<link rel='webmention-not' href='/x'>") is None


# ------------------------------------------------------------------------------------------- the snippet


def test_the_webmention_endpoint_is_discovered_from_the_snippet() -> None:
    # Given a page carrying the snippet
    html = page_with(snippet(API, PAGE))
    # When a Webmention sender discovers its endpoint
    endpoint = discover_webmention(PAGE, html)
    # Then it is the API's /webmention, with no doubled slash from the API URL's trailing one
    assert endpoint == "https://abc123.execute-api.eu-west-1.amazonaws.com/webmention"


def test_the_pingback_endpoint_matches_the_spec_regex() -> None:
    html = page_with(snippet(API, PAGE))
    assert discover_pingback(html) == "https://abc123.execute-api.eu-west-1.amazonaws.com/pingback"


def test_the_trackback_rdf_names_the_post_and_its_ping_url() -> None:
    # Given a page carrying the snippet with a title
    html = page_with(snippet(API, PAGE, title="Hello"))
    # When a TrackBack client cuts the RDF block out and parses it as XML
    (description,) = trackback_descriptions(html)
    # Then it describes the post, and its ping URL is the API's TrackBack URL for exactly that post
    assert description.get(f"{{{RDF}}}about") == PAGE
    assert description.get(f"{{{DC}}}identifier") == PAGE
    assert description.get(f"{{{DC}}}title") == "Hello"
    ping = description.get(f"{{{TRACKBACK}}}ping")
    assert ping is not None and ping.startswith("https://abc123.execute-api.eu-west-1.amazonaws.com/trackback?")
    assert parse_qs(urlsplit(ping).query) == {"target": [PAGE]}


def test_the_rdf_title_is_optional() -> None:
    (description,) = trackback_descriptions(page_with(snippet(API, PAGE)))
    assert description.get(f"{{{DC}}}title") is None


def test_the_rdf_block_sits_in_one_html_comment_that_an_html_parser_skips() -> None:
    html = page_with(snippet(API, PAGE, title="Hello"))
    finder = _RelFinder("trackback")
    finder.feed(html)
    rdf_comments = [comment for comment in finder.comments if "rdf:RDF" in comment]
    assert len(rdf_comments) == 1
    assert rdf_comments[0].strip().startswith("<rdf:RDF") and rdf_comments[0].strip().endswith("</rdf:RDF>")


def test_markup_and_double_hyphens_in_the_title_and_url_keep_the_comment_and_the_xml_intact() -> None:
    # `--` ends nothing in XML attributes, but HTML forbids it inside a comment; quotes and `<` would
    # break the attribute or the XML.
    page = "https://example.com/posts/a--b/?x=1&y=2"
    title = 'He said "hi" -- <b>& bye</b> -->'
    html = page_with(snippet(API, page, title=title))
    comment_bodies = re.findall(r"<!--(.*?)-->", html, re.DOTALL)
    assert all("--" not in body for body in comment_bodies)
    (description,) = trackback_descriptions(html)
    assert description.get(f"{{{RDF}}}about") == page
    assert description.get(f"{{{DC}}}identifier") == page
    assert description.get(f"{{{DC}}}title") == title
    ping = description.get(f"{{{TRACKBACK}}}ping") or ""
    assert "--" not in ping
    assert parse_qs(urlsplit(ping).query) == {"target": [page]}


def test_the_widget_tags_load_the_versioned_script_for_this_page() -> None:
    version = widget_asset.widget().version
    text = snippet(API, PAGE, version=version)
    assert f'<script src="https://abc123.execute-api.eu-west-1.amazonaws.com/widget.js?v={version}" defer>' in text
    assert f'<div data-linkback data-page="{PAGE}"></div>' in text


@pytest.mark.parametrize(
    ("api", "page"),
    [("ftp://api.example/", PAGE), ("/relative", PAGE), (API, "javascript:alert(1)"), (API, "example.com/post")],
)
def test_urls_that_are_not_absolute_http_are_refused(api: str, page: str) -> None:
    with pytest.raises(SnippetError):
        snippet(api, page)


def test_the_command_prints_the_snippet_with_the_current_widget_version(capsys: pytest.CaptureFixture[str]) -> None:
    # When the owner runs `linkback snippet`
    assert main(["snippet", "--api", API, "--page", PAGE, "--title", "Hello"]) == 0
    printed = capsys.readouterr().out
    # Then it is the snippet, with the widget URL of the build this package serves
    assert printed == snippet(API, PAGE, title="Hello", version=widget_asset.widget().version)
    assert (
        discover_webmention(PAGE, page_with(printed)) == "https://abc123.execute-api.eu-west-1.amazonaws.com/webmention"
    )
    assert discover_pingback(printed) == "https://abc123.execute-api.eu-west-1.amazonaws.com/pingback"
