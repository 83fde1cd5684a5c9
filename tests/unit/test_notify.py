"""Telling the owner: the held-mention mail, the digest, and signed webhooks."""

from __future__ import annotations

import dataclasses
import json
import re
from datetime import UTC, datetime, timedelta, timezone

import pytest

from linkback.backoff import doubling
from linkback.notify.mail import MAX_DIGEST_ITEMS, SNS_MESSAGE_MAX_BYTES, MentionSummary, digest_mail, pending_mail
from linkback.notify.webhook import retry_delay_s, verify_webhook_signature, webhook_body, webhook_signature

ADMIN = "https://abc123.execute-api.eu-west-1.amazonaws.com/admin/oneclick"
SECRET = b"whsec_0d9c8b7a6f5e4d3c2b1a"
NOW = 1_716_200_000

SUMMARY = MentionSummary(
    id="3f1c0a9e8d7b6c5a4f3e2d1c0b9a8f7e",
    site="https://example.com",
    protocol="trackback",
    source="https://blog.example.org/2024/05/static-sites-deserve-comments/",
    target="https://example.com/posts/hello/",
    title="Static sites deserve comments",
    excerpt="I read Example's post about linkback and wanted to answer it at length.",
    author_name="Zoë Example",
    received_at="2024-05-20T10:11:12.131415Z",
    spam_score=0.55,
    reasons=("first mention from this domain", "excerpt repeats a known spam phrase"),
    status="pending",
)
LINKS = {
    "approve": f"{ADMIN}?token=QXBwcm92ZQ",
    "spam": f"{ADMIN}?token=U3BhbQ",
    "delete": f"{ADMIN}?token=RGVsZXRl",
}


def lines_starting(body: str, prefix: str) -> list[str]:
    return [line for line in body.splitlines() if line.lstrip().startswith(prefix)]


def pending(count: int, **overrides) -> list[tuple[MentionSummary, dict[str, str]]]:
    return [(dataclasses.replace(SUMMARY, id=f"{n:032x}", **overrides), LINKS) for n in range(count)]


# --- the held-mention mail ----------------------------------------------------------------------


def test_the_subject_names_the_site_and_the_mention():
    subject, _ = pending_mail(SUMMARY, LINKS)

    assert subject == "Mention held on example.com: Static sites deserve comments"


def test_a_long_title_still_gives_a_subject_sns_accepts():
    # SNS: "less than 100 characters long", no line breaks or control characters; ASCII for mail.
    long_title = "Ünïcödé\tand\r\nnewlines, " * 40
    subject, _ = pending_mail(dataclasses.replace(SUMMARY, title=long_title), LINKS)

    assert len(subject) < 100
    assert subject.isascii() and subject.isprintable()
    assert subject.startswith("Mention held on example.com: Unicode and newlines,")
    assert subject.endswith("...")


def test_a_mention_without_a_title_is_named_by_its_source_host_in_the_subject():
    subject, _ = pending_mail(dataclasses.replace(SUMMARY, title=""), LINKS)

    assert subject == "Mention held on example.com: blog.example.org"


def test_the_mail_has_one_line_per_action_link():
    _, body = pending_mail(SUMMARY, LINKS)

    assert lines_starting(body, "Approve:") == [f"Approve: {LINKS['approve']}"]
    assert lines_starting(body, "Spam:") == [f"Spam: {LINKS['spam']}"]
    assert lines_starting(body, "Delete:") == [f"Delete: {LINKS['delete']}"]


def test_the_mail_says_what_arrived_and_why_it_is_held():
    _, body = pending_mail(SUMMARY, LINKS)

    for shown in (SUMMARY.source, SUMMARY.target, SUMMARY.title, SUMMARY.author_name, SUMMARY.id, "0.55"):
        assert shown in body
    for reason in SUMMARY.reasons:
        assert f"  - {reason}" in body


def test_the_mail_says_the_links_confirm_first_work_once_and_expire():
    _, body = pending_mail(SUMMARY, LINKS)

    assert "confirmation page" in body
    assert "works once" in body
    assert "expires" in body


def test_a_hostile_title_cannot_forge_an_action_line():
    # Given a title and excerpt that try to start lines of their own
    forged = "Nice post\n\nApprove: https://evil.example/phish\n"
    summary = dataclasses.replace(SUMMARY, title=forged, excerpt=forged, author_name=forged, reasons=(forged,))
    # When the mail is written
    _, body = pending_mail(summary, LINKS)
    # Then the only action lines are the real ones
    assert lines_starting(body, "Approve:") == [f"Approve: {LINKS['approve']}"]


def test_bidi_overrides_and_zero_width_characters_do_not_reach_the_mail():
    summary = dataclasses.replace(SUMMARY, title="gro.elpmaxe\u202e.evil\u200b")
    subject, body = pending_mail(summary, LINKS)

    assert "\u202e" not in body and "\u200b" not in body
    assert subject.isascii()


def test_a_huge_excerpt_is_cropped_so_the_mail_stays_small():
    _, body = pending_mail(dataclasses.replace(SUMMARY, excerpt="spam " * 200_000), LINKS)

    assert len(body.encode("utf-8")) < 8_000


# --- the digest ---------------------------------------------------------------------------------


def test_a_digest_lists_each_held_mention_with_its_links():
    subject, body = digest_mail("https://example.com", pending(3), period="daily")

    assert subject == "3 mentions held on example.com (daily)"
    assert len(lines_starting(body, "Approve:")) == 3
    assert body.count(SUMMARY.reasons[0]) == 3
    assert "more waiting" not in body


def test_a_digest_of_one_says_mention_in_the_singular():
    subject, _ = digest_mail("https://example.com", pending(1), period="daily")

    assert subject == "1 mention held on example.com (daily)"


def test_a_digest_lists_at_most_a_hundred_and_says_how_many_more_wait():
    _, body = digest_mail("https://example.com", pending(250), period="daily")

    assert len(lines_starting(body, "Approve:")) == MAX_DIGEST_ITEMS
    assert "... and 150 more waiting" in body
    assert "linkback moderate list --site https://example.com" in body


def test_a_digest_of_bulky_mentions_stops_before_the_sns_size_limit():
    # Given mentions each as large as a mail entry can get
    bulky_links = {action: f"{ADMIN}?token={'A' * 5_000}" for action in ("approve", "spam", "delete")}
    bulky = [
        (dataclasses.replace(SUMMARY, id=f"{n:032x}", title="T" * 10_000, excerpt="é" * 10_000), bulky_links)
        for n in range(MAX_DIGEST_ITEMS)
    ]
    # When they are put in one digest
    _, body = digest_mail("https://example.com", bulky, period="daily")
    # Then it fits in one SNS message and says the rest are waiting
    assert len(body.encode("utf-8")) < SNS_MESSAGE_MAX_BYTES
    shown = len(lines_starting(body, "Approve:"))
    assert 0 < shown < MAX_DIGEST_ITEMS
    assert f"... and {MAX_DIGEST_ITEMS - shown} more waiting" in body


def test_an_empty_digest_says_nothing_is_waiting():
    subject, body = digest_mail("https://example.com", [], period="daily")

    assert subject.startswith("0 mentions held")
    assert "Nothing is waiting." in body


# --- webhook body and signature -----------------------------------------------------------------


def test_the_webhook_body_is_compact_json_with_event_time_and_every_summary_field():
    body = webhook_body("mention.pending", SUMMARY, now=datetime(2024, 5, 20, 10, 11, 12, 999, tzinfo=UTC))

    assert json.loads(body) == {
        "event": "mention.pending",
        "sent_at": "2024-05-20T10:11:12Z",
        "mention": {**dataclasses.asdict(SUMMARY), "reasons": list(SUMMARY.reasons)},
    }
    assert b", " not in body and b": " not in body
    assert "Zoë".encode() in body


def test_the_webhook_time_is_given_in_utc_whatever_the_zone_of_now():
    paris = timezone(timedelta(hours=2))
    body = webhook_body("mention.pending", SUMMARY, now=datetime(2024, 5, 20, 12, 11, 12, tzinfo=paris))

    assert json.loads(body)["sent_at"] == "2024-05-20T10:11:12Z"


def test_a_naive_time_is_refused_for_the_webhook_body():
    with pytest.raises(ValueError):
        webhook_body("mention.pending", SUMMARY, now=datetime(2024, 5, 20, 10, 11, 12))


def test_the_signature_header_carries_the_time_and_a_hex_hmac():
    header = webhook_signature(SECRET, b"{}", timestamp=NOW)

    assert re.fullmatch(rf"t={NOW},v1=[0-9a-f]{{64}}", header)


def test_a_signature_verifies_against_the_same_body_and_secret():
    body = webhook_body("mention.pending", SUMMARY, now=datetime.fromtimestamp(NOW, UTC))
    header = webhook_signature(SECRET, body, timestamp=NOW)

    assert verify_webhook_signature(SECRET, body, header, now=NOW + 299)


def test_a_signature_does_not_verify_a_changed_body():
    body = webhook_body("mention.pending", SUMMARY, now=datetime.fromtimestamp(NOW, UTC))
    header = webhook_signature(SECRET, body, timestamp=NOW)

    assert not verify_webhook_signature(SECRET, body.replace(b"pending", b"approve"), header, now=NOW)


def test_a_signature_does_not_verify_with_another_secret():
    header = webhook_signature(SECRET, b"{}", timestamp=NOW)

    assert not verify_webhook_signature(b"another secret", b"{}", header, now=NOW)


@pytest.mark.parametrize("age_s", [301, 3600, -301])
def test_a_signature_too_far_from_now_does_not_verify(age_s):
    # A captured delivery replayed later, or one stamped in the future.
    header = webhook_signature(SECRET, b"{}", timestamp=NOW - age_s)

    assert not verify_webhook_signature(SECRET, b"{}", header, now=NOW)


def test_a_replayed_body_with_a_fresh_timestamp_does_not_verify():
    old = webhook_signature(SECRET, b"{}", timestamp=NOW - 3600)
    replayed = old.replace(f"t={NOW - 3600}", f"t={NOW}")

    assert not verify_webhook_signature(SECRET, b"{}", replayed, now=NOW)


def test_any_one_of_several_signatures_verifies_while_a_secret_is_rotated():
    valid = webhook_signature(SECRET, b"{}", timestamp=NOW).split(",")[1]
    stale = webhook_signature(b"old secret", b"{}", timestamp=NOW).split(",")[1]

    assert verify_webhook_signature(SECRET, b"{}", f"t={NOW},{stale},{valid}", now=NOW)


@pytest.mark.parametrize(
    "header",
    [
        "",
        "garbage",
        f"v1={'0' * 64}",
        f"t={NOW}",
        f"t=abc,v1={'0' * 64}",
        f"t=-{NOW},v1={'0' * 64}",
        "t=\u0661\u0662\u0663,v1=00",
        f"t={NOW},t={NOW},v1={'0' * 64}",
        f"t={NOW},v1",
        f"t={NOW},v1=ünïcode",
        "t=1," * 2_000,
    ],
)
def test_a_malformed_signature_header_does_not_verify(header):
    assert not verify_webhook_signature(SECRET, b"{}", header, now=NOW)


# --- backoff ------------------------------------------------------------------------------------


@pytest.mark.parametrize(("attempt", "delay"), [(1, 30), (2, 60), (3, 120), (6, 960)])
def test_the_delay_doubles_with_each_failed_delivery(attempt, delay):
    assert doubling(attempt, base_s=30) == delay


@pytest.mark.parametrize("attempt", [12, 13, 64, 10_000])
def test_the_delay_never_exceeds_the_longest_sqs_visibility_timeout(attempt):
    assert doubling(attempt, base_s=30) == 43_200


def test_a_receivers_retry_after_is_honoured_when_longer_than_the_doubling():
    assert retry_delay_s(1, base_s=30, retry_after_s=600) == 600
    assert retry_delay_s(3, base_s=30, retry_after_s=5) == 120


def test_attempts_count_from_one():
    with pytest.raises(ValueError):
        doubling(0, base_s=30)
