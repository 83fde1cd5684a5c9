"""`linkback export`: what a site's mentions can leave as.

- A page's approved mentions fetched at build time, for sites that want no JS: the same feed the widget
  reads, every page of it, written as one jf2 document a static-site generator can read as data
  (Hugo `data/`, Jekyll `_data/`, Eleventy `_data/`).
- The owner's export of a site: every mention in every status, through the admin API, as jf2 that
  `linkback import jf2` reads back (moving to another stack) or as CSV for a spreadsheet.
"""

from __future__ import annotations

import csv
import io
from types import SimpleNamespace
from typing import Any

import requests

from linkback.fields import BY_NAME, FEED_FIELDS, OWNER_FIELDS, get_path, put_path
from linkback.read.feed import entry

PER_PAGE = 100  # the API's largest page
LAST_PAGE = 200  # the API's last page number


class ExportError(RuntimeError):
    pass


def export_feed(api: str, targets: list[str], timeout_s: float = 30) -> dict[str, Any]:
    """Every approved mention of `targets`, oldest first by published time, in one jf2 feed."""
    children: list[Any] = []
    for page in range(LAST_PAGE + 1):
        params = [("target[]", target) for target in targets]
        params += [("per-page", str(PER_PAGE)), ("page", str(page)), ("sort-by", "published"), ("sort-dir", "up")]
        try:
            answer = requests.get(f"{api.rstrip('/')}/api/mentions.jf2", params=params, timeout=timeout_s)
        except requests.RequestException as error:
            raise ExportError(f"could not read {api}: {error}") from error
        if answer.status_code != 200:
            raise ExportError(f"{answer.url} answered {answer.status_code}: {answer.text[:300]}")
        batch = answer.json().get("children") or []
        children.extend(batch)
        if len(batch) < PER_PAGE:
            break
    return {"type": "feed", "name": "Webmentions", "children": children}


# --- the owner's export: every mention of a site, in any status, through the admin API ------------

ADMIN_PAGE = 100  # the admin API's largest page
CSV_COLUMNS = (
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
)
# OWASP "CSV Injection": a spreadsheet runs a cell that starts with one of these as a formula
# (`=HYPERLINK(...)`, `@SUM(...)`, `-2+3+cmd|' /C calc'!A0`), and a sender chooses the titles, names
# and excerpts. A leading apostrophe makes the cell text; tab and carriage return start one in some
# spreadsheets' import too.
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def owner_entry(mention: dict[str, Any]) -> dict[str, Any]:
    """A mention as the admin API shows it, as the same jf2 entry the public feed has (`feed.entry`),
    plus what only the owner sees in a `linkback` member: `linkback import jf2` reads it back."""
    record = SimpleNamespace(**{field.name: get_path(mention, field.admin) for field in FEED_FIELDS if field.admin})
    record.wm_property = record.wm_property or "mention-of"
    document = entry(record)
    for field in OWNER_FIELDS:
        put_path(document, field.jf2 or field.name, get_path(mention, field.admin) if field.admin else None)
    ours = document["linkback"]
    ours["spam_score"] = ours["spam_score"] or 0
    ours["spam_reasons"] = list(ours["spam_reasons"] or [])
    return document


def owner_export(client: Any, site: str, statuses: tuple[str, ...]) -> dict[str, Any]:
    """Every mention of `site` in `statuses`, page after page of the admin API, oldest first, as one
    jf2 feed."""
    children: list[dict[str, Any]] = []
    for status in statuses:
        cursor = None
        while True:
            page = client.list(site, status, ADMIN_PAGE, cursor)
            children += [owner_entry(mention) for mention in page.mentions]
            cursor = page.next_cursor
            if not cursor:
                break
    children.sort(key=lambda child: (child.get("wm-received") or "", child["wm-id"]))
    return {"type": "feed", "name": "Webmentions", "children": children}


def safe_cell(value: Any) -> str:
    """A CSV cell a spreadsheet shows as text, never runs as a formula."""
    text = "" if value is None else str(value)
    return "'" + text if text.startswith(FORMULA_STARTS) else text


def csv_row(child: dict[str, Any]) -> list[str]:
    """One jf2 entry (the public feed's, or `owner_entry`'s) as a row under `CSV_COLUMNS`, each cell read
    from where `fields.MENTION_FIELDS` places its field in jf2."""
    values = [get_path(child, BY_NAME["pk" if column == "id" else column].jf2 or column) for column in CSV_COLUMNS]
    # The public feed holds approved mentions only, and carries no score.
    status, score = CSV_COLUMNS.index("status"), CSV_COLUMNS.index("spam_score")
    values[status] = values[status] or "approved"
    values[score] = values[score] or 0
    return [safe_cell(value) for value in values]


def csv_text(children: list[dict[str, Any]]) -> str:
    """A header row and one row per mention; the csv module quotes commas, quotes and line breaks."""
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow(CSV_COLUMNS)
    writer.writerows(csv_row(child) for child in children)
    return buffer.getvalue()
