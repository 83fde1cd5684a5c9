"""One-click moderation links: signed, expiring tokens, and pages on which a GET never acts."""

from __future__ import annotations

import base64
import dataclasses
from html.parser import HTMLParser

import pytest

from linkback.moderation import oneclick
from linkback.moderation.oneclick import (
    LINK_ACTIONS,
    PAGE_HEADERS,
    InvalidLink,
    OneClick,
    confirmation_page,
    link_key,
    read,
    result_page,
    sign,
)
from linkback.notify.mail import MentionSummary

KEY = link_key("admin-secret-printed-by-linkback-dev")
MENTION = "3f1c0a9e8d7b6c5a4f3e2d1c0b9a8f7e"
NOW = 1_716_200_000
EXPIRES = NOW + 7 * 24 * 3600
ACTION_URL = "https://abc123.execute-api.eu-west-1.amazonaws.com/admin/oneclick"
TAG_BYTES = 32

SUMMARY = MentionSummary(
    id=MENTION,
    site="https://example.com",
    protocol="pingback",
    source="https://blog.example.org/2024/05/static-sites-deserve-comments/",
    target="https://example.com/posts/hello/",
    title="Static sites deserve comments",
    excerpt="I read Example's post about linkback and wanted to answer it at length.",
    author_name="Zoë Example",
    received_at="2024-05-20T10:11:12.131415Z",
    spam_score=0.55,
    reasons=("first mention from this domain", "moderation mode is 'first-time'"),
    status="pending",
)


def decoded(token: str) -> tuple[bytes, bytes]:
    raw = base64.urlsafe_b64decode(token + "=" * (-len(token) % 4))
    return raw[:-TAG_BYTES], raw[-TAG_BYTES:]


def encoded(payload: bytes, tag: bytes) -> str:
    return base64.urlsafe_b64encode(payload + tag).rstrip(b"=").decode("ascii")


def forged(token: str, old: bytes, new: bytes) -> str:
    """The token with one field of its payload rewritten and its original tag kept."""
    payload, tag = decoded(token)
    assert old in payload
    return encoded(payload.replace(old, new), tag)


def refusal(token: str, *, key: bytes = KEY, now: float = NOW) -> InvalidLink:
    with pytest.raises(InvalidLink) as caught:
        read(key, token, now=now)
    return caught.value


class PageParts(HTMLParser):
    """The parts of a page that could make a browser (or a mail scanner) send a request."""

    def __init__(self) -> None:
        super().__init__()
        self.forms: list[dict[str, str | None]] = []
        self.inputs: list[dict[str, str | None]] = []
        self.buttons = 0
        self.tags: list[str] = []
        self.url_attributes: list[tuple[str, str, str | None]] = []
        self.text = ""

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.append(tag)
        values = dict(attrs)
        if tag == "form":
            self.forms.append(values)
        elif tag == "input":
            self.inputs.append(values)
        elif tag == "button":
            self.buttons += 1
        for name, value in attrs:
            if name in {"href", "src", "srcset", "action", "formaction", "data", "poster", "background"}:
                self.url_attributes.append((tag, name, value))
            if name == "http-equiv" and (value or "").lower() == "refresh":
                self.url_attributes.append((tag, name, values.get("content")))

    def handle_data(self, data: str) -> None:
        self.text += data


def parts_of(page: str) -> PageParts:
    parser = PageParts()
    parser.feed(page)
    parser.close()
    return parser


def page_for(action: str = "approve", summary: MentionSummary = SUMMARY) -> tuple[str, str]:
    token = sign(KEY, summary.id, action, expires_at=EXPIRES)
    click = read(KEY, token, now=NOW)
    return token, confirmation_page(click, token=token, action_url=ACTION_URL, summary=summary)


# --- the key ------------------------------------------------------------------------------------


def test_the_link_key_is_derived_and_is_not_the_admin_secret_itself():
    assert link_key("s3cret") == link_key("s3cret")
    assert link_key("s3cret") != b"s3cret"
    assert link_key("s3cret") != link_key("s3cret2")
    assert len(link_key("s3cret")) == 32


def test_there_is_no_link_key_without_an_admin_secret():
    with pytest.raises(ValueError):
        link_key("")


# --- signing and reading ------------------------------------------------------------------------


@pytest.mark.parametrize("action", LINK_ACTIONS)
def test_a_signed_link_reads_back_as_its_mention_action_and_expiry(action):
    token = sign(KEY, MENTION, action, expires_at=EXPIRES, nonce="n0nce")

    assert read(KEY, token, now=NOW) == OneClick(mention_id=MENTION, action=action, expires_at=EXPIRES, nonce="n0nce")


def test_a_token_is_base64url_without_padding_so_it_fits_in_a_url_unescaped():
    token = sign(KEY, MENTION, "approve", expires_at=EXPIRES)

    assert set(token) <= set("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_")
    assert len(token) < 200


def test_two_links_for_the_same_decision_differ_by_their_random_nonce():
    first = sign(KEY, MENTION, "approve", expires_at=EXPIRES)
    second = sign(KEY, MENTION, "approve", expires_at=EXPIRES)

    assert first != second
    assert read(KEY, first, now=NOW).nonce != read(KEY, second, now=NOW).nonce


def test_an_unknown_action_cannot_be_signed():
    with pytest.raises(ValueError):
        sign(KEY, MENTION, "publish", expires_at=EXPIRES)


@pytest.mark.parametrize("mention_id", ["", "abc\ndelete"])
def test_a_mention_id_that_is_empty_or_spans_lines_cannot_be_signed(mention_id):
    with pytest.raises(ValueError):
        sign(KEY, mention_id, "approve", expires_at=EXPIRES)


def test_a_link_still_works_in_its_last_second():
    token = sign(KEY, MENTION, "spam", expires_at=EXPIRES)

    assert read(KEY, token, now=EXPIRES - 0.001).action == "spam"


@pytest.mark.parametrize("now", [EXPIRES, EXPIRES + 1, EXPIRES + 365 * 24 * 3600])
def test_a_link_at_or_after_its_expiry_is_expired(now):
    token = sign(KEY, MENTION, "approve", expires_at=EXPIRES)

    assert refusal(token, now=now).reason == "expired"


# --- tampering: every part of the token is covered by the tag -----------------------------------


@pytest.mark.parametrize(
    ("old", "new"),
    [
        pytest.param(MENTION.encode(), b"0" * 32, id="mention id"),
        pytest.param(b"\nspam\n", b"\napprove\n", id="action"),
        pytest.param(str(EXPIRES).encode(), str(EXPIRES + 10**6).encode(), id="expiry"),
        pytest.param(b"n0nce", b"other", id="nonce"),
    ],
)
def test_a_link_with_any_field_changed_is_tampered(old, new):
    # Given a genuine link to mark a mention as spam
    token = sign(KEY, MENTION, "spam", expires_at=EXPIRES, nonce="n0nce")
    # When one field is rewritten and the original tag kept
    edited = forged(token, old, new)
    # Then it is refused as tampered, not read as the edited request
    assert refusal(edited).reason == "tampered"


def test_a_link_with_its_tag_changed_is_tampered():
    payload, tag = decoded(sign(KEY, MENTION, "approve", expires_at=EXPIRES))
    flipped = bytes([tag[0] ^ 0x01]) + tag[1:]

    assert refusal(encoded(payload, flipped)).reason == "tampered"


def test_a_link_signed_with_another_key_is_tampered():
    token = sign(link_key("another installation's secret"), MENTION, "approve", expires_at=EXPIRES)

    assert refusal(token).reason == "tampered"


@pytest.mark.parametrize("cut", [1, 2, 3, 10, 43, 60])
def test_a_truncated_link_is_refused(cut):
    token = sign(KEY, MENTION, "approve", expires_at=EXPIRES)

    assert refusal(token[:-cut]).reason in {"malformed", "tampered"}


@pytest.mark.parametrize(
    "token",
    [
        "",
        "not a token",
        "AAAA",
        "%2Fadmin%2F",
        "a+b/c==",
        "dG9rZW4=",
        "Zoë",
        "A" * 5_000,
    ],
)
def test_garbage_is_malformed(token):
    assert refusal(token).reason == "malformed"


def test_only_the_canonical_spelling_of_a_token_is_accepted():
    # base64 ignores the unused low bits of the last character: other spellings decode to the same bytes.
    # (This nonce makes the token 91 bytes long, which leaves 4 unused bits.)
    token = sign(KEY, MENTION, "approve", expires_at=EXPIRES, nonce="n0nce")
    alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"
    same_bytes = [
        token[:-1] + char for char in alphabet if char != token[-1] and decoded(token[:-1] + char) == decoded(token)
    ]
    assert same_bytes, "this token length leaves no unused bits; the test would prove nothing"

    for spelling in same_bytes:
        assert refusal(spelling).reason == "malformed"


def test_a_genuine_link_for_an_action_this_version_does_not_know_is_refused(monkeypatch):
    # Given a link signed by a newer version that knows one more action
    monkeypatch.setattr(oneclick, "LINK_ACTIONS", (*LINK_ACTIONS, "block"))
    token = sign(KEY, MENTION, "block", expires_at=EXPIRES)
    monkeypatch.setattr(oneclick, "LINK_ACTIONS", LINK_ACTIONS)
    # When this version reads it, Then it refuses it for what it is
    assert refusal(token).reason == "unknown action"


@pytest.mark.parametrize("reason", ["malformed", "tampered", "expired", "unknown action"])
def test_every_refusal_explains_itself_in_a_sentence(reason):
    message = str(InvalidLink(reason))

    assert message.startswith("This link") and message.endswith(".")


# --- the confirmation page ----------------------------------------------------------------------


def test_the_confirmation_page_posts_the_token_to_the_action_url_from_one_button():
    token, page = page_for("approve")
    parts = parts_of(page)

    assert parts.forms == [{"method": "post", "action": ACTION_URL}]
    assert {"type": "hidden", "name": "token", "value": token} in parts.inputs
    assert parts.buttons == 1


def test_nothing_on_the_confirmation_page_requests_anything_on_its_own_or_by_a_get():
    # Mail scanners and previewers GET every URL they find: only the form's POST target may be a URL.
    _, page = page_for("delete")
    parts = parts_of(page)

    assert parts.url_attributes == [("form", "action", ACTION_URL)]
    assert "script" not in parts.tags
    assert "link" not in parts.tags
    assert "url(" not in page


def test_the_confirmation_page_says_what_will_happen_to_which_mention():
    _, page = page_for("approve")
    text = parts_of(page).text

    assert "Approve this mention" in text
    for shown in (SUMMARY.source, SUMMARY.target, SUMMARY.title, SUMMARY.excerpt, *SUMMARY.reasons):
        assert shown in text


@pytest.mark.parametrize(("action", "heading"), [("spam", "Mark this mention as spam"), ("delete", "Delete")])
def test_the_confirmation_page_names_the_action_of_its_link(action, heading):
    _, page = page_for(action)

    assert heading in parts_of(page).text


def test_hostile_text_from_the_source_is_escaped_on_the_confirmation_page():
    # Given a mention whose every stranger-supplied field carries markup
    hostile = dataclasses.replace(
        SUMMARY,
        source="https://evil.example/?q=<script>alert(1)</script>",
        title="<script>alert('title')</script>",
        excerpt='"><img src=x onerror=alert(2)>',
        author_name="</dd><iframe src=//evil.example>",
        reasons=("<b>bold</b> reason",),
    )
    # When the page is rendered
    _, page = page_for("approve", hostile)
    parts = parts_of(page)
    # Then the markup is shown as text and none of it became an element
    assert "<script>alert('title')</script>" in parts.text
    assert '"><img src=x onerror=alert(2)>' in parts.text
    assert not {"script", "img", "iframe", "b"} & set(parts.tags)
    assert "&lt;script&gt;" in page


def test_a_javascript_source_is_shown_as_text_not_as_a_link():
    _, page = page_for("approve", dataclasses.replace(SUMMARY, source="javascript:alert(document.domain)"))
    parts = parts_of(page)

    assert "javascript:alert(document.domain)" in parts.text
    assert "a" not in parts.tags


def test_the_confirmation_page_keeps_its_token_out_of_referers():
    _, page = page_for("approve")

    assert '<meta name="referrer" content="no-referrer">' in page
    assert PAGE_HEADERS["Referrer-Policy"] == "no-referrer"
    assert PAGE_HEADERS["Cache-Control"] == "no-store"
    assert "frame-ancestors 'none'" in PAGE_HEADERS["Content-Security-Policy"]


def test_the_confirmation_page_is_small_html5():
    _, page = page_for("approve")

    assert page.startswith("<!doctype html>")
    assert len(page.encode("utf-8")) < 8_000


# --- the result page ----------------------------------------------------------------------------


def test_the_result_page_escapes_its_message_and_says_whether_it_worked():
    page = result_page("Approved", "Published with <https://example.com/posts/hello/>.", ok=True)
    failed = result_page("Link refused", str(InvalidLink("expired")), ok=False)

    assert "&lt;https://example.com/posts/hello/&gt;" in page
    assert 'class="ok"' in page
    assert 'class="failed"' in failed
    assert parts_of(failed).url_attributes == []
