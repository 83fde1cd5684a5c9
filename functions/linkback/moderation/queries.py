"""What the owner looks at and keeps: a site's mentions one page at a time, and the block and allow lists.
The request's raw values are checked here, so the admin API only decodes and shapes."""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING, Any, NamedTuple

from linkback.moderation.actions import LIST_KINDS, InvalidRequest, normalise_list_value, parse_status
from linkback.moderation.documents import decode_cursor, encode_cursor

if TYPE_CHECKING:
    from linkback.store.contract import MentionStore
    from linkback.store.schema import ListEntry, MentionRecord

PAGE_DEFAULT = 50
PAGE_MAX = 100


class Page(NamedTuple):
    records: list[MentionRecord]
    next_cursor: str | None  # None: the last page


def page_of_mentions(
    repository: MentionStore,
    *,
    sites: tuple[str, ...],
    site: str | None,
    status: str | None,
    limit: str | None,
    cursor: str | None,
) -> Page:
    """One page of a site's mentions in one status (held ones by default), as the owner works through them."""
    from linkback.store.schema import InvalidCursor

    chosen = site or (sites[0] if len(sites) == 1 else "")
    if chosen not in sites:
        raise InvalidRequest(f"site must be one of {', '.join(sites)}")
    try:
        size = min(PAGE_MAX, max(1, int(limit or PAGE_DEFAULT)))
    except ValueError:
        raise InvalidRequest(f"limit must be a number from 1 to {PAGE_MAX}") from None
    try:
        records, next_key = repository.for_site(chosen, parse_status(status), limit=size, cursor=decode_cursor(cursor))
    except InvalidCursor as error:
        raise InvalidRequest(str(error)) from None
    return Page(records, encode_cursor(next_key))


def list_kind(value: Any) -> str:
    if value not in LIST_KINDS:
        raise InvalidRequest(f"kind must be one of {', '.join(LIST_KINDS)}")
    return str(value)


def entries(repository: MentionStore, kind: str | None) -> list[ListEntry]:
    """The entries of one list, or of both."""
    kinds = [list_kind(kind)] if kind else list(LIST_KINDS)
    return [entry for each in kinds for entry in repository.list_entries(each)]


def add_entry(
    repository: MentionStore, kind: Any, scope: Any, value: Any, *, by: str, now: datetime, note: str | None
) -> ListEntry:
    scope = str(scope or "domain")
    return repository.add_list_entry(
        list_kind(kind), scope, normalise_list_value(scope, str(value or "")), by=by, now=now, note=note
    )


def remove_entry(repository: MentionStore, kind: Any, scope: Any, value: Any) -> ListEntry | None:
    """The entry taken off its list; None when it was not on it."""
    scope = str(scope or "domain")
    return repository.remove_list_entry(list_kind(kind), scope, normalise_list_value(scope, str(value or "")))
