"""What the owner looks at (`moderation.queries`) on the in-memory repository: a site's mentions page by
page, the checks on the request's raw values, and the lists. (Over HTTP: tests/e2e/test_admin_api.py.)"""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from linkback.model import Protocol, Status, isoformat, mention_id
from linkback.moderation import queries
from linkback.moderation.actions import InvalidRequest
from linkback.store.memory import InMemoryRepository
from linkback.store.schema import MentionRecord

SITE = "https://example.com"
OTHER = "https://blog.example.org"
NOW = datetime(2026, 5, 1, 12, 0, tzinfo=UTC)


def held(repository: InMemoryRepository, number: int) -> str:
    source = f"https://blog{number}.example.net/post"
    record = MentionRecord(
        mention_id(source, f"{SITE}/post"),
        protocol=str(Protocol.WEBMENTION),
        source=source,
        target=f"{SITE}/post",
        site=SITE,
        status=str(Status.PENDING),
        received_at=isoformat(NOW.replace(minute=number)),
        updated_at=isoformat(NOW),
    )
    assert repository.create(record)
    return record.pk


def page(repository: InMemoryRepository, **query: str | None) -> queries.Page:
    arguments: dict[str, str | None] = {"site": None, "status": None, "limit": None, "cursor": None, **query}
    return queries.page_of_mentions(repository, sites=(SITE,), **arguments)


def test_held_mentions_are_listed_oldest_first_one_page_at_a_time() -> None:
    repository = InMemoryRepository()
    ids = [held(repository, number) for number in range(5)]

    first = page(repository, limit="3")
    rest = page(repository, limit="3", cursor=first.next_cursor)

    assert [record.pk for record in first.records + rest.records] == ids
    assert rest.next_cursor is None


def test_the_only_site_is_the_default() -> None:
    repository = InMemoryRepository()
    held(repository, 1)

    assert len(page(repository).records) == 1


def test_with_several_sites_the_site_must_be_named() -> None:
    with pytest.raises(InvalidRequest, match="site must be one of"):
        queries.page_of_mentions(
            InMemoryRepository(), sites=(SITE, OTHER), site=None, status=None, limit=None, cursor=None
        )


@pytest.mark.parametrize("limit", ["many", "1.5"])
def test_a_limit_that_is_not_a_number_is_refused(limit: str) -> None:
    with pytest.raises(InvalidRequest, match="limit must be a number from 1 to 100"):
        page(InMemoryRepository(), limit=limit)


def test_an_out_of_range_limit_is_held_to_the_range() -> None:
    repository = InMemoryRepository()
    for number in range(3):
        held(repository, number)

    assert len(page(repository, limit="0").records) == 1
    assert len(page(repository, limit="100000").records) == 3


def test_a_cursor_this_api_did_not_give_out_is_refused() -> None:
    with pytest.raises(InvalidRequest, match="the cursor is not one this API gave out"):
        page(InMemoryRepository(), cursor="not-a-cursor!")


def test_an_unknown_status_is_refused() -> None:
    with pytest.raises(InvalidRequest, match="status must be one of"):
        page(InMemoryRepository(), status="maybe")


def test_a_domain_added_to_the_block_list_is_stored_in_its_normal_form_and_listed() -> None:
    repository = InMemoryRepository()

    entry = queries.add_entry(repository, "block", None, "WWW.Casino.Example.NET", by="admin API", now=NOW, note=None)

    assert (entry.kind, entry.scope, entry.value) == ("block", "domain", "www.casino.example.net")
    assert [e.value for e in queries.entries(repository, None)] == ["www.casino.example.net"]
    assert queries.entries(repository, "allow") == []


def test_removing_what_is_not_listed_finds_nothing() -> None:
    assert queries.remove_entry(InMemoryRepository(), "allow", "domain", "example.net") is None


def test_an_unknown_list_is_refused() -> None:
    with pytest.raises(InvalidRequest, match="kind must be one of block, allow"):
        queries.entries(InMemoryRepository(), "grey")
