"""Property-based fuzzing of everything a stranger's bytes reach before any check of ours.

Contract of every parser: it returns its value or raises a LinkbackError (which each front turns
into its protocol's refusal); any other exception is a 500 or an "internal error" reply, logged as a
failure. Contract of every reply writer: whatever the message, the reply parses.

Bounded: LINKBACK_FUZZ_EXAMPLES (default 300) examples per property, a deadline per example, and
derandomized so a run is reproducible (set LINKBACK_FUZZ_RANDOM=1 to explore new inputs). The
@example inputs and the *_BUGS tables are what these properties found at first (each escaped as
AttributeError, TypeError, ValueError, UnicodeError, LookupError or produced XML that does not
parse); they stay as regression cases.
"""

from __future__ import annotations

import os
import re
import xml.etree.ElementTree as ET
import xmlrpc.client
from datetime import timedelta

import pytest
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from linkback.errors import LinkbackError
from linkback.receive import pingback, trackback, webmention
from linkback.urls import InvalidUrl, normalise_url

FUZZ = settings(
    max_examples=int(os.environ.get("LINKBACK_FUZZ_EXAMPLES", "300")),
    deadline=timedelta(milliseconds=500),
    derandomize=os.environ.get("LINKBACK_FUZZ_RANDOM") != "1",
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much, HealthCheck.data_too_large],
    database=None,
)

# Text XML 1.0 can carry (§2.2 Char), less "\r", which every XML parser reads back as "\n".
XML_TEXT = st.text(
    st.characters(
        codec="utf-8",
        exclude_characters="\r\ufffe\uffff",
        exclude_categories=["Cs"],
    ).filter(lambda c: c in "\t\n" or ord(c) >= 0x20),
    max_size=80,
)
ANY_TEXT = st.text(st.characters(codec=None), max_size=80)  # controls and lone surrogates included


def only_linkback_errors(call, *args):  # type: ignore[no-untyped-def]
    try:
        return call(*args)
    except LinkbackError:
        return None


# ------------------------------------------------------------------------------------- TrackBack

CHARSET_LABELS = [
    "utf-8", "UTF-8", "iso-8859-1", "latin1", "windows-1252", "utf-7", "utf-16", "utf-32", "ascii",
    "punycode", "idna", "unicode_escape", "raw_unicode_escape", "rot13", "base64", "hex", "undefined",
    "cp037", "hz", "iso2022_jp", "utf_8_sig", "x-unknown", "", '"utf-8"', "a\x00b", "%",
]  # fmt: skip
CONTENT_TYPES = st.one_of(
    st.none(),
    st.text(max_size=40),
    st.builds(
        lambda media, params: media + params,
        st.sampled_from(
            ["application/x-www-form-urlencoded", "text/plain", "", "text/xml", "APPLICATION/X-WWW-FORM-URLENCODED"]
        ),
        st.lists(
            st.one_of(
                st.sampled_from(CHARSET_LABELS).map(lambda label: f"; charset={label}"),
                st.sampled_from(CHARSET_LABELS).map(lambda label: f"; charset*=utf-8''{label}"),
                st.sampled_from([";", "; x=(", '; charset="', "; charset*0=utf; charset*1=-8", "\r\n", "; q"]),
            ),
            max_size=3,
        ).map("".join),
    ),
)
FORM_KEYS = st.sampled_from(
    ["url", "title", "excerpt", "blog_name", "charset", "", "url%00", "%FF", "source", "target"]
)
FORM_VALUES = st.one_of(
    st.text(max_size=12),
    st.sampled_from([*CHARSET_LABELS, "http://a.example/", "%ff%fe", "\\ud800", "%00", "+", "&", "="]),
)
FORMS = st.lists(st.tuples(FORM_KEYS, FORM_VALUES), max_size=6).map(
    lambda pairs: "&".join(f"{key}={value}" for key, value in pairs).encode("utf-8", "surrogatepass")
)
BODIES = st.one_of(FORMS, st.binary(max_size=300))


def is_valid_text(value: str) -> bool:
    try:
        value.encode("utf-8")
    except UnicodeEncodeError:
        return False
    return True


@FUZZ
@given(BODIES, CONTENT_TYPES)
@example(b"url=http://a.example/", "application/x-www-form-urlencoded; charset*=utf-8''utf-8")
def test_parse_ping_returns_a_ping_or_raises_a_linkback_error(body: bytes, content_type: str | None) -> None:
    ping = only_linkback_errors(trackback.parse_ping, body, content_type)
    if ping is not None:
        assert isinstance(ping, trackback.TrackbackPing)
        assert all(is_valid_text(value) for value in (ping.url, ping.title, ping.excerpt, ping.blog_name))


@FUZZ
@given(st.binary(max_size=300), st.sampled_from([None, "application/x-www-form-urlencoded", "text/plain"]))
def test_parse_ping_of_random_bytes_under_a_plain_content_type_is_a_ping_or_a_refusal(
    body: bytes, content_type: str | None
) -> None:
    ping = only_linkback_errors(trackback.parse_ping, body, content_type)
    assert ping is None or isinstance(ping, trackback.TrackbackPing)


# What the fuzzer found in parse_ping at first, one regression test each.
FORM = "application/x-www-form-urlencoded"
PING = b"url=http://a.example/"
TRACKBACK_BUGS = {
    "RFC 2231 charset* parameter (AttributeError)": (PING, f"{FORM}; charset*=utf-8''utf-8"),
    "RFC 2231 continuations (TypeError in email)": (
        PING,
        "text/plain; x=(; charset*=utf-8''utf-8; charset*0=utf; charset*1=-8",
    ),
    "NUL in the header charset (ValueError)": (PING, f'{FORM}; charset="a\x00b"'),
    "NUL in the form charset (ValueError)": (b"url=http://a.example/&charset=a%00b", None),
    "punycode charset (UnicodeError)": (b"url=http://a.example/&charset=punycode", None),
    "idna charset (UnicodeError)": (b"url=xn--zz&charset=idna", None),
}  # fmt: skip


@pytest.mark.parametrize(("body", "content_type"), list(TRACKBACK_BUGS.values()), ids=list(TRACKBACK_BUGS))
def test_parse_ping_refuses_a_hostile_charset_with_a_linkback_error(body: bytes, content_type: str | None) -> None:
    only_linkback_errors(trackback.parse_ping, body, content_type)


def test_parse_ping_never_returns_text_that_is_not_valid_unicode() -> None:
    ping = only_linkback_errors(trackback.parse_ping, b"url=http://a.example/\\ud800&charset=unicode_escape", None)

    assert ping is None or is_valid_text(ping.url)


@FUZZ
@given(XML_TEXT)
def test_error_reply_is_well_formed_xml_and_carries_the_message(message: str) -> None:
    document = ET.fromstring(trackback.error_reply(message))

    assert document.findtext("error") == "1"
    assert (document.findtext("message") or "") == message


@FUZZ
@given(ANY_TEXT)
@example("unknown media type \x01/x")
def test_error_reply_is_well_formed_xml_for_any_text(message: str) -> None:
    document = ET.fromstring(trackback.error_reply(message))

    assert document.findtext("error") == "1"


# -------------------------------------------------------------------------------------- Pingback

ENCODINGS = [
    "utf-8", "UTF-8", "iso-8859-1", "ascii", "cp1252", "koi8-r", "utf-16", "utf-32", "utf-7", "undefined",
    "rot13", "base64", "hex", "zlib", "cp037", "idna", "punycode", "mbcs", "x-unknown", "",
]  # fmt: skip
DECLARATIONS = st.one_of(
    st.just(""),
    st.sampled_from(ENCODINGS).map(lambda encoding: f'<?xml version="1.0" encoding="{encoding}"?>'),
    st.sampled_from(["1.0", "1.1", "2.0", ""]).map(lambda version: f'<?xml version="{version}"?>'),
)
DOCTYPES = st.sampled_from(
    [
        "",
        "<!DOCTYPE methodCall>",
        '<!DOCTYPE methodCall [<!ENTITY x "y">]>',
        '<!DOCTYPE methodCall SYSTEM "http://127.0.0.1:9/x.dtd">',
        '<!DOCTYPE methodCall [<!ENTITY % p SYSTEM "file:///etc/passwd"> %p;]>',
    ]
)
XML_TEXTS = st.one_of(
    st.sampled_from(
        ["pingback.ping", "system.multicall", "https://example.com/posts/hello/", "&amp;", "&lt;", "&#0;",
         "&#x1F;", "&#xD800;", "]]>", "<![CDATA[x]]>", "&x;", "<!-- c -->", "<?pi x?>", "\x00", "\ufffe"]
    ),
    st.text(max_size=8),
)  # fmt: skip
TAGS = st.sampled_from(
    ["methodCall", "methodName", "params", "param", "value", "string", "int", "struct", "member", "name",
     "array", "data", "base64", "x:y", "a b"]
)  # fmt: skip
XML_TREES = st.recursive(
    XML_TEXTS,
    lambda children: st.builds(
        lambda tag, kids, text: f"<{tag}>{text}{''.join(kids)}</{tag}>", TAGS, st.lists(children, max_size=3), XML_TEXTS
    ),
    max_leaves=12,
)
XML_DOCUMENTS = st.builds(
    lambda declaration, doctype, tree: declaration + doctype + tree, DECLARATIONS, DOCTYPES, XML_TREES
)
XML_BODIES = st.one_of(
    XML_DOCUMENTS.map(lambda text: text.encode("utf-8", "surrogatepass")),
    XML_DOCUMENTS.map(lambda text: text.encode("latin-1", "replace")),
    st.binary(max_size=200),
)


@FUZZ
@given(XML_BODIES)
@example(b'<?xml version="1.0" encoding="rot13"?><methodCall/>')
def test_parse_call_returns_a_call_or_raises_a_linkback_error(body: bytes) -> None:
    call = only_linkback_errors(pingback.parse_call, body)
    assert call is None or isinstance(call, pingback.PingbackCall)


@FUZZ
@given(st.binary(max_size=400))
def test_parse_call_of_random_bytes_is_a_call_or_a_refusal(body: bytes) -> None:
    call = only_linkback_errors(pingback.parse_call, body)
    assert call is None or isinstance(call, pingback.PingbackCall)


@FUZZ
@given(XML_TEXT, XML_TEXT)
def test_a_call_with_any_two_strings_is_read_back_exactly(source: str, target: str) -> None:
    body = xmlrpc.client.dumps((source, target), "pingback.ping").encode()

    call = only_linkback_errors(pingback.parse_call, body)

    if call is not None:  # refused only for its size
        assert (call.source, call.target) == (source.strip(), target.strip())


@pytest.mark.parametrize(
    "encoding", ["rot13", "base64", "x-unknown", "utf-7", "utf-32", "undefined", "idna", "punycode"]
)
def test_an_xml_declaration_naming_an_unusable_encoding_is_a_parse_error(encoding: str) -> None:
    body = f'<?xml version="1.0" encoding="{encoding}"?><methodCall><methodName>pingback.ping</methodName></methodCall>'

    only_linkback_errors(pingback.parse_call, body.encode())


@FUZZ
@given(st.integers(-(2**31), 2**31 - 1), XML_TEXT)
def test_fault_reply_is_read_by_xmlrpc_clients_with_the_same_code_and_message(code: int, message: str) -> None:
    with pytest.raises(xmlrpc.client.Fault) as fault:
        xmlrpc.client.loads(pingback.fault_reply(code, message))

    assert (fault.value.faultCode, fault.value.faultString) == (code, message)


@FUZZ
@given(st.integers(-(2**31), 2**31 - 1), ANY_TEXT)
@example(0, "control \x1b character")
def test_fault_reply_is_read_by_xmlrpc_clients_for_any_message(code: int, message: str) -> None:
    with pytest.raises(xmlrpc.client.Fault) as fault:
        xmlrpc.client.loads(pingback.fault_reply(code, message))

    assert fault.value.faultCode == code


@FUZZ
@given(XML_TEXT)
def test_success_reply_is_read_by_xmlrpc_clients_with_the_same_message(message: str) -> None:
    (value,), _method = xmlrpc.client.loads(pingback.success_reply(message))

    assert value == message


# ------------------------------------------------------------------------------------ Webmention


@FUZZ
@given(BODIES, CONTENT_TYPES)
def test_parse_request_returns_a_request_or_raises_a_linkback_error(body: bytes, content_type: str | None) -> None:
    request = only_linkback_errors(webmention.parse_request, body, content_type)
    if request is not None:
        assert request.source and request.target
        assert is_valid_text(request.source) and is_valid_text(request.target)


# ------------------------------------------------------------------------------------------ URLs

NOT_IN_A_NORMAL_URL = re.compile(r'["<>\s\x00-\x1f\x7f-\x9f]')
URL_PIECES = st.sampled_from(
    ["http://", "https://", "HTTP://", "//", "[", "]", "::1", "%", "%25", "%2e", "%2E%2e", "..", ".", "/", "?",
     "#", "@", ":", ":80", ":443", ":0", ":65536", "xn--", "xn--nxasmq6b", "-", "_", "a", "b.c", '"', "<", ">",
     "'", "\\", "ß", "İ", "\uff0e", "\u3002", "ﬀ", "K", "\u200d", "\ufeff", "\x85", "\u2028", "1.2.3.4", "0x7f.1", "`",
     "{", "|", "^", "%00", "%zz", "&", "=", ";", "~", "é", "中文", "\u0301"]
)  # fmt: skip
URLISH = st.lists(st.one_of(URL_PIECES, st.text(max_size=3)), max_size=14).map("".join)


@FUZZ
@given(st.one_of(URLISH, st.text(max_size=60)))
@example("HTTP://Bücher.Example:80/a/./b/../%7e?q=%2f#frag")
def test_normalise_url_gives_an_idempotent_url_free_of_markup_or_invalid_url(text: str) -> None:
    try:
        normal = normalise_url(text)
    except InvalidUrl:
        return

    assert isinstance(normal, str)
    assert normalise_url(normal) == normal
    assert not NOT_IN_A_NORMAL_URL.search(normal), normal


@FUZZ
@given(
    st.sampled_from(["fe80::1", "::1", "2001:db8::1"]), st.text(min_size=1, max_size=8).filter(lambda s: "%" not in s)
)
@example("fe80::1", '"onmouseover=alert(1)')
def test_an_ipv6_zone_identifier_never_carries_markup_into_the_normal_form(address: str, zone: str) -> None:
    try:
        normal = normalise_url(f"http://[{address}%{zone}]/")
    except InvalidUrl:
        return

    assert not NOT_IN_A_NORMAL_URL.search(normal), normal


@pytest.mark.parametrize("url", ["http://a.example/\ud800", "http://a.example/?q=\udfff"])
def test_a_lone_surrogate_makes_an_invalid_url(url: str) -> None:
    with pytest.raises(InvalidUrl):
        normalise_url(url)


# ------------------------------------------------------------------------------------------ HTML

HTML_PIECES = st.sampled_from(
    ["<a href='https://example.com/p/'>", "<a href=/p/>", "</a>", "<base href='https://example.com/'>", "<title>",
     "</title>", "<script>", "</script>", "<svg>", "</svg>", "<!--", "-->", "<![CDATA[", "]]>", "<![", "<!", "<?",
     "</", "<", ">", "&", "&amp;", "&#", "&#x", "'", '"', "=", " ", "\n", "<br/>", "<img src=/p/>", "<p>", "x"]
)  # fmt: skip
HTML_TEXT = st.lists(st.one_of(HTML_PIECES, st.text(max_size=3)), max_size=40).map("".join)


@FUZZ
@given(HTML_TEXT)
@example("<![ x]><a href='https://example.com/p/'>x</a>")
def test_find_link_returns_evidence_or_none_for_any_markup(html: str) -> None:
    from linkback.verify.links.reference import LinkEvidence, ParseBudgetExceeded, find_link

    try:
        evidence = find_link(
            html, base_url="https://source.example.net/", target="https://example.com/p/", budget_s=0.5
        )
    except ParseBudgetExceeded:
        return

    assert evidence is None or isinstance(evidence, LinkEvidence)
