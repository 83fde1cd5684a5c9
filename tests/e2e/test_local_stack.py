"""The local stack driven by real clients over HTTP: what a blogger's software and a reader see."""

from __future__ import annotations

import functools
import xmlrpc.client
from typing import Any
from urllib.parse import quote

import pytest
import requests

from linkback_infra.loopback_site import LoopbackSite, Page

from .conftest import DevStack, alive, start_dev, stop_dev
from .conftest import eventually as wait_until

POST = "https://example.com/posts/hello/"
TRACKBACK_OK = b'<?xml version="1.0" encoding="utf-8"?><response><error>0</error></response>'
WAIT_S = 15


def linking_page(title: str, target: str = POST, blog_name: str = "Ann's blog") -> Page:
    """A small blog post that links to `target`, under its blog's name (what a TrackBack claims)."""
    return (
        200,
        "text/html; charset=utf-8",
        f"<!doctype html><html><head><title>{title}</title></head><body><header>{blog_name}</header><article>"
        f"<h1>{title}</h1><p>Some thoughts first.</p><p>I replied to <a href='{target}'>this post</a> with more.</p>"
        "</article></body></html>",
    )


eventually = functools.partial(wait_until, timeout=WAIT_S)


def feed(stack: DevStack, target: str = POST) -> dict[str, Any]:
    response = requests.get(f"{stack.base_url}/api/mentions.jf2", params={"target": target}, timeout=10)
    assert response.status_code == 200
    return response.json()


def entry_from(stack: DevStack, source: str, target: str = POST) -> dict[str, Any] | None:
    return next((e for e in feed(stack, target)["children"] if e["wm-source"] == source), None)


def records_for(stack: DevStack, source: str) -> list[dict[str, Any]]:
    items = stack.table().scan()["Items"]
    return [item for item in items if item.get("source") == source]  # rate-limit items have none


def test_a_trackback_form_post_ends_up_in_the_jf2_feed(dev_stack: DevStack, source_site: LoopbackSite) -> None:
    # Given a blog post that links to ours
    source_site.pages["/trackback-reply"] = linking_page("A reply by trackback")
    source = source_site.url("/trackback-reply")
    # When its blog software sends a TrackBack ping as a plain form post
    response = requests.post(
        f"{dev_stack.base_url}/trackback?target={quote(POST, safe='')}",
        data={
            "url": source,
            "title": "A reply by trackback",
            "excerpt": "I replied to this post with more.",
            "blog_name": "Ann's blog",
        },
        timeout=10,
    )
    # Then the reply is TrackBack's success document, and the mention appears in the feed once verified
    assert response.status_code == 200
    assert response.headers["Content-Type"].startswith("text/xml")
    assert response.content == TRACKBACK_OK
    entry = eventually(lambda: entry_from(dev_stack, source))
    assert entry is not None, dev_stack.output.read_text()[-3000:]
    assert entry["wm-protocol"] == "trackback"
    assert entry["wm-target"] == POST
    assert entry["name"] == "A reply by trackback"
    assert entry["author"]["name"] == "Ann's blog"
    assert "I replied to this post with more." in entry["content"]["text"]


def test_a_pingback_sent_with_xmlrpc_client_ends_up_in_the_jf2_feed(
    dev_stack: DevStack, source_site: LoopbackSite
) -> None:
    source_site.pages["/pingback-reply"] = linking_page("A reply by pingback")
    source = source_site.url("/pingback-reply")
    server = xmlrpc.client.ServerProxy(f"{dev_stack.base_url}/pingback")

    answer = server.pingback.ping(source, POST)

    assert isinstance(answer, str) and answer
    entry = eventually(lambda: entry_from(dev_stack, source))
    assert entry is not None, dev_stack.output.read_text()[-3000:]
    assert entry["wm-protocol"] == "pingback"
    assert entry["name"] == "A reply by pingback"


def test_a_source_without_the_link_is_rejected_and_never_published(
    dev_stack: DevStack, source_site: LoopbackSite
) -> None:
    source_site.pages["/no-link"] = linking_page("Unrelated", target="https://example.com/another-post/")
    source = source_site.url("/no-link")

    xmlrpc.client.ServerProxy(f"{dev_stack.base_url}/pingback").pingback.ping(source, POST)

    rejected = eventually(lambda: [r for r in records_for(dev_stack, source) if r["status"] == "rejected"])
    assert rejected, records_for(dev_stack, source)
    assert rejected[0]["status_reason"] == "the source does not link to the target"
    assert source_site.hits["/no-link"] == 1
    assert entry_from(dev_stack, source) is None


def test_a_duplicate_pingback_gets_fault_48_and_leaves_one_record(
    dev_stack: DevStack, source_site: LoopbackSite
) -> None:
    source_site.pages["/twice"] = linking_page("Sent twice")
    source = source_site.url("/twice")
    server = xmlrpc.client.ServerProxy(f"{dev_stack.base_url}/pingback")
    server.pingback.ping(source, POST)

    with pytest.raises(xmlrpc.client.Fault) as fault:
        server.pingback.ping(source + "#again", "https://EXAMPLE.com:443/posts/hello/")

    assert fault.value.faultCode == 48
    assert len(records_for(dev_stack, source)) == 1


def test_a_pingback_for_a_target_outside_the_sites_gets_fault_33(dev_stack: DevStack) -> None:
    server = xmlrpc.client.ServerProxy(f"{dev_stack.base_url}/pingback")

    with pytest.raises(xmlrpc.client.Fault) as fault:
        server.pingback.ping("https://elsewhere.example.net/post", "https://not-ours.example.net/post")

    assert fault.value.faultCode == 33


def test_a_trackback_for_a_target_outside_the_sites_is_an_error_document(dev_stack: DevStack) -> None:
    response = requests.post(
        f"{dev_stack.base_url}/trackback",
        params={"target": "https://not-ours.example.net/post"},
        data={"url": "https://elsewhere.example.net/post"},
        timeout=10,
    )

    assert response.status_code == 200
    assert response.content == (
        b'<?xml version="1.0" encoding="utf-8"?><response><error>1</error><message>the target is not on a site '
        b"this endpoint receives mentions for</message></response>"
    )


def test_the_trackback_url_opened_in_a_browser_explains_itself(dev_stack: DevStack) -> None:
    response = requests.get(f"{dev_stack.base_url}/trackback", params={"target": POST}, timeout=10)

    assert response.status_code == 200
    assert response.headers["Content-Type"].startswith("text/html")
    assert "TrackBack" in response.text


def test_the_feed_is_cacheable_and_answers_304_when_unchanged(dev_stack: DevStack) -> None:
    first = requests.get(f"{dev_stack.base_url}/api/count", params={"target": POST}, timeout=10)
    again = requests.get(
        f"{dev_stack.base_url}/api/count",
        params={"target": POST},
        headers={"If-None-Match": first.headers["ETag"]},
        timeout=10,
    )

    assert first.status_code == 200
    assert first.headers["Access-Control-Allow-Origin"] == "*"
    assert "s-maxage" in first.headers["Cache-Control"]
    assert set(first.json()) == {"count", "type"}
    assert again.status_code == 304
    assert again.content == b""


def test_an_unknown_route_is_404_like_api_gateway(dev_stack: DevStack) -> None:
    response = requests.get(f"{dev_stack.base_url}/nothing-here", timeout=10)

    assert response.status_code == 404
    assert response.json() == {"message": "Not Found"}


def test_sigterm_stops_the_stack_and_every_process_it_started(tmp_path) -> None:  # type: ignore[no-untyped-def]
    stack = start_dev(tmp_path)
    assert len(stack.children) >= 2  # DynamoDB Local and the SQS server

    code = stop_dev(stack)

    assert code == 0
    assert "linkback dev: stopped" in stack.output.read_text()
    assert not [pid for pid in stack.children if alive(pid)]


def test_linkback_dlq_list_and_redrive_find_the_running_stack(dev_stack: DevStack) -> None:
    import subprocess
    import sys

    data_dir = str(dev_stack.output.parent / "data")
    listed = subprocess.run(
        [sys.executable, "-m", "linkback_infra.cli", "dlq", "list", "--data-dir", data_dir],
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
    )
    moved = subprocess.run(
        [sys.executable, "-m", "linkback_infra.cli", "dlq", "redrive", "--data-dir", data_dir],
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
    )

    assert "message(s) in the dead-letter queue" in listed.stdout
    assert moved.stdout.startswith("moved ")
