"""`/api/mentions.jf2`'s parameters (webmention.io's, docs/api.md) and how one page is chosen from
the approved records: `feed.parse_query` and `feed.select`. Pure: no table, no handler."""

from __future__ import annotations

import itertools
import re

import pytest

from linkback.read.feed import DEFAULT_PER_PAGE, MAX_PER_PAGE, FeedQuery, InvalidQuery, parse_query, select
from linkback.store.schema import MentionRecord

A = "https://example.com/2024/a-post"
B = "https://example.com/2024/b-post"
FIXED_WIDTH_UTC = re.compile(r"\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{6}Z")
PROPERTIES = ["in-reply-to", "like-of", "repost-of", "bookmark-of", "mention-of", "rsvp"]


def query(*pairs: tuple[str, str], target: str | None = A) -> FeedQuery:
    """parse_query of `pairs`, with one target first unless `target=None`."""
    return parse_query(([("target", target)] if target else []) + list(pairs))


# ------------------------------------------------------------------------------------ targets


def test_one_target_and_nothing_else_means_the_defaults():
    assert query() == FeedQuery(
        targets=(A,),
        domain=None,
        token=None,
        per_page=DEFAULT_PER_PAGE,
        page=0,
        sort_by="created",
        newest_first=True,
        since=None,
        since_id=None,
        properties=frozenset(),
    )


@pytest.mark.parametrize(
    "spelling",
    [
        "HTTPS://Example.COM/2024/a-post",
        "https://example.com:443/2024/a-post",
        "https://example.com/2024/a-post#comments",
        "https://example.com./2024/./x/../a-post",
        "https://example.com/2024/%61-post",
    ],
)
def test_a_target_is_normalised_as_the_records_are_keyed(spelling):
    assert query(target=spelling).targets == (A,)


def test_target_brackets_several_times_are_all_taken_in_order():
    pairs = [("target[]", B), ("target[]", A)]

    assert parse_query(pairs).targets == (B, A)


def test_target_and_target_brackets_mix():
    assert parse_query([("target", A), ("target[]", B)]).targets == (A, B)


def test_the_same_target_spelled_several_ways_is_read_once():
    pairs = [("target[]", A), ("target[]", B), ("target[]", "HTTPS://EXAMPLE.com:443/2024/a-post#x"), ("target", B)]

    assert parse_query(pairs).targets == (A, B)


@pytest.mark.parametrize(
    "bad", ["", "example.com/post", "ftp://example.com/post", "https://user:pw@example.com/", "https://exa mple.com/"]
)
@pytest.mark.parametrize("name", ["target", "target[]"])
def test_a_target_that_is_not_a_usable_url_is_an_invalid_query(name, bad):
    with pytest.raises(InvalidQuery, match="target is not a usable URL"):
        parse_query([(name, bad)])


def test_one_bad_target_among_good_ones_is_an_invalid_query():
    with pytest.raises(InvalidQuery):
        parse_query([("target[]", A), ("target[]", "javascript:alert(1)")])


# -------------------------------------------------------------------------- target vs domain


@pytest.mark.parametrize(
    "pairs",
    [
        pytest.param([], id="nothing"),
        pytest.param([("domain", "example.com")], id="domain-without-token"),
        pytest.param([("token", "s3cret")], id="token-without-domain"),
        pytest.param([("domain", "example.com"), ("token", "")], id="empty-token"),
        pytest.param([("domain", ""), ("token", "s3cret")], id="empty-domain"),
        pytest.param([("per-page", "5"), ("sort-dir", "up")], id="only-options"),
    ],
)
def test_neither_a_target_nor_a_domain_with_its_token_is_an_invalid_query(pairs):
    with pytest.raises(InvalidQuery, match="give a target"):
        parse_query(pairs)


@pytest.mark.parametrize(
    "pairs",
    [
        pytest.param([("target", A), ("domain", "example.com"), ("token", "s3cret")], id="target"),
        pytest.param([("target[]", A), ("target[]", B), ("domain", "example.com"), ("token", "t")], id="targets"),
        pytest.param([("target", A), ("domain", "example.com")], id="target-and-bare-domain"),
    ],
)
def test_targets_and_a_domain_together_are_an_invalid_query(pairs):
    with pytest.raises(InvalidQuery, match="not both"):
        parse_query(pairs)


def test_a_domain_with_its_token_reads_the_site():
    parsed = parse_query([("domain", "Example.COM."), ("token", "AbC-_x")])

    assert (parsed.targets, parsed.domain, parsed.token) == ((), "example.com", "AbC-_x")


# ------------------------------------------------------------------------------- wm-property


@pytest.mark.parametrize("value", PROPERTIES)
@pytest.mark.parametrize("name", ["wm-property[]", "wm-property"])
def test_each_webmention_property_can_be_asked_for(name, value):
    assert query((name, value)).properties == frozenset({value})


def test_several_properties_are_all_taken_once():
    parsed = query(("wm-property[]", "in-reply-to"), ("wm-property[]", "like-of"), ("wm-property[]", "like-of"))

    assert parsed.properties == frozenset({"in-reply-to", "like-of"})


@pytest.mark.parametrize("value", ["", "like", "reply", "follow-of", "LIKE-OF", "like-of ", "in-reply-to,like-of"])
def test_an_unknown_property_is_an_invalid_query(value):
    with pytest.raises(InvalidQuery, match="wm-property must be one of"):
        query(("wm-property[]", "like-of"), ("wm-property[]", value))


# --------------------------------------------------------------------------------- sorting


@pytest.mark.parametrize("sort_by", ["created", "updated", "published"])
def test_sort_by_takes_webmention_ios_three_fields(sort_by):
    assert query(("sort-by", sort_by)).sort_by == sort_by


@pytest.mark.parametrize(("sort_dir", "newest_first"), [("down", True), ("up", False), ("", True)])
def test_sort_dir_down_is_newest_first_and_the_default(sort_dir, newest_first):
    assert query(("sort-dir", sort_dir)).newest_first is newest_first


def test_an_empty_sort_by_means_created():
    assert query(("sort-by", "")).sort_by == "created"


@pytest.mark.parametrize("value", ["received", "date", "Created", "created ", "id"])
def test_an_unknown_sort_by_is_an_invalid_query(value):
    with pytest.raises(InvalidQuery, match="sort-by must be"):
        query(("sort-by", value))


@pytest.mark.parametrize("value", ["asc", "desc", "UP", "Down", "ascending", "1"])
def test_an_unknown_sort_dir_is_an_invalid_query(value):
    with pytest.raises(InvalidQuery, match="sort-dir must be"):
        query(("sort-dir", value))


# ------------------------------------------------------------------------------------ since


@pytest.mark.parametrize(
    ("since", "normalised"),
    [
        pytest.param("2024-05-01T10:00:00Z", "2024-05-01T10:00:00.000000Z", id="utc-z"),
        pytest.param("2024-05-01T10:00:00+00:00", "2024-05-01T10:00:00.000000Z", id="utc-offset"),
        pytest.param("2024-05-01T12:30:00+02:30", "2024-05-01T10:00:00.000000Z", id="east-offset"),
        pytest.param("2024-05-01T03:00:00-07:00", "2024-05-01T10:00:00.000000Z", id="west-offset"),
        pytest.param("2024-04-30T23:00:00-11:00", "2024-05-01T10:00:00.000000Z", id="offset-crosses-midnight"),
        pytest.param("2024-05-01T10:00:00", "2024-05-01T10:00:00.000000Z", id="naive-is-utc"),
        pytest.param("2024-05-01T10:00:00.5Z", "2024-05-01T10:00:00.500000Z", id="fraction"),
        pytest.param("2024-05-01T10:00:00.123456Z", "2024-05-01T10:00:00.123456Z", id="fixed-width-as-is"),
        pytest.param("2024-05-01", "2024-05-01T00:00:00.000000Z", id="date-only"),
    ],
)
def test_since_is_normalised_to_the_fixed_width_utc_form_of_received_at(since, normalised):
    parsed = query(("since", since)).since

    assert parsed == normalised
    assert FIXED_WIDTH_UTC.fullmatch(parsed)


def test_since_compares_in_time_order_whatever_offset_it_was_given_in():
    # The same instants, spelled in three zones: string order of the normalised form is time order.
    spelled = ["2024-05-01T11:00:00+02:00", "2024-05-01T09:30:00Z", "2024-05-01T03:00:00-07:00"]
    instants = ["2024-05-01T09:00:00", "2024-05-01T09:30:00", "2024-05-01T10:00:00"]

    assert sorted(query(("since", s)).since for s in spelled) == [query(("since", i)).since for i in instants]


@pytest.mark.parametrize(
    "since",
    [
        "yesterday",
        "1714557600",
        "2024-13-01T00:00:00Z",
        "2024-05-32T00:00:00Z",
        "2024-05-01T25:00:00Z",
        "2024-05-01T10:00:00 02:00",  # an unescaped "+" in a query string arrives as a space
        "01/05/2024",
    ],
)
def test_a_since_that_is_not_an_iso_time_is_an_invalid_query(since):
    with pytest.raises(InvalidQuery, match="since must be an ISO 8601 time"):
        query(("since", since))


@pytest.mark.parametrize("since", ["0001-01-01T00:00:00+01:00", "9999-12-31T23:59:59-01:00"])
def test_a_since_outside_the_representable_range_is_an_invalid_query(since):
    with pytest.raises(InvalidQuery):
        query(("since", since))


def test_an_empty_since_and_since_id_mean_none():
    parsed = query(("since", ""), ("since_id", ""))

    assert (parsed.since, parsed.since_id) == (None, None)


def test_since_id_is_kept_as_given():
    assert query(("since_id", "0123456789abcdef0123456789abcdef")).since_id == "0123456789abcdef0123456789abcdef"


# ----------------------------------------------------------------------------------- paging


@pytest.mark.parametrize(("per_page", "page"), [("1", "0"), (str(MAX_PER_PAGE), "200"), ("7", "3")])
def test_per_page_and_page_within_bounds_are_taken(per_page, page):
    parsed = query(("per-page", per_page), ("page", page))

    assert (parsed.per_page, parsed.page) == (int(per_page), int(page))


@pytest.mark.parametrize("per_page", [str(MAX_PER_PAGE + 1), "1000", "1000000"])
def test_a_per_page_above_the_maximum_is_capped_not_refused(per_page):
    # webmention.js sends its data-max-webmentions as is; a 400 would leave the widget empty.
    assert query(("per-page", per_page)).per_page == MAX_PER_PAGE


@pytest.mark.parametrize(
    ("name", "value"),
    [
        ("per-page", "0"),
        ("per-page", "1000001"),
        ("per-page", "-5"),
        ("per-page", "ten"),
        ("per-page", "2.0"),
        ("page", "-1"),
        ("page", "201"),
        ("page", "last"),
    ],
)
def test_per_page_and_page_outside_bounds_are_an_invalid_query(name, value):
    with pytest.raises(InvalidQuery, match=name):
        query((name, value))


def test_parameters_webmention_io_has_and_we_do_not_are_ignored():
    assert query(("jsonp", "callback"), ("wm-private", "true")) == query()


# =================================================================================== select


def mention(pk: str, received: str, *, updated: str | None = None, published: str | None = None, prop="mention-of"):
    """An approved record as the public index returns it (not saved: select needs no table)."""
    return MentionRecord(
        pk,
        protocol="webmention",
        source=f"https://blog.example.net/{pk}",
        target=A,
        site="https://example.com",
        status="approved",
        received_at=received,
        updated_at=updated or received,
        published=published,
        wm_property=prop,
    )


def t(minute: int, second: int = 0) -> str:
    """A fixed-width UTC time on 2024-05-01 at 10:mm:ss, as the records store them."""
    return f"2024-05-01T10:{minute:02d}:{second:02d}.000000Z"


# Received, updated and published in three different orders; "e" and "b" have no published time
# and sort by their reception there.
RECORDS = [
    mention("a", t(1), updated=t(50), published="2024-04-30T08:00:00.000000Z", prop="like-of"),
    mention("b", t(2), updated=t(10), prop="in-reply-to"),
    mention("c", t(3), updated=t(30), published=t(0, 30), prop="repost-of"),
    mention("d", t(4), updated=t(20), published=t(5), prop="in-reply-to"),
    mention("e", t(5, 30), updated=t(40), prop="like-of"),
]


def pks(records) -> list[str]:
    return [record.pk for record in records]


def selected(records=RECORDS, **query_fields) -> list[str]:
    return pks(select(list(records), FeedQuery(targets=(A,), **query_fields)))


@pytest.mark.parametrize(
    ("sort_by", "oldest_first"),
    [
        ("created", ["a", "b", "c", "d", "e"]),
        ("updated", ["b", "d", "c", "e", "a"]),
        # a (April), c (10:00:30), b (received 10:02), d (10:05), e (received 10:05:30)
        ("published", ["a", "c", "b", "d", "e"]),
    ],
)
@pytest.mark.parametrize("newest_first", [True, False])
def test_select_sorts_by_the_asked_field_in_the_asked_direction(sort_by, oldest_first, newest_first):
    expected = oldest_first[::-1] if newest_first else oldest_first

    assert selected(sort_by=sort_by, newest_first=newest_first) == expected


@pytest.mark.parametrize("sort_by", ["created", "updated", "published"])
def test_select_does_not_depend_on_the_order_the_index_returned(sort_by):
    orders = {tuple(selected(shuffled, sort_by=sort_by)) for shuffled in itertools.permutations(RECORDS)}

    assert len(orders) == 1


@pytest.mark.parametrize(("newest_first", "expected"), [(True, ["z", "m", "b"]), (False, ["b", "m", "z"])])
def test_ties_are_broken_by_id_so_pages_are_stable(newest_first, expected):
    tied = [mention(pk, t(7), published=t(1)) for pk in ("m", "z", "b")]

    for sort_by in ("created", "updated", "published"):
        for shuffled in itertools.permutations(tied):
            assert selected(shuffled, sort_by=sort_by, newest_first=newest_first) == expected


def test_a_missing_published_time_sorts_by_reception_among_published_ones():
    # b was received at 10:02 with no published time: between c (published 10:00:30) and d (10:05).
    ordered = selected(sort_by="published", newest_first=False)

    assert ordered.index("c") < ordered.index("b") < ordered.index("d")


@pytest.mark.parametrize(
    ("earlier", "later"),
    [
        # 09:00 at +02:00 is 07:00 UTC: earlier than 08:00Z, but "09" > "08" as text.
        pytest.param(
            mention("x", t(0), published="2024-05-01T09:00:00+02:00"),
            mention("y", t(1), published="2024-05-01T08:00:00Z"),
            id="offset",
        ),
        # 10:00:00Z is half a second before a reception at 10:00:00.5 (used as y has no published).
        pytest.param(
            mention("x", t(0), published="2024-05-01T10:00:00Z"),
            mention("y", "2024-05-01T10:00:00.500000Z"),
            id="no-fraction-vs-received",
        ),
    ],
)
def test_published_times_sort_in_time_order_whatever_their_spelling(earlier, later):
    assert selected([earlier, later], sort_by="published", newest_first=True) == ["y", "x"]
    assert selected([later, earlier], sort_by="published", newest_first=False) == ["x", "y"]


@pytest.mark.parametrize(
    ("properties", "expected"),
    [
        (frozenset(), ["e", "d", "c", "b", "a"]),
        (frozenset({"in-reply-to"}), ["d", "b"]),
        (frozenset({"in-reply-to", "like-of"}), ["e", "d", "b", "a"]),
        (frozenset({"repost-of"}), ["c"]),
        (frozenset({"rsvp", "bookmark-of"}), []),
    ],
)
def test_select_keeps_only_the_asked_properties(properties, expected):
    assert selected(properties=properties) == expected


@pytest.mark.parametrize(
    ("per_page", "page", "expected"),
    [
        (2, 0, ["e", "d"]),
        (2, 1, ["c", "b"]),
        (2, 2, ["a"]),
        (2, 3, []),
        (5, 0, ["e", "d", "c", "b", "a"]),
        (5, 1, []),
        (1, 4, ["a"]),
        (100, 0, ["e", "d", "c", "b", "a"]),
    ],
)
def test_select_cuts_the_asked_page(per_page, page, expected):
    assert selected(per_page=per_page, page=page) == expected


@pytest.mark.parametrize("per_page", [1, 2, 3, 4, 5, 6])
@pytest.mark.parametrize("sort_by", ["created", "updated", "published"])
def test_walking_the_pages_sees_every_record_once_in_order(per_page, sort_by):
    walked: list[str] = []
    for page in range(10):
        walked += selected(per_page=per_page, page=page, sort_by=sort_by)

    assert walked == selected(per_page=100, sort_by=sort_by)


def test_pages_are_cut_after_filtering():
    # Two replies only: page 0 of one per page is the newest reply, not the newest mention.
    assert selected(properties=frozenset({"in-reply-to"}), per_page=1, page=0) == ["d"]
    assert selected(properties=frozenset({"in-reply-to"}), per_page=1, page=1) == ["b"]


def test_select_of_nothing_is_nothing():
    assert select([], FeedQuery(targets=(A,))) == []
