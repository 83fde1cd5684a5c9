"""The safe fetcher: the only way linkback reads a URL that a stranger chose.

The verifier is an open URL fetcher on the internet, so (docs/architecture.md, "The safe fetcher"; SECURITY.md):
- http/https only, no userinfo, ports 80/443 unless configured;
- the host is resolved once, every address is checked against a deny list, and the connection goes
  to exactly the address that was checked (a second lookup could answer differently: DNS rebinding,
  CVE-2022-3590) while Host, SNI and the certificate check keep using the name;
- redirects are followed by hand, each hop checked again, at most MAX_REDIRECTS;
- connect and read timeouts plus a total deadline; the body is capped on decoded bytes;
- no proxies or netrc from the environment (they would bypass the pinning).
"""

from __future__ import annotations

import codecs
import contextlib
import ipaddress
import re
import socket
import threading
import time
from collections.abc import Callable
from typing import Any, NamedTuple
from urllib.parse import urljoin, urlsplit

from linkback.errors import PermanentFetchError, TransientFetchError
from linkback.urls import InvalidUrl, normalise_url

MAX_REDIRECTS = 5
CONNECT_TIMEOUT_S = 3.05
READ_TIMEOUT_S = 5.0
TOTAL_DEADLINE_S = 15.0
MAX_BODY_BYTES = 1024 * 1024
ALLOWED_PORTS = frozenset({80, 443})
ACCEPTED_TYPES = ("text/html", "application/xhtml+xml", "text/plain", "application/json")

# Explicit, because ipaddress.is_global/is_private disagree with the RFCs on several of these
# (CGNAT, NAT64, 6to4, Teredo, benchmarking) across Python versions.
DENIED_NETWORKS = tuple(
    ipaddress.ip_network(network)
    for network in (
        "0.0.0.0/8",  # "this network"
        "10.0.0.0/8",  # RFC 1918
        "100.64.0.0/10",  # carrier-grade NAT, RFC 6598
        "127.0.0.0/8",  # loopback
        "169.254.0.0/16",  # link-local, including the cloud metadata service 169.254.169.254
        "172.16.0.0/12",  # RFC 1918
        "192.0.0.0/24",  # IETF protocol assignments
        "192.0.2.0/24",  # TEST-NET-1
        "192.88.99.0/24",  # 6to4 relay anycast
        "192.168.0.0/16",  # RFC 1918
        "198.18.0.0/15",  # benchmarking
        "198.51.100.0/24",  # TEST-NET-2
        "203.0.113.0/24",  # TEST-NET-3
        "224.0.0.0/4",  # multicast
        "240.0.0.0/4",  # reserved, and the broadcast address
        "::/128",  # unspecified
        "::1/128",  # loopback
        "::ffff:0:0/96",  # IPv4-mapped: would reach an IPv4 address we have not checked
        "::/96",  # IPv4-compatible (deprecated)
        "64:ff9b::/96",  # NAT64, RFC 6052
        "64:ff9b:1::/48",  # local-use NAT64, RFC 8215
        "100::/64",  # discard-only
        "::ffff:0:0:0/96",  # IPv4-translated (SIIT): embeds an IPv4 address
        "2001::/23",  # IETF protocol assignments: Teredo (embeds IPv4), benchmarking, ORCHID...
        "2001:db8::/32",  # documentation
        "2002::/16",  # 6to4: embeds an IPv4 address
        "3fff::/20",  # documentation (RFC 9637)
        "5f00::/16",  # SRv6 segment identifiers
        "fc00::/7",  # unique local
        "fe80::/10",  # link-local
        "fec0::/10",  # site-local (deprecated)
        "ff00::/8",  # multicast
    )
)


def is_denied_address(address: str) -> bool:
    ip = ipaddress.ip_address(address.split("%", 1)[0])
    return any(ip.version == network.version and ip in network for network in DENIED_NETWORKS)


class FetchedPage(NamedTuple):
    url: str  # after redirects
    status: int
    content_type: str
    text: str
    truncated: bool
    # What the final host resolved to: Simple Trackback Validation compares it with the sender's address.
    addresses: tuple[str, ...] = ()


Resolver = Callable[[str, int], list[str]]


def resolve(host: str, port: int) -> list[str]:
    try:
        infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    except socket.gaierror as error:
        if error.errno in (socket.EAI_NONAME, getattr(socket, "EAI_NODATA", -5)):
            raise PermanentFetchError(f"the source host {host} does not exist") from error
        raise TransientFetchError(f"the source host {host} could not be resolved: {error}") from error
    return list(dict.fromkeys(str(info[4][0]) for info in infos))


class _Watchdog:
    """Shuts down the sockets of one fetch when its total deadline passes, whatever they are blocked
    on: a server that trickles its status line or headers a byte at a time stays within every read
    timeout, and only the total deadline ends it."""

    def __init__(self, deadline_s: float) -> None:
        self.sockets: list[socket.socket] = []
        self.expired = False
        self._timer = threading.Timer(deadline_s, self._expire)
        self._timer.daemon = True

    def _expire(self) -> None:
        self.expired = True
        for sock in list(self.sockets):
            with contextlib.suppress(OSError):
                sock.shutdown(socket.SHUT_RDWR)

    def __enter__(self) -> _Watchdog:
        self._timer.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._timer.cancel()


def _pinned_adapter(address: str, hostname: str, watchdog: _Watchdog) -> Any:
    from requests.adapters import HTTPAdapter

    class PinnedAdapter(HTTPAdapter):
        """Connects to `address` whatever the URL's host, keeping the name for SNI and the certificate."""

        def get_connection_with_tls_context(self, request, verify, proxies=None, cert=None):
            host_params, pool_kwargs = self.build_connection_pool_key_attributes(request, verify, cert)
            host_params["host"] = address
            if host_params["scheme"] == "https":
                # urllib3 takes any pool key here; types-requests' _PoolKwargs lists only those requests sets
                pool_kwargs["server_hostname"] = hostname  # type: ignore[typeddict-unknown-key]
                pool_kwargs["assert_hostname"] = hostname  # type: ignore[typeddict-unknown-key]
            pool = self.poolmanager.connection_from_host(**host_params, pool_kwargs=pool_kwargs)
            if not getattr(pool.ConnectionCls, "watched", False):
                base = pool.ConnectionCls

                class Watched(base):  # type: ignore[misc, valid-type]
                    watched = True

                    def connect(self) -> None:
                        super().connect()
                        watchdog.sockets.append(self.sock)

                pool.ConnectionCls = Watched
            return pool

    return PinnedAdapter(max_retries=0)


_META_CHARSET = re.compile(rb"""<meta[^>]+charset\s*=\s*["']?\s*([a-zA-Z0-9_.:-]+)""", re.IGNORECASE)


def _decode_body(body: bytes, header_charset: str | None) -> str:
    meta = _META_CHARSET.findall(body[:4096])[:1]
    for label, from_meta in ((header_charset, False), *((found, True) for found in meta)):
        if not label:
            continue
        name = label.decode("ascii", "replace") if isinstance(label, bytes) else label
        try:
            if from_meta and codecs.lookup(name).name.startswith(("utf-16", "utf-32")):
                name = "utf-8"  # HTML prescan: "If charset is UTF-16BE/LE, then set charset to UTF-8."
            return body.decode(name, errors="replace")
        except (LookupError, UnicodeError):
            continue
    return body.decode("utf-8", errors="replace")


class SafeFetcher:
    def __init__(
        self,
        *,
        user_agent: str,
        allow_private: bool = False,
        allowed_ports: frozenset[int] = ALLOWED_PORTS,
        resolver: Resolver = resolve,
        max_body_bytes: int = MAX_BODY_BYTES,
        deadline_s: float = TOTAL_DEADLINE_S,
        ca_bundle: str | None = None,
    ) -> None:
        self.user_agent = user_agent
        self.allow_private = allow_private
        self.allowed_ports = allowed_ports
        self.resolver = resolver
        self.max_body_bytes = max_body_bytes
        self.deadline_s = deadline_s
        self.ca_bundle = ca_bundle  # None: requests' bundled CAs

    def check_url(self, url: str) -> tuple[str, str, int, str]:
        """(normal url, hostname, port, address to connect to) or PermanentFetchError."""
        normal, hostname, port, addresses = self._checked_addresses(url)
        return normal, hostname, port, addresses[0]

    def _checked_addresses(self, url: str) -> tuple[str, str, int, list[str]]:
        try:
            normal = normalise_url(url)
        except InvalidUrl as error:
            raise PermanentFetchError(f"the source URL is not usable: {error}") from error
        parts = urlsplit(normal)
        hostname = parts.hostname or ""
        port = parts.port or (443 if parts.scheme == "https" else 80)
        if not self.allow_private and port not in self.allowed_ports:
            raise PermanentFetchError(f"port {port} is not allowed for sources")
        addresses = self.resolver(hostname, port)
        if not addresses:
            raise PermanentFetchError(f"the source host {hostname} has no address")
        if not self.allow_private:
            denied = [address for address in addresses if is_denied_address(address)]
            if denied:
                # Refuse if *any* address is internal: a name that mixes public and private answers
                # is an attempt to have us pick the private one.
                raise PermanentFetchError(f"the source host {hostname} resolves to a non-public address")
        return normal, hostname, port, addresses

    def fetch(self, url: str, on_behalf_of: str = "") -> FetchedPage:
        """GET a source page; `on_behalf_of` (the site the mention is for) goes into the User-Agent."""

        user_agent = self.user_agent.replace("{site}", on_behalf_of or "an unnamed site")
        started = time.monotonic()
        with _Watchdog(self.deadline_s) as watchdog:
            try:
                return self._follow(url, user_agent, started, watchdog)
            except TransientFetchError:
                if watchdog.expired:
                    raise TransientFetchError("the source took too long to answer") from None
                raise

    def _follow(self, url: str, user_agent: str, started: float, watchdog: _Watchdog) -> FetchedPage:
        import requests

        current = url
        for _hop in range(MAX_REDIRECTS + 1):
            normal, hostname, _port, addresses = self._checked_addresses(current)
            address = addresses[0]
            remaining = self.deadline_s - (time.monotonic() - started)
            if remaining <= 0:
                raise TransientFetchError("the source took too long to answer")
            with requests.Session() as session:
                session.trust_env = False  # no proxy or netrc from the environment
                adapter = _pinned_adapter(address, hostname, watchdog)
                session.mount("http://", adapter)
                session.mount("https://", adapter)
                try:
                    response = session.get(
                        normal,
                        # Host names the site, not the pinned address we connect to.
                        headers={
                            "Host": urlsplit(normal).netloc,
                            "User-Agent": user_agent,
                            "Accept": ", ".join(ACCEPTED_TYPES),
                        },
                        timeout=(min(CONNECT_TIMEOUT_S, remaining), min(READ_TIMEOUT_S, remaining)),
                        allow_redirects=False,
                        stream=True,
                        verify=self.ca_bundle or True,
                    )
                except requests.exceptions.SSLError as error:
                    raise PermanentFetchError(f"the source's TLS certificate is not valid: {error}") from error
                except requests.exceptions.RequestException as error:
                    raise TransientFetchError(f"the source could not be reached: {type(error).__name__}") from error
                with response:
                    if response.is_redirect:
                        location = response.headers.get("Location", "")
                        current = urljoin(normal, location)
                        continue
                    return self._read(response, normal, started)._replace(addresses=tuple(addresses))
        raise PermanentFetchError(f"the source redirected more than {MAX_REDIRECTS} times")

    def _read(self, response: Any, url: str, started: float) -> FetchedPage:
        import requests
        import urllib3

        status = response.status_code
        if status in (404, 410):
            raise PermanentFetchError(f"the source answered {status}", status=status)
        if status == 429 or status >= 500:
            raise TransientFetchError(f"the source answered {status}")
        if status >= 400:
            raise PermanentFetchError(f"the source answered {status}", status=status)
        content_type = response.headers.get("Content-Type", "")
        media_type = content_type.split(";", 1)[0].strip().lower()
        if media_type not in ACCEPTED_TYPES:
            raise PermanentFetchError(f"the source is {media_type or 'of no declared type'}, not a web page")
        chunks: list[bytes] = []
        size = 0
        truncated = False
        try:
            # read1 returns what one receive brought (decoded, so the cap holds for a gzip bomb too):
            # the deadline is checked between receives, so a server dripping a byte at a time is cut
            # off after at most TOTAL_DEADLINE_S + READ_TIMEOUT_S. iter_content would wait for a full
            # chunk, however slowly it arrives.
            while True:
                if time.monotonic() - started > self.deadline_s:
                    raise TransientFetchError("the source took too long to send its page")
                chunk = response.raw.read1(16384, decode_content=True)
                if not chunk:
                    break
                chunks.append(chunk)
                size += len(chunk)
                if size >= self.max_body_bytes:
                    truncated = True
                    break
        except (requests.exceptions.RequestException, urllib3.exceptions.HTTPError, OSError) as error:
            raise TransientFetchError(f"the source's page could not be read: {type(error).__name__}") from error
        body = b"".join(chunks)[: self.max_body_bytes]
        return FetchedPage(
            url=url,
            status=status,
            content_type=media_type,
            text=_decode_body(body, response.encoding if "charset" in content_type.lower() else None),
            truncated=truncated,
        )
