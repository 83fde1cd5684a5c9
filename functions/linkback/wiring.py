"""The adapters built from the settings, once per process and only when first needed."""

from __future__ import annotations

from functools import lru_cache
from typing import Any

from . import events, intake
from .config import settings
from .fetch import SafeFetcher
from .intake import IntakeLimits, Ping, Receipt
from .model import Protocol, utc_now
from .queue import VerifyQueue
from .storage import MentionRepository, RateLimiter

__all__ = ["fetcher", "intake_limits", "rate_limiter", "receive", "repository", "reset", "settings", "verify_queue"]

# "{site}" is filled per fetch with the site on whose behalf we fetch (as WordPress names the blog),
# so an owner who finds us in their logs knows whom to ask, and the about page says how to stop us.
USER_AGENT = "linkback/0.1 (+{about}; verifying a link to {{site}})"


@lru_cache(maxsize=1)
def repository() -> MentionRepository:
    return MentionRepository(settings().table_name, settings().region)


@lru_cache(maxsize=1)
def verify_queue() -> VerifyQueue:
    return VerifyQueue(settings().queue_url, settings().region)


@lru_cache(maxsize=1)
def fetcher() -> SafeFetcher:
    return SafeFetcher(
        user_agent=USER_AGENT.format(about=settings().about_url or "no about page configured"),
        allow_private=settings().allow_private_sources,
        allowed_ports=settings().allowed_ports,
    )


@lru_cache(maxsize=1)
def rate_limiter() -> RateLimiter:
    repository()  # binds the table's name and region for every model
    return RateLimiter()


def intake_limits() -> IntakeLimits:
    return IntakeLimits(
        limiter=rate_limiter(),
        sender_pings_per_hour=settings().sender_pings_per_hour,
        resend_interval_s=settings().resend_interval_s,
    )


def receive(protocol: Protocol, source: str, target: str, event: Any, sent: dict[str, str] | None = None) -> Receipt:
    """The intake path with this process's settings and adapters, for a ping read from an HTTP API event."""
    return intake.receive(
        Ping(
            protocol=protocol,
            source=source,
            target=target,
            sender_ip=events.sender_ip(event),
            user_agent=events.header(event, "user-agent"),
            sent=sent or {},
            correlation_id=events.request_id(event),
        ),
        sites=settings().sites,
        repository=repository(),
        queue=verify_queue(),
        now=utc_now(),
        limits=intake_limits(),
    )


def reset() -> None:
    """Forget everything built from the environment (tests and the local stack change it)."""
    settings.cache_clear()
    repository.cache_clear()
    verify_queue.cache_clear()
    fetcher.cache_clear()
    rate_limiter.cache_clear()
