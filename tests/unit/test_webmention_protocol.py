"""W3C Webmention: reading a notification's form (parse_request) and what the status URL tells the
sender about it (status_document). Bytes in, values out."""

from __future__ import annotations

import json
from urllib.parse import urlencode

import pytest

from linkback.errors import LinkbackError, MalformedRequest, PayloadTooLarge
from linkback.model import DeletedBy, Status
from linkback.receive.webmention import (
    FORM_CONTENT_TYPE,
    MAX_BODY_BYTES,
    WebmentionRequest,
    parse_request,
    status_document,
)
from linkback.store.schema import MentionRecord

SOURCE = "https://blog.example.org/2024/05/a-reply/"
TARGET = "https://example.com/posts/hello/"
MENTION_ID = "3f1c0a9e8d7b6c5a4f3e2d1c0b9a8f7e"


def form(**fields: str) -> bytes:
    return urlencode(fields).encode("ascii")


# --------------------------------------------------------------------------- parse_request


def test_a_form_with_source_and_target_is_read() -> None:
    request = parse_request(form(source=SOURCE, target=TARGET), FORM_CONTENT_TYPE)

    assert request == WebmentionRequest(source=SOURCE, target=TARGET)


@pytest.mark.parametrize(
    "content_type",
    [
        "application/x-www-form-urlencoded; charset=utf-8",
        "Application/X-WWW-Form-Urlencoded",
        " application/x-www-form-urlencoded ;charset=UTF-8",
    ],
)
def test_the_media_type_is_compared_without_case_or_parameters(content_type: str) -> None:
    assert parse_request(form(source=SOURCE, target=TARGET), content_type).target == TARGET


def test_percent_encoded_urls_and_plus_signs_are_decoded() -> None:
    body = (
        b"source=https%3A%2F%2Fblog.example.org%2F2024%2F05%2Fa-reply%2F%3Fq%3Da+b&target=https%3A%2F%2Fexample.com%2F"
    )

    request = parse_request(body, FORM_CONTENT_TYPE)

    assert request == WebmentionRequest(source=SOURCE + "?q=a b", target="https://example.com/")


def test_other_fields_are_ignored() -> None:
    # Senders may add `vouch` (a later extension) or anything else; only source and target matter.
    body = form(source=SOURCE, target=TARGET, vouch="https://friend.example.net/", extra="x")

    assert parse_request(body, FORM_CONTENT_TYPE) == WebmentionRequest(source=SOURCE, target=TARGET)


def test_surrounding_whitespace_is_trimmed() -> None:
    request = parse_request(form(source=f"  {SOURCE}\n", target=f"\t{TARGET} "), FORM_CONTENT_TYPE)

    assert request == WebmentionRequest(source=SOURCE, target=TARGET)


@pytest.mark.parametrize(
    ("body", "missing"),
    [
        (form(target=TARGET), "source"),
        (form(source="", target=TARGET), "source"),
        (form(source="   ", target=TARGET), "source"),
        (form(source=SOURCE), "target"),
        (form(source=SOURCE, target=""), "target"),
        (b"", "source"),
        (b"source&target", "source"),
    ],
    ids=["no-source", "empty-source", "blank-source", "no-target", "empty-target", "empty-body", "names-only"],
)
def test_a_missing_or_empty_parameter_is_a_400_that_names_it(body: bytes, missing: str) -> None:
    with pytest.raises(MalformedRequest) as refused:
        parse_request(body, FORM_CONTENT_TYPE)

    assert refused.value.http_status == 400
    assert refused.value.message == f"the {missing} parameter is missing"


@pytest.mark.parametrize(
    "content_type",
    [None, "", "application/json", "text/plain", "multipart/form-data; boundary=x", "application/x-www-form"],
)
def test_a_body_that_is_not_a_urlencoded_form_is_refused(content_type: str | None) -> None:
    body = json.dumps({"source": SOURCE, "target": TARGET}).encode()

    with pytest.raises(MalformedRequest) as refused:
        parse_request(body, content_type)

    assert refused.value.http_status == 400
    assert FORM_CONTENT_TYPE in refused.value.message


def test_a_form_post_with_the_wrong_content_type_is_refused_even_when_the_body_is_a_form() -> None:
    with pytest.raises(MalformedRequest):
        parse_request(form(source=SOURCE, target=TARGET), "text/plain")


@pytest.mark.parametrize(
    "body",
    [
        b"source=https://blog.example.org/caf\xe9/&target=https://example.com/",  # raw Latin-1 byte
        b"source=https://blog.example.org/caf%E9/&target=https://example.com/",  # escaped Latin-1 byte
        b"source=https://blog.example.org/%C3&target=https://example.com/",  # truncated UTF-8 sequence
        b"source=https://blog.example.org/\xff\xfe&target=https://example.com/",
    ],
    ids=["raw-latin1", "escaped-latin1", "truncated-utf8", "raw-ff-fe"],
)
def test_a_form_that_is_not_utf8_is_refused(body: bytes) -> None:
    with pytest.raises(MalformedRequest) as refused:
        parse_request(body, FORM_CONTENT_TYPE)

    assert refused.value.http_status == 400
    assert "UTF-8" in refused.value.message


def test_escaped_utf8_is_decoded() -> None:
    request = parse_request(b"source=https://blog.example.org/caf%C3%A9/&target=" + TARGET.encode(), FORM_CONTENT_TYPE)

    assert request.source == "https://blog.example.org/café/"


def test_a_body_larger_than_the_limit_is_refused_before_it_is_read() -> None:
    padding = "a" * MAX_BODY_BYTES
    body = form(source=SOURCE, target=TARGET, padding=padding)
    assert len(body) > MAX_BODY_BYTES

    with pytest.raises(PayloadTooLarge) as refused:
        # Even with a content type we would refuse: size is checked first, decoding never starts.
        parse_request(body, "application/json")

    assert refused.value.http_status == 413
    assert str(MAX_BODY_BYTES) in refused.value.message


def test_a_body_exactly_at_the_limit_is_read() -> None:
    head = form(source=SOURCE, target=TARGET) + b"&padding="
    body = head + b"a" * (MAX_BODY_BYTES - len(head))
    assert len(body) == MAX_BODY_BYTES

    assert parse_request(body, FORM_CONTENT_TYPE) == WebmentionRequest(source=SOURCE, target=TARGET)


def test_a_form_with_very_many_fields_is_refused() -> None:
    body = form(source=SOURCE, target=TARGET) + b"".join(b"&f%d=1" % n for n in range(50))
    assert len(body) < MAX_BODY_BYTES

    with pytest.raises(MalformedRequest):
        parse_request(body, FORM_CONTENT_TYPE)


def test_a_repeated_field_keeps_its_first_value() -> None:
    body = (
        b"source=" + SOURCE.encode() + b"&target=" + TARGET.encode() + b"&source=https://spam.example.net/"
        b"&target=https://example.com/other/"
    )

    assert parse_request(body, FORM_CONTENT_TYPE) == WebmentionRequest(source=SOURCE, target=TARGET)


def test_an_empty_first_value_of_a_repeated_field_is_still_the_one_that_counts() -> None:
    # "First wins" is about position, not about which value is usable: no guessing between two.
    body = b"source=&source=" + SOURCE.encode() + b"&target=" + TARGET.encode()

    with pytest.raises(MalformedRequest, match="source parameter is missing"):
        parse_request(body, FORM_CONTENT_TYPE)


def test_every_refusal_is_a_linkback_error_the_endpoint_can_answer() -> None:
    for body, content_type in [(b"", FORM_CONTENT_TYPE), (b"x" * (MAX_BODY_BYTES + 1), FORM_CONTENT_TYPE)]:
        with pytest.raises(LinkbackError):
            parse_request(body, content_type)


# --------------------------------------------------------------------------- status_document


def record(status: Status, **overrides: object) -> MentionRecord:
    """A stored webmention in the given status (never saved here)."""
    values: dict[str, object] = {
        "protocol": "webmention",
        "source": SOURCE,
        "target": TARGET,
        "site": "https://example.com",
        "status": str(status),
        "received_at": "2024-05-20T10:11:12.131415Z",
        "updated_at": "2024-05-20T10:11:14.000000Z",
    }
    values.update(overrides)
    return MentionRecord(MENTION_ID, **values)


VERIFIED = {"verified_at": "2024-05-20T10:11:14.000000Z", "status_reason": "the source links to the target"}


def test_a_queued_mention_is_reported_as_received_and_not_yet_verified() -> None:
    document = status_document(record(Status.QUEUED))

    assert document == {
        "id": MENTION_ID,
        "source": SOURCE,
        "target": TARGET,
        "protocol": "webmention",
        "status": "queued",
        "verified": False,
        "public": False,
        "reason": None,
        "wm-property": None,
        "received": "2024-05-20T10:11:12.131415Z",
        "updated": "2024-05-20T10:11:14.000000Z",
        "verified_at": None,
    }


def test_an_approved_mention_is_verified_public_and_says_what_kind_it_is() -> None:
    document = status_document(record(Status.APPROVED, wm_property="in-reply-to", **VERIFIED))

    assert (document["status"], document["verified"], document["public"]) == ("approved", True, True)
    assert document["wm-property"] == "in-reply-to"
    assert document["reason"] == "the source links to the target"
    assert document["verified_at"] == "2024-05-20T10:11:14.000000Z"
    assert "deleted" not in document
    assert "deleted_by" not in document


def test_a_held_mention_is_verified_but_not_public() -> None:
    reason = "the source links to the target; held for moderation"
    document = status_document(record(Status.PENDING, **{**VERIFIED, "status_reason": reason}))

    assert (document["status"], document["verified"], document["public"]) == ("pending", True, False)
    assert document["reason"] == reason
    assert document["wm-property"] == "mention-of"


def test_a_rejected_mention_says_why() -> None:
    document = status_document(
        record(
            Status.REJECTED, status_reason="the source does not link to the target", verified_at="2024-05-20T10:11:14Z"
        )
    )

    assert (document["status"], document["verified"], document["public"]) == ("rejected", False, False)
    assert document["reason"] == "the source does not link to the target"
    assert document["wm-property"] is None


def test_spam_is_shown_as_rejected_without_saying_which_rule_caught_it() -> None:
    spam = record(
        Status.SPAM,
        status_reason="spam score 0.93: link farm, 40 outbound links, keyword 'casino'",
        spam_score=0.93,
        spam_reasons=["link farm", "keyword 'casino'"],
        wm_property="in-reply-to",
        **{"verified_at": VERIFIED["verified_at"]},
    )

    document = status_document(spam)

    assert (document["status"], document["verified"], document["public"]) == ("rejected", False, False)
    assert document["reason"] == "not accepted by this site"
    assert document["wm-property"] is None
    text = json.dumps(document).lower()
    for detail in ("spam", "casino", "link farm", "0.93", "score"):
        assert detail not in text


def test_spam_looks_exactly_like_a_plain_rejection_apart_from_the_reason() -> None:
    spam = status_document(record(Status.SPAM, status_reason="keyword 'casino'"))
    rejected = status_document(record(Status.REJECTED, status_reason="the source answered 404"))

    assert set(spam) == set(rejected)
    assert {k: v for k, v in spam.items() if k != "reason"} == {k: v for k, v in rejected.items() if k != "reason"}


def test_a_mention_deleted_by_its_source_says_so_and_when() -> None:
    deleted = record(
        Status.DELETED,
        status_reason="the source answered 410",
        deleted_by=str(DeletedBy.SOURCE),
        deleted_at="2024-06-01T08:00:00.000000Z",
        verified_at="2024-06-01T08:00:00.000000Z",
        wm_property="like-of",
    )

    document = status_document(deleted)

    assert (document["status"], document["verified"], document["public"]) == ("deleted", False, False)
    assert document["deleted_by"] == "source"
    assert document["deleted"] == "2024-06-01T08:00:00.000000Z"
    assert document["reason"] == "the source answered 410"
    assert document["wm-property"] is None


def test_a_mention_deleted_by_the_owner_says_so() -> None:
    deleted = record(Status.DELETED, deleted_by=str(DeletedBy.OWNER), deleted_at="2024-06-01T08:00:00.000000Z")

    document = status_document(deleted)

    assert (document["deleted_by"], document["deleted"]) == ("owner", "2024-06-01T08:00:00.000000Z")


def test_a_deletion_with_no_recorded_author_is_the_owners() -> None:
    # Moderation stores the owner's delete without deleted_by (older records too).
    document = status_document(record(Status.DELETED, deleted_at="2024-06-01T08:00:00.000000Z"))

    assert document["deleted_by"] == "owner"


def test_a_requeued_mention_that_its_source_had_deleted_no_longer_reports_the_deletion() -> None:
    # A re-send after the link came back queues it again; the old deletion fields are history.
    document = status_document(
        record(Status.QUEUED, deleted_by=str(DeletedBy.SOURCE), deleted_at="2024-06-01T08:00:00.000000Z")
    )

    assert document["status"] == "queued"
    assert "deleted" not in document
    assert "deleted_by" not in document


@pytest.mark.parametrize("status", list(Status))
def test_every_status_document_is_json_and_never_shows_internal_fields(status: Status) -> None:
    stored = record(
        status,
        sender_ip="203.0.113.9",
        user_agent="Sender/1.0",
        spam_score=0.5,
        fetched_url="https://blog.example.org/internal-redirect",
        attempts=3,
        **VERIFIED,
    )

    document = json.loads(json.dumps(status_document(stored)))

    assert document["status"] in {"queued", "approved", "pending", "rejected", "deleted"}
    assert (document["id"], document["source"], document["target"]) == (MENTION_ID, SOURCE, TARGET)
    text = json.dumps(document)
    for private in ("203.0.113.9", "Sender/1.0", "internal-redirect", "attempts", "spam_score"):
        assert private not in text
