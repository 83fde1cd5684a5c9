"""What the handlers need from an API Gateway HTTP API (payload 2.0) event, beyond Powertools."""

from __future__ import annotations

import base64
import binascii
from typing import Any

from linkback.errors import MalformedRequest


def raw_body(event: Any) -> bytes:
    """The request body as the sender's bytes.

    HTTP API base64-encodes form and binary bodies (`isBase64Encoded`). Powertools' `decoded_body`
    then decodes them as UTF-8, which breaks TrackBack's ISO-8859-1 pings, so we keep bytes.
    """
    encoding = (header(event, "content-encoding") or "identity").strip().lower()
    if encoding != "identity":
        # A compressed body would make every size cap meaningless (a few KB inflating to GBs).
        raise MalformedRequest("compressed request bodies are not accepted; send it uncompressed")
    body = event.get("body") or ""
    if event.get("isBase64Encoded"):
        try:
            return base64.b64decode(body, validate=True)
        except (binascii.Error, ValueError) as error:
            raise MalformedRequest("the request body is not valid base64") from error
    return body.encode("utf-8")


def header(event: Any, name: str) -> str | None:
    headers = event.get("headers") or {}
    wanted = name.lower()
    for key, value in headers.items():
        if key.lower() == wanted:
            return value
    return None


def sender_ip(event: Any) -> str | None:
    return ((event.get("requestContext") or {}).get("http") or {}).get("sourceIp")


def base_url(event: Any) -> str:
    """The API's public base URL as the caller reached it (for Location headers).

    HTTP API passes the original scheme in X-Forwarded-Proto; `$default` stages have no path prefix.
    """
    context = event.get("requestContext") or {}
    host = context.get("domainName") or header(event, "host") or "localhost"
    scheme = (header(event, "x-forwarded-proto") or "https").split(",")[0].strip()
    stage = context.get("stage")
    prefix = f"/{stage}" if stage and stage != "$default" else ""
    return f"{scheme}://{host}{prefix}"


def request_id(event: Any) -> str | None:
    return (event.get("requestContext") or {}).get("requestId")
