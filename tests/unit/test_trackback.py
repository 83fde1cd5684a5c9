"""TrackBack 1.2: how a ping is read and how the endpoint answers (docs/architecture.md, "Protocols")."""

from __future__ import annotations

from urllib.parse import urlencode

import pytest

from linkback.errors import LinkbackError, MalformedRequest, PayloadTooLarge, UnsupportedCharset
from linkback.receive.trackback import (
    EXCERPT_MAX,
    MAX_BODY_BYTES,
    TITLE_MAX,
    error_reply,
    parse_ping,
    reply_for,
)
from linkback.text import ELLIPSIS

from .fixture_files import read_request

FORM = "application/x-www-form-urlencoded"


def ping_from(fixture: str):
    request = read_request(f"trackback/{fixture}")
    return parse_ping(request.body, request.header("Content-Type"))


# --- replies ------------------------------------------------------------------------------------


def test_success_reply_is_the_exact_document_the_spec_shows():
    assert reply_for(None) == b'<?xml version="1.0" encoding="utf-8"?><response><error>0</error></response>'


def test_error_reply_carries_error_1_and_the_message():
    assert error_reply("the url field is required") == (
        b'<?xml version="1.0" encoding="utf-8"?><response><error>1</error>'
        b"<message>the url field is required</message></response>"
    )


def test_error_reply_escapes_markup_in_the_message():
    assert error_reply("<b>Tom & Jerry</b> > you") == (
        b'<?xml version="1.0" encoding="utf-8"?><response><error>1</error>'
        b"<message>&lt;b&gt;Tom &amp; Jerry&lt;/b&gt; &gt; you</message></response>"
    )


def test_error_reply_is_utf8_encoded():
    assert "<message>déjà vu</message>".encode() in error_reply("déjà vu")


def test_reply_for_an_error_uses_its_message():
    assert reply_for(MalformedRequest("the url field is required")) == error_reply("the url field is required")


# --- parsing real pings -------------------------------------------------------------------------


def test_movable_type_ping_in_utf8_is_read_field_by_field():
    ping = ping_from("movable-type-utf8.http")

    assert ping.url == "https://blog.example.org/2024/05/cafe-culture.html"
    assert ping.title == "Café culture, déjà vu"
    assert ping.excerpt == "I read “Hello” over a café crème and wanted to add a few thoughts…"
    assert ping.blog_name == "Notes from Zoë"


def test_iso_8859_1_declared_in_the_content_type_is_decoded_as_iso_8859_1():
    ping = ping_from("latin1-charset-in-header.http")

    assert ping.title == "Réponse à « Hello »"
    assert ping.blog_name == "Le carnet d'Hélène"


def test_iso_8859_1_declared_in_the_charset_form_field_is_decoded_as_iso_8859_1():
    ping = ping_from("latin1-charset-in-form.http")

    assert ping.title == "Réponse à « Hello »"
    assert ping.excerpt == "Très bon billet, merci."


def test_undeclared_bytes_that_are_not_utf8_fall_back_to_iso_8859_1():
    ping = ping_from("latin1-undeclared.http")

    assert ping.title == "Réponse à « Hello »"
    assert ping.blog_name == "Le carnet d'Hélène"


def test_undeclared_utf8_is_decoded_as_utf8():
    ping = ping_from("utf8-undeclared.http")

    assert ping.title == "Café culture, déjà vu"
    assert ping.blog_name == "Notes from Zoë"


def test_a_ping_without_any_content_type_is_read_as_a_form():
    # Given an old command-line client that sends no Content-Type header at all
    ping = ping_from("no-content-type.http")

    assert ping.url == "http://old.example.net/~jo/2004/ping.html"
    assert ping.title == "An old client"


def test_optional_fields_left_out_are_empty_strings():
    ping = parse_ping(b"url=https%3A%2F%2Fblog.example.org%2Fp", FORM)

    assert (ping.title, ping.excerpt, ping.blog_name) == ("", "", "")


def test_the_url_is_kept_as_sent_apart_from_surrounding_spaces():
    # Normalising and checking the URL is the intake's job, the same for every protocol.
    ping = parse_ping(b"url=+HTTPS%3A%2F%2FBlog.example.org%2Fp%23c+", FORM)

    assert ping.url == "HTTPS://Blog.example.org/p#c"


def test_a_repeated_field_keeps_its_first_value():
    # Given a ping that sends url and title twice, the second url pointing at the metadata service
    ping = ping_from("repeated-url.http")

    assert ping.url == "https://blog.example.org/first"
    assert ping.title == "First title"


# --- charsets refused ---------------------------------------------------------------------------


def test_utf7_declared_in_the_content_type_is_refused():
    with pytest.raises(UnsupportedCharset):
        ping_from("utf7-charset-in-header.http")


def test_utf7_declared_in_the_charset_form_field_is_refused():
    with pytest.raises(UnsupportedCharset):
        ping_from("utf7-charset-in-form.http")


@pytest.mark.parametrize("label", ["UTF-7", "utf7", "unicode-1-1-utf-7"])
def test_every_name_of_utf7_is_refused(label):
    with pytest.raises(UnsupportedCharset):
        parse_ping(b"url=https%3A%2F%2Fblog.example.org%2Fp", f"{FORM}; charset={label}")


def test_utf16_is_refused_because_a_urlencoded_form_cannot_be_utf16():
    with pytest.raises(UnsupportedCharset):
        ping_from("utf16-charset-in-header.http")


@pytest.mark.parametrize("label", ["utf-16le", "UTF-16BE", "utf-32"])
def test_other_charsets_that_are_not_ascii_supersets_are_refused(label):
    with pytest.raises(UnsupportedCharset):
        parse_ping(b"url=https%3A%2F%2Fblog.example.org%2Fp", f"{FORM}; charset={label}")


def test_an_unknown_charset_is_refused():
    with pytest.raises(UnsupportedCharset, match="x-klingon"):
        ping_from("unknown-charset.http")


def test_bytes_invalid_in_the_declared_charset_are_refused():
    # %E9 alone is ISO-8859-1's "é", never valid UTF-8
    with pytest.raises(UnsupportedCharset):
        parse_ping(b"url=https%3A%2F%2Fblog.example.org%2Fp&title=R%E9ponse", f"{FORM}; charset=utf-8")


def test_a_charset_that_is_not_a_text_encoding_is_refused():
    with pytest.raises(UnsupportedCharset):
        ping_from("base64-charset-in-form.http")


def test_the_undefined_codec_is_refused():
    with pytest.raises(UnsupportedCharset):
        parse_ping(b"url=https%3A%2F%2Fblog.example.org%2Fp", f"{FORM}; charset=undefined")


def test_refusals_are_linkback_errors_with_a_message_for_the_reply():
    with pytest.raises(LinkbackError) as refused:
        ping_from("utf7-charset-in-form.http")

    assert refused.value.message
    assert refused.value.http_status == 415


# --- shape and size -----------------------------------------------------------------------------


def test_a_ping_without_url_is_malformed():
    with pytest.raises(MalformedRequest, match="url"):
        ping_from("missing-url.http")


def test_a_ping_with_an_empty_url_is_malformed():
    with pytest.raises(MalformedRequest):
        parse_ping(b"url=+++&title=Blank", FORM)


def test_a_json_body_is_not_a_trackback_ping():
    with pytest.raises(MalformedRequest, match="application/json"):
        ping_from("json-body.http")


def test_a_body_over_the_size_limit_is_refused_before_it_is_parsed():
    body = b"url=https%3A%2F%2Fblog.example.org%2Fp&excerpt=" + b"a" * MAX_BODY_BYTES

    with pytest.raises(PayloadTooLarge):
        parse_ping(body, FORM)


def test_a_body_at_exactly_the_size_limit_is_read():
    head = b"url=https%3A%2F%2Fblog.example.org%2Fp&excerpt="
    body = head + b"a" * (MAX_BODY_BYTES - len(head))

    assert parse_ping(body, FORM).url == "https://blog.example.org/p"


def test_a_ping_with_too_many_fields_is_malformed():
    body = b"url=https%3A%2F%2Fblog.example.org%2Fp&" + b"&".join(b"f%d=x" % n for n in range(30))

    with pytest.raises(MalformedRequest):
        parse_ping(body, FORM)


# --- what is kept of the fields -----------------------------------------------------------------


def test_a_long_title_is_cropped_to_title_max_with_an_ellipsis():
    body = urlencode({"url": "https://blog.example.org/p", "title": "word " * 200}).encode()

    title = parse_ping(body, FORM).title

    assert len(title) <= TITLE_MAX
    assert title.endswith(ELLIPSIS)
    assert title.startswith("word word")


def test_a_long_excerpt_is_cropped_to_excerpt_max_with_an_ellipsis():
    body = urlencode({"url": "https://blog.example.org/p", "excerpt": "lorem ipsum " * 100}).encode()

    excerpt = parse_ping(body, FORM).excerpt

    assert len(excerpt) <= EXCERPT_MAX
    assert excerpt.endswith(ELLIPSIS)


def test_a_long_excerpt_is_cropped_between_words():
    body = urlencode({"url": "https://blog.example.org/p", "excerpt": "lorem ipsum " * 100}).encode()

    excerpt = parse_ping(body, FORM).excerpt

    assert excerpt.removesuffix(ELLIPSIS).split(" ")[-1] in ("lorem", "ipsum")


def test_a_title_within_the_limit_is_kept_whole():
    title = "t" * TITLE_MAX
    body = urlencode({"url": "https://blog.example.org/p", "title": title}).encode()

    assert parse_ping(body, FORM).title == title


def test_control_characters_are_stripped_from_the_fields():
    body = urlencode({"url": "https://blog.example.org/p", "title": "Hel\x00lo\x1b[31m W\x7forld\x85"}).encode()

    assert parse_ping(body, FORM).title == "Hello[31m World"


def test_line_breaks_and_tabs_in_a_field_become_single_spaces():
    body = urlencode({"url": "https://blog.example.org/p", "excerpt": "  one\r\n\r\ntwo\tthree  "}).encode()

    assert parse_ping(body, FORM).excerpt == "one two three"


def test_fields_are_stored_in_unicode_normal_form_c():
    # "e" + COMBINING ACUTE ACCENT, as some Mac clients send it
    body = urlencode({"url": "https://blog.example.org/p", "title": "Cafe\u0301"}).encode()

    assert parse_ping(body, FORM).title == "Caf\u00e9"
