"""The public read model: the jf2 feed, the count document, paging and caching (docs/api.md)."""

from __future__ import annotations

import json

import pytest

from linkback.read.feed import (
    DEFAULT_PER_PAGE,
    MAX_PER_PAGE,
    FeedQuery,
    InvalidQuery,
    count_document,
    entry,
    etag_matches,
    feed,
    parse_paging,
    render,
    select,
)
from linkback.store.schema import PUBLIC_ATTRIBUTES, MentionRecord


def approved_mention(**overrides) -> MentionRecord:
    values = {
        "protocol": "trackback",
        "source": "https://blog.example.org/2024/05/cafe-culture.html",
        "target": "https://example.com/posts/hello/",
        "site": "https://example.com",
        "status": "approved",
        "received_at": "2024-05-20T10:11:12.131415Z",
        "updated_at": "2024-05-20T10:11:20.000000Z",
        "title": "Café culture, déjà vu",
        "excerpt": "I read “Hello” over a café crème…",
        "author_name": "Zoë",
        "author_url": "https://blog.example.org/",
        "author_photo": "https://blog.example.org/zoe.jpg",
        "published": "2024-05-19T08:00:00Z",
        "wm_property": "mention-of",
    }
    values.update(overrides)
    return MentionRecord("3f1c0a9e8d7b6c5a4f3e2d1c0b9a8f7e", **values)


# --- jf2 ----------------------------------------------------------------------------------------


def test_an_entry_has_exactly_the_jf2_shape_of_the_contract():
    assert entry(approved_mention()) == {
        "type": "entry",
        "wm-id": "3f1c0a9e8d7b6c5a4f3e2d1c0b9a8f7e",
        "wm-source": "https://blog.example.org/2024/05/cafe-culture.html",
        "wm-target": "https://example.com/posts/hello/",
        "wm-property": "mention-of",
        "wm-received": "2024-05-20T10:11:12.131415Z",
        "wm-protocol": "trackback",
        "wm-private": False,
        "url": "https://blog.example.org/2024/05/cafe-culture.html",
        "name": "Café culture, déjà vu",
        "published": "2024-05-19T08:00:00Z",
        "author": {
            "type": "card",
            "name": "Zoë",
            "url": "https://blog.example.org/",
            "photo": "https://blog.example.org/zoe.jpg",
        },
        "content": {"text": "I read “Hello” over a café crème…"},
        # webmention.io names the target under the mention's own property too
        "mention-of": "https://example.com/posts/hello/",
    }


def test_a_reply_names_its_target_under_in_reply_to_and_uses_the_entrys_own_url():
    reply = entry(approved_mention(wm_property="in-reply-to", entry_url="https://blog.example.org/replies/7"))

    assert reply["wm-property"] == "in-reply-to"
    assert reply["in-reply-to"] == "https://example.com/posts/hello/"
    assert "mention-of" not in reply
    assert reply["url"] == "https://blog.example.org/replies/7"


def test_an_rsvp_carries_its_answer():
    rsvp = entry(approved_mention(wm_property="rsvp", rsvp="yes"))

    assert rsvp["rsvp"] == "yes"
    assert rsvp["wm-property"] == "rsvp"


def test_an_entry_without_title_excerpt_or_author_has_empty_strings_not_nulls():
    # The widget renders these as text: an empty string is safe where null would print "null"
    bare = entry(approved_mention(title=None, excerpt=None, author_name=None, author_url=None, author_photo=None))

    assert bare["name"] == ""
    assert bare["content"] == {"text": ""}
    assert bare["author"] == {"type": "card", "name": "", "url": "", "photo": ""}


def test_an_entry_without_a_published_date_says_null():
    assert entry(approved_mention(published=None))["published"] is None


@pytest.mark.parametrize("protocol", ["trackback", "pingback", "webmention"])
def test_an_entry_names_the_protocol_it_came_by(protocol):
    assert entry(approved_mention(protocol=protocol))["wm-protocol"] == protocol


def test_the_feed_is_a_jf2_feed_named_webmentions_with_one_child_per_mention():
    first = approved_mention()
    second = approved_mention(source="https://other.example/reply", protocol="pingback")

    document = feed([first, second])

    assert document["type"] == "feed"
    assert document["name"] == "Webmentions"
    assert [child["wm-source"] for child in document["children"]] == [
        "https://blog.example.org/2024/05/cafe-culture.html",
        "https://other.example/reply",
    ]


def test_a_feed_without_mentions_has_no_children():
    assert feed([]) == {"type": "feed", "name": "Webmentions", "children": []}


# --- counts -------------------------------------------------------------------------------------


def test_the_count_document_totals_and_names_types_as_webmention_io_does():
    counts = {"mention-of": 3, "in-reply-to": 2, "like-of": 1, "repost-of": 4, "bookmark-of": 5, "rsvp": 6}

    assert count_document(counts) == {
        "count": 21,
        "type": {"mention": 3, "reply": 2, "like": 1, "repost": 4, "bookmark": 5, "rsvp": 6},
    }


def test_the_count_document_of_a_target_without_mentions_is_zero():
    assert count_document({}) == {"count": 0, "type": {}}


def test_an_unknown_property_is_counted_under_its_own_name():
    assert count_document({"follow-of": 2}) == {"count": 2, "type": {"follow-of": 2}}


# --- paging -------------------------------------------------------------------------------------


def test_paging_defaults_to_the_first_page_of_twenty():
    assert parse_paging({}) == (DEFAULT_PER_PAGE, 0)
    assert DEFAULT_PER_PAGE == 20


def test_empty_paging_parameters_mean_the_defaults():
    assert parse_paging({"per-page": "", "page": None}) == (DEFAULT_PER_PAGE, 0)


def test_paging_parameters_are_read_as_numbers():
    assert parse_paging({"per-page": "50", "page": "3"}) == (50, 3)


@pytest.mark.parametrize("per_page", ["1", str(MAX_PER_PAGE)])
def test_per_page_accepts_its_bounds(per_page):
    assert parse_paging({"per-page": per_page})[0] == int(per_page)


@pytest.mark.parametrize("value", ["ten", "1.5", "1e2", "0x10", "--1"])
@pytest.mark.parametrize("name", ["per-page", "page"])
def test_a_paging_parameter_that_is_not_a_whole_number_is_an_invalid_query(name, value):
    with pytest.raises(InvalidQuery, match=f"{name} must be a whole number"):
        parse_paging({name: value})


@pytest.mark.parametrize(("name", "value"), [("per-page", "0"), ("page", "-1"), ("page", "201")])
def test_a_paging_parameter_out_of_range_is_an_invalid_query(name, value):
    with pytest.raises(InvalidQuery, match=f"{name} must be between"):
        parse_paging({name: value})


def test_a_per_page_above_the_maximum_is_capped_not_refused():
    # webmention.js passes data-max-webmentions through as per-page; a 400 would empty its widget.
    assert parse_paging({"per-page": "500"}) == (MAX_PER_PAGE, 0)


def test_an_invalid_query_is_answered_with_400():
    with pytest.raises(InvalidQuery) as refused:
        parse_paging({"page": "last"})

    assert refused.value.http_status == 400


# --- rendering and ETags ------------------------------------------------------------------------


def test_the_body_is_utf8_json_of_the_document():
    document = feed([approved_mention()])

    body, _etag = render(document)

    assert json.loads(body) == document
    assert "Zoë".encode() in body


def test_the_etag_is_a_quoted_strong_validator():
    _body, etag = render(feed([]))

    assert etag.startswith('"') and etag.endswith('"')
    assert not etag.startswith("W/")


def test_the_same_document_always_has_the_same_etag():
    assert render(feed([approved_mention()]))[1] == render(feed([approved_mention()]))[1]


def test_a_different_document_has_a_different_etag():
    before = render(feed([approved_mention()]))[1]
    after = render(feed([approved_mention(excerpt="Edited by the owner")]))[1]

    assert before != after


ETAG = '"0123456789abcdef0123456789abcdef"'


def test_if_none_match_with_the_same_etag_matches():
    assert etag_matches(ETAG, ETAG)


def test_if_none_match_with_another_etag_does_not_match():
    assert not etag_matches('"ffffffffffffffffffffffffffffffff"', ETAG)


def test_if_none_match_with_a_list_matches_when_any_member_does():
    assert etag_matches(f'"aaaa", {ETAG} ,"bbbb"', ETAG)


def test_if_none_match_compares_weakly_so_a_w_prefixed_etag_matches():
    # RFC 9110 §13.1.2: If-None-Match uses the weak comparison (CDNs add W/ when they compress)
    assert etag_matches(f"W/{ETAG}", ETAG)


def test_if_none_match_star_matches_any_etag():
    assert etag_matches("*", ETAG)


@pytest.mark.parametrize("header", [None, ""])
def test_no_if_none_match_never_matches(header):
    assert not etag_matches(header, ETAG)


class PublicView:
    """A record as the public read loads it: asking for any other attribute is a bug the feed would hide
    (the attribute would read as None in AWS, where the Query returns only PUBLIC_ATTRIBUTES)."""

    def __init__(self, record: MentionRecord) -> None:
        self._record = record

    def __getattr__(self, name: str):
        if name not in PUBLIC_ATTRIBUTES:
            raise AssertionError(f"the public read does not load {name!r}")
        return getattr(self._record, name)


@pytest.mark.parametrize("sort_by", ["created", "updated", "published"])
def test_the_feed_reads_only_what_the_public_query_loads(sort_by: str) -> None:
    records = []
    for n in range(3):
        moment = f"2024-05-2{n}T10:00:00.000000Z"
        record = approved_mention(
            received_at=moment, updated_at=moment, published=moment, wm_property="rsvp", rsvp="yes"
        )
        record.pk = f"{n:032x}"
        records.append(PublicView(record))
    chosen = select(records, FeedQuery(targets=("https://example.com/posts/hello/",), sort_by=sort_by))
    document = feed(chosen)
    assert [child["wm-id"] for child in document["children"]] == [f"{n:032x}" for n in (2, 1, 0)]
    assert document["children"][0]["rsvp"] == "yes"
