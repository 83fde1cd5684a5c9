"""Settings, parsed and validated once per process from the environment the template sets."""

from __future__ import annotations

import os
from dataclasses import dataclass
from functools import lru_cache
from typing import Literal

from .urls import normalise_origin

ModerationMode = Literal["auto", "manual"]


@dataclass(frozen=True)
class Settings:
    sites: tuple[str, ...]
    table_name: str
    queue_url: str
    moderation: ModerationMode
    allow_private_sources: bool
    region: str
    recheck_after_days: int = 30
    sender_pings_per_hour: int = 60
    resend_interval_s: int = 30
    source_host_fetches_per_minute: int = 20
    about_url: str = ""
    allowed_ports: frozenset[int] = frozenset({80, 443})

    @classmethod
    def from_environ(cls, environ: dict[str, str] | os._Environ[str] = os.environ) -> Settings:
        sites = tuple(
            normalise_origin(origin) for origin in environ.get("LINKBACK_SITES", "").split(",") if origin.strip()
        )
        moderation = environ.get("LINKBACK_MODERATION", "auto").strip().lower()
        if moderation not in ("auto", "manual"):
            raise ValueError(f"LINKBACK_MODERATION must be auto or manual, not {moderation!r}")
        return cls(
            sites=sites,
            table_name=environ.get("LINKBACK_TABLE_NAME", "linkback-mentions"),
            queue_url=environ.get("LINKBACK_QUEUE_URL", ""),
            moderation=moderation,  # type: ignore[arg-type]
            allow_private_sources=environ.get("LINKBACK_ALLOW_PRIVATE_SOURCES", "") == "1",
            region=environ.get("AWS_REGION") or environ.get("AWS_DEFAULT_REGION") or "us-east-1",
            recheck_after_days=int(environ.get("LINKBACK_RECHECK_AFTER_DAYS") or 30),
            sender_pings_per_hour=int(environ.get("LINKBACK_SENDER_PINGS_PER_HOUR") or 60),
            resend_interval_s=int(environ.get("LINKBACK_RESEND_INTERVAL_SECONDS") or 30),
            source_host_fetches_per_minute=int(environ.get("LINKBACK_SOURCE_HOST_FETCHES_PER_MINUTE") or 20),
            about_url=environ.get("LINKBACK_ABOUT_URL", ""),
            allowed_ports=frozenset(
                int(port) for port in (environ.get("LINKBACK_ALLOWED_PORTS") or "80,443").split(",") if port.strip()
            ),
        )


@lru_cache(maxsize=1)
def settings() -> Settings:
    """The process-wide settings; tests that change the environment call `settings.cache_clear()`."""
    return Settings.from_environ()
