"""The verifier is an open URL fetcher: these tests attack it as a stranger would (SECURITY.md).

Every DNS answer comes from the test (support.Network) and every connection attempt is recorded at
the socket layer and refused unless it goes to a loopback server the test allows, so a failing
guard shows up as a recorded connect, never as a real request leaving the machine.
"""

from __future__ import annotations

import ipaddress

import pytest

from linkback.errors import PermanentFetchError, TransientFetchError
from linkback.verify.fetch import DENIED_NETWORKS

from .support import Network, Server, fetcher, reply, site_fetcher

PUBLIC_V4 = "93.184.215.14"
PUBLIC_V4_OTHER = "1.1.1.1"
PUBLIC_V6 = "2606:4700::1"


def representatives() -> list[str]:
    """The first usable and the last address of every denied network."""
    addresses: list[str] = []
    for network in DENIED_NETWORKS:
        if network.num_addresses == 1:
            addresses.append(str(network.network_address))
        else:
            addresses.extend([str(network.network_address + 1), str(network.broadcast_address)])
    return addresses


# IPv6 forms that carry an internal IPv4 address: each is checked below to decode to what it claims.
EMBEDDED = {
    "mapped 127.0.0.1": ("::ffff:127.0.0.1", "127.0.0.1"),
    "mapped metadata": ("::ffff:169.254.169.254", "169.254.169.254"),
    "mapped 10.0.0.1": ("::ffff:10.0.0.1", "10.0.0.1"),
    "compatible 127.0.0.1": ("::127.0.0.1", "127.0.0.1"),
    "compatible metadata": ("::169.254.169.254", "169.254.169.254"),
    "compatible 10.0.0.1": ("::10.0.0.1", "10.0.0.1"),
    "NAT64 127.0.0.1": ("64:ff9b::127.0.0.1", "127.0.0.1"),
    "NAT64 metadata": ("64:ff9b::169.254.169.254", "169.254.169.254"),
    "NAT64 10.0.0.1": ("64:ff9b::10.0.0.1", "10.0.0.1"),
    "local NAT64 metadata": ("64:ff9b:1::a9fe:a9fe", "169.254.169.254"),
    "6to4 127.0.0.1": ("2002:7f00:1::1", "127.0.0.1"),
    "6to4 metadata": ("2002:a9fe:a9fe::1", "169.254.169.254"),
    "6to4 10.0.0.1": ("2002:a00:1::1", "10.0.0.1"),
    "Teredo client 127.0.0.1": ("2001:0:4136:e378:8000:63bf:80ff:fffe", "127.0.0.1"),
    "Teredo client metadata": ("2001:0:4136:e378:8000:63bf:5601:5601", "169.254.169.254"),
    "Teredo client 10.0.0.1": ("2001:0:4136:e378:8000:63bf:f5ff:fffe", "10.0.0.1"),
}


def embedded_ipv4(address: str) -> str:
    ip = ipaddress.IPv6Address(address)
    if ip.ipv4_mapped:
        return str(ip.ipv4_mapped)
    if ip.sixtofour:
        return str(ip.sixtofour)
    if ip.teredo:
        return str(ip.teredo[1])
    return str(ipaddress.IPv4Address(int(ip) & 0xFFFFFFFF))  # compatible and NAT64: the last 32 bits


def url_for(address: str, path: str = "/") -> str:
    return f"http://[{address}]{path}" if ":" in address else f"http://{address}{path}"


# --------------------------------------------------------------------------- the deny list, by DNS


@pytest.mark.parametrize("address", representatives())
def test_a_name_resolving_to_a_denied_address_is_refused_without_connecting(network: Network, address: str) -> None:
    network.answer("victim.test", [address])

    with pytest.raises(PermanentFetchError, match="non-public"):
        fetcher().fetch("http://victim.test/")

    assert network.connects == []
    assert network.name_lookups() == ["victim.test"]


@pytest.mark.parametrize("address", representatives())
def test_a_denied_ip_literal_is_refused_without_connecting(network: Network, address: str) -> None:
    with pytest.raises(PermanentFetchError):
        fetcher().fetch(url_for(address, "/latest/meta-data/"))

    assert network.connects == []


@pytest.mark.parametrize(("address", "inside"), list(EMBEDDED.values()), ids=list(EMBEDDED))
def test_an_ipv6_address_embedding_an_internal_ipv4_address_is_refused(
    network: Network, address: str, inside: str
) -> None:
    assert embedded_ipv4(address) == inside  # the test data says what it claims
    network.answer("embedded.test", [address])

    with pytest.raises(PermanentFetchError):
        fetcher().fetch("http://embedded.test/")
    with pytest.raises(PermanentFetchError):
        fetcher().fetch(url_for(address))

    assert network.connects == []


def test_the_aws_metadata_service_over_ipv6_is_refused(network: Network) -> None:
    # Nitro instances also serve IMDS at fd00:ec2::254 (unique local, fc00::/7).
    network.answer("imds.test", ["fd00:ec2::254"])

    with pytest.raises(PermanentFetchError):
        fetcher().fetch("http://imds.test/latest/meta-data/")

    assert network.connects == []


# ------------------------------------------------------------------------------- DNS rebinding


def test_the_connection_goes_to_the_checked_address_and_the_name_is_never_looked_up_again(network: Network) -> None:
    # First answer public, every later one loopback: a rebinding name.
    network.answer("rebind.test", [PUBLIC_V4], ["127.0.0.1"])

    with pytest.raises(TransientFetchError):  # the test's socket layer refuses the public address
        fetcher().fetch("http://rebind.test/post")

    assert network.connects == [(PUBLIC_V4, 80)]
    assert network.name_lookups() == ["rebind.test"]


def test_a_rebinding_name_is_fetched_from_its_first_answer_only(site: Server, network: Network) -> None:
    network.answer("blog.test", ["127.0.0.1"], ["10.0.0.1"])
    site.routes["/post"] = lambda h: reply(h, 200, b"<p>hello</p>")

    page = site_fetcher(site).fetch(f"http://blog.test:{site.port}/post")

    assert page.status == 200
    assert network.connects == [site.endpoint]
    assert network.name_lookups() == ["blog.test"]


def test_a_name_that_rebinds_between_redirect_hops_is_checked_again_and_refused(site: Server, network: Network) -> None:
    network.answer("blog.test", ["127.0.0.1"], ["10.0.0.1"])
    site.routes["/hop"] = lambda h: reply(h, 302, b"", Location="/next")

    with pytest.raises(PermanentFetchError, match="non-public"):
        site_fetcher(site).fetch(f"http://blog.test:{site.port}/hop")

    assert network.connects == [site.endpoint]
    assert network.name_lookups() == ["blog.test", "blog.test"]
    assert site.paths == ["/hop"]


@pytest.mark.parametrize(
    "answers",
    [
        [PUBLIC_V4, "10.0.0.1"],
        ["10.0.0.1", PUBLIC_V4],
        [PUBLIC_V4, "::1"],
        [PUBLIC_V6, "::ffff:169.254.169.254"],
        [PUBLIC_V4, PUBLIC_V4_OTHER, "0.0.0.0"],
        [PUBLIC_V6, "fe80::1%eth0"],
    ],
    ids=lambda answers: "+".join(answers),
)
def test_a_name_with_public_and_private_answers_is_refused_without_connecting(
    network: Network, answers: list[str]
) -> None:
    network.answer("mixed.test", answers)

    with pytest.raises(PermanentFetchError, match="non-public"):
        fetcher().fetch("http://mixed.test/")

    assert network.connects == []


def test_only_checked_addresses_are_ever_connected_to(network: Network) -> None:
    network.answer("multi.test", [PUBLIC_V4, PUBLIC_V4_OTHER], ["127.0.0.1"])

    with pytest.raises(TransientFetchError):
        fetcher().fetch("http://multi.test/")

    assert network.connects
    assert set(network.connects) <= {(PUBLIC_V4, 80), (PUBLIC_V4_OTHER, 80)}


def test_proxy_settings_in_the_environment_are_ignored(network: Network) -> None:
    # The fixture set HTTP_PROXY, HTTPS_PROXY and ALL_PROXY to 10.9.9.9: a proxy would resolve the
    # name itself, after our check.
    network.answer("blog.example", [PUBLIC_V4])

    with pytest.raises(TransientFetchError):
        fetcher().fetch("http://blog.example/")
    with pytest.raises(TransientFetchError):
        fetcher().fetch("https://blog.example/")

    assert network.connects == [(PUBLIC_V4, 80), (PUBLIC_V4, 443)]


# ------------------------------------------------------------------------------------ redirects

REDIRECTS_TO_INTERNAL = {
    "a name resolving to 10.0.0.1": "http://internal.test/admin",
    "scheme-relative to that name": "//internal.test/admin",
    "the metadata service": "http://169.254.169.254/latest/meta-data/iam/security-credentials/",
    "the metadata service by name": "http://metadata.google.internal/computeMetadata/v1/",
    "the metadata service, IPv4-mapped": "http://[::ffff:169.254.169.254]/latest/meta-data/",
    "the metadata service over IPv6": "http://[fd00:ec2::254]/latest/meta-data/",
    "the metadata service in hex": "http://0xa9fea9fe/latest/meta-data/",
    "the metadata service in octal": "http://0251.0376.0251.0376/latest/meta-data/",
    "the metadata service in decimal": "http://2852039166/latest/meta-data/",
    "IPv6 loopback": "http://[::1]/",
    "the unspecified address": "http://0.0.0.0/",
}
REDIRECTS_TO_OTHER_SCHEMES = [
    "file:///etc/passwd",
    "gopher://127.0.0.1:6379/_FLUSHALL",
    "ftp://blog.test/",
    "dict://127.0.0.1:11211/stat",
    "ldap://127.0.0.1/",
    "jar:http://blog.test/x.jar!/",
    "javascript:alert(1)",
    "data:text/html,<a href=x>",
    "ws://blog.test/",
]


@pytest.mark.parametrize("location", list(REDIRECTS_TO_INTERNAL.values()), ids=list(REDIRECTS_TO_INTERNAL))
def test_a_redirect_to_an_internal_address_is_refused_before_connecting_to_it(
    site: Server, network: Network, location: str
) -> None:
    network.answer("internal.test", ["10.0.0.1"])
    network.answer("metadata.google.internal", ["169.254.169.254"])
    site.routes["/hop"] = lambda h: reply(h, 302, b"", Location=location)

    with pytest.raises(PermanentFetchError):
        site_fetcher(site).fetch(f"http://blog.test:{site.port}/hop")

    assert network.connects == [site.endpoint]
    assert site.paths == ["/hop"]


@pytest.mark.parametrize("location", REDIRECTS_TO_OTHER_SCHEMES)
def test_a_redirect_to_another_scheme_is_refused_before_any_lookup(
    site: Server, network: Network, location: str
) -> None:
    site.routes["/hop"] = lambda h: reply(h, 301, b"", Location=location)

    with pytest.raises(PermanentFetchError, match="not usable"):
        site_fetcher(site).fetch(f"http://blog.test:{site.port}/hop")

    assert network.connects == [site.endpoint]
    assert network.name_lookups() == ["blog.test"]


@pytest.mark.parametrize(
    "location",
    [
        "http://user:secret@blog.test:{port}/",
        "http://@blog.test:{port}/",
        "http://blog.test:{port}@internal.test/",
        "http://blog.test%3A{port}@internal.test/",
    ],
)
def test_a_redirect_to_a_url_with_userinfo_is_refused_before_any_lookup(
    site: Server, network: Network, location: str
) -> None:
    network.answer("internal.test", ["10.0.0.1"])
    site.routes["/hop"] = lambda h: reply(h, 307, b"", Location=location.format(port=site.port))

    with pytest.raises(PermanentFetchError, match="user name or password"):
        site_fetcher(site).fetch(f"http://blog.test:{site.port}/hop")

    assert network.connects == [site.endpoint]
    assert network.name_lookups() == ["blog.test"]


@pytest.mark.parametrize("port", [22, 25, 3306, 6379, 8080, 11211])
def test_a_redirect_to_an_odd_port_is_refused_before_any_lookup(site: Server, network: Network, port: int) -> None:
    site.routes["/hop"] = lambda h: reply(h, 308, b"", Location=f"http://blog.test:{port}/")

    with pytest.raises(PermanentFetchError, match="port"):
        site_fetcher(site).fetch(f"http://blog.test:{site.port}/hop")

    assert network.connects == [site.endpoint]
    assert network.name_lookups() == ["blog.test"]


# --------------------------------------------------------------------- odd spellings of addresses


@pytest.mark.parametrize(
    "url",
    [
        "http://2130706433/",  # 127.0.0.1 as one decimal number
        "http://0x7f.1/",  # hex and a shortened dotted form
        "http://0177.0.0.1/",  # octal
        "http://127.1/",
        "http://0x7f000001/",
        "http://017700000001/",
        "http://127.0.0.1./",  # trailing dot
        "http://0/",  # 0.0.0.0, which Linux connects to loopback
        "http://0xA9FEA9FE/",  # 169.254.169.254
        "http://0251.0376.0251.0376/",
        "http://10.1/",
        "http://[::ffff:127.0.0.1]/",
        "http://[::ffff:7f00:1]/",
        "http://[0:0:0:0:0:ffff:127.0.0.1]/",
        "http://[::127.0.0.1]/",
        "http://[0000::1]/",
        "http://[::]/",
        "http://[fe80::1%25eth0]/",
        "http://LOCALHOST/",
    ],
)
def test_an_internal_address_in_any_spelling_is_refused_without_connecting(network: Network, url: str) -> None:
    network.answer("localhost", ["127.0.0.1", "::1"])

    with pytest.raises(PermanentFetchError):
        fetcher().fetch(url)

    assert network.connects == []


@pytest.mark.parametrize("port", [1, 21, 22, 25, 53, 3306, 5432, 6379, 8080, 8443, 9200, 11211, 65535])
def test_ports_other_than_80_and_443_are_refused_before_any_lookup(network: Network, port: int) -> None:
    network.answer("blog.example", [PUBLIC_V4])

    for scheme in ("http", "https"):
        with pytest.raises(PermanentFetchError, match="port"):
            fetcher(allow_private=False).fetch(f"{scheme}://blog.example:{port}/")

    assert network.lookups == []
    assert network.connects == []


def test_an_explicit_port_zero_never_reaches_any_port_but_the_default(network: Network) -> None:
    network.answer("blog.example", [PUBLIC_V4])

    with pytest.raises((PermanentFetchError, TransientFetchError)):
        fetcher().fetch("http://blog.example:0/")

    assert set(network.connects) <= {(PUBLIC_V4, 80)}
