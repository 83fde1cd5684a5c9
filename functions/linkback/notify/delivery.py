"""Telling the owner about held mentions: mail texts (sent through SNS) and signed webhooks.

Everything a mail or a webhook says about a mention came from a stranger: its title, excerpt and author
are collapsed to single lines and cropped before they reach a mail, so a hostile title cannot forge an
"Approve:" line or push the real links out of sight.

The texts are pure; `deliver_webhook` is the only I/O, and imports `requests` only when it runs.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import re
import textwrap
import unicodedata
from collections.abc import Mapping, Sequence
from dataclasses import asdict, dataclass
from datetime import UTC, datetime
from typing import TYPE_CHECKING
from urllib.parse import urlsplit

from linkback.backoff import SQS_MAX_DELAY_S, doubling
from linkback.moderation.oneclick import LINK_ACTIONS

if TYPE_CHECKING:
    import requests

# SNS Publish: "Subjects must be ... no line breaks or control characters, and less than 100 characters
# long"; email subjects are safest in plain ASCII (non-ASCII ones are rejected or rewritten).
SUBJECT_MAX_CHARS = 99
# SNS Publish: messages "at most 256 KB in size (262,144 bytes, not 262,144 characters)".
SNS_MESSAGE_MAX_BYTES = 262_144
MAX_DIGEST_ITEMS = 100
_DIGEST_BUDGET_BYTES = SNS_MESSAGE_MAX_BYTES - 16_384  # room for the header, the trailer and SNS's footer
_TITLE_MAX = 200
_FIELD_MAX = 500  # URLs, author, reasons
_EXCERPT_MAX = 600
_DIGEST_EXCERPT_MAX = 200

WEBHOOK_SIGNATURE_HEADER = "X-Linkback-Signature"
WEBHOOK_USER_AGENT = "linkback/0.1 (webhook)"
MENTION_PENDING = "mention.pending"


@dataclass(frozen=True)
class MentionSummary:
    """What the owner is told about one mention (built by the integrator from the stored record)."""

    id: str
    site: str
    protocol: str
    source: str
    target: str
    title: str
    excerpt: str
    author_name: str
    received_at: str
    spam_score: float
    reasons: tuple[str, ...]
    status: str


# --------------------------------------------------------------------------- mail texts

# Line and paragraph separators, control and format characters (bidi overrides can make a spam domain
# read as another one; zero-width characters hide text): none belongs in a one-line field of a mail.
_INVISIBLE = frozenset({"Cc", "Cf", "Zl", "Zp", "Cs", "Co", "Cn"})
_SPACES = re.compile(r"\s+")


def _one_line(text: str, limit: int) -> str:
    cleaned = "".join(" " if unicodedata.category(char) in _INVISIBLE else char for char in text or "")
    return _crop(_SPACES.sub(" ", cleaned).strip(), limit)


def _crop(text: str, limit: int, ellipsis: str = "…") -> str:
    return text if len(text) <= limit else text[: limit - len(ellipsis)].rstrip() + ellipsis


def _ascii(text: str) -> str:
    # "Zoë" reads better as "Zoe" than as "Zo?"; scripts without a Latin spelling are dropped.
    decomposed = unicodedata.normalize("NFKD", text)
    return _SPACES.sub(" ", decomposed.encode("ascii", "ignore").decode("ascii")).strip()


def _host(url: str) -> str:
    try:
        return urlsplit(url).hostname or url
    except ValueError:
        return url


def _subject(text: str) -> str:
    return _crop(_ascii(_one_line(text, 4 * SUBJECT_MAX_CHARS)), SUBJECT_MAX_CHARS, "...")


def _ordered_links(links: Mapping[str, str]) -> list[tuple[str, str]]:
    known = [action for action in LINK_ACTIONS if action in links]
    others = sorted(action for action in links if action not in LINK_ACTIONS)
    return [(_one_line(action, 40).capitalize(), _one_line(links[action], 2_000)) for action in known + others]


def _held_because(summary: MentionSummary) -> list[str]:
    return [_one_line(reason, _FIELD_MAX) for reason in summary.reasons] or ["(no reason recorded)"]


def pending_mail(summary: MentionSummary, links: Mapping[str, str]) -> tuple[str, str]:
    """(subject, body) of the mail that says one mention is held, with one line per action link."""
    what = _one_line(summary.title, _TITLE_MAX) or _host(summary.source)
    subject = _subject(f"Mention held on {_host(summary.site)}: {what}")
    lines = [
        f"A {_one_line(summary.protocol, 40)} mention of your page is held for your decision.",
        "",
        f"Site:       {_one_line(summary.site, _FIELD_MAX)}",
        f"Source:     {_one_line(summary.source, _FIELD_MAX)}",
        f"Target:     {_one_line(summary.target, _FIELD_MAX)}",
        f"Title:      {_one_line(summary.title, _TITLE_MAX) or '(none)'}",
        f"Author:     {_one_line(summary.author_name, _FIELD_MAX) or '(unknown)'}",
        f"Received:   {_one_line(summary.received_at, 40)}",
        f"Spam score: {summary.spam_score:.2f}",
        "",
        "Why it is held:",
        *(f"  - {reason}" for reason in _held_because(summary)),
    ]
    excerpt = _one_line(summary.excerpt, _EXCERPT_MAX)
    if excerpt:
        lines += ["", "Excerpt:", *textwrap.wrap(excerpt, 72, initial_indent="  > ", subsequent_indent="  > ")]
    lines.append("")
    ordered = _ordered_links(links)
    if ordered:
        lines += [f"{label}: {url}" for label, url in ordered]
        lines += [
            "",
            "Each link opens a confirmation page; nothing changes until you press its button.",
            "A link works once, and expires after a while.",
            "",
        ]
    lines += [
        "Or decide from the command line: linkback moderate approve|spam|delete <id>",
        "",
        f"Mention id: {_one_line(summary.id, 80)}",
    ]
    return subject, "\n".join(lines) + "\n"


def digest_mail(
    site: str, items: Sequence[tuple[MentionSummary, Mapping[str, str]]], *, period: str
) -> tuple[str, str]:
    """(subject, body) of one mail listing many held mentions, bounded in items and in bytes."""
    host = _host(site)
    count = len(items)
    noun = "mention" if count == 1 else "mentions"
    subject = _subject(f"{count} {noun} held on {host} ({period})")
    header = [
        f"{count} {noun} of {_one_line(site, _FIELD_MAX)} held for your decision ({_one_line(period, 80)}).",
        "Each link opens a confirmation page; nothing changes until you press its button.",
        "A link works once, and expires after a while.",
        "",
    ]
    body = "\n".join(header) + "\n"
    size = len(body.encode("utf-8"))
    shown = 0
    for number, (summary, links) in enumerate(items[:MAX_DIGEST_ITEMS], start=1):
        block = _digest_entry(number, summary, links)
        block_size = len(block.encode("utf-8"))
        if size + block_size > _DIGEST_BUDGET_BYTES:
            break
        body += block
        size += block_size
        shown += 1
    if not items:
        body += "Nothing is waiting.\n"
    elif shown < count:
        body += (
            f"... and {count - shown} more waiting, not listed here. See them all with:\n"
            f"  linkback moderate list --site {_one_line(site, _FIELD_MAX)}\n"
        )
    return subject, body


def _digest_entry(number: int, summary: MentionSummary, links: Mapping[str, str]) -> str:
    title = _one_line(summary.title, _TITLE_MAX) or "(no title)"
    lines = [
        f"{number}. {title}",
        f"   Source:  {_one_line(summary.source, _FIELD_MAX)}",
        f"   Target:  {_one_line(summary.target, _FIELD_MAX)}",
        f"   Author:  {_one_line(summary.author_name, _FIELD_MAX) or '(unknown)'}",
        f"   Held because: {'; '.join(_held_because(summary))} (spam score {summary.spam_score:.2f})",
    ]
    excerpt = _one_line(summary.excerpt, _DIGEST_EXCERPT_MAX)
    if excerpt:
        lines.append(f"   > {excerpt}")
    lines += [f"   {label}: {url}" for label, url in _ordered_links(links)]
    lines.append(f"   Mention id: {_one_line(summary.id, 80)}")
    return "\n".join(lines) + "\n\n"


# --------------------------------------------------------------------------- webhooks


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
        from linkback.notify.delivery import WEBHOOK_SIGNATURE_HEADER, verify_webhook_signature

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
