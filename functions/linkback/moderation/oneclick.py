"""One-click moderation links: signed, expiring tokens, and the pages a click leads to.

A held mention's mail carries one link per action. The token in the link says which mention, which
action, until when, and a random nonce; an HMAC-SHA256 tag over all of it makes it unforgeable without
the admin secret. The nonce is what the integrator records to make a link work once: this module only
guarantees that two links for the same decision never share a token.

Opening a link never acts. Mail scanners and link previewers GET every URL in a mail, so the GET shows
a confirmation page whose one button POSTs the token back; only that POST may approve, spam or delete.

No I/O here: bytes and strings in, strings out.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import re
import secrets
from dataclasses import dataclass
from datetime import UTC, datetime
from html import escape
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from linkback.notify.mail import MentionSummary

LINK_ACTIONS = ("approve", "spam", "delete")

# Domain separation: the admin secret also authenticates the admin API, so the MAC key is derived from
# it under a label of its own; a leaked link key (or a tag) tells nothing about the admin credential.
_KEY_LABEL = b"linkback one-click link key v1"
_VERSION = "1"
_TAG_BYTES = 32  # full SHA-256 output: a truncated tag would only save a few characters in a mail
_MAX_TOKEN_CHARS = 1024  # a real token is ~130 characters; anything far longer is not worth decoding
_ALPHABET = re.compile(r"[A-Za-z0-9_-]+")  # base64url (RFC 4648 §5), padding stripped

# What the handler should send with both pages. The page's URL holds a live token: no Referer may
# carry it to the mention's source (which the owner may click), no cache may keep it, and no other
# site may frame the button (clickjacking the owner into approving).
PAGE_HEADERS = {
    "Content-Type": "text/html; charset=utf-8",
    "Cache-Control": "no-store",
    "Referrer-Policy": "no-referrer",
    "X-Frame-Options": "DENY",
    "X-Content-Type-Options": "nosniff",
    "Content-Security-Policy": (
        "default-src 'none'; style-src 'unsafe-inline'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'"
    ),
}


@dataclass(frozen=True)
class OneClick:
    """What a valid token asks for."""

    mention_id: str
    action: str
    expires_at: int  # unix seconds
    nonce: str  # random per link: the integrator records used nonces to make a link single-use


_MESSAGES = {
    "malformed": "This link is incomplete or damaged. Copy the whole link from the mail, or use the admin API.",
    "tampered": "This link was not issued by this linkback installation, or it was changed after it was sent.",
    "expired": "This link has expired. Decide on the mention with the admin API or from a newer mail.",
    "unknown action": "This link asks for an action this version of linkback does not know.",
}


class InvalidLink(Exception):
    """A token that must not be acted on; `reason` is one of the keys of the messages above."""

    def __init__(self, reason: str) -> None:
        super().__init__(_MESSAGES[reason])
        self.reason = reason


def link_key(admin_secret: str) -> bytes:
    """The HMAC key for one-click links, derived from the admin secret (never the secret itself)."""
    if not admin_secret:
        raise ValueError("an admin secret is needed to sign one-click links")
    return hmac.new(admin_secret.encode("utf-8"), _KEY_LABEL, hashlib.sha256).digest()


def sign(key: bytes, mention_id: str, action: str, *, expires_at: int, nonce: str | None = None) -> str:
    """A URL-safe token (base64url, no padding) for one action on one mention, valid until `expires_at`."""
    if action not in LINK_ACTIONS:
        raise ValueError(f"unknown action {action!r}; one of {', '.join(LINK_ACTIONS)}")
    nonce = secrets.token_urlsafe(12) if nonce is None else nonce
    for name, value in (("mention_id", mention_id), ("nonce", nonce)):
        # The fields are newline-separated inside the token.
        if not value or "\n" in value:
            raise ValueError(f"{name} must be a non-empty single line")
    if expires_at < 0:
        raise ValueError("expires_at must be a unix time")
    payload = "\n".join((_VERSION, mention_id, action, str(int(expires_at)), nonce)).encode("utf-8")
    return _b64encode(payload + _tag(key, payload))


def read(key: bytes, token: str, *, now: float) -> OneClick:
    """The action a token asks for, or InvalidLink saying why it must not be acted on."""
    raw = _b64decode(token)
    if raw is None or len(raw) <= _TAG_BYTES:
        raise InvalidLink("malformed")
    payload, tag = raw[:-_TAG_BYTES], raw[-_TAG_BYTES:]
    # Constant time: a comparison that stops at the first differing byte lets an attacker find a
    # valid tag byte by byte from response times.
    if not hmac.compare_digest(tag, _tag(key, payload)):
        raise InvalidLink("tampered")
    # Past the tag, the payload is one we signed; the checks below guard against other versions of us.
    try:
        version, mention_id, action, expires_at, nonce = payload.decode("utf-8").split("\n")
        expiry = int(expires_at)
    except ValueError:
        raise InvalidLink("malformed") from None
    if version != _VERSION:
        raise InvalidLink("malformed")
    if action not in LINK_ACTIONS:
        raise InvalidLink("unknown action")
    if now >= expiry:
        raise InvalidLink("expired")
    return OneClick(mention_id=mention_id, action=action, expires_at=expiry, nonce=nonce)


def _tag(key: bytes, payload: bytes) -> bytes:
    return hmac.new(key, payload, hashlib.sha256).digest()


def _b64encode(raw: bytes) -> str:
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode("ascii")


def _b64decode(token: str) -> bytes | None:
    if not isinstance(token, str) or not 0 < len(token) <= _MAX_TOKEN_CHARS or not _ALPHABET.fullmatch(token):
        return None
    try:
        raw = base64.urlsafe_b64decode(token + "=" * (-len(token) % 4))
    except (binascii.Error, ValueError):
        return None
    # Only the canonical spelling: base64 ignores the unused low bits of the last character, so without
    # this check several different strings would be the same token.
    return raw if _b64encode(raw) == token else None


# --------------------------------------------------------------------------- pages

_CONSEQUENCES = {
    "approve": ("Approve this mention", "It will be published with {target}."),
    "spam": (
        "Mark this mention as spam",
        "It will be hidden, and re-sends from its source for this target will be ignored.",
    ),
    "delete": (
        "Delete this mention",
        "It will be removed from {target}; re-sends of it will be ignored.",
    ),
}

_STYLE = (
    "body{font:16px/1.5 system-ui,sans-serif;max-width:40rem;margin:2rem auto;padding:0 1rem;color:#222}"
    "dl{display:grid;grid-template-columns:max-content 1fr;gap:.25rem 1rem}dt{font-weight:600}"
    "dd{margin:0;overflow-wrap:anywhere}blockquote{margin:1rem 0;padding-left:1rem;border-left:3px solid #ccc}"
    "button{font:inherit;padding:.5rem 1.25rem;cursor:pointer}.ok{color:#1a6b2f}.failed{color:#a4161a}"
)


def _page(title: str, body: str) -> str:
    return (
        "<!doctype html>\n"
        '<html lang="en"><head><meta charset="utf-8">'
        '<meta name="viewport" content="width=device-width,initial-scale=1">'
        # Belt and braces with the Referrer-Policy header: the URL of this page carries a live token.
        '<meta name="referrer" content="no-referrer"><meta name="robots" content="noindex,nofollow">'
        f"<title>{escape(title)}</title><style>{_STYLE}</style></head>\n"
        f"<body>\n{body}\n</body></html>\n"
    )


def confirmation_page(click: OneClick, *, token: str, action_url: str, summary: MentionSummary) -> str:
    """The page a one-click link opens: what the button will do to which mention, and the button.

    Everything shown came from a stranger's page, so all of it is escaped, and URLs are shown as text,
    never as links: nothing on this page acts, or leaves it, on a GET.
    """
    heading, consequence = _CONSEQUENCES[click.action]
    expires = datetime.fromtimestamp(click.expires_at, UTC).strftime("%Y-%m-%d %H:%M UTC")
    rows = [
        ("Site", summary.site),
        ("Source", summary.source),
        ("Target", summary.target),
        ("Title", summary.title or "(none)"),
        ("Author", summary.author_name or "(unknown)"),
        ("Protocol", summary.protocol),
        ("Received", summary.received_at),
        ("Status", summary.status),
        ("Spam score", f"{summary.spam_score:.2f}"),
    ]
    details = "".join(f"<dt>{escape(name)}</dt><dd>{escape(value)}</dd>" for name, value in rows)
    reasons = "".join(f"<li>{escape(reason)}</li>" for reason in summary.reasons) or "<li>(none recorded)</li>"
    excerpt = f"<blockquote>{escape(summary.excerpt)}</blockquote>" if summary.excerpt else ""
    body = (
        f"<h1>{escape(heading)}</h1>\n"
        f"<p>{escape(consequence.format(target=summary.target))}</p>\n"
        f"<dl>{details}</dl>\n{excerpt}\n"
        f"<p>Why it was held:</p><ul>{reasons}</ul>\n"
        f'<form method="post" action="{escape(action_url)}">'
        f'<input type="hidden" name="token" value="{escape(token)}">'
        f'<button type="submit">{escape(heading)}</button></form>\n'
        f"<p><small>This link works once, until {escape(expires)}. Mention {escape(click.mention_id)}."
        "</small></p>"
    )
    return _page(heading, body)


def result_page(title: str, message: str, *, ok: bool) -> str:
    """The page after the POST, or in place of the confirmation page for an invalid link."""
    css_class = "ok" if ok else "failed"
    return _page(title, f'<h1 class="{css_class}">{escape(title)}</h1>\n<p>{escape(message)}</p>')
