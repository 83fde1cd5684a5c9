"""The field table is the one list of a mention's fields: the stored record, the verdict, the import, the
public feed, the admin document and the owner's export all follow it, so adding a field there and here is
all a new field takes. These tests fail, naming the field, when one of them drifts from the table."""

from __future__ import annotations

import dataclasses
import json

import pytest

from linkback import fields
from linkback.fields import BY_NAME, FEED_FIELDS, IMPORTED_FIELDS, MENTION_FIELDS, VERDICT_FIELDS, get_path
from linkback.model import Status, Verdict
from linkback.moderation.documents import mention_document
from linkback.read.feed import entry
from linkback.receive.trackback import parse_ping
from linkback.store.schema import PUBLIC_ATTRIBUTES, MentionRecord
from linkback_infra.export import csv_text, owner_entry
from linkback_infra.imports import ImportedMention, read_jf2

SITE = "https://example.com"


def full_record() -> MentionRecord:
    """A mention with every field set to a value that says which field it is."""
    return MentionRecord(
        "0123456789abcdef0123456789abcdef",
        protocol="webmention",
        source="https://blog.example.net/reply",
        target=f"{SITE}/posts/hello/",
        site=SITE,
        status="approved",
        status_reason="the source links to the target",
        received_at="2026-05-03T10:00:00.000000Z",
        updated_at="2026-05-03T10:01:00.000000Z",
        verified_at="2026-05-03T10:00:30.000000Z",
        sender_ip="203.0.113.9",
        user_agent="Sender/1.0",
        sent_title="sent title",
        sent_excerpt="sent excerpt",
        sent_blog_name="sent blog",
        title="page title",
        excerpt="page excerpt",
        author_name="Jo Example",
        author_url="https://blog.example.net/",
        author_photo="https://blog.example.net/jo.jpg",
        wm_property="in-reply-to",
        rsvp=None,
        published="2026-05-02T09:00:00Z",
        entry_url="https://blog.example.net/2026/reply",
        deleted_by=None,
        spam_score=1.5,
        spam_reasons=["a reason"],
        fetch_status=200,
        fetched_url="https://blog.example.net/reply",
    )


@pytest.mark.parametrize("field", MENTION_FIELDS, ids=lambda f: f.name)
def test_the_stored_record_has_an_attribute_for_every_field(field: fields.Field) -> None:
    assert field.name in MentionRecord.get_attributes()


@pytest.mark.parametrize("field", VERDICT_FIELDS, ids=lambda f: f.name)
def test_a_verdict_carries_every_field_the_page_or_the_verifier_sets(field: fields.Field) -> None:
    assert field.name in Verdict._fields


def test_a_verdict_carries_no_field_the_table_does_not_give_the_verifier() -> None:
    assert set(Verdict._fields) - {"status", "reason"} == {field.name for field in VERDICT_FIELDS}


@pytest.mark.parametrize("field", IMPORTED_FIELDS, ids=lambda f: f.name)
def test_an_imported_mention_carries_every_field_an_export_moves(field: fields.Field) -> None:
    assert field.name in {f.name for f in dataclasses.fields(ImportedMention)}


def test_the_public_read_loads_exactly_the_public_fields() -> None:
    assert tuple(field.name for field in MENTION_FIELDS if field.public) == PUBLIC_ATTRIBUTES
    assert {field.name for field in FEED_FIELDS} <= set(PUBLIC_ATTRIBUTES)


@pytest.mark.parametrize("field", FEED_FIELDS, ids=lambda f: f.name)
def test_the_feed_shows_every_feed_field_where_the_table_places_it(field: fields.Field) -> None:
    record = full_record()
    if field.name == "rsvp":
        record.wm_property, record.rsvp = "rsvp", "yes"

    assert get_path(entry(record), field.jf2 or "") == getattr(record, field.name) or field.name == "pk"


def test_the_feed_shows_no_private_field() -> None:
    shown = json.dumps(entry(full_record()))

    for field in MENTION_FIELDS:
        value = getattr(full_record(), field.name)
        if not field.public and isinstance(value, str) and value not in ("https://blog.example.net/reply", SITE):
            assert value not in shown, field.name


@pytest.mark.parametrize("field", [f for f in MENTION_FIELDS if f.admin], ids=lambda f: f.name)
def test_the_admin_document_shows_every_field_where_the_table_places_it(field: fields.Field) -> None:
    record = full_record()
    expected = getattr(record, field.name)
    if field.name == "spam_reasons":
        expected = list(expected)

    assert get_path(mention_document(record), field.admin or "") == expected


def test_the_owner_is_shown_what_a_trackback_claimed_while_the_page_said_nothing() -> None:
    record = full_record()
    record.title = record.excerpt = record.author_name = None

    document = mention_document(record)

    assert (document["title"], document["excerpt"], document["author"]["name"]) == (
        "sent title",
        "sent excerpt",
        "sent blog",
    )


def test_an_owner_export_read_back_by_the_importer_keeps_every_field_that_moves() -> None:
    record = full_record()
    exported = {"type": "feed", "children": [owner_entry(mention_document(record))]}

    batch = read_jf2(json.dumps(exported).encode(), [SITE])

    [imported] = batch.mentions
    for field in IMPORTED_FIELDS:
        expected = getattr(record, field.name)
        assert getattr(imported, field.name) == (tuple(expected) if field.name == "spam_reasons" else expected)
    assert imported.status is Status.APPROVED


def test_the_csv_export_reads_each_column_where_the_table_places_it() -> None:
    header, row = csv_text([owner_entry(mention_document(full_record()))]).splitlines()

    assert header.split(",")[:4] == ["id", "protocol", "status", "source"]
    assert row.split(",")[:4] == ["0123456789abcdef0123456789abcdef", "webmention", "approved", full_record().source]


def test_a_trackback_is_cropped_to_the_limits_the_table_gives() -> None:
    body = f"url=https://blog.example.net/p&title={'t' * 400}&excerpt={'e' * 900}&blog_name={'b' * 400}".encode()

    ping = parse_ping(body, "application/x-www-form-urlencoded")

    assert len(ping.title or "") <= BY_NAME["sent_title"].limit
    assert len(ping.excerpt or "") <= fields.limit("sent_excerpt")
    assert len(ping.blog_name or "") <= fields.limit("sent_blog_name")
    assert len(ping.title or "") > 200  # cropped near the limit, not emptied


def test_a_limit_is_asked_only_of_text_fields() -> None:
    with pytest.raises(KeyError):
        fields.limit("spam_score")
