"""The fetcher's guard: which addresses the verifier will never connect to (SECURITY.md)."""

from __future__ import annotations

import pytest

from linkback.errors import PermanentFetchError
from linkback.verify.fetch import SafeFetcher, _decode_body, is_denied_address

# --- the deny list ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "address",
    [
        "127.0.0.1",
        "127.255.255.254",
        "10.0.0.1",
        "172.16.0.1",
        "172.31.255.255",
        "192.168.1.1",
        "169.254.169.254",
        "100.64.0.1",
        "0.0.0.0",
        "224.0.0.1",
        "255.255.255.255",
        "198.18.0.1",
        "192.0.2.1",
        "::",
        "::1",
        "::ffff:127.0.0.1",
        "::ffff:169.254.169.254",
        "64:ff9b::7f00:1",
        "2002:7f00:1::",
        "2001:0:4136:e378:8000:63bf:3fff:fdd2",
        "fe80::1",
        "fe80::1%eth0",
        "fc00::1",
        "fd12:3456:789a::1",
        "ff02::1",
        "2001:db8::1",
    ],
    ids=lambda address: address,
)
def test_internal_and_special_addresses_are_denied(address):
    assert is_denied_address(address)


@pytest.mark.parametrize("address", ["93.184.215.14", "1.1.1.1", "2606:4700::1", "2a00:1450:4001:82f::200e"])
def test_public_addresses_are_allowed(address):
    assert not is_denied_address(address)


def test_the_ipv4_mapped_form_of_even_a_public_address_is_denied():
    # Connecting to it would reach an IPv4 address by a path the IPv4 checks never saw.
    assert is_denied_address("::ffff:93.184.215.14")


def test_the_addresses_around_the_private_ranges_are_allowed():
    assert not is_denied_address("172.15.255.255")
    assert not is_denied_address("172.32.0.0")
    assert not is_denied_address("100.128.0.0")


# --- checking a URL before fetching it ----------------------------------------------------------


class FakeResolver:
    """Answers like getaddrinfo would, and remembers what it was asked."""

    def __init__(self, *addresses: str) -> None:
        self.addresses = list(addresses)
        self.asked: list[tuple[str, int]] = []

    def __call__(self, host: str, port: int) -> list[str]:
        self.asked.append((host, port))
        return self.addresses


def fetcher(resolver: FakeResolver, **options) -> SafeFetcher:
    return SafeFetcher(user_agent="linkback-test/1.0", resolver=resolver, **options)


def test_a_public_host_is_checked_and_its_address_returned_for_the_connection():
    resolver = FakeResolver("93.184.215.14")

    checked = fetcher(resolver).check_url("HTTPS://Blog.Example.org/2024/05/reply/#c1")

    assert checked == ("https://blog.example.org/2024/05/reply/", "blog.example.org", 443, "93.184.215.14")


def test_the_host_is_resolved_once_with_the_port_that_will_be_used():
    resolver = FakeResolver("93.184.215.14")

    fetcher(resolver).check_url("http://blog.example.org/reply")

    assert resolver.asked == [("blog.example.org", 80)]


def test_the_address_to_connect_to_is_one_of_the_checked_addresses():
    resolver = FakeResolver("2606:4700::1", "93.184.215.14")

    *_, address = fetcher(resolver).check_url("https://blog.example.org/reply")

    assert address == "2606:4700::1"


def test_a_host_resolving_to_a_private_address_is_refused():
    with pytest.raises(PermanentFetchError, match="non-public address"):
        fetcher(FakeResolver("10.0.0.5")).check_url("https://intranet.example.org/")


def test_a_host_resolving_to_the_metadata_service_is_refused():
    with pytest.raises(PermanentFetchError):
        fetcher(FakeResolver("169.254.169.254")).check_url("http://metadata.example.org/latest/meta-data/")


def test_a_host_is_refused_when_any_of_its_addresses_is_private():
    # Given a name that answers with a public address first and loopback second
    resolver = FakeResolver("93.184.215.14", "127.0.0.1")

    with pytest.raises(PermanentFetchError):
        fetcher(resolver).check_url("https://rebind.example.org/")


def test_an_ip_literal_in_a_private_range_is_refused():
    with pytest.raises(PermanentFetchError):
        fetcher(FakeResolver("127.0.0.1")).check_url("http://127.0.0.1/")


def test_an_ipv6_loopback_literal_is_refused():
    with pytest.raises(PermanentFetchError):
        fetcher(FakeResolver("::1")).check_url("http://[::1]/")


def test_a_host_without_addresses_is_refused():
    with pytest.raises(PermanentFetchError, match="no address"):
        fetcher(FakeResolver()).check_url("https://nothing.example.org/")


@pytest.mark.parametrize(
    "url", ["http://blog.example.org:8080/", "https://blog.example.org:22/", "http://h.example:6379/"]
)
def test_ports_other_than_80_and_443_are_refused_by_default(url):
    resolver = FakeResolver("93.184.215.14")

    with pytest.raises(PermanentFetchError, match="port"):
        fetcher(resolver).check_url(url)

    assert resolver.asked == []


def test_a_configured_extra_port_is_allowed():
    checked = fetcher(FakeResolver("93.184.215.14"), allowed_ports=frozenset({80, 443, 8443})).check_url(
        "https://blog.example.org:8443/"
    )

    assert checked[2] == 8443


def test_a_url_with_userinfo_is_refused_without_resolving():
    resolver = FakeResolver("93.184.215.14")

    with pytest.raises(PermanentFetchError, match="user name or password"):
        fetcher(resolver).check_url("https://admin:admin@blog.example.org/")

    assert resolver.asked == []


@pytest.mark.parametrize("url", ["ftp://blog.example.org/file", "file:///etc/passwd", "gopher://127.0.0.1:6379/_"])
def test_a_url_with_another_scheme_is_refused(url):
    with pytest.raises(PermanentFetchError, match="not usable"):
        fetcher(FakeResolver("93.184.215.14")).check_url(url)


def test_loopback_and_other_ports_are_allowed_when_private_sources_are_allowed():
    # LINKBACK_ALLOW_PRIVATE_SOURCES=1: development and tests only
    checked = fetcher(FakeResolver("127.0.0.1"), allow_private=True).check_url("http://localhost:8787/post")

    assert checked == ("http://localhost:8787/post", "localhost", 8787, "127.0.0.1")


def test_allowing_private_sources_still_refuses_other_schemes():
    with pytest.raises(PermanentFetchError):
        fetcher(FakeResolver("127.0.0.1"), allow_private=True).check_url("file:///etc/passwd")


# --- decoding the page --------------------------------------------------------------------------


def test_the_charset_from_the_content_type_header_decodes_the_page():
    assert _decode_body("<p>Café</p>".encode("iso-8859-1"), "iso-8859-1") == "<p>Café</p>"


def test_the_header_charset_wins_over_a_meta_charset():
    body = '<meta charset="utf-8"><p>Café</p>'.encode("iso-8859-1")

    assert _decode_body(body, "iso-8859-1").endswith("<p>Café</p>")


def test_a_meta_charset_decodes_the_page_when_the_header_has_none():
    body = '<html><head><meta charset="windows-1252"></head><body>“Café”</body></html>'.encode("cp1252")

    assert "“Café”" in _decode_body(body, None)


def test_an_http_equiv_meta_charset_decodes_the_page():
    body = '<meta http-equiv="Content-Type" content="text/html; charset=ISO-8859-1"><p>Zoë</p>'.encode("latin-1")

    assert "<p>Zoë</p>" in _decode_body(body, None)


def test_a_page_without_charset_is_read_as_utf8():
    assert _decode_body("<p>Zoë “quoted”</p>".encode(), None) == "<p>Zoë “quoted”</p>"


def test_bytes_invalid_in_the_charset_become_replacement_characters():
    assert _decode_body(b"<p>caf\xe9</p>", None) == "<p>caf\ufffd</p>"


def test_an_unknown_charset_label_falls_back_to_utf8():
    assert _decode_body("<p>Zoë</p>".encode(), "x-klingon") == "<p>Zoë</p>"


def test_a_meta_charset_naming_a_codec_that_cannot_decode_falls_back_to_utf8():
    body = b'<meta charset="undefined"><a href="https://example.com/posts/hello/">hi</a>'

    assert 'href="https://example.com/posts/hello/"' in _decode_body(body, None)


def test_a_meta_charset_of_utf16_in_an_ascii_page_is_read_as_utf8():
    # HTML Standard, "prescan a byte stream": "If charset is UTF-16BE/LE, then set charset to UTF-8."
    body = b'<meta charset="utf-16"><a href="https://example.com/posts/hello/">hi</a>'

    assert 'href="https://example.com/posts/hello/"' in _decode_body(body, None)
