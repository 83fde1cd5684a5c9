"""URL rules: which URLs are accepted and the one normal form used to compare and key them."""

from __future__ import annotations

from urllib.parse import urlsplit

import pytest
from hypothesis import example, given, settings
from hypothesis import strategies as st

from linkback.urls import MAX_URL_LENGTH, InvalidUrl, normalise_origin, normalise_url, site_of

# --- the normal form ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("sent", "normal"),
    [
        ("HTTPS://Example.COM/Posts/Hello/", "https://example.com/Posts/Hello/"),
        ("http://example.com:80/a", "http://example.com/a"),
        ("https://example.com:443/a", "https://example.com/a"),
        ("http://example.com:/a", "http://example.com/a"),
        ("https://example.com", "https://example.com/"),
        ("https://example.com?q=1", "https://example.com/?q=1"),
        ("https://example.com./a", "https://example.com/a"),
    ],
    ids=[
        "scheme-and-host-case",
        "http-port-80",
        "https-port-443",
        "empty-port",
        "empty-path",
        "query-only",
        "host-dot",
    ],
)
def test_scheme_host_port_and_empty_path_are_normalised(sent, normal):
    assert normalise_url(sent) == normal


def test_a_port_that_is_not_the_default_is_kept():
    assert normalise_url("https://example.com:8443/a") == "https://example.com:8443/a"


def test_the_path_keeps_its_case():
    assert normalise_url("https://example.com/About/Me") == "https://example.com/About/Me"


def test_the_fragment_is_dropped():
    assert normalise_url("https://example.com/posts/hello/#comments") == "https://example.com/posts/hello/"


def test_percent_escapes_are_upper_cased():
    assert normalise_url("https://example.com/a%2fb%3a?x=%3d") == "https://example.com/a%2Fb%3A?x=%3D"


def test_percent_escaped_unreserved_characters_are_decoded():
    assert normalise_url("https://example.com/%7Ejo/%41%2D%5F%2E?q=%7e") == "https://example.com/~jo/A-_.?q=~"


def test_percent_escaped_reserved_characters_stay_escaped():
    assert normalise_url("https://example.com/a%2Fb%3Fc%23d") == "https://example.com/a%2Fb%3Fc%23d"


@pytest.mark.parametrize(
    ("sent", "normal"),
    [
        ("https://example.com/a/./b/../c/", "https://example.com/a/c/"),
        ("https://example.com/a/b/..", "https://example.com/a/"),
        ("https://example.com/a/b/.", "https://example.com/a/b/"),
        ("https://example.com/../../a", "https://example.com/a"),
        ("https://example.com/a/%2E%2E/b", "https://example.com/b"),
    ],
)
def test_dot_segments_are_removed(sent, normal):
    assert normalise_url(sent) == normal


def test_an_internationalised_host_is_written_in_punycode():
    assert normalise_url("https://Bücher.example/") == "https://xn--bcher-kva.example/"


def test_an_ipv6_literal_is_written_compressed_in_lower_case():
    assert normalise_url("http://[2001:DB8:0:0::0001]:8080/x") == "http://[2001:db8::1]:8080/x"


def test_an_ipv4_literal_is_kept():
    assert normalise_url("http://93.184.215.14/") == "http://93.184.215.14/"


def test_the_trailing_slash_is_kept_as_sent():
    # /post and /post/ may be two resources: merging them would merge two posts' mentions
    assert normalise_url("https://example.com/post") == "https://example.com/post"
    assert normalise_url("https://example.com/post/") == "https://example.com/post/"


def test_the_query_is_kept_as_sent():
    assert normalise_url("https://example.com/?p=12&B=2&a=1+2") == "https://example.com/?p=12&B=2&a=1+2"


def test_surrounding_whitespace_is_ignored():
    assert normalise_url("  https://example.com/a\n") == "https://example.com/a"


# --- refusals -----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "url",
    [
        "ftp://example.com/file",
        "javascript:alert(1)",
        "data:text/html,<a href=x>",
        "file:///etc/passwd",
        "mailto:jo@example.com",
        "//example.com/protocol-relative",
        "/posts/hello/",
    ],
)
def test_anything_but_an_absolute_http_or_https_url_is_refused(url):
    with pytest.raises(InvalidUrl):
        normalise_url(url)


@pytest.mark.parametrize(
    "url",
    ["https://jo:secret@example.com/", "https://jo@example.com/", "https://@example.com/", "http://:@example.com/"],
)
def test_a_url_with_userinfo_is_refused(url):
    with pytest.raises(InvalidUrl, match="user name or password"):
        normalise_url(url)


@pytest.mark.parametrize("url", ["https:///path", "https://", "https://:443/", "http://./"])
def test_a_url_without_a_host_is_refused(url):
    with pytest.raises(InvalidUrl):
        normalise_url(url)


@pytest.mark.parametrize(
    "url",
    [
        "https://example.com/a b",
        "https://exa mple.com/",
        "https://example.com/\x00",
        "https://example.com/a\tb",
        "https://example.com/\x7f",
        "https://example.com/a\r\nSet-Cookie:x=1",
    ],
)
def test_a_url_with_spaces_or_control_characters_is_refused(url):
    with pytest.raises(InvalidUrl, match="spaces or control characters"):
        normalise_url(url)


def test_a_url_longer_than_the_limit_is_refused():
    url = "https://example.com/" + "a" * MAX_URL_LENGTH

    with pytest.raises(InvalidUrl, match="longer than"):
        normalise_url(url)


@pytest.mark.parametrize("url", ["https://example.com:99999/", "https://example.com:http/", "https://example.com:-1/"])
def test_a_url_with_an_impossible_port_is_refused(url):
    with pytest.raises(InvalidUrl):
        normalise_url(url)


@pytest.mark.parametrize(
    "url", ["https://exa<mple.com/", "https://-/", "https://a..b/", "https://[::g]/", "https://" + "a" * 64 + ".com/"]
)
def test_a_host_that_is_not_a_domain_name_or_ip_literal_is_refused(url):
    with pytest.raises(InvalidUrl):
        normalise_url(url)


@pytest.mark.parametrize("value", ["", "   ", None, b"https://example.com/"])
def test_empty_or_non_text_input_is_refused(value):
    with pytest.raises(InvalidUrl):
        normalise_url(value)


def test_invalid_url_is_a_value_error_with_a_plain_message():
    with pytest.raises(ValueError, match="only http and https"):
        normalise_url("gopher://example.com/")


def test_a_stray_percent_sign_does_not_turn_into_a_new_escape():
    # Given "%a" that is not an escape followed by an escaped "A"
    normal = normalise_url("https://example.com/%a%41")

    # Then normalising again changes nothing (the mention id is a hash of this string)
    assert normalise_url(normal) == normal


# --- properties ---------------------------------------------------------------------------------

_LABEL = st.text(alphabet="abcdefghijklmnopqrstuvwxyzABCDEFXYZ0123456789-_éüßÄ", min_size=1, max_size=12)
_HOST = st.one_of(
    st.lists(_LABEL, min_size=1, max_size=4).map(".".join),
    st.sampled_from(["[::1]", "[2001:DB8::1]", "93.184.215.14", "localhost"]),
)
_PIECE = st.sampled_from(
    [*"aZ09-._~!$&'()*+,;=:@é", "%2e", "%2E", "%7e", "%41", "%2f", "%25", "%3A", ".", "..", "[", "]", "?", "/"]
)
_SEGMENT = st.lists(_PIECE, max_size=6).map("".join)
_PATH = st.one_of(st.just(""), st.lists(_SEGMENT, max_size=5).map(lambda segments: "/" + "/".join(segments)))
_PORT = st.one_of(st.none(), st.integers(0, 65535))


@st.composite
def http_urls(draw) -> str:
    scheme = draw(st.sampled_from(["http", "https", "HTTP", "hTTpS"]))
    port = draw(_PORT)
    query = draw(st.one_of(st.none(), _SEGMENT))
    fragment = draw(st.one_of(st.none(), _SEGMENT))
    return (
        f"{scheme}://{draw(_HOST)}"
        + ("" if port is None else f":{port}")
        + draw(_PATH)
        + ("" if query is None else f"?{query}")
        + ("" if fragment is None else f"#{fragment}")
    )


def _normal_or_none(url: str) -> str | None:
    try:
        return normalise_url(url)
    except InvalidUrl:
        return None


@settings(max_examples=200, deadline=None)
@given(http_urls())
@example("HTTP://Example.COM:80/a/./b/../%7e?q=%2f#frag")
def test_normalising_twice_gives_the_same_url(url):
    normal = _normal_or_none(url)
    if normal is not None:
        assert normalise_url(normal) == normal


@settings(max_examples=200, deadline=None)
@given(http_urls())
def test_a_normal_url_is_http_or_https_without_fragment(url):
    normal = _normal_or_none(url)
    if normal is not None:
        assert normal.startswith(("http://", "https://"))
        assert "#" not in normal
        assert urlsplit(normal).fragment == ""


@settings(max_examples=200, deadline=None)
@given(st.tuples(st.sampled_from(["", "http://", "https://"]), st.text(max_size=60)).map("".join))
def test_any_text_is_either_a_normal_url_or_invalid_url(text):
    # Nothing a sender types may surface as another exception (a 500 instead of a refusal).
    normal = _normal_or_none(text)
    if normal is not None:
        assert normal.startswith(("http://", "https://"))


# --- origins and sites --------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("configured", "origin"),
    [
        ("https://Example.com:443/", "https://example.com"),
        ("https://example.com", "https://example.com"),
        ("  https://blog.example.org/any/path  ", "https://blog.example.org"),
        ("http://localhost:8787", "http://localhost:8787"),
        ("https://Bücher.example", "https://xn--bcher-kva.example"),
    ],
)
def test_normalise_origin_keeps_only_scheme_host_and_a_non_default_port(configured, origin):
    assert normalise_origin(configured) == origin


def test_normalise_origin_refuses_what_is_not_an_http_origin():
    with pytest.raises(InvalidUrl):
        normalise_origin("example.com")


SITES = ("https://example.com", "https://blog.example.org")


def test_site_of_names_the_configured_site_a_url_is_on():
    assert site_of("https://blog.example.org/posts/hello/", SITES) == "https://blog.example.org"


def test_site_of_is_none_for_another_host():
    assert site_of("https://evil.example/posts/hello/", SITES) is None


def test_site_of_does_not_treat_a_sub_domain_as_the_site():
    assert site_of("https://www.example.com/posts/hello/", SITES) is None


def test_site_of_does_not_treat_a_look_alike_suffix_as_the_site():
    assert site_of("https://example.com.evil.example/posts/hello/", SITES) is None


def test_site_of_tells_the_schemes_apart():
    assert site_of("http://example.com/posts/hello/", SITES) is None


def test_site_of_tells_the_ports_apart():
    assert site_of("https://example.com:8443/posts/hello/", SITES) is None
