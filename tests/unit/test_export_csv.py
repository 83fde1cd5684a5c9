"""The owner's CSV export (linkback_infra.export): one row per mention, safe to open in a spreadsheet.

Titles, author names and excerpts are whatever a sender's page said. A cell that starts like a formula
is run by Excel, LibreOffice and Google Sheets (OWASP "CSV Injection"), so every such cell is written
with a leading apostrophe, and the csv module quotes what would break the row.
"""

from __future__ import annotations

import csv
import io
import json
from pathlib import Path
from typing import Any

import pytest

from linkback_infra.export import CSV_COLUMNS, csv_row, csv_text, owner_entry, safe_cell

FIXTURES = Path(__file__).resolve().parent.parent / "fixtures" / "import"
POST = "https://example.com/2024/05/static-comments/"


def admin_mention(**fields: Any) -> dict[str, Any]:
    """A mention as `GET /admin/mentions` lists it."""
    mention: dict[str, Any] = {
        "id": "5f1c0b7e9a2d4c6e8f0a1b2c3d4e5f60",
        "protocol": "webmention",
        "source": "https://zoe.example.net/notes/1",
        "target": POST,
        "site": "https://example.com",
        "status": "pending",
        "status_reason": "held for moderation",
        "received_at": "2024-05-12T07:43:18.000000Z",
        "updated_at": "2024-05-12T07:43:20.000000Z",
        "verified_at": "2024-05-12T07:43:20.000000Z",
        "published": "2024-05-12T09:41:00+02:00",
        "title": "Static comments",
        "excerpt": "A reply.",
        "author": {"name": "Zoë Durand", "url": "https://zoe.example.net/", "photo": None},
        "wm_property": "in-reply-to",
        "spam_score": 0.25,
        "spam_reasons": [],
        "history": [],
    }
    mention.update(fields)
    return mention


def rows_of(text: str) -> list[list[str]]:
    return list(csv.reader(io.StringIO(text, newline="")))


def read_back(**fields: Any) -> dict[str, str]:
    """The mention written as CSV and read with csv.reader, as {column: cell}."""
    header, row = rows_of(csv_text([owner_entry(admin_mention(**fields))]))
    return dict(zip(header, row, strict=True))


@pytest.mark.parametrize(
    "cell",
    [
        '=HYPERLINK("https://spam.example/","Open me")',
        "+1 great post",
        "-2+3+cmd|' /C calc'!A0",
        "@SUM(A1:A9)",
        "\t=1+1",
        "\r=1+1",
    ],
)
def test_a_cell_that_starts_like_a_formula_is_made_text(cell: str):
    assert safe_cell(cell) == "'" + cell


@pytest.mark.parametrize("cell", ["Static comments", "a=b+c", "1 comment", "ウェブメンション", "'quoted already"])
def test_a_cell_that_does_not_start_like_a_formula_is_left_as_it_is(cell: str):
    assert safe_cell(cell) == cell


def test_a_missing_value_is_an_empty_cell():
    assert safe_cell(None) == ""


def test_the_first_row_names_the_columns():
    header = rows_of(csv_text([]))[0]

    assert header == [
        "id",
        "protocol",
        "status",
        "source",
        "target",
        "received_at",
        "published",
        "title",
        "author_name",
        "author_url",
        "excerpt",
        "spam_score",
    ]
    assert tuple(header) == CSV_COLUMNS


def test_each_mention_is_one_row_with_its_status_and_score():
    row = read_back()

    assert row["id"] == "5f1c0b7e9a2d4c6e8f0a1b2c3d4e5f60"
    assert (row["protocol"], row["status"], row["spam_score"]) == ("webmention", "pending", "0.25")
    assert (row["source"], row["target"]) == ("https://zoe.example.net/notes/1", POST)
    assert (row["received_at"], row["published"]) == ("2024-05-12T07:43:18.000000Z", "2024-05-12T09:41:00+02:00")


def test_a_formula_in_an_author_name_reaches_the_file_as_text():
    row = read_back(author={"name": "=cmd|' /C calc'!A0", "url": None, "photo": None})

    assert row["author_name"] == "'=cmd|' /C calc'!A0"


def test_a_formula_in_a_title_and_an_excerpt_reaches_the_file_as_text():
    row = read_back(title="@everyone look", excerpt="-1, disagree")

    assert (row["title"], row["excerpt"]) == ("'@everyone look", "'-1, disagree")


def test_commas_quotes_and_line_breaks_survive_the_round_trip_through_csv_reader():
    excerpt = 'She said "no, really",\nthen left;\r\nthe end'

    assert read_back(excerpt=excerpt)["excerpt"] == excerpt


def test_non_ascii_text_survives():
    assert read_back(title="Über Webmentions — café")["title"] == "Über Webmentions — café"


def test_a_public_feed_entry_is_an_approved_row():
    feed = json.loads((FIXTURES / "webmention-io.jf2.json").read_text(encoding="utf-8"))
    reply = feed["children"][0]

    row = dict(zip(CSV_COLUMNS, csv_row(reply), strict=True))

    assert (row["status"], row["author_name"], row["spam_score"]) == ("approved", "Zoë Durand", "0")


def test_every_row_has_every_column():
    feed = json.loads((FIXTURES / "webmention-io.jf2.json").read_text(encoding="utf-8"))

    rows = rows_of(csv_text(feed["children"]))

    assert len(rows) == 1 + len(feed["children"])
    assert {len(row) for row in rows} == {len(CSV_COLUMNS)}
