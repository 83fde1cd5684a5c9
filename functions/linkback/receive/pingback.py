"""Pingback 1.0 over XML-RPC: parse `pingback.ping` and write replies. Bytes in, values out; no I/O.

Specifications: Stuart Langridge & Ian Hickson, "Pingback 1.0"; Dave Winer, "XML-RPC Specification";
the "Specification for Fault Code Interoperability" for the -327xx codes.
"""

from __future__ import annotations

from dataclasses import dataclass
from xml.etree.ElementTree import Element
from xml.sax.saxutils import escape

from defusedxml import DefusedXmlException
from defusedxml.ElementTree import ParseError, fromstring

from linkback.errors import (
    InvalidParams,
    InvalidXmlRpc,
    LinkbackError,
    MalformedRequest,
    MethodNotFound,
    PayloadTooLarge,
)
from linkback.text import xml_text

# A pingback.ping call with two URLs of 2 KiB each fits in well under 8 KiB; anything bigger is not one.
MAX_BODY_BYTES = 16 * 1024
MAX_DEPTH = 8  # methodCall/params/param/value/string is 5 deep
METHOD = "pingback.ping"

XML_DECLARATION = '<?xml version="1.0" encoding="utf-8"?>'


@dataclass(frozen=True)
class PingbackCall:
    source: str
    target: str


def _depth(element: Element, limit: int) -> int:
    deepest = 1
    stack = [(element, 1)]
    while stack:
        node, depth = stack.pop()
        if depth > limit:
            return depth
        deepest = max(deepest, depth)
        stack.extend((child, depth + 1) for child in node)
    return deepest


def _string_value(value: Element) -> str:
    """A `<value>`'s string: "If no type is indicated, the type is string." (XML-RPC)."""
    children = list(value)
    if not children:
        return value.text or ""
    if len(children) == 1 and children[0].tag == "string" and not list(children[0]):
        return children[0].text or ""
    raise InvalidParams("pingback.ping takes two strings: the source URI and the target URI")


def parse_call(body: bytes) -> PingbackCall:
    """Parse a `pingback.ping(sourceURI, targetURI)` call, refusing anything else."""
    if len(body) > MAX_BODY_BYTES:
        raise PayloadTooLarge(f"the request is larger than {MAX_BODY_BYTES} bytes")
    if not body.strip():
        raise MalformedRequest("parse error: the request body is empty")
    try:
        # defusedxml refuses DTDs outright, so no entity expansion (billion laughs, quadratic
        # blowup, CVE-2014-5265/5266) and no external entity can ever be resolved.
        root = fromstring(body, forbid_dtd=True, forbid_entities=True, forbid_external=True)
    except DefusedXmlException as error:
        raise MalformedRequest("parse error: DTDs and entities are not accepted") from error
    except ParseError as error:
        raise MalformedRequest("parse error: not well formed") from error
    except (LookupError, ValueError, UnicodeError) as error:
        # An XML declaration naming an encoding Python cannot or must not use (rot13, utf-7...).
        raise MalformedRequest("parse error: unsupported encoding") from error
    if root.tag != "methodCall":
        raise InvalidXmlRpc("invalid XML-RPC: the root element must be methodCall")
    method = (root.findtext("methodName") or "").strip()
    if method != METHOD:
        # system.multicall in particular: one request fanning out to many pings is how pingback
        # endpoints were recruited into reflection attacks.
        raise MethodNotFound(f"requested method {method or '(none)'} is not supported; only {METHOD} is")
    if _depth(root, MAX_DEPTH) > MAX_DEPTH:
        raise InvalidXmlRpc("invalid XML-RPC: nested too deeply for a pingback.ping call")
    params = root.findall("params/param")
    if len(params) != 2:
        raise InvalidParams("pingback.ping takes exactly two parameters: sourceURI and targetURI")
    values = [param.find("value") for param in params]
    if any(value is None for value in values):
        raise InvalidParams("each parameter needs a value")
    source, target = (_string_value(value) for value in values)
    return PingbackCall(source=source.strip(), target=target.strip())


def success_reply(message: str) -> bytes:
    return (
        f"{XML_DECLARATION}<methodResponse><params><param><value><string>{escape(xml_text(message))}</string>"
        "</value></param></params></methodResponse>"
    ).encode()


def fault_reply(code: int, message: str) -> bytes:
    return (
        f"{XML_DECLARATION}<methodResponse><fault><value><struct>"
        f"<member><name>faultCode</name><value><int>{code}</int></value></member>"
        f"<member><name>faultString</name><value><string>{escape(xml_text(message))}</string></value></member>"
        "</struct></value></fault></methodResponse>"
    ).encode()


def reply_for_error(error: LinkbackError) -> bytes:
    return fault_reply(error.fault_code, error.message)
