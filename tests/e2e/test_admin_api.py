"""The owner's side of the local stack over HTTP: the authenticated admin API, the mail announcing a held
mention with its one-click links, and the signed webhook with its retries.

The stack runs in manual moderation mode, so every verified mention is held and announced; a loopback
receiver stands in for the owner's webhook endpoint and fails on request.
"""

from __future__ import annotations

import functools
import json
import re
import threading
import time
from collections.abc import Iterator
from html import unescape
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest
import requests

from linkback.moderation import oneclick
from linkback.notify import webhook as signing
from linkback_infra.loopback_site import LoopbackSite

from .conftest import DevStack, start_dev, stop_dev
from .conftest import eventually as wait_until

WAIT_S = 20
HTML = "text/html; charset=utf-8"


class WebhookReceiver:
    """The owner's webhook endpoint: records every delivery; answers 500 to a mention whose source
    contains a key of `failures`, as many times as its value says."""

    def __init__(self) -> None:
        self.deliveries: list[tuple[dict[str, str], bytes, int]] = []
        self.failures: dict[str, int] = {}
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, format: str, *args: Any) -> None:
                pass

            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
                source = json.loads(body)["mention"]["source"]
                failing = next((key for key, left in receiver.failures.items() if key in source and left > 0), None)
                status = 500 if failing else 204
                if failing:
                    receiver.failures[failing] -= 1
                receiver.deliveries.append(({k.lower(): v for k, v in self.headers.items()}, body, status))
                self.send_response(status)
                self.send_header("Content-Length", "0")
                self.end_headers()

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server.server_address[1]}/hooks/linkback"

    def for_mention(self, mention_id: str) -> list[tuple[dict[str, str], bytes, int]]:
        return [d for d in self.deliveries if json.loads(d[1])["mention"]["id"] == mention_id]

    def stop(self) -> None:
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture(scope="module")
def webhook() -> Iterator[WebhookReceiver]:
    receiver = WebhookReceiver()
    yield receiver
    receiver.stop()


@pytest.fixture(scope="module")
def stack(tmp_path_factory: pytest.TempPathFactory, webhook: WebhookReceiver) -> Iterator[DevStack]:
    started = start_dev(
        tmp_path_factory.mktemp("admin"),
        "--moderation",
        "manual",
        "--parameter",
        f"WebhookUrl={webhook.url}",
        "--parameter",
        "WebhookRetrySeconds=1",
    )
    yield started
    stop_dev(started)


@pytest.fixture(scope="module")
def site() -> Iterator[LoopbackSite]:
    pages = LoopbackSite()
    yield pages
    pages.stop()


eventually = functools.partial(wait_until, timeout=WAIT_S)


def held_mention(stack: DevStack, site: LoopbackSite, name: str) -> dict[str, Any]:
    """A webmention from a page that really links, verified and held (manual mode); its admin document."""
    target = f"https://example.com/posts/{name}/"
    site.pages[f"/{name}"] = (
        200,
        HTML,
        f"<!doctype html><title>On {name}</title><article><p>A considered reply about static sites and the "
        f'conversation between blogs, with a link to <a href="{target}">the post</a>.</p></article>',
    )
    response = requests.post(
        f"{stack.base_url}/webmention", data={"source": site.url(f"/{name}"), "target": target}, timeout=10
    )
    assert response.status_code == 201, response.text
    mention_id = response.headers["Location"].rsplit("/", 1)[1]

    def held() -> dict[str, Any] | None:
        document = stack.admin("GET", f"/admin/mentions/{mention_id}").json()["mention"]
        return document if document["status"] == "pending" else None

    document = eventually(held)
    assert document, stack.output.read_text()[-3000:]
    return document


def feed_sources(stack: DevStack, target: str) -> list[str]:
    response = requests.get(f"{stack.base_url}/api/mentions.jf2", params={"target": target}, timeout=10)
    return [entry["wm-source"] for entry in response.json()["children"]]


def mails(stack: DevStack) -> list[str]:
    return [path.read_text() for path in sorted(Path(stack.info()["mail_dir"]).glob("*.txt"))]


def mail_about(stack: DevStack, source: str) -> str:
    found = eventually(lambda: [mail for mail in mails(stack) if source in mail])
    assert found, f"no mail about {source}: {mails(stack)}"
    assert len(found) == 1, found
    return found[0]


def one_click_links(mail: str) -> dict[str, str]:
    return {action.lower(): url for action, url in re.findall(r"^(Approve|Spam|Delete): (\S+)$", mail, re.MULTILINE)}


# --------------------------------------------------------------------------- authentication

ROUTES = [
    ("GET", "/admin/sites"),
    ("GET", "/admin/mentions?status=pending"),
    ("GET", "/admin/mentions/0123456789abcdef0123456789abcdef"),
    ("POST", "/admin/mentions/0123456789abcdef0123456789abcdef/approve"),
    ("POST", "/admin/mentions/0123456789abcdef0123456789abcdef/spam"),
    ("POST", "/admin/mentions/0123456789abcdef0123456789abcdef/delete"),
    ("POST", "/admin/mentions/0123456789abcdef0123456789abcdef/restore"),
    ("POST", "/admin/mentions/bulk"),
    ("GET", "/admin/lists"),
    ("POST", "/admin/lists"),
    ("DELETE", "/admin/lists?kind=block&value=spam.example.net"),
    ("GET", "/admin/webhook-secret"),
]


@pytest.mark.parametrize(("method", "path"), ROUTES)
@pytest.mark.parametrize(
    "authorization",
    [None, "Bearer", "Bearer wrong-token", "Basic YWRtaW46YWRtaW4=", "bearer  "],
    ids=["none", "empty-bearer", "wrong-token", "basic", "blank"],
)
def test_every_admin_route_refuses_a_missing_or_wrong_token(
    stack: DevStack, method: str, path: str, authorization: str | None
) -> None:
    headers = {"Authorization": authorization} if authorization else {}
    body = json.dumps({"kind": "block", "value": "spam.example.net", "action": "approve", "ids": ["x"]})

    response = requests.request(method, f"{stack.base_url}{path}", headers=headers, data=body, timeout=10)

    assert response.status_code == 401
    assert response.headers["WWW-Authenticate"] == 'Bearer realm="linkback admin"'
    assert response.json()["error"] == "unauthorized"


def test_a_token_with_one_character_changed_is_refused(stack: DevStack) -> None:
    real = stack.admin_token()
    almost = real[:-1] + ("A" if real[-1] != "A" else "B")

    response = requests.get(f"{stack.base_url}/admin/sites", headers={"Authorization": f"Bearer {almost}"}, timeout=10)

    assert response.status_code == 401


def test_refused_requests_change_nothing(stack: DevStack) -> None:
    requests.post(f"{stack.base_url}/admin/lists", data='{"kind":"block","value":"never.example.net"}', timeout=10)

    entries = stack.admin("GET", "/admin/lists").json()["entries"]

    assert "never.example.net" not in [entry["value"] for entry in entries]


# --------------------------------------------------------------------------- decisions


def test_a_held_mention_is_listed_and_approving_it_publishes_it_with_an_audit_entry(
    stack: DevStack, site: LoopbackSite
) -> None:
    mention = held_mention(stack, site, "approve-me")
    assert "held for moderation" in mention["status_reason"]
    listed = stack.admin("GET", "/admin/mentions", params={"site": "https://example.com", "status": "pending"})
    assert mention["id"] in [m["id"] for m in listed.json()["mentions"]]
    assert feed_sources(stack, mention["target"]) == []

    response = stack.admin("POST", f"/admin/mentions/{mention['id']}/approve", json={"note": "a friend"})

    assert response.status_code == 200
    approved = response.json()["mention"]
    assert approved["status"] == "approved"
    assert [(h["by"], h["from"], h["to"], h["note"]) for h in approved["history"]] == [
        ("admin API", "pending", "approved", "a friend")
    ]
    assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{6}Z", approved["history"][0]["at"])
    assert feed_sources(stack, mention["target"]) == [mention["source"]]


def test_deleting_takes_a_mention_off_the_feed_and_restore_brings_it_back(stack: DevStack, site: LoopbackSite) -> None:
    mention = held_mention(stack, site, "delete-restore")
    stack.admin("POST", f"/admin/mentions/{mention['id']}/approve")

    deleted = stack.admin("POST", f"/admin/mentions/{mention['id']}/delete").json()["mention"]
    assert deleted["status"] == "deleted"
    assert feed_sources(stack, mention["target"]) == []

    restored = stack.admin("POST", f"/admin/mentions/{mention['id']}/restore").json()["mention"]

    assert restored["status"] == "approved"
    assert [h["to"] for h in restored["history"]] == ["approved", "deleted", "approved"]
    assert feed_sources(stack, mention["target"]) == [mention["source"]]


def test_marking_spam_with_block_lists_the_source_and_keeps_it_off_the_feed(
    stack: DevStack, site: LoopbackSite
) -> None:
    mention = held_mention(stack, site, "block-me")

    response = stack.admin("POST", f"/admin/mentions/{mention['id']}/spam", json={"block": "url"})

    assert response.status_code == 200
    assert response.json()["mention"]["status"] == "spam"
    assert response.json()["listed"]["value"] == mention["source"]
    assert response.json()["listed"]["kind"] == "block"
    entries = stack.admin("GET", "/admin/lists", params={"kind": "block"}).json()["entries"]
    assert mention["source"] in [entry["value"] for entry in entries]
    assert feed_sources(stack, mention["target"]) == []


def test_a_blocked_source_sent_again_to_another_post_is_decided_spam(stack: DevStack, site: LoopbackSite) -> None:
    # Given a source URL on the block list
    site.pages["/blocked-splog"] = (200, HTML, '<a href="https://example.com/posts/one/">x</a>')
    stack.admin("POST", "/admin/lists", json={"kind": "block", "scope": "url", "value": site.url("/blocked-splog")})
    site.pages["/blocked-splog"] = (
        200,
        HTML,
        '<p>Links <a href="https://example.com/posts/blocked-two/">to your post</a>.</p>',
    )

    # When it mentions a post
    response = requests.post(
        f"{stack.base_url}/webmention",
        data={"source": site.url("/blocked-splog"), "target": "https://example.com/posts/blocked-two/"},
        timeout=10,
    )
    mention_id = response.headers["Location"].rsplit("/", 1)[1]

    # Then the verifier decides spam and says it was the owner's list
    def decided() -> dict[str, Any] | None:
        document = stack.admin("GET", f"/admin/mentions/{mention_id}").json()["mention"]
        return document if document["status"] not in ("queued",) else None

    document = eventually(decided)
    assert document["status"] == "spam", document
    assert any("block" in reason for reason in document["spam_reasons"]), document["spam_reasons"]


def test_bulk_approve_reports_each_id(stack: DevStack, site: LoopbackSite) -> None:
    held = [held_mention(stack, site, f"bulk-{n}") for n in range(3)]
    ids = [m["id"] for m in held] + ["0123456789abcdef0123456789abcdef"]

    response = stack.admin("POST", "/admin/mentions/bulk", json={"action": "approve", "ids": ids})

    assert response.status_code == 200
    assert response.json()["results"] == [{"id": m["id"], "ok": True, "status": "approved"} for m in held] + [
        {"id": "0123456789abcdef0123456789abcdef", "ok": False, "error": "not_found"}
    ]
    for mention in held:
        assert feed_sources(stack, mention["target"]) == [mention["source"]]


@pytest.mark.parametrize(
    ("method", "path", "body", "status"),
    [
        ("GET", "/admin/mentions/0123456789abcdef0123456789abcdef", None, 404),
        ("POST", "/admin/mentions/0123456789abcdef0123456789abcdef/approve", None, 404),
        ("POST", "/admin/mentions/0123456789abcdef0123456789abcdef/frobnicate", None, 400),
        ("POST", "/admin/mentions/bulk", {"action": "approve", "ids": []}, 400),
        ("POST", "/admin/mentions/bulk", {"action": "approve", "ids": ["x"] * 101}, 400),
        ("GET", "/admin/mentions?status=nonsense", None, 400),
        ("GET", "/admin/mentions?site=https://evil.example.net", None, 400),
        ("GET", "/admin/mentions?cursor=!!notacursor", None, 400),
        ("POST", "/admin/lists", {"kind": "grey", "value": "x.example"}, 400),
        ("POST", "/admin/lists", {"kind": "block", "value": "not a domain"}, 400),
        ("DELETE", "/admin/lists?kind=block&value=never-listed.example.net", None, 404),
    ],
)
def test_bad_admin_requests_get_a_clear_error(stack: DevStack, method: str, path: str, body: Any, status: int) -> None:
    response = stack.admin(method, path, json=body)

    assert response.status_code == status, response.text
    assert response.json()["error_description"]


def test_listing_pages_with_a_cursor(stack: DevStack, site: LoopbackSite) -> None:
    for n in range(3):
        held_mention(stack, site, f"paged-{n}")
    seen: list[str] = []
    cursor = None
    for _ in range(50):
        params = {
            "site": "https://example.com",
            "status": "pending",
            "limit": 2,
            **({"cursor": cursor} if cursor else {}),
        }
        document = stack.admin("GET", "/admin/mentions", params=params).json()
        assert len(document["mentions"]) <= 2
        seen += [m["id"] for m in document["mentions"]]
        cursor = document["next_cursor"]
        if not cursor:
            break
    assert len(seen) == len(set(seen)) >= 3
    received = [stack.admin("GET", f"/admin/mentions/{i}").json()["mention"]["received_at"] for i in seen]
    assert received == sorted(received)  # oldest first


# --------------------------------------------------------------------------- mail and one-click links


def test_a_held_mention_is_mailed_with_one_click_links(stack: DevStack, site: LoopbackSite) -> None:
    mention = held_mention(stack, site, "mailed")

    mail = mail_about(stack, mention["source"])

    assert mail.startswith("Subject: ")
    assert set(one_click_links(mail)) == {"approve", "spam", "delete"}
    assert all(url.startswith(f"{stack.base_url}/admin/act?t=") for url in one_click_links(mail).values())


def _confirmation_form(page: str) -> tuple[str, dict[str, str]]:
    action = unescape(re.search(r'<form[^>]*action="([^"]+)"', page).group(1))
    fields = {unescape(n): unescape(v) for n, v in re.findall(r'<input[^>]*name="([^"]+)"[^>]*value="([^"]*)"', page)}
    return action, fields


def test_following_a_link_only_shows_a_confirmation_and_posting_it_acts_once(
    stack: DevStack, site: LoopbackSite
) -> None:
    mention = held_mention(stack, site, "one-click")
    link = one_click_links(mail_about(stack, mention["source"]))["approve"]

    # A mail scanner (or the owner) opening the link: a page with a form, nothing decided yet
    page = requests.get(link, timeout=10)
    assert page.status_code == 200
    assert page.headers["Cache-Control"] == "no-store"
    assert '<form method="post"' in page.text
    assert stack.admin("GET", f"/admin/mentions/{mention['id']}").json()["mention"]["status"] == "pending"
    requests.get(link, timeout=10)  # prefetching twice changes nothing either
    assert stack.admin("GET", f"/admin/mentions/{mention['id']}").json()["mention"]["status"] == "pending"

    # The owner pressing the button
    action, fields = _confirmation_form(page.text)
    done = requests.post(f"{stack.base_url}{action}", data=fields, timeout=10)
    assert done.status_code == 200, done.text
    document = stack.admin("GET", f"/admin/mentions/{mention['id']}").json()["mention"]
    assert document["status"] == "approved"
    assert document["history"][-1]["by"] == "one-click link"

    # The same link again: refused, and the decision stands
    again = requests.post(f"{stack.base_url}{action}", data=fields, timeout=10)
    assert again.status_code == 410
    assert "already used" in again.text


def test_a_tampered_link_is_refused(stack: DevStack, site: LoopbackSite) -> None:
    mention = held_mention(stack, site, "tampered")
    link = one_click_links(mail_about(stack, mention["source"]))["spam"]
    token_value = parse_qs(urlsplit(link).query)["t"][0]
    forged = token_value[:20] + ("A" if token_value[20] != "A" else "B") + token_value[21:]

    shown = requests.get(f"{stack.base_url}/admin/act", params={"t": forged}, timeout=10)
    posted = requests.post(f"{stack.base_url}/admin/act", data={"token": forged}, timeout=10)

    assert shown.status_code == 400
    assert posted.status_code == 400
    assert stack.admin("GET", f"/admin/mentions/{mention['id']}").json()["mention"]["status"] == "pending"


def test_an_expired_link_is_refused(stack: DevStack, site: LoopbackSite) -> None:
    mention = held_mention(stack, site, "expired")
    key = oneclick.link_key(stack.admin_token())
    expired = oneclick.sign(key, mention["id"], "approve", expires_at=int(time.time()) - 1)

    response = requests.post(f"{stack.base_url}/admin/act", data={"token": expired}, timeout=10)

    assert response.status_code == 410
    assert stack.admin("GET", f"/admin/mentions/{mention['id']}").json()["mention"]["status"] == "pending"


# --------------------------------------------------------------------------- webhooks


def test_the_webhook_is_signed_so_the_receiver_can_verify_it(
    stack: DevStack, site: LoopbackSite, webhook: WebhookReceiver
) -> None:
    mention = held_mention(stack, site, "hooked")
    secret = bytes.fromhex(stack.admin("GET", "/admin/webhook-secret").json()["secret"])

    deliveries = eventually(lambda: webhook.for_mention(mention["id"]))

    headers, body, _ = deliveries[0]
    assert headers["content-type"].startswith("application/json")
    assert signing.verify_webhook_signature(secret, body, headers["x-linkback-signature"], now=time.time())
    assert not signing.verify_webhook_signature(
        b"another secret", body, headers["x-linkback-signature"], now=time.time()
    )
    document = json.loads(body)
    assert document["event"] == "mention.pending"
    assert (document["mention"]["source"], document["mention"]["target"]) == (mention["source"], mention["target"])


def test_a_failing_webhook_is_retried_until_it_succeeds_without_mailing_twice(
    stack: DevStack, site: LoopbackSite, webhook: WebhookReceiver
) -> None:
    webhook.failures["hook-retried"] = 2
    mention = held_mention(stack, site, "hook-retried")

    delivered = eventually(lambda: [d for d in webhook.for_mention(mention["id"]) if d[2] == 204], timeout=30)

    assert delivered, webhook.for_mention(mention["id"])
    assert [status for *_, status in webhook.for_mention(mention["id"])] == [500, 500, 204]
    assert len([mail for mail in mails(stack) if mention["source"] in mail]) == 1
