"""The pure rules behind moderation: what may go on the owner's lists, the admin API's cursors, the owner's
keyword rules, and the status a verified mention earns from its spam assessment."""

from __future__ import annotations

import base64
import json

import pytest

from linkback.config import Settings
from linkback.model import Status, Verdict
from linkback.moderation import actions as moderation
from linkback.moderation import documents
from linkback.spam import rules as spam
from linkback.spam import screening
from linkback.spam.rules import Assessment, Decision, Finding, KeywordRule
from linkback.store.schema import Change, MentionRecord
from linkback.verify.fetch import FetchedPage
from linkback.verify.links.reference import LinkEvidence
from linkback.verify.pipeline import decide

from .fixture_files import read_text

SOURCE = "https://blog.example.org/2024/05/static-sites-deserve-comments/"
TARGET = "https://example.com/posts/hello/"
WORDPRESS_POST = FetchedPage(
    url=SOURCE, status=200, content_type="text/html", text=read_text("html/wordpress-post.html"), truncated=False
)
EVIDENCE = LinkEvidence(tag="a", title="Static sites deserve comments too", context="Then I read Jo's post")


# --- the owner's lists: what a value means -------------------------------------------------------


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("spam.example.net", "spam.example.net"),
        ("Spam.EXAMPLE.net", "spam.example.net"),
        ("spam.example.net.", "spam.example.net"),  # the root's dot: the same name
        ("  spam.example.net  ", "spam.example.net"),
        ("spam.example.net/casino/page", "spam.example.net"),
        ("https://Spam.Example.net/casino/page?x=1", "spam.example.net"),
        ("http://spam.example.net:8080/", "spam.example.net"),
    ],
)
def test_a_domain_entry_is_the_lower_case_host_name(value: str, expected: str) -> None:
    assert moderation.normalise_list_value("domain", value) == expected


@pytest.mark.parametrize("value", ["", "   ", "localhost", "not a domain", "https://", "..", "/casino/page"])
def test_a_domain_entry_that_names_no_domain_is_refused(value: str) -> None:
    with pytest.raises(moderation.InvalidRequest, match="not a domain name"):
        moderation.normalise_list_value("domain", value)


def test_a_unicode_domain_entry_is_stored_as_the_verifier_sees_the_host() -> None:
    assert moderation.normalise_list_value("domain", "Bücher.example") == "xn--bcher-kva.example"


def test_a_port_on_a_bare_domain_entry_is_dropped() -> None:
    assert moderation.normalise_list_value("domain", "spam.example.net:8080") == "spam.example.net"


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("https://spam.example.net/casino", "https://spam.example.net/casino"),
        ("HTTPS://Spam.Example.NET:443/casino#comments", "https://spam.example.net/casino"),
        ("http://spam.example.net", "http://spam.example.net/"),
    ],
)
def test_a_url_entry_is_the_normalised_url_the_verifier_compares(value: str, expected: str) -> None:
    assert moderation.normalise_list_value("url", value) == expected


@pytest.mark.parametrize(
    "value", ["spam.example.net/casino", "ftp://spam.example.net/casino", "https://user:pw@spam.example.net/", ""]
)
def test_a_url_entry_that_is_no_http_url_is_refused(value: str) -> None:
    with pytest.raises(moderation.InvalidRequest, match="not an http"):
        moderation.normalise_list_value("url", value)


@pytest.mark.parametrize("scope", ["ip", "", "Domain"])
def test_an_unknown_list_scope_is_refused(scope: str) -> None:
    with pytest.raises(moderation.InvalidRequest, match="scope must be one of domain, url"):
        moderation.normalise_list_value(scope, "spam.example.net")


# --- cursors --------------------------------------------------------------------------------------

LAST_KEY = {
    "pk": {"S": "3f1c0a9e8d7b6c5a4f3e2d1c0b9a8f7e"},
    "moderation_key": {"S": "https://example.com#pending"},
    "received_at": {"S": "2024-05-20T10:11:12.131415Z"},
}


def test_a_cursor_decodes_to_the_key_it_was_made_from() -> None:
    cursor = documents.encode_cursor(LAST_KEY)

    assert cursor is not None
    assert documents.decode_cursor(cursor) == LAST_KEY


def test_a_cursor_is_safe_in_a_query_string_without_escaping() -> None:
    cursor = documents.encode_cursor(LAST_KEY)

    assert cursor is not None
    assert set(cursor) <= set("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_")


@pytest.mark.parametrize("key", [None, {}])
def test_no_next_key_means_no_cursor(key: dict[str, object] | None) -> None:
    assert documents.encode_cursor(key) is None


@pytest.mark.parametrize("cursor", [None, ""])
def test_no_cursor_means_the_first_page(cursor: str | None) -> None:
    assert documents.decode_cursor(cursor) is None


def _b64(raw: bytes) -> str:
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


@pytest.mark.parametrize(
    "cursor",
    [
        pytest.param("!!notacursor", id="not-base64"),
        pytest.param(_b64(b"\xff\xfe\x00garbage"), id="not-utf8"),
        pytest.param(_b64(b"{'pk': 1"), id="not-json"),
        pytest.param(_b64(json.dumps(["pk", "x"]).encode()), id="a-list"),
        pytest.param(_b64(b'"pk"'), id="a-string"),
        pytest.param(_b64(b"42"), id="a-number"),
    ],
)
def test_a_cursor_this_api_did_not_give_out_is_refused(cursor: str) -> None:
    with pytest.raises(moderation.InvalidRequest, match="not one this API gave out"):
        documents.decode_cursor(cursor)


def test_a_deeply_nested_cursor_is_refused() -> None:
    with pytest.raises(moderation.InvalidRequest):
        documents.decode_cursor(_b64(b"[" * 5000))


# --- the owner's keyword rules --------------------------------------------------------------------


def configured_rules(configured: str) -> tuple[KeywordRule, ...]:
    """Every keyword rule a stack with this SpamKeywords setting screens with."""
    settings = Settings.from_environ({"LINKBACK_SITES": "https://example.com", "LINKBACK_SPAM_KEYWORDS": configured})
    return screening.keyword_rules(settings.spam_keywords)


def owners(configured: str) -> tuple[KeywordRule, ...]:
    """The rules the owner's setting adds after the built-in ones."""
    return configured_rules(configured)[len(spam.DEFAULT_KEYWORD_RULES) :]


def test_the_built_in_keyword_rules_come_first_and_stay() -> None:
    rules = configured_rules("casino-bonus")

    assert rules[: len(spam.DEFAULT_KEYWORD_RULES)] == spam.DEFAULT_KEYWORD_RULES


@pytest.mark.parametrize("configured", ["", "  ", ", ,"])
def test_no_keyword_setting_adds_no_rule(configured: str) -> None:
    assert owners(configured) == ()


@pytest.mark.parametrize(
    ("configured", "expected"),
    [
        ("casino-bonus", KeywordRule("casino-bonus", 2.0)),
        ("casino-bonus=3", KeywordRule("casino-bonus", 3.0)),
        ("payday advance=0.5", KeywordRule("payday advance", 0.5)),
        ("trusted friend=-2", KeywordRule("trusted friend", -2.0)),
        ("/re+gex/=1.5", KeywordRule("/re+gex/", 1.5)),
        ("/c[a@]sino/", KeywordRule("/c[a@]sino/", 2.0)),
        (" casino-bonus = 3 ", KeywordRule("casino-bonus", 3.0)),
    ],
)
def test_a_keyword_rule_is_a_word_or_regex_with_an_optional_weight(configured: str, expected: KeywordRule) -> None:
    assert owners(configured) == (expected,)


def test_keyword_rules_are_comma_separated_in_the_order_given() -> None:
    assert owners("casino-bonus=3, /re+gex/=1.5,cheap pills") == (
        KeywordRule("casino-bonus", 3.0),
        KeywordRule("/re+gex/", 1.5),
        KeywordRule("cheap pills", 2.0),
    )


@pytest.mark.parametrize("configured", ["/casino(/", "/casino(/=3", "ok, /[unclosed/=1"])
def test_an_invalid_regular_expression_is_refused_when_the_rules_are_read(configured: str) -> None:
    with pytest.raises(ValueError, match="not a valid regular expression"):
        configured_rules(configured)


def test_an_invalid_regular_expression_with_a_spaced_weight_is_refused() -> None:
    with pytest.raises(ValueError, match="not a valid regular expression"):
        configured_rules("/casino(/ =3")


# --- the verifier's decision with a spam assessment -----------------------------------------------


def received(**overrides: object) -> MentionRecord:
    """A mention as the intake stored it, before verification (never saved here)."""
    values: dict[str, object] = {
        "protocol": "webmention",
        "source": SOURCE,
        "target": TARGET,
        "site": "https://example.com",
        "status": "queued",
        "received_at": "2024-05-20T10:11:12.131415Z",
        "updated_at": "2024-05-20T10:11:12.131415Z",
    }
    values.update(overrides)
    return MentionRecord("3f1c0a9e8d7b6c5a4f3e2d1c0b9a8f7e", **values)


def approved_by_owner() -> MentionRecord:
    change = Change(
        at="2024-05-21T08:00:00.000000Z", by="admin API", from_status="pending", to_status="approved", note=None
    )
    return received(status="approved", history=[change])


def assessed(decision: Decision, *findings: Finding) -> Assessment:
    return Assessment(decision=decision, score=round(sum(f.score for f in findings), 3), findings=findings)


LINK_FARM = Finding("link_farm", 3.5, "the page has 180 outbound links to 160 sites")
AKISMET_SPAM = Finding("akismet", 6.0, "Akismet says spam")
THIN = Finding("thin_content", 1.5, "the page has only 90 characters of text and no authorship markup")
AUTHOR = Finding("authorship", -2.0, "the page is an h-entry by Zoë")
SELF_PING = Finding("self_ping", 0.0, "the source is on this site")


def verdict(record: MentionRecord, assessment: Assessment, moderation: str = "auto") -> Verdict:
    return decide(record, WORDPRESS_POST, EVIDENCE, moderation, None, assessment)


def test_an_approving_assessment_in_auto_moderation_approves() -> None:
    result = verdict(received(), assessed(Decision.APPROVE, AUTHOR), "auto")

    assert result.status is Status.APPROVED
    assert result.reason == "the source links to the target"


def test_an_approving_assessment_in_manual_moderation_holds() -> None:
    result = verdict(received(), assessed(Decision.APPROVE, AUTHOR), "manual")

    assert result.status is Status.PENDING
    assert "held for moderation" in result.reason


def test_a_hold_is_pending_and_says_why_in_the_status_reason() -> None:
    result = verdict(received(), assessed(Decision.HOLD, THIN, LINK_FARM, AUTHOR), "auto")

    assert result.status is Status.PENDING
    assert result.reason.startswith("held for moderation: ")
    assert THIN.reason in result.reason
    assert LINK_FARM.reason in result.reason


def test_a_held_mentions_reason_leaves_out_what_spoke_for_it() -> None:
    result = verdict(received(), assessed(Decision.HOLD, THIN, LINK_FARM, AUTHOR), "auto")

    assert AUTHOR.reason not in result.reason


@pytest.mark.parametrize("mode", ["auto", "manual"])
def test_a_spam_assessment_is_spam_whatever_the_moderation_mode(mode: str) -> None:
    result = verdict(received(), assessed(Decision.SPAM, LINK_FARM, AKISMET_SPAM), mode)

    assert result.status is Status.SPAM
    assert result.reason.startswith("spam: ")
    assert AKISMET_SPAM.reason in result.reason


@pytest.mark.parametrize("mode", ["auto", "manual"])
def test_an_ignored_self_ping_is_rejected(mode: str) -> None:
    result = verdict(received(), assessed(Decision.IGNORE, SELF_PING), mode)

    assert result.status is Status.REJECTED
    assert "self-ping" in result.reason


def test_a_mention_the_owner_approved_stays_approved_when_its_page_now_looks_like_spam() -> None:
    result = verdict(approved_by_owner(), assessed(Decision.SPAM, LINK_FARM, AKISMET_SPAM))

    assert result.status is Status.APPROVED
    assert "approved by the owner" in result.reason


def test_a_mention_the_verifier_approved_becomes_spam_when_its_page_now_looks_like_spam() -> None:
    # Given an approval that was the verifier's own, with no owner decision behind it
    result = verdict(received(status="approved"), assessed(Decision.SPAM, LINK_FARM, AKISMET_SPAM))

    assert result.status is Status.SPAM


def test_an_approved_mention_stays_approved_on_a_mere_doubt() -> None:
    result = verdict(received(status="approved"), assessed(Decision.HOLD, THIN, LINK_FARM))

    assert result.status is Status.APPROVED


def test_the_verdict_carries_the_spam_score_and_every_finding() -> None:
    assessment = assessed(Decision.HOLD, THIN, LINK_FARM, AUTHOR)

    result = verdict(received(), assessment)

    assert result.spam_score == assessment.score == 3.0
    assert result.spam_reasons == assessment.reasons()
    assert result.spam_reasons == (
        f"thin_content: {THIN.reason} (+1.5)",
        f"link_farm: {LINK_FARM.reason} (+3.5)",
        f"authorship: {AUTHOR.reason} (-2.0)",
    )


def test_without_an_assessment_the_verdict_has_no_spam_score() -> None:
    result = decide(received(), WORDPRESS_POST, EVIDENCE, "auto")

    assert (result.status, result.spam_score, result.spam_reasons) == (Status.APPROVED, 0, ())


def test_a_page_that_does_not_link_is_rejected_whatever_the_assessment() -> None:
    result = decide(received(), WORDPRESS_POST, None, "auto", None, assessed(Decision.APPROVE, AUTHOR))

    assert result.status is Status.REJECTED


# --- what the owner is shown ------------------------------------------------------------------------


def _trackback(**fields: str) -> MentionRecord:
    return MentionRecord(
        "0" * 32,
        protocol="trackback",
        source=SOURCE,
        target=TARGET,
        site="https://example.com",
        status=str(Status.QUEUED),
        received_at="2026-11-25T06:00:00.000000Z",
        updated_at="2026-11-25T06:00:00.000000Z",
        sent_blog_name="Jo's notebook",
        sent_title="Static sites deserve comments too",
        **fields,
    )


def test_the_admin_api_and_the_mail_name_the_blog_a_trackback_sent_until_the_page_names_its_author() -> None:
    unverified = _trackback()
    assert documents.mention_document(unverified)["author"]["name"] == "Jo's notebook"
    assert documents.summary(unverified).author_name == "Jo's notebook"

    verified = _trackback(author_name="Jo Example")
    assert documents.mention_document(verified)["author"]["name"] == "Jo Example"
    assert documents.summary(verified).author_name == "Jo Example"
