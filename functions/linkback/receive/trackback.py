"""TrackBack 1.2: parse a ping and write the reply. Bytes in, values out; no I/O.

Specification: Six Apart, "TrackBack Technical Specification", version 1.2.
"""

from __future__ import annotations

import codecs
from dataclasses import dataclass
from email.message import Message
from email.utils import collapse_rfc2231_value
from urllib.parse import parse_qsl
from xml.sax.saxutils import escape

from linkback.errors import LinkbackError, MalformedRequest, PayloadTooLarge, UnsupportedCharset
from linkback.fields import BLOG_NAME_MAX, EXCERPT_MAX, TITLE_MAX
from linkback.text import clean_text, xml_text

MAX_BODY_BYTES = 32 * 1024
FORM_CONTENT_TYPE = "application/x-www-form-urlencoded"

# Charsets whose bytes are not a superset of ASCII cannot carry a urlencoded form, and UTF-7 turns
# "+ADw-script+AD4-" into markup in readers that trust the label (the reason the spec era refused it).
_REFUSED_CHARSETS = frozenset({"utf_7", "utf_16", "utf_16_be", "utf_16_le", "utf_32", "utf_32_be", "utf_32_le"})

SUCCESS_REPLY = b'<?xml version="1.0" encoding="utf-8"?><response><error>0</error></response>'

HUMAN_PAGE = """<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>TrackBack endpoint</title></head>
<body><h1>TrackBack endpoint</h1>
<p>This address receives <a href="https://www.sixapart.com/pronet/docs/trackback_spec">TrackBack</a>
pings for a post. Blogging software sends them with an HTTP POST; there is nothing to see here in a
browser.</p></body></html>
"""


@dataclass(frozen=True)
class TrackbackPing:
    url: str
    title: str
    excerpt: str
    blog_name: str


def error_reply(message: str) -> bytes:
    """`<error>1</error>` with the message XML-escaped, as the spec's failure response."""
    return (
        '<?xml version="1.0" encoding="utf-8"?><response><error>1</error>'
        f"<message>{escape(xml_text(message))}</message></response>"
    ).encode()


def _media_type_and_charset(content_type: str | None) -> tuple[str, str | None]:
    if not content_type:
        return "", None
    try:
        header = Message()
        header["content-type"] = content_type
        charset = header.get_param("charset")
        if isinstance(charset, tuple):  # RFC 2231 `charset*=`: (charset, language, value)
            charset = collapse_rfc2231_value(charset)
        return header.get_content_type(), charset
    except (TypeError, ValueError, IndexError) as error:
        raise MalformedRequest("the Content-Type header cannot be read") from error


# A form's bytes must read as ASCII for "url=", "%" and "&" to mean what they say: that rules out
# UTF-7/16/32 and EBCDIC; the escape and punycode codecs are not charsets at all.
_ASCII_PROBE = b"url=http%3A%2F%2Fa.example%2F&title=A+b"
_NOT_CHARSETS = frozenset({"unicode_escape", "raw_unicode_escape", "punycode", "idna", "undefined"})


def _codec_name(label: str) -> str:
    try:
        name = codecs.lookup(label.strip().strip('"')).name.replace("-", "_")
    except (LookupError, ValueError, UnicodeError) as error:
        raise UnsupportedCharset(f"unknown charset {label[:40]!r}") from error
    if name in _REFUSED_CHARSETS:
        raise UnsupportedCharset(f"charset {label[:40]!r} is not accepted; send UTF-8")
    try:
        # base64, hex, rot13 are bytes/str transforms, not charsets; "undefined" always fails.
        readable = name not in _NOT_CHARSETS and _ASCII_PROBE.decode(name) == _ASCII_PROBE.decode("ascii")
    except (LookupError, UnicodeError, TypeError, ValueError):
        readable = False
    if not readable:
        raise UnsupportedCharset(f"charset {label[:40]!r} is not a text encoding a form can be sent in")
    return name


def _decode(value: bytes, declared: str | None) -> str:
    if declared:
        try:
            return value.decode(declared)
        except UnicodeDecodeError as error:
            raise UnsupportedCharset(f"the ping is not valid {declared}") from error
    # No charset declared: UTF-8 if it decodes (it almost never does by accident), else the
    # spec era's ISO-8859-1, which decodes every byte.
    try:
        return value.decode("utf-8")
    except UnicodeDecodeError:
        return value.decode("iso-8859-1")


def parse_ping(body: bytes, content_type: str | None) -> TrackbackPing:
    """Parse a ping's form body.

    "The TrackBack ping ... is sent as an HTTP POST ... Content-Type: application/x-www-form-urlencoded"
    with `url` required and `title`, `excerpt`, `blog_name` optional.
    """
    if len(body) > MAX_BODY_BYTES:
        raise PayloadTooLarge(f"the ping is larger than {MAX_BODY_BYTES} bytes")
    media_type, header_charset = _media_type_and_charset(content_type)
    # Some old clients send no Content-Type at all; a different one is a different protocol.
    if media_type and media_type not in (FORM_CONTENT_TYPE, "text/plain"):
        raise MalformedRequest(f"a TrackBack ping is a form post ({FORM_CONTENT_TYPE}), not {media_type}")
    try:
        # Latin-1 maps every byte to one code point, so percent-decoding happens before we know the
        # charset and nothing is lost: the bytes are recovered exactly below.
        pairs = parse_qsl(body.decode("latin-1"), keep_blank_values=True, encoding="latin-1", max_num_fields=20)
    except ValueError as error:
        raise MalformedRequest("the ping has too many fields") from error
    raw: dict[bytes, bytes] = {}
    for key, value in pairs:
        # First wins: a repeated field cannot override a checked one.
        raw.setdefault(key.encode("latin-1"), value.encode("latin-1"))
    form_charset = raw.get(b"charset", b"").decode("ascii", "replace") or None
    label = header_charset or form_charset
    declared = _codec_name(label) if label else None
    fields = {key.decode("ascii", "replace"): _decode(value, declared) for key, value in raw.items()}
    url = fields.get("url", "").strip()
    if not url:
        raise MalformedRequest("the url field is required")
    return TrackbackPing(
        url=url,
        title=clean_text(fields.get("title"), TITLE_MAX),
        excerpt=clean_text(fields.get("excerpt"), EXCERPT_MAX),
        blog_name=clean_text(fields.get("blog_name"), BLOG_NAME_MAX),
    )


def reply_for(error: LinkbackError | None) -> bytes:
    return SUCCESS_REPLY if error is None else error_reply(error.message)
