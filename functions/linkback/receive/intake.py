"""The one intake path every protocol's front calls: normalise, check, store, enqueue.

Only cheap, local checks happen here (webmention.io's rule): anything that touches the network is
the verifier's job, so a sender learns nothing about the source from our synchronous reply.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import TYPE_CHECKING
from typing import Protocol as TypingProtocol

from linkback.errors import (
    AlreadyRegistered,
    InvalidSource,
    RateLimited,
    SourceIsTarget,
    TargetNotAccepted,
    UpstreamError,
)
from linkback.fields import USER_AGENT_MAX
from linkback.model import REGISTERED, DeletedBy, Protocol, Status, is_owner_verdict, isoformat, mention_id
from linkback.store.schema import MentionRecord
from linkback.text import clean_text
from linkback.urls import InvalidUrl, normalise_url, site_of

if TYPE_CHECKING:
    from linkback.store.contract import MentionStore

RESEND_ATTEMPTS = 3


class Queue(TypingProtocol):
    def enqueue(self, mention_id: str, correlation_id: str | None = None) -> None: ...


@dataclass(frozen=True)
class Ping:
    """A notification as any front understood it."""

    protocol: Protocol
    source: str
    target: str
    sender_ip: str | None = None
    user_agent: str | None = None
    sent: dict[str, str] = field(default_factory=dict)  # TrackBack's title / excerpt / blog_name
    correlation_id: str | None = None  # the receiving request's id, carried to the verifier's logs


class Limiter(TypingProtocol):
    def take(self, scope: str, key: str, *, limit: int, window_s: int, now: float) -> int | None: ...


@dataclass(frozen=True)
class IntakeLimits:
    """Abuse budgets checked before anything is stored (docs/architecture.md, access pattern 6)."""

    limiter: Limiter
    sender_pings_per_hour: int
    resend_interval_s: int


@dataclass(frozen=True)
class Receipt:
    mention_id: str
    created: bool  # False: a re-send of a mention we already had


def checked_urls(source: str, target: str, sites: tuple[str, ...]) -> tuple[str, str, str]:
    """Normalised (source, target, site), or the error each protocol reports for them."""
    try:
        normal_target = normalise_url(target)
    except InvalidUrl as error:
        raise TargetNotAccepted(f"the target is not a usable URL: {error}") from error
    site = site_of(normal_target, sites)
    if site is None:
        raise TargetNotAccepted("the target is not on a site this endpoint receives mentions for")
    try:
        normal_source = normalise_url(source)
    except InvalidUrl as error:
        raise InvalidSource(f"the source is not a usable URL: {error}") from error
    if normal_source == normal_target:
        raise SourceIsTarget("the source and the target are the same URL")
    return normal_source, normal_target, site


def receive(
    ping: Ping,
    *,
    sites: tuple[str, ...],
    repository: MentionStore,
    queue: Queue,
    now: datetime,
    limits: IntakeLimits | None = None,
) -> Receipt:
    source, target, site = checked_urls(ping.source, ping.target, sites)
    if limits is not None and ping.sender_ip:
        _check_sender(ping.sender_ip, limits, now)
    identifier = mention_id(source, target)
    sent = {f"sent_{name}": value for name, value in ping.sent.items() if value}
    stamp = isoformat(now)
    record = MentionRecord(
        identifier,
        protocol=str(ping.protocol),
        source=source,
        target=target,
        site=site,
        status=str(Status.QUEUED),
        received_at=stamp,
        updated_at=stamp,
        last_sent_at=now.timestamp(),
        sender_ip=ping.sender_ip,
        user_agent=clean_text(ping.user_agent, USER_AGENT_MAX) or None,
        sent_title=sent.get("sent_title"),
        sent_excerpt=sent.get("sent_excerpt"),
        sent_blog_name=sent.get("sent_blog_name"),
    )
    try:
        created = repository.create(record)
        interval_s = limits.resend_interval_s if limits is not None else 0
        if not created and not _apply_resend(ping, identifier, sent, repository, now, interval_s):
            return Receipt(identifier, created=False)
    except (AlreadyRegistered, RateLimited, UpstreamError):
        raise
    except Exception as error:
        raise UpstreamError("the mention could not be stored right now; please try again later") from error
    try:
        queue.enqueue(identifier, ping.correlation_id)
    except Exception as error:
        if created:
            # Undo, or the sender's retry would find a record no message will ever verify (and a
            # Pingback retry would even be told "already registered").
            repository.discard_unqueued(identifier)
        raise UpstreamError("the mention could not be queued right now; please try again later") from error
    return Receipt(identifier, created=created)


def _check_sender(sender_ip: str, limits: IntakeLimits, now: datetime) -> None:
    wait_s = limits.limiter.take(
        "sender", sender_ip, limit=limits.sender_pings_per_hour, window_s=3600, now=now.timestamp()
    )
    if wait_s is not None:
        raise RateLimited(f"too many pings from your address; please try again in {wait_s} seconds", wait_s)


def _apply_resend(
    ping: Ping, identifier: str, sent: dict[str, str], repository: MentionStore, now: datetime, interval_s: int
) -> bool:
    """Update an existing mention for a re-send; True when it should be verified again.

    The update is conditional on the status we read; the verifier may change it in between (a
    re-send right after the first send races the first verification), so read again and retry.
    """
    for _attempt in range(RESEND_ATTEMPTS):
        existing = repository.get(identifier)
        if existing is None:  # deleted between our put and get: a conflict, the sender retries
            break
        status = Status(existing.status)
        deleted_by_source = status is Status.DELETED and existing.deleted_by == DeletedBy.SOURCE
        if ping.protocol is Protocol.PINGBACK and status in REGISTERED and not deleted_by_source:
            # "0x0030 (48) The pingback has already been registered."
            raise AlreadyRegistered("the pingback has already been registered")
        if is_owner_verdict(status, existing.deleted_by):
            return False  # the owner's spam/delete stands; the sender is not told which
        # A rejected mention, or one its source had deleted, gets a fresh chance; an approved or
        # held one keeps its status (and stays public) until the verifier says otherwise.
        next_status = Status.QUEUED if status is Status.REJECTED or deleted_by_source else status
        if interval_s and existing.last_sent_at and existing.last_sent_at > now.timestamp() - interval_s:
            # The same mention again within seconds is a retry loop or a flood, not an update.
            wait_s = max(1, int(existing.last_sent_at + interval_s - now.timestamp()) + 1)
            raise RateLimited(f"this mention was received moments ago; send it again in {wait_s} seconds", wait_s)
        fields = {"sender_ip": ping.sender_ip, "user_agent": clean_text(ping.user_agent, USER_AGENT_MAX) or None}
        fields.update(sent)
        if repository.update_resend(existing, status=next_status, fields=fields, now=now, interval_s=interval_s):
            return True
    raise UpstreamError("the mention changed while it was being received; please try again")
