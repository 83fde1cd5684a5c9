"""W3C Webmention (Recommendation, 12 January 2017): parse a notification and describe its status.
Bytes in, values out; no I/O.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any
from urllib.parse import parse_qsl

from linkback.errors import MalformedRequest, PayloadTooLarge
from linkback.model import DeletedBy, Status

MAX_BODY_BYTES = 8 * 1024  # two URLs of at most 2 KiB each, and room for `vouch` later
FORM_CONTENT_TYPE = "application/x-www-form-urlencoded"


@dataclass(frozen=True)
class WebmentionRequest:
    source: str
    target: str


def parse_request(body: bytes, content_type: str | None) -> WebmentionRequest:
    """§3.1.1: "The sender MUST post x-www-form-urlencoded source and target parameters"."""
    if len(body) > MAX_BODY_BYTES:
        raise PayloadTooLarge(f"the request is larger than {MAX_BODY_BYTES} bytes")
    media_type = (content_type or "").split(";", 1)[0].strip().lower()
    if media_type != FORM_CONTENT_TYPE:
        raise MalformedRequest(f"send source and target as {FORM_CONTENT_TYPE}")
    try:
        text = body.decode("utf-8")
        pairs = parse_qsl(text, keep_blank_values=True, max_num_fields=10, errors="strict")
    except (UnicodeDecodeError, ValueError) as error:
        raise MalformedRequest("the form is not valid UTF-8 x-www-form-urlencoded data") from error
    fields: dict[str, str] = {}
    for name, value in pairs:
        fields.setdefault(name, value)
    source, target = fields.get("source", "").strip(), fields.get("target", "").strip()
    if not source:
        raise MalformedRequest("the source parameter is missing")
    if not target:
        raise MalformedRequest("the target parameter is missing")
    return WebmentionRequest(source=source, target=target)


def status_document(record: Any) -> dict[str, Any]:
    """What `GET /webmention/status/<id>` tells the sender: where their mention stands, and why.

    Spam is reported as rejected with no detail: telling a spammer which rule caught them helps them.
    """
    status, reason = record.status, record.status_reason
    if status == Status.SPAM:
        status, reason = str(Status.REJECTED), "not accepted by this site"
    document: dict[str, Any] = {
        "id": record.pk,
        "source": record.source,
        "target": record.target,
        "protocol": record.protocol,
        "status": status,
        "verified": status in (Status.APPROVED, Status.PENDING),
        "public": status == Status.APPROVED,
        "reason": reason,
        "wm-property": record.wm_property if status in (Status.APPROVED, Status.PENDING) else None,
        "received": record.received_at,
        "updated": record.updated_at,
        "verified_at": record.verified_at,
    }
    if status == Status.DELETED:
        document["deleted"] = record.deleted_at
        document["deleted_by"] = record.deleted_by or str(DeletedBy.OWNER)
    return document
