"""The adapters built from the settings, once per process and only when first needed."""

from __future__ import annotations

from functools import lru_cache

from .config import settings

__all__ = ["fetcher", "repository", "reset", "settings", "verify_queue"]
from .fetch import SafeFetcher
from .queue import VerifyQueue
from .storage import MentionRepository

USER_AGENT = "linkback/0.1 (+{site}; verifying a mention of this site)"


@lru_cache(maxsize=1)
def repository() -> MentionRepository:
    return MentionRepository(settings().table_name, settings().region)


@lru_cache(maxsize=1)
def verify_queue() -> VerifyQueue:
    return VerifyQueue(settings().queue_url, settings().region)


@lru_cache(maxsize=1)
def fetcher() -> SafeFetcher:
    # Name the site on whose behalf we fetch (as WordPress does), so a site owner who sees us in
    # their logs knows whom to ask.
    site = settings().sites[0] if settings().sites else "unconfigured"
    return SafeFetcher(user_agent=USER_AGENT.format(site=site), allow_private=settings().allow_private_sources)


def reset() -> None:
    """Forget everything built from the environment (tests and the local stack change it)."""
    settings.cache_clear()
    repository.cache_clear()
    verify_queue.cache_clear()
    fetcher.cache_clear()
