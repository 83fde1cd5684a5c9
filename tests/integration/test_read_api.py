"""The public read API (`/api/mentions.jf2`, `/api/count`, docs/api.md) through the real Lambda
handler, with API Gateway HTTP API 2.0 events, against DynamoDB Local: webmention.io's parameters,
only approved mentions, ETag/304, the cache and CORS headers, 400/403 as JSON, and Query-only reads."""

from __future__ import annotations

import itertools
import json
import uuid
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any
from urllib.parse import urlencode

import pytest

from linkback.model import Protocol, Status, Verdict, isoformat, mention_id
from linkback.store.repository import MentionRepository
from linkback.store.schema import MentionRecord, SiteToken
from linkback.urls import origin_of
from linkback_infra.dev import create_queues, create_table
from linkback_infra.lambda_events import LambdaContext, http_api_event, http_response
from linkback_infra.template import Template

from .conftest import REGION, SITE, VISIBILITY_TIMEOUT_S, Resources, _verify_queue_spec

OTHER_SITE = "https://blog.example.org"
# Tests that add mentions add them here, each under its own target, so the shared data stays as seeded.
SCRATCH_SITE = "https://scratch.example.net"
A = f"{SITE}/2024/a-post"
B = f"{SITE}/2024/b-post"
C = f"{OTHER_SITE}/notes/1"
T0 = datetime(2024, 5, 1, 12, 0, tzinfo=UTC)
FEED = "/api/mentions.jf2"
COUNT = "/api/count"


def at(minutes: int) -> str:
    return isoformat(T0 + timedelta(minutes=minutes))


# ------------------------------------------------------------------------------------- the data


@dataclass(frozen=True)
class Seed:
    """One mention; times in minutes after T0, so the expected orders are worked out on numbers."""

    name: str
    target: str
    received: int
    updated: int
    published: int | None
    prop: str
    rsvp: str | None = None
    status: Status = Status.APPROVED

    @property
    def source(self) -> str:
        return f"https://blog.example.net/{self.name}"

    @property
    def id(self) -> str:
        return mention_id(self.source, self.target)

    def sort_minute(self, sort_by: str) -> int:
        if sort_by == "updated":
            return self.updated
        if sort_by == "published" and self.published is not None:
            return self.published
        return self.received  # created, and published when the source gave no date

    def record(self) -> MentionRecord:
        return MentionRecord(
            self.id,
            protocol=str(Protocol.WEBMENTION),
            source=self.source,
            target=self.target,
            site=origin_of(self.target),
            status=str(self.status),
            received_at=at(self.received),
            updated_at=at(self.updated),
            verified_at=at(self.updated),
            published=at(self.published) if self.published is not None else None,
            wm_property=self.prop,
            rsvp=self.rsvp,
            title=f"About {self.name}",
            author_name=f"Author of {self.name}",
        )


# Received, updated and published all in different orders (and no two equal within one order).
APPROVED = [
    Seed("like", A, received=0, updated=50, published=-300, prop="like-of"),
    Seed("reply", A, received=10, updated=20, published=None, prop="in-reply-to"),
    Seed("repost", A, received=20, updated=70, published=-100, prop="repost-of"),
    Seed("bookmark", A, received=30, updated=35, published=12, prop="bookmark-of"),
    Seed("mention", B, received=5, updated=60, published=3, prop="mention-of"),
    Seed("rsvp", B, received=25, updated=26, published=None, prop="rsvp", rsvp="yes"),
    Seed("reply-b", B, received=40, updated=45, published=41, prop="in-reply-to"),
]
ELSEWHERE = [
    Seed("elsewhere-like", C, received=15, updated=80, published=None, prop="like-of"),
    Seed("elsewhere-reply", C, received=35, updated=36, published=2, prop="in-reply-to"),
]
# Newer than everything public and of a popular property: any leak would show first.
HIDDEN = [
    Seed(f"hidden-{status}", A, received=90 + n, updated=95, published=90, prop="in-reply-to", status=status)
    for n, status in enumerate([Status.QUEUED, Status.PENDING, Status.SPAM, Status.REJECTED, Status.DELETED])
]
# Approved once, then deleted by the owner: it must have left the public indexes.
WITHDRAWN = Seed("withdrawn", B, received=99, updated=99, published=99, prop="like-of")
BY_NAME = {seed.name: seed for seed in APPROVED + ELSEWHERE}


def expected(seeds: list[Seed], sort_by: str = "created", newest_first: bool = True) -> list[str]:
    ordered = sorted(seeds, key=lambda seed: seed.sort_minute(sort_by), reverse=newest_first)
    return [seed.id for seed in ordered]


def of(*targets: str) -> list[Seed]:
    return [seed for seed in APPROVED + ELSEWHERE if seed.target in targets]


def names(ids: list[str]) -> list[str]:
    """Ids back to seed names, for readable assertion failures."""
    by_id = {seed.id: seed.name for seed in [*APPROVED, *ELSEWHERE, *HIDDEN, WITHDRAWN]}
    return [by_id.get(identifier, identifier) for identifier in ids]


@pytest.fixture(scope="module")
def resources(dynamodb: Any, sqs: Any, template: Template) -> Iterator[Resources]:
    """conftest's `resources`, once for this module: every test here only reads the seeded mentions
    (those that add some add them under a target of their own), and a table per test would cost more
    than all the requests together."""
    unique = f"rd{uuid.uuid4().hex[:12]}-"
    table_name = f"{unique}mentions"
    create_table(dynamodb, template, table_name)
    queues = create_queues(sqs, template, visibility_timeout=VISIBILITY_TIMEOUT_S, prefix=unique)
    spec = _verify_queue_spec(template)
    assert spec.dead_letter is not None and spec.max_receive_count is not None
    yield Resources(table_name, queues[spec.logical_id], queues[spec.dead_letter], spec.max_receive_count)
    dynamodb.delete_table(TableName=table_name)
    for queue in queues.values():
        sqs.delete_queue(QueueUrl=queue.url)


@pytest.fixture
def repository(linkback_env: Resources) -> MentionRepository:
    return MentionRepository(linkback_env.table_name, REGION)


@pytest.fixture(scope="module")
def seeded_tables() -> set[str]:
    return set()


@pytest.fixture
def seeded(repository: MentionRepository, linkback_env: Resources, seeded_tables: set[str]) -> MentionRepository:
    """The mentions above, stored once per table through the repository (which derives the sparse
    index keys from the status)."""
    if linkback_env.table_name not in seeded_tables:
        for seed in [*APPROVED, *ELSEWHERE, *HIDDEN, WITHDRAWN]:
            assert repository.create(seed.record())
        withdrawn = repository.get(WITHDRAWN.id)
        assert withdrawn is not None
        verdict = Verdict(status=Status.DELETED, reason="test: deleted by the owner", deleted_by="owner")
        assert repository.record_verdict(withdrawn, verdict, T0 + timedelta(minutes=100))
        seeded_tables.add(linkback_env.table_name)
    return repository


def scratch_target(name: str) -> str:
    return f"{SCRATCH_SITE}/{uuid.uuid4().hex[:8]}/{name}"


# ------------------------------------------------------------------------------------ the client


@dataclass
class Reply:
    status: int
    headers: dict[str, str]
    body: bytes
    operations: list[str] = field(default_factory=list)  # DynamoDB calls made while answering

    def json(self) -> Any:
        assert self.headers.get("content-type", "").startswith("application/json"), self.headers
        return json.loads(self.body)

    @property
    def ids(self) -> list[str]:
        return [child["wm-id"] for child in self.json()["children"]]


def assert_cacheable_200(reply: Reply) -> None:
    assert reply.headers.get("access-control-allow-origin") == "*"
    cache_control = reply.headers.get("cache-control", "")
    for directive in ("public", "s-maxage=", "stale-while-revalidate=", "stale-if-error="):
        assert directive in cache_control, cache_control
    assert reply.headers.get("etag", "").startswith('"')


Get = Callable[..., Reply]


@pytest.fixture
def get(linkback_env: Resources, repository: MentionRepository) -> Iterator[Get]:
    """GET through the real handler; every 200 is checked for its cache and CORS headers, and no
    request may Scan."""
    from handlers.mentions import handler  # after linkback_env: Powertools reads its settings on import

    calls: list[str] = []

    def record(model: Any, **_: Any) -> None:
        calls.append(model.name)

    clients = {id(c): c for c in (m._get_connection().connection.client for m in (MentionRecord, SiteToken))}
    for client in clients.values():
        client.meta.events.register("before-call.dynamodb", record)

    def request(path: str, params: list[tuple[str, str]], headers: Sequence[tuple[str, str]] = ()) -> Reply:
        calls.clear()
        event = http_api_event(
            method="GET",
            path=path,
            raw_query=urlencode(params),
            headers=[("user-agent", "test_read_api"), *headers],
            body=b"",
            source_ip="127.0.0.1",
            route_key=f"GET {path}",
            host="localhost",
        )
        status, header_list, body = http_response(handler(event, LambdaContext("MentionsFunction")))
        reply = Reply(status, {name.lower(): value for name, value in header_list}, body, list(calls))
        assert "Scan" not in reply.operations
        if status == 200:
            assert_cacheable_200(reply)
        return reply

    yield request
    for client in clients.values():
        client.meta.events.unregister("before-call.dynamodb", record)


def targets(*urls: str) -> list[tuple[str, str]]:
    return [("target[]", url) for url in urls]


# ------------------------------------------------------------------------------------ the feed


def test_a_targets_feed_is_its_approved_mentions_newest_first(get: Get, seeded: MentionRepository) -> None:
    reply = get(FEED, [("target", A)])

    assert reply.status == 200
    assert names(reply.ids) == names(expected(of(A)))
    document = reply.json()
    assert (document["type"], document["name"]) == ("feed", "Webmentions")
    reply_entry = next(child for child in document["children"] if child["wm-id"] == BY_NAME["reply"].id)
    assert reply_entry["wm-target"] == A
    assert reply_entry["wm-property"] == "in-reply-to"
    assert reply_entry["in-reply-to"] == A
    assert reply_entry["wm-received"] == at(10)
    assert reply_entry["wm-source"] == reply_entry["url"] == BY_NAME["reply"].source
    assert reply_entry["author"]["name"] == "Author of reply"
    assert reply.operations == ["Query"]


def test_the_target_may_be_spelled_any_way_and_an_unmentioned_one_has_an_empty_feed(
    get: Get, seeded: MentionRepository
) -> None:
    assert get(FEED, [("target", "HTTPS://Example.COM:443/2024/a-post#comments")]).ids == expected(of(A))

    reply = get(FEED, [("target", f"{SITE}/never-mentioned")])

    assert reply.status == 200
    assert reply.json() == {"type": "feed", "name": "Webmentions", "children": []}


def test_the_feed_sorts_as_asked(get: Get, seeded: MentionRepository) -> None:
    # (One table for all combinations: each test's table costs more than the requests.)
    for sort_by, sort_dir in itertools.product(["created", "updated", "published", None], ["down", "up", None]):
        params = targets(A, B)
        params += [("sort-by", sort_by)] if sort_by else []
        params += [("sort-dir", sort_dir)] if sort_dir else []

        reply = get(FEED, params)

        order = expected(of(A, B), sort_by or "created", newest_first=sort_dir != "up")
        assert names(reply.ids) == names(order), params
        assert set(reply.operations) == {"Query"}


def test_the_published_order_puts_undated_mentions_where_they_were_received(
    get: Get, seeded: MentionRepository
) -> None:
    # "rsvp" has no published date and was received at 25: after "bookmark" (published 12),
    # before "reply-b" (published 41).
    ordered = names(get(FEED, [*targets(A, B), ("sort-by", "published"), ("sort-dir", "up")]).ids)

    assert ordered.index("bookmark") < ordered.index("rsvp") < ordered.index("reply-b")


def test_walking_the_pages_sees_every_mention_once(get: Get, seeded: MentionRepository) -> None:
    # created is answered from the index order (read up to the page), the others by sorting all.
    walks = itertools.product(
        [("created", "down"), ("created", "up"), ("updated", "down"), ("published", "up")], (1, 2, 3, 7)
    )
    for (sort_by, sort_dir), per_page in walks:
        order = expected(of(A, B), sort_by, newest_first=sort_dir == "down")
        walked: list[str] = []
        for page in range(len(order) // per_page + 2):  # one page past the end, which is empty
            params = [*targets(A, B), ("sort-by", sort_by), ("sort-dir", sort_dir)]
            reply = get(FEED, [*params, ("per-page", str(per_page)), ("page", str(page))])
            assert reply.status == 200
            assert len(reply.ids) == min(per_page, max(0, len(order) - page * per_page))
            walked += reply.ids
            assert set(reply.operations) == {"Query"}

        assert names(walked) == names(order), (sort_by, sort_dir, per_page)


def test_per_page_defaults_to_twenty_and_page_to_the_first(get: Get, repository: MentionRepository) -> None:
    target = scratch_target("many")
    many = [Seed(f"many-{n}", target, received=n, updated=n, published=None, prop="mention-of") for n in range(25)]
    for seed in many:
        assert repository.create(seed.record())

    first = get(FEED, [("target", target)])
    second = get(FEED, [("target", target), ("page", "1")])

    assert first.ids == expected(many)[:20]
    assert second.ids == expected(many)[20:]


def test_target_brackets_twice_merge_both_targets(get: Get, seeded: MentionRepository) -> None:
    merged = get(FEED, targets(A, B))

    assert names(merged.ids) == names(expected(of(A, B)))
    assert {child["wm-target"] for child in merged.json()["children"]} == {A, B}
    assert merged.operations == ["Query", "Query"]  # one per target
    assert get(FEED, targets(B)).ids == expected(of(B))
    # The same target twice, or as target and target[], is read once.
    assert get(FEED, [("target", A), ("target[]", A + "#again")]).ids == expected(of(A))


def test_target_brackets_with_a_comma_in_the_url_are_read_from_the_raw_query(
    get: Get, repository: MentionRepository
) -> None:
    # HTTP API joins repeated parameters with commas in queryStringParameters; URLs contain commas.
    odd, plain = scratch_target("tags/a,b"), scratch_target("tags/c")
    comma = Seed("comma", odd, received=1, updated=1, published=None, prop="mention-of")
    other = Seed("no-comma", plain, received=2, updated=2, published=None, prop="mention-of")
    for seed in (comma, other):
        assert repository.create(seed.record())

    assert get(FEED, targets(odd, plain)).ids == [other.id, comma.id]
    assert get(COUNT, targets(odd, plain)).json()["count"] == 2


def test_wm_property_brackets_filter_by_type(get: Get, seeded: MentionRepository) -> None:
    params = [*targets(A, B), ("wm-property[]", "in-reply-to"), ("wm-property[]", "like-of")]

    reply = get(FEED, params)

    wanted = [seed for seed in of(A, B) if seed.prop in ("in-reply-to", "like-of")]
    assert names(reply.ids) == names(expected(wanted)) == ["reply-b", "reply", "like"]
    assert {child["wm-property"] for child in reply.json()["children"]} == {"in-reply-to", "like-of"}
    assert set(reply.operations) == {"Query"}


def test_an_rsvp_carries_its_answer(get: Get, seeded: MentionRepository) -> None:
    (rsvp,) = get(FEED, [("target", B), ("wm-property[]", "rsvp")]).json()["children"]

    assert (rsvp["wm-property"], rsvp["rsvp"]) == ("rsvp", "yes")


def test_since_returns_only_mentions_received_later(get: Get, seeded: MentionRepository) -> None:
    # The same instant, T0 + 20 minutes, as fixed-width, Z, offset and naive (UTC) times.
    for since in (at(20), "2024-05-01T12:20:00Z", "2024-05-01T14:20:00+02:00", "2024-05-01T12:20:00"):
        reply = get(FEED, [*targets(A, B), ("since", since)])

        assert names(reply.ids) == ["reply-b", "bookmark", "rsvp"], since  # received at 40, 30 and 25
        assert set(reply.operations) == {"Query"}


def test_since_id_returns_only_mentions_received_after_that_one(get: Get, seeded: MentionRepository) -> None:
    reply = get(FEED, [*targets(A, B), ("since_id", BY_NAME["repost"].id)])  # received at 20

    assert names(reply.ids) == ["reply-b", "bookmark", "rsvp"]
    # The anchor is read by its key; the mentions by Query.
    assert sorted(reply.operations) == ["GetItem", "Query", "Query"]


def test_since_and_since_id_together_keep_the_later_bound(get: Get, seeded: MentionRepository) -> None:
    repost = BY_NAME["repost"].id  # received at 20
    assert names(get(FEED, [*targets(A, B), ("since", at(25)), ("since_id", repost)]).ids) == ["reply-b", "bookmark"]
    assert names(get(FEED, [*targets(A, B), ("since", at(5)), ("since_id", repost)]).ids) == [
        "reply-b",
        "bookmark",
        "rsvp",
    ]


def test_since_with_sort_dir_up_and_paging(get: Get, seeded: MentionRepository) -> None:
    params = [*targets(A, B), ("since", at(20)), ("sort-dir", "up"), ("per-page", "2")]

    assert names(get(FEED, [*params, ("page", "0")]).ids) == ["rsvp", "bookmark"]
    assert names(get(FEED, [*params, ("page", "1")]).ids) == ["reply-b"]


# ----------------------------------------------------------------------------- domain + token


def test_domain_and_token_read_the_whole_site_and_nothing_else(get: Get, seeded: MentionRepository) -> None:
    token = seeded.create_site_token(SITE, T0)

    reply = get(FEED, [("domain", "example.com"), ("token", token)])

    assert reply.status == 200
    assert names(reply.ids) == names(expected(of(A, B)))
    assert sorted(reply.operations) == ["GetItem", "Query"]  # the token by its key, the site by Query
    assert get(FEED, [("domain", "EXAMPLE.com."), ("token", token)]).ids == reply.ids
    filtered = get(FEED, [("domain", "example.com"), ("token", token), ("wm-property[]", "in-reply-to")])
    assert names(filtered.ids) == ["reply-b", "reply"]


def test_another_sites_token_reads_only_that_site(get: Get, seeded: MentionRepository) -> None:
    token = seeded.create_site_token(OTHER_SITE, T0)

    reply = get(FEED, [("domain", "blog.example.org"), ("token", token), ("sort-dir", "up")])

    assert names(reply.ids) == ["elsewhere-like", "elsewhere-reply"]


@pytest.mark.parametrize("path", [FEED, COUNT])
def test_a_token_not_made_for_that_domain_is_refused(get: Get, seeded: MentionRepository, path: str) -> None:
    site_token, other_token = seeded.create_site_token(SITE, T0), seeded.create_site_token(OTHER_SITE, T0)
    refused = {
        "unknown token": ("example.com", "not-a-token-anyone-was-given"),
        "token of another site": ("example.com", other_token),
        "domain of another site": ("blog.example.org", site_token),
        "look-alike domain": ("evil-example.com", site_token),
        "sub-domain": ("www.example.com", site_token),
    }
    for case, (domain, token) in refused.items():
        reply = get(path, [("domain", domain), ("token", token)])

        assert reply.status == 403, case
        assert reply.headers["content-type"].startswith("application/json")
        assert reply.json()["error_description"]
        assert "children" not in reply.json() and "count" not in reply.json()
        assert "etag" not in reply.headers


# ------------------------------------------------------------------------------------- counts


COUNT_A = {"count": 4, "type": {"like": 1, "reply": 1, "repost": 1, "bookmark": 1}}
COUNT_SITE = {
    "count": 7,
    "type": {"like": 1, "reply": 2, "repost": 1, "bookmark": 1, "mention": 1, "rsvp-yes": 1},
}


def test_count_of_a_target_is_by_webmention_io_type(get: Get, seeded: MentionRepository) -> None:
    reply = get(COUNT, [("target", A)])

    assert reply.status == 200
    assert reply.json() == COUNT_A
    assert reply.operations == ["Query"]
    assert get(COUNT, [("target", C)]).json() == {"count": 2, "type": {"like": 1, "reply": 1}}
    assert get(COUNT, [("target", f"{SITE}/never")]).json() == {"count": 0, "type": {}}


def test_count_of_several_targets_adds_them_up(get: Get, seeded: MentionRepository) -> None:
    reply = get(COUNT, targets(A, B))

    assert reply.json() == COUNT_SITE
    assert reply.operations == ["Query", "Query"]


def test_count_of_a_site_by_domain_and_token(get: Get, seeded: MentionRepository) -> None:
    token = seeded.create_site_token(SITE, T0)

    reply = get(COUNT, [("domain", "example.com"), ("token", token)])

    assert reply.json() == COUNT_SITE
    assert sorted(reply.operations) == ["GetItem", "Query"]


# ------------------------------------------------------------------------------- ETag and 304


def test_an_unchanged_answer_has_the_same_etag_and_is_not_sent_again(get: Get, seeded: MentionRepository) -> None:
    token = seeded.create_site_token(SITE, T0)
    requests = [
        (FEED, [("target", A)]),
        (FEED, targets(A, B)),
        (FEED, [("target", f"{SITE}/none")]),
        (FEED, [("domain", "example.com"), ("token", token)]),
        (COUNT, [("target", A)]),
    ]
    for path, params in requests:
        first = get(path, params)
        again = get(path, params)
        assert first.headers["etag"] == again.headers["etag"], params
        assert first.body == again.body

        revalidated = get(path, params, [("If-None-Match", first.headers["etag"])])

        assert revalidated.status == 304, params
        assert revalidated.body == b""
        assert revalidated.headers["etag"] == first.headers["etag"]
        assert revalidated.headers.get("access-control-allow-origin") == "*"
        assert "s-maxage=" in revalidated.headers.get("cache-control", "")


def test_if_none_match_with_an_old_or_listed_etag(get: Get, seeded: MentionRepository) -> None:
    etag = get(FEED, [("target", A)]).headers["etag"]

    assert get(FEED, [("target", A)], [("If-None-Match", '"0000"')]).status == 200
    assert get(FEED, [("target", A)], [("If-None-Match", f'"0000", W/{etag}')]).status == 304
    # The ETag names one answer: another query's ETag does not revalidate this one.
    assert get(FEED, [("target", B)], [("If-None-Match", etag)]).status == 200


def test_a_new_approved_mention_changes_the_etag(get: Get, repository: MentionRepository) -> None:
    target = scratch_target("post")
    assert repository.create(Seed("old", target, received=0, updated=0, published=None, prop="like-of").record())
    before = get(FEED, [("target", target)])
    count_before = get(COUNT, [("target", target)])
    fresh = Seed("fresh", target, received=200, updated=200, published=None, prop="like-of")
    assert repository.create(fresh.record())

    after = get(FEED, [("target", target)], [("If-None-Match", before.headers["etag"])])
    count_after = get(COUNT, [("target", target)], [("If-None-Match", count_before.headers["etag"])])

    assert after.status == 200
    assert after.headers["etag"] != before.headers["etag"]
    assert after.ids[0] == fresh.id
    assert count_after.status == 200
    assert count_after.headers["etag"] != count_before.headers["etag"]
    assert count_after.json() == {"count": 2, "type": {"like": 2}}


def test_a_mention_that_is_not_approved_does_not_change_the_etag(get: Get, repository: MentionRepository) -> None:
    target = scratch_target("post")
    assert repository.create(Seed("old", target, received=0, updated=0, published=None, prop="like-of").record())
    before = get(FEED, [("target", target)])
    for n, status in enumerate([Status.QUEUED, Status.PENDING, Status.SPAM, Status.REJECTED]):
        held = Seed(f"held-{n}", target, received=200 + n, updated=200, published=None, prop="like-of", status=status)
        assert repository.create(held.record())

    assert get(FEED, [("target", target)], [("If-None-Match", before.headers["etag"])]).status == 304


# ------------------------------------------------------------------------------ bad parameters


INVALID = [
    [],
    [("target", "")],
    [("target", "not a url")],
    [("target[]", A), ("target[]", "ftp://example.com/x")],
    [("target", A), ("sort-by", "date")],
    [("target", A), ("sort-dir", "asc")],
    [("target", A), ("per-page", "0")],
    [("target", A), ("per-page", "ten")],
    [("target", A), ("page", "-1")],
    [("target", A), ("page", "next")],
    [("target", A), ("since", "yesterday")],
    [("target", A), ("wm-property[]", "follow-of")],
    [("domain", "example.com")],
    [("token", "t")],
    [("target", A), ("domain", "example.com"), ("token", "t")],
]


@pytest.mark.parametrize("path", [FEED, COUNT])
def test_invalid_parameters_are_a_400_json_error(get: Get, linkback_env: Resources, path: str) -> None:
    for params in INVALID:
        reply = get(path, params)

        assert reply.status == 400, params
        assert reply.headers["content-type"].startswith("application/json")
        error = reply.json()
        assert error["error"] == "invalid_request"
        assert isinstance(error["error_description"], str) and error["error_description"]
        assert reply.headers.get("access-control-allow-origin") == "*"  # the widget may read why
        assert reply.operations == []  # refused before reading anything


def test_a_per_page_above_the_maximum_is_served_capped(get: Get, seeded: MentionRepository) -> None:
    assert get(FEED, [("target", A), ("per-page", "1000")]).ids == expected(of(A))


def test_a_since_out_of_range_is_a_400(get: Get, linkback_env: Resources) -> None:
    assert get(FEED, [("target", A), ("since", "0001-01-01T00:00:00+01:00")]).status == 400


def test_a_since_id_that_cannot_be_a_mention_id_is_a_400(get: Get, linkback_env: Resources) -> None:
    reply = get(FEED, [("target", A), ("since_id", "x" * 3000)])

    assert reply.status == 400
    assert reply.json()["error_description"]
