"""Signed webhooks: the JSON body, its HMAC-SHA256 signature (`X-Linkback-Signature: t=..,v1=..`), the
receiver's check, one delivery, and when a failed one is tried again.

`deliver_webhook` is the only I/O, and imports `requests` only when it runs.
"""

from __future__ import annotations

import hashlib
import hmac
import json
from dataclasses import asdict
from datetime import UTC, datetime
from typing import TYPE_CHECKING

from linkback.backoff import SQS_MAX_DELAY_S, doubling

if TYPE_CHECKING:
    import requests

    from linkback.notify.mail import MentionSummary

WEBHOOK_SIGNATURE_HEADER = "X-Linkback-Signature"
WEBHOOK_USER_AGENT = "linkback/0.1 (webhook)"
MENTION_PENDING = "mention.pending"


def webhook_body(event: str, summary: MentionSummary, *, now: datetime) -> bytes:
    """Compact UTF-8 JSON: {"event": ..., "sent_at": "2024-05-20T10:11:12Z", "mention": {...}}."""
    if now.tzinfo is None:
        raise ValueError("now must be timezone-aware")
    document = {
        "event": event,
        "sent_at": now.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ"),
        "mention": {**asdict(summary), "reasons": list(summary.reasons)},
    }
    return json.dumps(document, ensure_ascii=False, separators=(",", ":")).encode("utf-8")


def webhook_key(admin_secret: str) -> bytes:
    """The webhook signing key, derived from the admin secret under its own label: a receiver that
    verifies signatures never holds the admin token itself (`linkback moderate webhook-secret`)."""
    if not admin_secret:
        raise ValueError("an admin secret is needed to sign webhooks")
    return hmac.new(admin_secret.encode(), b"linkback webhook signing key v1", hashlib.sha256).digest()


def webhook_signature(secret: bytes, body: bytes, *, timestamp: int) -> str:
    """The signature header's value: "t=<unix>,v1=<hex HMAC-SHA256 of '<t>.' + body>".

    The timestamp is inside the MAC so that a captured delivery cannot be replayed later with a fresh one.
    """
    return f"t={int(timestamp)},v1={_webhook_mac(secret, int(timestamp), body)}"


def _webhook_mac(secret: bytes, timestamp: int, body: bytes) -> str:
    return hmac.new(secret, f"{timestamp}.".encode("ascii") + body, hashlib.sha256).hexdigest()


def verify_webhook_signature(secret: bytes, body: bytes, header: str, *, now: float, tolerance_s: int = 300) -> bool:
    """True when `header` is a valid signature of `body` made less than `tolerance_s` from `now`.

    What a receiver runs, on the raw body bytes exactly as received (not re-serialised JSON):

        import json, time
        from http.server import BaseHTTPRequestHandler
        from linkback.notify.webhook import WEBHOOK_SIGNATURE_HEADER, verify_webhook_signature

        class Receiver(BaseHTTPRequestHandler):
            def do_POST(self):
                body = self.rfile.read(int(self.headers["Content-Length"]))
                header = self.headers.get(WEBHOOK_SIGNATURE_HEADER, "")
                if not verify_webhook_signature(SECRET, body, header, now=time.time()):
                    return self.send_error(401)
                handle(json.loads(body))  # {"event": "mention.pending", "sent_at": ..., "mention": {...}}
                self.send_response(204), self.end_headers()

    Without the library: split the header on "," into k=v pairs, compute hex HMAC-SHA256 with the
    secret over f"{t}." + body, compare with hmac.compare_digest, and refuse a t too far from now.
    Several v1= values may appear (while a secret is being rotated); one match is enough.
    """
    if not isinstance(header, str) or len(header) > 4_096:
        return False
    timestamp: int | None = None
    candidates: list[str] = []
    for part in header.split(","):
        name, sep, value = part.strip().partition("=")
        if not sep:
            return False
        if name == "t":
            if timestamp is not None or not value.isascii() or not value.isdigit():
                return False
            timestamp = int(value)
        elif name == "v1":
            candidates.append(value)
        # Other schemes (v0, a future v2) are ignored, as Stripe's receivers do.
    if timestamp is None or not candidates:
        return False
    # Both ways: a timestamp from the future is as suspicious as a stale one.
    if abs(now - timestamp) > tolerance_s:
        return False
    expected = _webhook_mac(secret, timestamp, body)
    matched = False
    for candidate in candidates:
        # Every candidate is compared, in constant time, so the timing says nothing about which one matched.
        matched |= hmac.compare_digest(candidate.encode("ascii", "replace"), expected.encode("ascii"))
    return matched


class WebhookFailed(Exception):
    """A delivery that did not reach a 2xx; `retryable` says whether trying again later can help."""

    def __init__(
        self, message: str, *, retryable: bool, status: int | None = None, retry_after_s: int | None = None
    ) -> None:
        super().__init__(message)
        self.retryable = retryable
        self.status = status
        self.retry_after_s = retry_after_s  # the receiver's Retry-After in seconds, when it sent one


# Statuses that say "not now": timeout, rate limit, and any server error.
_RETRYABLE_STATUSES = frozenset({408, 429})


def deliver_webhook(
    url: str,
    body: bytes,
    secret: bytes,
    *,
    now: float,
    timeout_s: float = 5.0,
    session: requests.Session | None = None,
) -> int:
    """POST a signed webhook; the 2xx status, or WebhookFailed.

    The URL is the owner's own configuration, not a stranger's, so it goes through plain requests rather
    than the safe fetcher. Redirects are never followed: the signature is for the configured URL, and a
    redirect would carry the body somewhere the owner did not choose.
    """
    import requests  # lazily: handlers that never send a webhook do not pay for its import

    headers = {
        "Content-Type": "application/json",
        "User-Agent": WEBHOOK_USER_AGENT,
        WEBHOOK_SIGNATURE_HEADER: webhook_signature(secret, body, timestamp=int(now)),
    }
    client = session or requests.Session()
    try:
        # stream=True: the receiver's body is never read, so a large or endless one costs nothing.
        with client.post(
            url, data=body, headers=headers, timeout=(timeout_s, timeout_s), allow_redirects=False, stream=True
        ) as response:
            status = response.status_code
            location = response.headers.get("Location")
            retry_after = _retry_after_s(response.headers.get("Retry-After"))
    except requests.Timeout as error:
        raise WebhookFailed(f"webhook to {url} timed out: {error}", retryable=True) from error
    except requests.ConnectionError as error:
        raise WebhookFailed(f"webhook to {url} could not connect: {error}", retryable=True) from error
    except requests.RequestException as error:
        # An invalid URL or scheme: the configuration is wrong, and retrying will not fix it.
        raise WebhookFailed(f"webhook to {url} could not be sent: {error}", retryable=False) from error
    finally:
        if session is None:
            client.close()
    if 200 <= status < 300:
        return status
    if 300 <= status < 400:
        raise WebhookFailed(
            f"webhook to {url} answered {status} redirecting to {location!r}; redirects are not followed, "
            "configure the final URL",
            retryable=False,
            status=status,
        )
    if status in _RETRYABLE_STATUSES or 500 <= status < 600:
        raise WebhookFailed(
            f"webhook to {url} answered {status}", retryable=True, status=status, retry_after_s=retry_after
        )
    raise WebhookFailed(f"webhook to {url} answered {status}", retryable=False, status=status)


def _retry_after_s(value: str | None) -> int | None:
    # Only the delta-seconds form (RFC 9110 §10.2.3); an HTTP-date is rare from webhook receivers.
    if value and value.strip().isascii() and value.strip().isdigit():
        return int(value.strip())
    return None


def retry_delay_s(attempt: int, *, base_s: int, retry_after_s: int | None = None) -> int:
    """Seconds before the n-th failed delivery (1-based) is tried again: `base_s` doubling per attempt,
    never sooner than the receiver's own Retry-After, at most 12 hours (SQS's longest visibility timeout)."""
    return max(doubling(attempt, base_s=base_s), min(retry_after_s or 0, SQS_MAX_DELAY_S))
