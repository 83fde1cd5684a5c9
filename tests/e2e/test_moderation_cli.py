"""`linkback moderate`, the real command in a subprocess, against a `linkback dev` stack in manual
moderation through its authenticated admin API: held mentions are listed by id, decided one at a time
or in bulk, and the block and allow lists are kept from the command line."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import requests

from linkback_infra.loopback_site import LoopbackSite

from .conftest import DevStack, start_dev, stop_dev

WAIT_S = 15  # the longest a test waits for the verifier to hold a mention
FIXTURES = Path(__file__).resolve().parent.parent / "fixtures" / "sources"
POST = "https://example.com/2024/05/static-comments/"  # the post the fixture pages link to
SITES = ("https://example.com", "https://blog.example.org")  # what conftest.start_dev configures


@pytest.fixture(scope="module")
def manual_stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[DevStack]:
    stack = start_dev(tmp_path_factory.mktemp("manual"), "--moderation", "manual")
    yield stack
    stop_dev(stack)


@pytest.fixture(scope="module")
def blogs() -> Iterator[LoopbackSite]:
    site = LoopbackSite()
    yield site
    site.stop()


# --------------------------------------------------------------------------- helpers


def moderate(stack: DevStack, *args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    data_dir = str(stack.output.parent / "data")
    return subprocess.run(
        [sys.executable, "-m", "linkback_infra.cli", "moderate", *args, "--data-dir", data_dir],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
        env={**os.environ, "COLUMNS": "200", **(env or {})},
    )


def succeeded(done: subprocess.CompletedProcess[str]) -> str:
    assert done.returncode == 0, f"exit {done.returncode}\nstdout:\n{done.stdout}\nstderr:\n{done.stderr}"
    return done.stdout


def status_of(location: str) -> str:
    return str(requests.get(location, timeout=10).json()["status"])


def held(stack: DevStack, blogs: LoopbackSite, path: str, fixture: str = "h-entry-reply.html") -> tuple[str, str]:
    """A webmention from a page on loopback, verified and held for the owner; (its id, its source)."""
    blogs.pages[path] = (200, "text/html; charset=utf-8", (FIXTURES / fixture).read_text(encoding="utf-8"))
    source = blogs.url(path)
    sent = requests.post(f"{stack.base_url}/webmention", data={"source": source, "target": POST}, timeout=10)
    assert sent.status_code == 201, sent.text
    location = sent.headers["Location"]
    deadline = time.monotonic() + WAIT_S
    while status_of(location) != "pending" and time.monotonic() < deadline:
        time.sleep(0.2)
    assert status_of(location) == "pending"
    return location.rsplit("/", 1)[1], source


def feed_sources(stack: DevStack) -> list[str]:
    response = requests.get(f"{stack.base_url}/api/mentions.jf2", params={"target": POST}, timeout=10)
    return [entry["wm-source"] for entry in response.json()["children"]]


def shown(stack: DevStack, mention_id: str) -> dict[str, Any]:
    return dict(json.loads(succeeded(moderate(stack, "show", mention_id, "--json"))))


# --------------------------------------------------------------------------- listing and showing


def test_a_held_mention_is_listed_by_its_full_id(manual_stack: DevStack, blogs: LoopbackSite) -> None:
    mention_id, _source = held(manual_stack, blogs, "/listed")

    listing = succeeded(moderate(manual_stack, "list", "--site", "https://example.com"))

    heading, header, *rows = listing.splitlines()
    assert heading.endswith("pending mention(s) of https://example.com, oldest first")
    assert header.split()[:3] == ["ID", "RECEIVED", "VIA"]
    assert any(row.startswith(mention_id + " ") for row in rows)


def test_listing_without_a_site_names_the_sites_to_choose_from(manual_stack: DevStack) -> None:
    # Given a stack serving two sites, When no --site is given, Then the owner is told which to pick
    done = moderate(manual_stack, "list")

    assert done.returncode == 1
    assert "--site" in done.stderr
    for site in SITES:
        assert site in done.stderr


def test_a_listing_as_json_carries_the_whole_mentions(manual_stack: DevStack, blogs: LoopbackSite) -> None:
    mention_id, source = held(manual_stack, blogs, "/as-json")

    document = json.loads(succeeded(moderate(manual_stack, "list", "--site", "https://example.com", "--json")))

    mention = next(mention for mention in document["mentions"] if mention["id"] == mention_id)
    assert mention["source"] == source
    assert mention["target"] == POST
    assert mention["status"] == "pending"


def test_show_prints_what_the_verifier_found(manual_stack: DevStack, blogs: LoopbackSite) -> None:
    mention_id, source = held(manual_stack, blogs, "/shown")

    text = succeeded(moderate(manual_stack, "show", mention_id))

    fields = dict(line.split(None, 1) for line in text.splitlines() if line[:1] != " " and " " in line)
    assert fields["id"] == mention_id
    assert fields["source"] == source
    assert fields["status"].startswith("pending")
    assert fields["target"] == POST
    assert fields["author"].startswith("Ann Example")  # the fixture's h-card


def test_showing_an_unknown_id_fails_with_not_found(manual_stack: DevStack) -> None:
    done = moderate(manual_stack, "show", "0" * 32)

    assert done.returncode == 1
    assert "404" in done.stderr


# --------------------------------------------------------------------------- decisions


def test_approving_a_held_mention_publishes_it(manual_stack: DevStack, blogs: LoopbackSite) -> None:
    mention_id, source = held(manual_stack, blogs, "/approved")
    assert source not in feed_sources(manual_stack)

    assert succeeded(moderate(manual_stack, "approve", mention_id)) == f"{mention_id}: pending → approved\n"
    assert source in feed_sources(manual_stack)


def test_a_spam_verdict_takes_a_mention_out_and_survives_a_resend(manual_stack: DevStack, blogs: LoopbackSite) -> None:
    mention_id, source = held(manual_stack, blogs, "/spammed")
    succeeded(moderate(manual_stack, "approve", mention_id))

    assert "approved → spam" in succeeded(moderate(manual_stack, "spam", mention_id))
    assert source not in feed_sources(manual_stack)

    # the sender re-sending does not overturn the owner's verdict
    requests.post(f"{manual_stack.base_url}/webmention", data={"source": source, "target": POST}, timeout=10)
    time.sleep(1)
    assert source not in feed_sources(manual_stack)
    listing = succeeded(moderate(manual_stack, "list", "--site", "https://example.com", "--status", "spam"))
    assert mention_id in listing


def test_a_deleted_mention_can_be_restored(manual_stack: DevStack, blogs: LoopbackSite) -> None:
    mention_id, _source = held(manual_stack, blogs, "/restored")
    assert "pending → deleted" in succeeded(moderate(manual_stack, "delete", mention_id))

    restored = succeeded(moderate(manual_stack, "restore", mention_id))

    assert restored.startswith(f"{mention_id}: deleted → ")
    assert shown(manual_stack, mention_id)["status"] != "deleted"


def test_the_owners_decisions_are_in_the_history(manual_stack: DevStack, blogs: LoopbackSite) -> None:
    mention_id, _source = held(manual_stack, blogs, "/history")
    succeeded(moderate(manual_stack, "approve", mention_id))
    succeeded(moderate(manual_stack, "delete", mention_id))

    steps = [(step["from"], step["to"]) for step in shown(manual_stack, mention_id)["history"]]

    assert steps[-2:] == [("pending", "approved"), ("approved", "deleted")]


def test_deciding_an_unknown_id_fails_and_says_so(manual_stack: DevStack) -> None:
    unknown = "f" * 32

    done = moderate(manual_stack, "approve", unknown)

    assert done.returncode == 1
    assert f"{unknown}: no such mention" in done.stdout


def test_several_ids_are_decided_in_bulk_with_progress(manual_stack: DevStack, blogs: LoopbackSite) -> None:
    ids = [held(manual_stack, blogs, f"/bulk-{n}", "plain-blog-post.html")[0] for n in range(3)]

    done = moderate(manual_stack, "approve", *ids)

    assert succeeded(done) == "3 of 3 mention(s) approved\n"
    # stderr is a pipe here: one plain progress line per bulk call, no carriage returns
    assert done.stderr == "3/3 approved\n"
    assert all(shown(manual_stack, mention_id)["status"] == "approved" for mention_id in ids)


def test_an_unknown_id_in_a_bulk_decision_fails_the_command_but_not_the_others(
    manual_stack: DevStack, blogs: LoopbackSite
) -> None:
    ids = [held(manual_stack, blogs, f"/bulk-mixed-{n}", "plain-blog-post.html")[0] for n in range(2)]
    unknown = "e" * 32

    done = moderate(manual_stack, "spam", ids[0], unknown, ids[1])

    assert done.returncode == 1
    assert done.stdout == f"2 of 3 mention(s) marked spam\n  {unknown}: no such mention\n"
    assert [shown(manual_stack, mention_id)["status"] for mention_id in ids] == ["spam", "spam"]


# --------------------------------------------------------------------------- block and allow lists


def listed(stack: DevStack, kind: str) -> list[tuple[str, str, str | None]]:
    entries = json.loads(succeeded(moderate(stack, "lists", "--kind", kind, "--json")))["entries"]
    return [(entry["scope"], entry["value"], entry.get("note")) for entry in entries]


def test_a_blocked_domain_is_listed_until_unblocked(manual_stack: DevStack) -> None:
    assert "blocked domain spam.example" in succeeded(
        moderate(manual_stack, "block", "spam.example", "--note", "casino links")
    )
    assert ("domain", "spam.example", "casino links") in listed(manual_stack, "block")
    assert "spam.example" in succeeded(moderate(manual_stack, "lists"))

    succeeded(moderate(manual_stack, "unblock", "spam.example"))

    assert all(value != "spam.example" for _scope, value, _note in listed(manual_stack, "block"))


def test_a_blocked_url_is_listed_by_url(manual_stack: DevStack) -> None:
    url = "https://spam.example.net/casino/"
    try:
        succeeded(moderate(manual_stack, "block", url))
        assert any(scope == "url" for scope, _value, _note in listed(manual_stack, "block"))
    finally:
        moderate(manual_stack, "unblock", url)


def test_unblocking_what_is_not_blocked_fails(manual_stack: DevStack) -> None:
    done = moderate(manual_stack, "unblock", "never-blocked.example")

    assert done.returncode == 1
    assert "not on the block list" in done.stdout


def test_an_allowed_domain_is_listed_until_unallowed(manual_stack: DevStack) -> None:
    assert "allowed domain friends.example" in succeeded(moderate(manual_stack, "allow", "friends.example"))
    assert ("domain", "friends.example", None) in [
        (scope, value, note or None) for scope, value, note in listed(manual_stack, "allow")
    ]

    succeeded(moderate(manual_stack, "unallow", "friends.example"))

    assert all(value != "friends.example" for _scope, value, _note in listed(manual_stack, "allow"))


def test_spam_with_block_domain_also_blocks_the_sources_domain(manual_stack: DevStack, blogs: LoopbackSite) -> None:
    mention_id, _source = held(manual_stack, blogs, "/block-its-domain")
    try:
        text = succeeded(moderate(manual_stack, "spam", mention_id, "--block", "domain"))

        assert text.splitlines()[0] == f"{mention_id}: pending → spam"
        assert text.splitlines()[1].startswith("blocked domain ")
        assert any(
            scope == "domain" and value.startswith("127.0.0.1") for scope, value, _ in listed(manual_stack, "block")
        )
    finally:
        # every source here is on 127.0.0.1: later tests need it unblocked
        for scope, value, _note in listed(manual_stack, "block"):
            if scope == "domain" and value.startswith("127.0.0.1"):
                moderate(manual_stack, "unblock", value)


# --------------------------------------------------------------------------- finding the API


def test_an_explicit_api_with_the_right_token_is_used(manual_stack: DevStack) -> None:
    done = moderate(
        manual_stack, "lists", "--api", manual_stack.base_url, env={"LINKBACK_ADMIN_TOKEN": manual_stack.admin_token()}
    )

    assert done.returncode == 0, done.stderr


def test_a_wrong_token_is_refused(manual_stack: DevStack) -> None:
    done = moderate(
        manual_stack, "lists", "--api", manual_stack.base_url, env={"LINKBACK_ADMIN_TOKEN": "not-the-token"}
    )

    assert done.returncode == 1
    assert "401" in done.stderr


def test_a_token_file_is_read(manual_stack: DevStack, tmp_path: Path) -> None:
    token_file = tmp_path / "admin-token"
    token_file.write_text(manual_stack.admin_token() + "\n")

    done = moderate(manual_stack, "lists", "--api", manual_stack.base_url, "--token-file", str(token_file))

    assert done.returncode == 0, done.stderr


def test_without_a_running_stack_the_error_names_every_way_to_reach_one(tmp_path: Path) -> None:
    done = subprocess.run(
        [sys.executable, "-m", "linkback_infra.cli", "moderate", "list", "--data-dir", str(tmp_path)],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )

    assert done.returncode == 1
    for option in ("--api", "LINKBACK_ADMIN_TOKEN", "--token-file", "--stack", "linkback dev"):
        assert option in done.stderr


def test_webhook_secret_prints_the_key_the_api_signs_with(manual_stack: DevStack) -> None:
    printed = succeeded(moderate(manual_stack, "webhook-secret")).strip()

    from linkback.notify import webhook

    assert bytes.fromhex(printed) == webhook.webhook_key(manual_stack.admin_token())
