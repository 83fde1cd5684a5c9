"""`linkback export`: a page's approved mentions fetched at build time, for sites that want no JS.

The same feed the widget reads, every page of it, written as one jf2 document a static-site generator
can read as data (Hugo `data/`, Jekyll `_data/`, Eleventy `_data/`).
"""

from __future__ import annotations

from typing import Any

import requests

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
