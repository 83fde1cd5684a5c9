"""W3C Webmention against the local stack over HTTP: the receiver's requirements (§3.2) as a sender
and a reader see them — 400s that explain, 201 + a status URL, asynchronous verification, updates and
deletes on re-send — and real-looking source pages from tests/fixtures/sources/."""

from __future__ import annotations

import functools
import threading
import xmlrpc.client
from pathlib import Path
from typing import Any
from urllib.parse import quote

import pytest
import requests

from linkback_infra.loopback_site import LoopbackSite, Page

from .conftest import DevStack
from .conftest import eventually as wait_until

WAIT_S = 15  # the longest any test waits for the stack to verify something
HTML = "text/html; charset=utf-8"
FIXTURES = Path(__file__).resolve().parent.parent / "fixtures" / "sources"
# The post most fixture pages link to, and the photo one of them shows.
FIXTURE_POST = "https://example.com/2024/05/static-comments/"
FIXTURE_PHOTO = "https://example.com/photos/harbour-sunset.jpg"
FINAL = frozenset({"approved", "pending", "rejected", "deleted"})


# --------------------------------------------------------------------------- helpers


def page(title: str, target: str | None) -> Page:
    """A small blog post; it links to `target` when one is given."""
    link = f'<p>I wrote about <a href="{target}">this post</a> today.</p>' if target else "<p>No links here.</p>"
    return (
        200,
        HTML,
        f"<!doctype html><html><head><title>{title}</title></head><body><article>"
        f"<p>Some thoughts first.</p>{link}</article></body></html>",
    )


def fixture_page(name: str) -> Page:
    return 200, HTML, (FIXTURES / name).read_text(encoding="utf-8")


def send(stack: DevStack, source: str, target: str) -> requests.Response:
    return requests.post(f"{stack.base_url}/webmention", data={"source": source, "target": target}, timeout=10)


def sent(stack: DevStack, source: str, target: str) -> str:
    """Send a webmention that must be accepted; its status URL."""
    response = send(stack, source, target)
    assert response.status_code == 201, response.text
    return response.headers["Location"]


def status_of(location: str) -> dict[str, Any]:
    response = requests.get(location, timeout=10)
    assert response.status_code == 200, response.text
    assert response.headers["Content-Type"].startswith("application/json")
    return response.json()


eventually = functools.partial(wait_until, timeout=WAIT_S)


def settled(stack: DevStack, location: str, expected: str | None = None) -> dict[str, Any]:
    """The status document once verification has reached `expected` (or any final status)."""
    wanted = {expected} if expected else FINAL
    document = eventually(lambda: (d := status_of(location))["status"] in wanted and d)
    assert document, f"still {status_of(location)['status']} after {WAIT_S} s:\n{stack.output.read_text()[-3000:]}"
    return document


def feed(stack: DevStack, target: str) -> list[dict[str, Any]]:
    response = requests.get(f"{stack.base_url}/api/mentions.jf2", params={"target": target}, timeout=10)
    assert response.status_code == 200
    document = response.json()
    assert (document["type"], document["name"]) == ("feed", "Webmentions")
    return document["children"]


def entries_from(stack: DevStack, source: str, target: str) -> list[dict[str, Any]]:
    return [entry for entry in feed(stack, target) if entry["wm-source"] == source]


def count(stack: DevStack, target: str) -> int:
    response = requests.get(f"{stack.base_url}/api/count", params={"target": target}, timeout=10)
    assert response.status_code == 200
    return response.json()["count"]


def records_with_source(stack: DevStack, source: str) -> list[dict[str, Any]]:
    return [item for item in stack.table().scan()["Items"] if item.get("source") == source]


def post_url(name: str) -> str:
    """A post of ours that only one test mentions, so its feed and count are that test's alone."""
    return f"https://example.com/posts/{name}/"


def assert_explained_400(response: requests.Response, *words: str) -> None:
    assert response.status_code == 400, response.text
    assert response.headers["Content-Type"].startswith("text/plain")
    for word in words:
        assert word in response.text, response.text


# --------------------------------------------------------------------------- 400 Bad Request

ELSEWHERE = "https://elsewhere.example.net/2024/05/a-post/"
OURS = post_url("refusals")


@pytest.mark.parametrize(
    ("fields", "words"),
    [
        ({"target": OURS}, ["source", "missing"]),
        ({"source": ELSEWHERE}, ["target", "missing"]),
        ({"source": "", "target": OURS}, ["source", "missing"]),
        ({"source": "not a url", "target": OURS}, ["source", "not a usable URL"]),
        ({"source": "https://", "target": OURS}, ["source", "not a usable URL"]),
        ({"source": ELSEWHERE, "target": "example.com/posts/refusals/"}, ["target", "not a usable URL"]),
        ({"source": "ftp://elsewhere.example.net/post.txt", "target": OURS}, ["source", "http"]),
        ({"source": "javascript:alert(document.cookie)", "target": OURS}, ["source", "http"]),
        ({"source": ELSEWHERE, "target": "javascript:alert(1)//https://example.com/"}, ["target", "http"]),
        ({"source": ELSEWHERE, "target": "ftp://example.com/posts/refusals/"}, ["target", "http"]),
        ({"source": "https://user:secret@elsewhere.example.net/", "target": OURS}, ["source", "password"]),
        ({"source": OURS, "target": OURS}, ["same URL"]),
        ({"source": OURS + "#comments", "target": OURS}, ["same URL"]),
        ({"source": "HTTPS://Example.COM:443/posts/./refusals/", "target": OURS}, ["same URL"]),
        ({"source": ELSEWHERE, "target": "https://not-ours.example.net/post"}, ["not on a site"]),
        ({"source": ELSEWHERE, "target": "http://example.com/posts/refusals/"}, ["not on a site"]),
        ({"source": ELSEWHERE, "target": "https://example.com.evil.example.net/posts/"}, ["not on a site"]),
        ({"source": ELSEWHERE, "target": "https://www.example.com/posts/refusals/"}, ["not on a site"]),
    ],
    ids=[
        "missing-source",
        "missing-target",
        "empty-source",
        "source-not-a-url",
        "source-without-host",
        "target-without-scheme",
        "ftp-source",
        "javascript-source",
        "javascript-target",
        "ftp-target",
        "source-with-userinfo",
        "source-is-target",
        "source-is-target-but-for-the-fragment",
        "source-is-target-after-normalisation",
        "target-not-on-our-sites",
        "target-on-our-host-over-http",
        "target-on-a-lookalike-host",
        "target-on-a-subdomain",
    ],
)
def test_an_invalid_webmention_is_a_400_with_a_plain_text_explanation(
    dev_stack: DevStack, fields: dict[str, str], words: list[str]
) -> None:
    response = requests.post(f"{dev_stack.base_url}/webmention", data=fields, timeout=10)

    assert_explained_400(response, *words)
    assert "Location" not in response.headers
    if fields.get("source"):
        assert records_with_source(dev_stack, fields["source"]) == []


def test_a_json_body_is_a_400_that_names_the_form_encoding(dev_stack: DevStack) -> None:
    response = requests.post(f"{dev_stack.base_url}/webmention", json={"source": ELSEWHERE, "target": OURS}, timeout=10)

    assert_explained_400(response, "application/x-www-form-urlencoded")


def test_a_form_that_is_not_utf8_is_a_400(dev_stack: DevStack) -> None:
    response = requests.post(
        f"{dev_stack.base_url}/webmention",
        data=b"source=https://elsewhere.example.net/caf%E9/&target=" + OURS.encode(),
        headers={"Content-Type": "application/x-www-form-urlencoded"},
        timeout=10,
    )

    assert_explained_400(response, "UTF-8")


def test_an_oversized_body_is_a_413(dev_stack: DevStack) -> None:
    response = requests.post(
        f"{dev_stack.base_url}/webmention",
        data={"source": ELSEWHERE, "target": OURS, "padding": "x" * 20_000},
        timeout=10,
    )

    assert response.status_code == 413
    assert response.headers["Content-Type"].startswith("text/plain")


# --------------------------------------------------------------------------- 201 and the status URL


def test_a_webmention_is_201_with_a_status_url_that_goes_from_queued_to_approved(
    dev_stack: DevStack, source_site: LoopbackSite
) -> None:
    # Given a post that links to ours, whose server we hold until we have looked at the status once
    target = post_url("status-url")
    source_site.pages["/reply"] = page("A reply", target)
    release = threading.Event()
    source_site.on_request = lambda _path: release.wait(timeout=WAIT_S)
    source = source_site.url("/reply")
    try:
        # When its author's software sends a webmention
        response = send(dev_stack, source, target)
        # Then the reply is 201 Created with the status URL in Location, and the body says so
        assert response.status_code == 201, response.text
        location = response.headers["Location"]
        assert location.startswith(f"{dev_stack.base_url}/webmention/status/")
        assert location in response.text
        # And while the verifier is still fetching the source, the status is "queued"
        assert eventually(lambda: source_site.hits["/reply"] >= 1), "the verifier never fetched the source"
        queued = status_of(location)
        assert (queued["status"], queued["verified"], queued["public"]) == ("queued", False, False)
        assert (queued["source"], queued["target"], queued["protocol"]) == (source, target, "webmention")
    finally:
        release.set()
    # And once the source has answered, the same URL says "approved"
    approved = settled(dev_stack, location, "approved")
    assert (approved["verified"], approved["public"]) == (True, True)
    assert approved["id"] == location.rsplit("/", 1)[1]
    assert approved["verified_at"] is not None
    assert requests.get(location, timeout=10).headers["Cache-Control"] == "no-store"


def test_a_verified_webmention_is_in_the_jf2_feed_as_a_webmention(
    dev_stack: DevStack, source_site: LoopbackSite
) -> None:
    target = post_url("in-the-feed")
    source_site.pages["/post"] = page("Thoughts on in-the-feed", target)
    source = source_site.url("/post")

    settled(dev_stack, sent(dev_stack, source, target), "approved")

    (entry,) = feed(dev_stack, target)
    assert entry["wm-protocol"] == "webmention"
    assert (entry["wm-source"], entry["wm-target"], entry["url"]) == (source, target, source)
    assert entry["wm-property"] == "mention-of"
    assert entry["name"] == "Thoughts on in-the-feed"
    assert "I wrote about this post today." in entry["content"]["text"]
    assert count(dev_stack, target) == 1


def test_a_target_on_the_second_configured_site_is_accepted(dev_stack: DevStack, source_site: LoopbackSite) -> None:
    target = "https://blog.example.org/2024/05/second-site/"
    source_site.pages["/post"] = page("About the second site", target)

    settled(dev_stack, sent(dev_stack, source_site.url("/post"), target), "approved")

    assert [entry["wm-source"] for entry in feed(dev_stack, target)] == [source_site.url("/post")]


def test_a_fragment_on_the_target_is_ignored(dev_stack: DevStack, source_site: LoopbackSite) -> None:
    # Given a post that links to ours, once with and once without a fragment
    target = post_url("fragments")
    source_site.pages["/post"] = page("Fragments", target + "#comments")
    source = source_site.url("/post")
    # When it is sent with the fragment, and again without it
    with_fragment = sent(dev_stack, source, target + "#comments")
    settled(dev_stack, with_fragment, "approved")
    without = sent(dev_stack, source, target)
    # Then both name the same mention, stored once for the target without its fragment
    assert without == with_fragment
    assert [record["target"] for record in records_with_source(dev_stack, source)] == [target]
    settled(dev_stack, without, "approved")
    assert [entry["wm-target"] for entry in feed(dev_stack, target)] == [target]


def test_a_target_written_differently_is_the_same_mention(dev_stack: DevStack, source_site: LoopbackSite) -> None:
    target = post_url("spellings")
    source_site.pages["/post"] = page("Spellings", target)
    source = source_site.url("/post")

    locations = set()
    for spelling in (target, "HTTPS://Example.COM:443/posts/spellings/", "https://example.com/posts/./spellings/"):
        # One verification at a time: a re-send racing the verifier is the xfail in
        # tests/integration/test_deletes_and_recheck.py.
        location = sent(dev_stack, source, spelling)
        settled(dev_stack, location, "approved")
        locations.add(location)

    assert len(locations) == 1
    assert [record["target"] for record in records_with_source(dev_stack, source)] == [target]
    assert [entry["wm-target"] for entry in feed(dev_stack, target)] == [target]


def test_a_relative_link_is_resolved_against_the_pages_base_url(dev_stack: DevStack, source_site: LoopbackSite) -> None:
    # The page is served from 127.0.0.1 but declares <base href="https://example.com/"> and links
    # to "/2024/05/static-comments/".
    source_site.pages["/mirror"] = fixture_page("relative-link-with-base.html")
    source = source_site.url("/mirror")

    document = settled(dev_stack, sent(dev_stack, source, FIXTURE_POST))

    assert document["status"] == "approved", document
    (entry,) = entries_from(dev_stack, source, FIXTURE_POST)
    assert entry["name"] == "Notes mirrored from example.com"


def test_a_relative_link_without_a_base_is_a_link_to_the_sources_own_site(
    dev_stack: DevStack, source_site: LoopbackSite
) -> None:
    # "/posts/relative/" on a page of 127.0.0.1 is 127.0.0.1's own page, not ours.
    target = post_url("relative")
    source_site.pages["/post"] = (200, HTML, '<p>See <a href="/posts/relative/">my post</a>.</p>')

    document = settled(dev_stack, sent(dev_stack, source_site.url("/post"), target))

    assert (document["status"], document["reason"]) == ("rejected", "the source does not link to the target")


# --------------------------------------------------------------------------- updates and deletes


def test_a_re_send_updates_the_mention(dev_stack: DevStack, source_site: LoopbackSite) -> None:
    # Given an approved webmention
    target = post_url("updates")
    source_site.pages["/post"] = page("First title", target)
    source = source_site.url("/post")
    location = sent(dev_stack, source, target)
    settled(dev_stack, location, "approved")
    assert [entry["name"] for entry in feed(dev_stack, target)] == ["First title"]
    # When the page is edited and the webmention sent again
    source_site.pages["/post"] = page("Second title, edited", target)
    again = send(dev_stack, source, target)
    # Then the same status URL is returned, and the feed shows the new title in the one entry
    assert (again.status_code, again.headers["Location"]) == (201, location)
    names = eventually(lambda: (n := [e["name"] for e in feed(dev_stack, target)]) == ["Second title, edited"] and n)
    assert names, feed(dev_stack, target)
    assert source_site.hits["/post"] == 2
    assert len(records_with_source(dev_stack, source)) == 1
    assert count(dev_stack, target) == 1


def test_a_rejected_mention_is_approved_when_re_sent_after_the_link_was_added(
    dev_stack: DevStack, source_site: LoopbackSite
) -> None:
    target = post_url("link-added-later")
    source_site.pages["/draft"] = page("Draft", None)
    source = source_site.url("/draft")
    location = sent(dev_stack, source, target)
    assert settled(dev_stack, location)["status"] == "rejected"

    source_site.pages["/draft"] = page("Published, with the link", target)
    assert send(dev_stack, source, target).headers["Location"] == location

    document = settled(dev_stack, location, "approved")
    assert document["reason"] == "the source links to the target"
    assert [entry["name"] for entry in feed(dev_stack, target)] == ["Published, with the link"]


def approved_mention(stack: DevStack, site: LoopbackSite, path: str, target: str) -> tuple[str, str]:
    """A webmention from `path` that the stack has verified and published: (source, status URL)."""
    site.pages[path] = page(f"Post at {path}", target)
    source = site.url(path)
    location = sent(stack, source, target)
    settled(stack, location, "approved")
    assert [entry["wm-source"] for entry in feed(stack, target)] == [source]
    assert count(stack, target) == 1
    return source, location


def test_a_source_that_answers_410_deletes_the_mention_on_re_send(
    dev_stack: DevStack, source_site: LoopbackSite
) -> None:
    # Given an approved webmention
    target = post_url("gone-410")
    source, location = approved_mention(dev_stack, source_site, "/post", target)
    # When its page is deleted (410 Gone) and the webmention sent again
    source_site.pages["/post"] = (410, HTML, "<p>This post was deleted.</p>")
    assert send(dev_stack, source, target).status_code == 201
    # Then it is deleted by its source and no longer public
    document = settled(dev_stack, location, "deleted")
    assert document["deleted_by"] == "source"
    assert document["deleted"] is not None
    assert (document["verified"], document["public"]) == (False, False)
    assert "410" in document["reason"]
    assert feed(dev_stack, target) == []
    assert count(dev_stack, target) == 0


def test_a_source_that_no_longer_links_deletes_the_mention_on_re_send(
    dev_stack: DevStack, source_site: LoopbackSite
) -> None:
    target = post_url("link-removed")
    source, location = approved_mention(dev_stack, source_site, "/post", target)
    source_site.pages["/post"] = page("Edited, the link is gone", None)

    assert send(dev_stack, source, target).status_code == 201

    document = settled(dev_stack, location, "deleted")
    assert document["deleted_by"] == "source"
    assert document["reason"] == "the source no longer links to the target"
    assert feed(dev_stack, target) == []
    assert count(dev_stack, target) == 0


def test_a_mention_its_source_deleted_comes_back_when_the_link_does(
    dev_stack: DevStack, source_site: LoopbackSite
) -> None:
    # Given a webmention its source deleted by dropping the link
    target = post_url("comes-back")
    source, location = approved_mention(dev_stack, source_site, "/post", target)
    source_site.pages["/post"] = page("Link dropped", None)
    send(dev_stack, source, target)
    settled(dev_stack, location, "deleted")
    assert feed(dev_stack, target) == []
    # When the link is put back and the webmention sent again
    source_site.pages["/post"] = page("Link restored", target)
    again = send(dev_stack, source, target)
    # Then it is approved and public again, as the same mention
    assert (again.status_code, again.headers["Location"]) == (201, location)
    document = settled(dev_stack, location, "approved")
    assert "deleted_by" not in document
    assert [(e["wm-source"], e["name"]) for e in feed(dev_stack, target)] == [(source, "Link restored")]
    assert count(dev_stack, target) == 1
    assert len(records_with_source(dev_stack, source)) == 1


def test_a_webmention_whose_source_never_linked_is_rejected_not_deleted(
    dev_stack: DevStack, source_site: LoopbackSite
) -> None:
    target = post_url("never-linked")
    source_site.pages["/gone"] = (410, HTML, "<p>Gone.</p>")

    document = settled(dev_stack, sent(dev_stack, source_site.url("/gone"), target))

    assert document["status"] == "rejected"
    assert document["reason"] == "the source answered 410"
    assert "deleted_by" not in document


# --------------------------------------------------------------------------- all three protocols


def test_mentions_by_all_three_protocols_share_one_feed(dev_stack: DevStack, source_site: LoopbackSite) -> None:
    # Given three posts linking to the same post of ours
    target = post_url("three-protocols")
    for path in ("/by-trackback", "/by-pingback", "/by-webmention"):
        source_site.pages[path] = page(f"Post {path}", target)
    # When each is announced by a different protocol
    trackback = requests.post(
        f"{dev_stack.base_url}/trackback?target={quote(target, safe='')}",
        data={"url": source_site.url("/by-trackback"), "title": "Post /by-trackback"},
        timeout=10,
    )
    assert b"<error>0</error>" in trackback.content
    xmlrpc.client.ServerProxy(f"{dev_stack.base_url}/pingback").pingback.ping(source_site.url("/by-pingback"), target)
    sent(dev_stack, source_site.url("/by-webmention"), target)
    # Then one feed shows all three, each with its protocol
    protocols = eventually(lambda: len(entries := feed(dev_stack, target)) == 3 and entries)
    assert protocols, feed(dev_stack, target)
    assert {(entry["wm-source"], entry["wm-protocol"]) for entry in protocols} == {
        (source_site.url("/by-trackback"), "trackback"),
        (source_site.url("/by-pingback"), "pingback"),
        (source_site.url("/by-webmention"), "webmention"),
    }
    assert {entry["wm-target"] for entry in protocols} == {target}
    assert count(dev_stack, target) == 3


# --------------------------------------------------------------------------- the status URL


@pytest.mark.parametrize(
    "mention_id",
    ["0" * 32, "ffffffffffffffffffffffffffffffff", "not-an-id", "x" * 65],
    ids=["zeros", "all-f", "not-alphanumeric", "too-long"],
)
def test_the_status_of_an_unknown_mention_is_a_404_in_json(dev_stack: DevStack, mention_id: str) -> None:
    response = requests.get(f"{dev_stack.base_url}/webmention/status/{mention_id}", timeout=10)

    assert response.status_code == 404
    assert response.headers["Content-Type"].startswith("application/json")
    assert response.json() == {"error": "no such mention"}


# --------------------------------------------------------------------------- real-looking source pages


@pytest.mark.parametrize(
    ("fixture", "target", "wm_property", "author"),
    [
        ("h-entry-reply.html", FIXTURE_POST, "in-reply-to", "Ann Example"),
        ("like.html", FIXTURE_POST, "like-of", "Bo Liker"),
        ("repost.html", FIXTURE_POST, "repost-of", "Cy Reposter"),
        ("plain-blog-post.html", FIXTURE_POST, "mention-of", None),
        ("link-only-in-image.html", FIXTURE_PHOTO, "mention-of", None),
    ],
    ids=["reply", "like", "repost", "plain-post", "image"],
)
def test_a_page_that_links_is_published_as_what_its_markup_says_it_is(
    dev_stack: DevStack,
    source_site: LoopbackSite,
    fixture: str,
    target: str,
    wm_property: str,
    author: str | None,
) -> None:
    source_site.pages["/" + fixture] = fixture_page(fixture)
    source = source_site.url("/" + fixture)

    document = settled(dev_stack, sent(dev_stack, source, target))

    assert document["status"] == "approved", document
    assert document["wm-property"] == wm_property
    (entry,) = entries_from(dev_stack, source, target)
    assert entry["wm-protocol"] == "webmention"
    assert entry["wm-property"] == wm_property
    assert entry[wm_property] == target
    if author is not None:
        assert entry["author"]["name"] == author


@pytest.mark.parametrize("fixture", ["link-only-in-comment.html", "link-only-as-escaped-text.html"])
def test_a_page_that_only_mentions_the_url_without_linking_is_rejected(
    dev_stack: DevStack, source_site: LoopbackSite, fixture: str
) -> None:
    source_site.pages["/" + fixture] = fixture_page(fixture)
    source = source_site.url("/" + fixture)
    assert FIXTURE_POST in source_site.pages["/" + fixture][2]  # the URL is on the page, only not as a link

    document = settled(dev_stack, sent(dev_stack, source, FIXTURE_POST))

    assert (document["status"], document["reason"]) == ("rejected", "the source does not link to the target")
    assert (document["verified"], document["public"]) == (False, False)
    assert entries_from(dev_stack, source, FIXTURE_POST) == []
