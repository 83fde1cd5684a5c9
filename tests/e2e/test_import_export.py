"""Moving in and out: `linkback import` and `linkback export`, the real commands in subprocesses, against
`linkback dev` stacks. A WordPress export and a webmention.io dump arrive with their statuses and dates,
an import run twice changes nothing, and an owner's jf2 export moves every mention to a fresh stack."""

from __future__ import annotations

import csv
import json
import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import requests

from .conftest import DevStack, start_dev, stop_dev

FIXTURES = Path(__file__).resolve().parent.parent / "fixtures" / "import"
WXR = FIXTURES / "wordpress-export.xml"
JF2 = FIXTURES / "webmention-io.jf2.json"
SITES = ("https://example.com", "https://blog.example.org")  # what conftest.start_dev configures
STATUSES = ("approved", "pending", "spam", "rejected", "deleted", "queued")
POST = "https://example.com/2024/05/static-comments/"
ENDPOINTS_POST = "https://blog.example.org/2024/05/endpoints/"
PINGBACK = "https://zoe.example.net/2024/05/07/static-comments-reply/"
TRACKBACK = "http://bytes.example.org/archives/2024/05/comment-systems.html"
SPAM = "https://casino-bonus.example.info/best-offers/"
TRASHED = "https://links.example.net/2024/weekly-21/"
REPLY = "https://zoe.example.net/notes/2024/05/12/1/"
LIKE = "https://kenji.example.jp/likes/2024-05-13-001"
REPOST = "https://reposter.example.org/reposts/81"
ROUNDUP = "http://bytes.example.org/archives/2024/05/webmention-roundup.html"


@pytest.fixture(scope="module")
def stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[DevStack]:
    stack = start_dev(tmp_path_factory.mktemp("moving-in"))
    yield stack
    stop_dev(stack)


@pytest.fixture(scope="module")
def wordpress_imported(stack: DevStack) -> subprocess.CompletedProcess[str]:
    return linkback(stack, "import", "wxr", str(WXR))


@pytest.fixture(scope="module")
def webmention_io_imported(stack: DevStack, wordpress_imported: Any) -> subprocess.CompletedProcess[str]:
    return linkback(stack, "import", "jf2", str(JF2))


# --------------------------------------------------------------------------- helpers


def linkback(stack: DevStack, *args: str) -> subprocess.CompletedProcess[str]:
    data_dir = str(stack.output.parent / "data")
    return subprocess.run(
        [sys.executable, "-m", "linkback_infra.cli", *args, "--data-dir", data_dir],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
        env={**os.environ, "COLUMNS": "200"},
    )


def succeeded(done: subprocess.CompletedProcess[str]) -> str:
    assert done.returncode == 0, f"exit {done.returncode}\nstdout:\n{done.stdout}\nstderr:\n{done.stderr}"
    return done.stdout


def summary(output: str) -> dict[str, int]:
    """The import's closing table as {result: count}."""
    rows = {}
    for line in output.splitlines()[2:]:
        result, _, count = line.rpartition("  ")
        rows[result.strip()] = int(count)
    return rows


def listed(stack: DevStack, site: str, status: str) -> dict[str, dict[str, Any]]:
    """The site's mentions in one status as the admin API lists them, by source."""
    mentions: dict[str, dict[str, Any]] = {}
    cursor = None
    while True:
        params = {"site": site, "status": status, "limit": "100", **({"cursor": cursor} if cursor else {})}
        answer = stack.admin("GET", "/admin/mentions", params=params)
        assert answer.status_code == 200, answer.text
        mentions.update({mention["source"]: mention for mention in answer.json()["mentions"]})
        cursor = answer.json().get("next_cursor")
        if not cursor:
            return mentions


def everything(stack: DevStack) -> dict[tuple[str, str], dict[str, Any]]:
    """Every mention of every site and status, as the owner sees them, without what this stack itself
    stamped when it stored them (the time of the import)."""
    found = {}
    for site in SITES:
        for status in STATUSES:
            for source, mention in listed(stack, site, status).items():
                kept = {name: value for name, value in mention.items() if name not in ("updated_at", "history")}
                found[(source, mention["target"])] = kept
    return found


def public_feed(stack: DevStack, target: str) -> dict[str, dict[str, Any]]:
    answer = requests.get(f"{stack.base_url}/api/mentions.jf2", params={"target": target}, timeout=10)
    assert answer.status_code == 200, answer.text
    return {entry["wm-source"]: entry for entry in answer.json()["children"]}


# --------------------------------------------------------------------------- a WordPress export


def test_a_wordpress_export_is_imported_with_its_states(stack: DevStack, wordpress_imported: Any) -> None:
    succeeded(wordpress_imported)

    assert listed(stack, "https://example.com", "approved")[PINGBACK]["protocol"] == "pingback"
    assert listed(stack, "https://example.com", "pending")[TRACKBACK]["protocol"] == "trackback"
    assert SPAM in listed(stack, "https://example.com", "spam")
    assert TRASHED in listed(stack, "https://example.com", "deleted")


def test_an_imported_mention_keeps_the_date_wordpress_received_it(stack: DevStack, wordpress_imported: Any) -> None:
    succeeded(wordpress_imported)

    assert listed(stack, "https://example.com", "pending")[TRACKBACK]["received_at"] == "2024-05-08T06:02:51.000000Z"
    entry = public_feed(stack, POST)[PINGBACK]
    assert (entry["wm-received"], entry["published"]) == ("2024-05-07T09:15:03.000000Z", "2024-05-07T09:15:03.000000Z")


def test_only_approved_imports_reach_the_public_feed(stack: DevStack, wordpress_imported: Any) -> None:
    succeeded(wordpress_imported)

    sources = set(public_feed(stack, POST))

    assert PINGBACK in sources
    assert not sources & {TRACKBACK, SPAM}


def test_the_summary_counts_what_was_imported_and_why_the_rest_was_skipped(wordpress_imported: Any) -> None:
    rows = summary(succeeded(wordpress_imported))

    assert rows["imported"] == 4
    assert rows["skipped: a visitor's comment, not a linkback"] == 3
    assert rows["skipped: target not on a configured site"] == 1
    assert rows["skipped: source is not a usable URL"] == 1


def test_importing_the_same_export_twice_changes_nothing(stack: DevStack, wordpress_imported: Any) -> None:
    succeeded(wordpress_imported)
    before = everything(stack)

    again = summary(succeeded(linkback(stack, "import", "wxr", str(WXR))))

    assert (again["imported"], again["already there"]) == (0, 4)
    assert everything(stack) == before


def test_an_xml_bomb_is_refused_and_the_import_exits_1(stack: DevStack, tmp_path: Path) -> None:
    bomb = tmp_path / "export.xml"
    bomb.write_text(
        '<?xml version="1.0"?><!DOCTYPE rss [<!ENTITY a "aaaaaaaaaa"><!ENTITY b "&a;&a;&a;&a;&a;&a;&a;&a;">]>'
        "<rss><channel><title>&b;</title></channel></rss>",
        encoding="utf-8",
    )

    done = linkback(stack, "import", "wxr", str(bomb))

    assert done.returncode == 1
    assert "declares the XML entity" in done.stderr


def test_a_missing_file_exits_1(stack: DevStack, tmp_path: Path) -> None:
    done = linkback(stack, "import", "jf2", str(tmp_path / "nowhere.json"))

    assert done.returncode == 1
    assert "nowhere.json" in done.stderr


# --------------------------------------------------------------------------- a webmention.io dump


def test_a_webmention_io_dump_is_imported_as_approved_webmentions(stack: DevStack, webmention_io_imported: Any) -> None:
    rows = summary(succeeded(webmention_io_imported))

    feed = public_feed(stack, POST)
    assert rows["imported"] == 4
    assert {feed[source]["wm-property"] for source in (REPLY, LIKE, REPOST)} == {"in-reply-to", "like-of", "repost-of"}
    assert feed[REPLY]["author"]["photo"] == "https://avatars.example.net/zoe.example.net/5b0c7a4e.jpg"
    assert (feed[REPLY]["wm-received"], feed[REPLY]["published"]) == (
        "2024-05-12T07:43:18.000000Z",
        "2024-05-12T09:41:00+02:00",
    )
    assert ROUNDUP in public_feed(stack, ENDPOINTS_POST)


def test_a_dump_entry_without_source_is_skipped_with_a_reason(webmention_io_imported: Any) -> None:
    assert summary(succeeded(webmention_io_imported))["skipped: no source URL"] == 1


# --------------------------------------------------------------------------- moving out


@pytest.fixture(scope="module")
def exported(stack: DevStack, webmention_io_imported: Any, tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    """Both sites' whole jf2 exports, after both imports."""
    directory = tmp_path_factory.mktemp("exports")
    files = {}
    for site in SITES:
        files[site] = directory / f"{site.split('//')[1]}.jf2.json"
        succeeded(linkback(stack, "export", "--site", site, "--format", "jf2", "--out", str(files[site])))
    return files


def test_an_export_moved_to_a_fresh_stack_holds_the_same_mentions(
    stack: DevStack, exported: dict[str, Path], tmp_path_factory: pytest.TempPathFactory
) -> None:
    fresh = start_dev(tmp_path_factory.mktemp("moved-to"))
    try:
        for site, path in exported.items():
            succeeded(linkback(fresh, "import", "jf2", str(path), "--site", site))

        assert everything(fresh) == everything(stack)
        for target in (POST, ENDPOINTS_POST):
            assert public_feed(fresh, target) == public_feed(stack, target)
    finally:
        stop_dev(fresh)


def test_an_export_holds_every_status(exported: dict[str, Path]) -> None:
    children = json.loads(exported["https://example.com"].read_text(encoding="utf-8"))["children"]

    statuses = {child["wm-source"]: child["linkback"]["status"] for child in children}

    assert (statuses[PINGBACK], statuses[TRACKBACK], statuses[SPAM], statuses[TRASHED]) == (
        "approved",
        "pending",
        "spam",
        "deleted",
    )


def test_a_csv_export_opens_with_csv_reader_and_formulas_are_text(stack: DevStack, tmp_path: Path) -> None:
    out = tmp_path / "mentions.csv"
    succeeded(linkback(stack, "export", "--site", "https://example.com", "--format", "csv", "--out", str(out)))

    with out.open(encoding="utf-8-sig", newline="") as file:
        rows = {row["source"]: row for row in csv.DictReader(file)}

    assert set(rows) >= {PINGBACK, TRACKBACK, SPAM, TRASHED, REPLY, LIKE, REPOST}
    assert rows[REPOST]["author_name"] == '\'=HYPERLINK("https://spam.example/","Open me")'
    assert rows[REPLY]["excerpt"].startswith("'@ada this is exactly")
    assert rows[TRACKBACK]["status"] == "pending"


def test_a_pages_public_export_as_csv_holds_its_approved_mentions_only(
    stack: DevStack, wordpress_imported: Any, tmp_path: Path
) -> None:
    succeeded(wordpress_imported)
    out = tmp_path / "page.csv"

    succeeded(
        linkback(stack, "export", "--api", stack.base_url, "--target", POST, "--format", "csv", "--out", str(out))
    )

    with out.open(encoding="utf-8-sig", newline="") as file:
        rows = {row["source"]: row for row in csv.DictReader(file)}
    assert rows[PINGBACK]["status"] == "approved"
    assert not set(rows) & {TRACKBACK, SPAM, TRASHED}
