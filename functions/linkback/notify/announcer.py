"""Telling the owner about held mentions: a mail (SNS) with one-click links, a signed webhook, or a
daily digest instead of one mail each.

Each channel is delivered at most once per hold: a marker is written after a channel succeeds and
checked before it is tried, so a message redelivered because the webhook failed does not mail again.
"""

from __future__ import annotations

import secrets
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING
from urllib.parse import quote

from linkback.model import Status
from linkback.moderation import oneclick
from linkback.moderation.documents import summary
from linkback.store.schema import MentionRecord

if TYPE_CHECKING:
    from linkback.store.contract import MentionStore

ONE_CLICK_ACTIONS = ("approve", "spam", "delete")
DIGEST_MAX = 100
MARKER_KEEP_S = 30 * 86400

Publish = Callable[[str, str], None]  # (subject, body) → the moderation topic


@dataclass
class Announcer:
    repository: MentionStore
    admin_secret: str
    api_url: str
    mode: str  # "each" | "digest" | "none": what is mailed
    publish: Publish | None = None
    webhook_url: str = ""
    link_hours: int = 72

    def links(self, record: MentionRecord, now: datetime) -> dict[str, str]:
        """One signed, expiring, single-use link per action; each opens a confirmation page."""
        key = oneclick.link_key(self.admin_secret)
        expires_at = int(now.timestamp()) + self.link_hours * 3600
        return {
            action: f"{self.api_url}/admin/act?t="
            + quote(oneclick.sign(key, record.pk, action, expires_at=expires_at, nonce=secrets.token_urlsafe(12)))
            for action in ONE_CLICK_ACTIONS
        }

    def announce(self, mention_id: str, now: datetime) -> list[str]:
        """Deliver what is due for one held mention; returns the channels delivered now. A failing webhook
        raises webhook.WebhookFailed after the mail went out (and is remembered)."""
        record = self.repository.get(mention_id)
        if record is None or record.status != Status.PENDING:
            return []  # decided meanwhile: nothing to ask the owner
        hold = f"{mention_id}#{record.held_at or record.verified_at or record.updated_at}"
        delivered = []
        if self.mode == "each" and self.publish is not None and not self.repository.was_claimed(f"mail#{hold}"):
            from linkback.notify.mail import pending_mail

            self.publish(*pending_mail(summary(record), self.links(record, now)))
            self.repository.claim_once(f"mail#{hold}", now=now, keep_s=MARKER_KEEP_S)
            delivered.append("mail")
        if self.webhook_url and not self.repository.was_claimed(f"hook#{hold}"):
            from linkback.notify.webhook import deliver_webhook, webhook_body, webhook_key

            body = webhook_body("mention.pending", summary(record), now=now)
            deliver_webhook(self.webhook_url, body, webhook_key(self.admin_secret), now=now.timestamp())
            self.repository.claim_once(f"hook#{hold}", now=now, keep_s=MARKER_KEEP_S)
            delivered.append("webhook")
        return delivered

    def digest(self, sites: tuple[str, ...], now: datetime) -> int:
        """One mail per site listing the mentions still waiting for a decision; returns mails sent."""
        if self.mode != "digest" or self.publish is None:
            return 0
        from linkback.notify.mail import digest_mail

        sent = 0
        for site in sites:
            held = self.repository.held_for_site(site, Status.PENDING, limit=DIGEST_MAX + 1)
            if not held:
                continue
            items = [(summary(record), self.links(record, now)) for record in held]
            self.publish(*digest_mail(site, items, period="day"))
            sent += 1
        return sent
