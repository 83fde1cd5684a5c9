"""webmention.js, unchanged, renders the mentions our stack serves: a drop-in replacement for webmention.io.

webmention.js (npm `webmention.js`, pinned in package.json) always asks
`https://webmention.io/api/mentions.jf2?per-page=30&sort-by=published&sort-dir=up&target[]=http:…&target[]=https:…`
and has no option for another endpoint. A site points it at linkback with a few lines of script before it
(`FETCH_SHIM`), which is what this page does; the browser then really fetches our API, cross-origin.
"""

from __future__ import annotations

import functools
import xmlrpc.client
from pathlib import Path
from urllib.parse import parse_qs, quote, urlsplit

import pytest
import requests
from playwright.sync_api import Page, Request, Response, Route, expect

from linkback_infra.loopback_site import LoopbackSite

from ..e2e.conftest import DevStack
from ..e2e.conftest import eventually as wait_until
from .conftest import NEEDS_CHROMIUM

pytestmark = [pytest.mark.browser, NEEDS_CHROMIUM]

POST = "https://example.com/posts/hello/"
WAIT_S = 20
PACKAGE = Path(__file__).resolve().parents[2] / "node_modules" / "webmention.js" / "static"

# What a site puts before webmention.js to send its request to linkback instead of webmention.io.
FETCH_SHIM = """
(function (api) {
  var fetch = window.fetch.bind(window);
  window.fetch = function (resource, options) {
    if (typeof resource === "string" && resource.indexOf("https://webmention.io/api/") === 0) {
      resource = api + resource.slice("https://webmention.io".length);
    }
    return fetch(resource, options);
  };
})(%s);
"""


def linking_page(title: str, target: str = POST) -> tuple[int, str, str]:
    return (
        200,
        "text/html; charset=utf-8",
        f"<!doctype html><html><head><title>{title}</title></head><body><article><h1>{title}</h1>"
        f"<p>I replied to <a href='{target}'>this post</a> with more.</p></article></body></html>",
    )


def post_page(api_base: str, post: str) -> str:
    """The static post as a site using webmention.js shows it, reading mentions from `api_base`."""
    shim = FETCH_SHIM % f'"{api_base}"'
    return (
        "<!doctype html><html lang='en'><head><meta charset='utf-8'><title>Hello</title>"
        "<link rel='icon' href='data:,'><link rel='stylesheet' href='/webmention.css'>"
        f"<script>{shim}</script>"
        f"<script src='/webmention.min.js' data-page-url='{post}' async></script>"
        "</head><body><article><h1>Hello</h1><p>A post on a static site.</p></article>"
        "<section id='webmentions'></section></body></html>"
    )


eventually = functools.partial(wait_until, timeout=WAIT_S)


def feed_sources(stack: DevStack, target: str = POST) -> set[str]:
    response = requests.get(f"{stack.base_url}/api/mentions.jf2", params={"target": target}, timeout=10)
    assert response.status_code == 200, response.text
    return {entry["wm-source"] for entry in response.json()["children"]}


def rendered_comments(page: Page) -> list[dict[str, str]]:
    return page.eval_on_selector_all(
        "#webmentions ul.comments > li",
        """items => items.map(li => ({
            who: li.querySelector("a.source").textContent.trim(),
            href: li.querySelector("a.source").getAttribute("href"),
            name: li.querySelector("span.name").textContent.trim(),
            reaction: li.querySelector("a.reaction").getAttribute("title").trim(),
            reaction_href: li.querySelector("a.reaction").getAttribute("href"),
        }))""",
    )


def send_trackback(stack: DevStack, source: str, blog_name: str, target: str = POST) -> None:
    sent = requests.post(
        f"{stack.base_url}/trackback?target={quote(target, safe='')}",
        data={"url": source, "title": "Sent title", "blog_name": blog_name},
        timeout=10,
    )
    assert sent.status_code == 200 and b"<error>0</error>" in sent.content, sent.text


def open_post(page: Page, blog_site: LoopbackSite, stack: DevStack, post: str = POST) -> Response:
    """Serve `post` with webmention.js on `blog_site`, open it, and return our API's answer to its request."""
    path = urlsplit(post).path
    blog_site.pages[path] = (200, "text/html; charset=utf-8", post_page(stack.base_url, post))
    blog_site.pages["/webmention.min.js"] = (
        200,
        "text/javascript; charset=utf-8",
        (PACKAGE / "webmention.min.js").read_bytes(),
    )
    blog_site.pages["/webmention.css"] = (200, "text/css; charset=utf-8", (PACKAGE / "webmention.css").read_bytes())

    off_loopback: list[str] = []

    def loopback_only(route: Route, request: Request) -> None:
        if urlsplit(request.url).hostname == "127.0.0.1":
            route.continue_()
        else:
            off_loopback.append(request.url)
            route.abort()

    page.route("**/*", loopback_only)
    with page.expect_response(lambda r: "/api/mentions.jf2" in r.url, timeout=WAIT_S * 1000) as answer:
        page.goto(blog_site.url(path), timeout=WAIT_S * 1000)
    response = answer.value
    assert off_loopback == []
    assert response.url.startswith(f"{stack.base_url}/api/mentions.jf2?")
    assert response.status == 200, f"{response.url} answered {response.status}: {response.text()}"
    return response


def test_webmention_js_renders_a_trackback_and_a_pingback_from_our_feed(
    browser_stack: DevStack, source_site: LoopbackSite, blog_site: LoopbackSite, page: Page, tmp_path: Path
) -> None:
    # Given a TrackBack and then a Pingback for the post, both verified and in our feed
    source_site.pages["/by-trackback"] = linking_page("Ann answers by TrackBack")
    source_site.pages["/by-pingback"] = linking_page("Bo answers by Pingback")
    by_trackback, by_pingback = source_site.url("/by-trackback"), source_site.url("/by-pingback")
    send_trackback(browser_stack, by_trackback, "Ann's blog")
    assert eventually(lambda: by_trackback in feed_sources(browser_stack)), browser_stack.output.read_text()[-3000:]
    xmlrpc.client.ServerProxy(f"{browser_stack.base_url}/pingback").pingback.ping(by_pingback, POST)
    assert eventually(lambda: by_pingback in feed_sources(browser_stack)), browser_stack.output.read_text()[-3000:]
    problems: list[str] = []
    page.on("pageerror", lambda error: problems.append(f"page error: {error}"))
    page.on("console", lambda message: problems.append(message.text) if message.type == "error" else None)

    # When a reader opens the post's page, with webmention.js from npm as it is published
    response = open_post(page, blog_site, browser_stack)

    # Then webmention.js asked our API (not webmention.io) with its usual parameters, and got the feed
    assert parse_qs(urlsplit(response.url).query) == {
        "per-page": ["30"],
        "sort-by": ["published"],
        "sort-dir": ["up"],
        "target[]": ["http://example.com/posts/hello/", POST],
    }
    # and it shows both mentions under "Responses", oldest first, as it renders a jf2 mention-of entry
    expect(page.locator("#webmentions ul.comments > li")).to_have_count(2, timeout=WAIT_S * 1000)
    page.screenshot(path=str(tmp_path / "webmention-js.png"), full_page=True)
    assert page.locator("#webmentions h2").all_inner_texts() == ["Responses"]
    pingback_host = f"127.0.0.1:{source_site.port}"  # no author name: webmention.js shows the url's host
    assert rendered_comments(page) == [
        {
            "who": "Ann's blog",
            "href": by_trackback,
            "name": "Ann answers by TrackBack",
            "reaction": "Ann's blog mentioned",
            "reaction_href": by_trackback,
        },
        {
            "who": pingback_host,
            "href": by_pingback,
            "name": "Bo answers by Pingback",
            "reaction": f"{pingback_host} mentioned",
            "reaction_href": by_pingback,
        },
    ]
    assert problems == []


def test_a_source_url_cannot_inject_attributes_into_the_markup_webmention_js_builds(
    browser_stack: DevStack, source_site: LoopbackSite, blog_site: LoopbackSite, page: Page
) -> None:
    # webmention.js escapes names and text, but writes `url` into href="..." as it is: a `"` in a
    # source URL would close the attribute and add the sender's own (an event handler) to the reader's page.
    post = "https://example.com/posts/hostile/"
    source_site.fallback = lambda path: linking_page("Hostile", post) if path.startswith("/hostile") else None
    hostile = source_site.url('/hostile"onmouseover="window.injected=1')
    send_trackback(browser_stack, hostile, "Mallory", post)
    assert eventually(lambda: feed_sources(browser_stack, post)), browser_stack.output.read_text()[-3000:]

    open_post(page, blog_site, browser_stack, post)

    links = page.locator("#webmentions ul.comments > li a")
    expect(links).to_have_count(2, timeout=WAIT_S * 1000)  # the reaction icon and the author's name
    for index in range(2):
        links.nth(index).hover()
    attributes = links.evaluate_all("links => links.map(a => a.getAttributeNames().sort())")
    assert page.evaluate("window.injected") is None, f"hovering ran the sender's script: {attributes}"
    assert attributes == [["class", "href", "rel", "title"], ["class", "href", "rel"]]
    assert all('"' not in href for href in links.evaluate_all("links => links.map(a => a.getAttribute('href'))"))
