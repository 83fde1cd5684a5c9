"""URL rules: what we accept as a source or target, and one normal form for comparing and keying.

Normal form (RFC 3986 §6.2.2 syntax-based normalisation plus scheme-based §6.2.3):
- scheme and host lower-cased; internationalised host names in their IDNA (punycode) form; a
  trailing dot on the host dropped;
- the scheme's default port dropped (http 80, https 443); an empty path becomes "/";
- percent-escapes upper-cased and unreserved characters decoded; dot-segments removed;
- the fragment dropped: it never reaches the server, so `#comments` is the same resource;
- the query kept as sent, and the trailing slash kept as sent: `/post` and `/post/` are different
  resources in HTTP, and guessing wrongly would merge two posts' mentions.
"""

from __future__ import annotations

import ipaddress
import re
from urllib.parse import quote, urlsplit, urlunsplit

ALLOWED_SCHEMES = ("http", "https")
DEFAULT_PORTS = {"http": 80, "https": 443}
MAX_URL_LENGTH = 2048
_UNRESERVED = frozenset("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-._~")
_PERCENT_ESCAPE = re.compile(r"%([0-9A-Fa-f]{2})")
_STRAY_PERCENT = re.compile(r"%(?![0-9A-Fa-f]{2})")
_PATH_SAFE = "/%:@!$&'()*+,;=-._~"  # pchar / "/" (RFC 3986 §3.3), and existing escapes
_QUERY_SAFE = _PATH_SAFE + "?"
_HOST_LABEL = re.compile(r"^[a-z0-9_]([a-z0-9_-]{0,62})$")


class InvalidUrl(ValueError):
    """Not an absolute http(s) URL we can use; the message says why in plain words."""


def _normalise_escape(match: re.Match[str]) -> str:
    char = chr(int(match.group(1), 16))
    return char if char in _UNRESERVED else "%" + match.group(1).upper()


def _remove_dot_segments(path: str) -> str:
    # RFC 3986 §5.2.4, expressed on segments.
    output: list[str] = []
    segments = path.split("/")
    for index, segment in enumerate(segments):
        last = index == len(segments) - 1
        if segment == ".":
            if last:
                output.append("")
        elif segment == "..":
            if len(output) > 1:
                output.pop()
            if last:
                output.append("")
        else:
            output.append(segment)
    result = "/".join(output)
    return result if result.startswith("/") else "/" + result


def _normalise_host(host: str) -> str:
    host = host.rstrip(".").lower()
    if not host:
        raise InvalidUrl("the URL has no host")
    if "%" in host:
        # RFC 6874 zone identifiers name an interface of the sender's machine: meaningless to us.
        raise InvalidUrl("IPv6 zone identifiers are not accepted")
    if ":" in host:
        try:
            return f"[{ipaddress.IPv6Address(host.strip('[]')).compressed}]"
        except ValueError as error:
            raise InvalidUrl(f"{host!r} is not a valid IPv6 address") from error
    try:
        ascii_host = host.encode("idna").decode("ascii")
    except UnicodeError as error:
        raise InvalidUrl(f"the host name {host!r} is not a valid domain name") from error
    labels = ascii_host.split(".")
    if any(not _HOST_LABEL.match(label) for label in labels):
        raise InvalidUrl(f"the host name {host!r} is not a valid domain name")
    return ascii_host


def normalise_url(url: str) -> str:
    """The normal form of an absolute http(s) URL; raises InvalidUrl for anything else."""
    if not isinstance(url, str):
        raise InvalidUrl("the URL must be text")
    url = url.strip()
    if not url:
        raise InvalidUrl("the URL is empty")
    if len(url) > MAX_URL_LENGTH:
        raise InvalidUrl(f"the URL is longer than {MAX_URL_LENGTH} characters")
    if any(ord(char) < 0x21 or 0x7F <= ord(char) <= 0x9F for char in url):
        raise InvalidUrl("the URL contains spaces or control characters")
    try:
        url.encode("utf-8")
    except UnicodeEncodeError as error:
        raise InvalidUrl("the URL is not valid Unicode") from error
    try:
        parts = urlsplit(url)
        port = parts.port
    except ValueError as error:
        raise InvalidUrl(f"the URL cannot be parsed: {error}") from error
    scheme = parts.scheme.lower()
    if scheme not in ALLOWED_SCHEMES:
        raise InvalidUrl("only http and https URLs are accepted")
    if parts.username is not None or parts.password is not None:
        raise InvalidUrl("URLs with a user name or password are not accepted")
    host = _normalise_host(parts.hostname or "")
    netloc = host if port in (None, DEFAULT_PORTS[scheme]) else f"{host}:{port}"
    # A "%" that starts no escape is written "%25" first, so decoding "%41" next to it cannot make a new one.
    # Characters RFC 3986 does not allow in a URI (`"`, `<`, `>`, backquote, braces, non-ASCII...)
    # are percent-encoded, as browsers do: the stored URL is then also safe inside an HTML attribute
    # of whatever page renders it (a sender controls these URLs).
    path = quote(_STRAY_PERCENT.sub("%25", parts.path or "/"), safe=_PATH_SAFE)
    path = _remove_dot_segments(_PERCENT_ESCAPE.sub(_normalise_escape, path))
    query = quote(_STRAY_PERCENT.sub("%25", parts.query), safe=_QUERY_SAFE)
    query = _PERCENT_ESCAPE.sub(_normalise_escape, query)
    return urlunsplit((scheme, netloc, path, query, ""))


def normalise_origin(origin: str) -> str:
    """`https://Example.com:443/` → `https://example.com`: how configured sites are compared."""
    normal = normalise_url(origin.strip())
    parts = urlsplit(normal)
    return f"{parts.scheme}://{parts.netloc}"


def origin_of(normal_url: str) -> str:
    parts = urlsplit(normal_url)
    return f"{parts.scheme}://{parts.netloc}"


def site_of(normal_url: str, sites: tuple[str, ...]) -> str | None:
    """The configured site a (normalised) URL belongs to, or None."""
    origin = origin_of(normal_url)
    return origin if origin in sites else None
