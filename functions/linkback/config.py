"""Settings, parsed and validated once per process from the environment the template sets."""

from __future__ import annotations

import os
from functools import lru_cache
from typing import TYPE_CHECKING, Literal, NamedTuple

from linkback.urls import normalise_origin

if TYPE_CHECKING:
    from linkback.faults import FaultPlan

ModerationMode = Literal["auto", "manual"]
SELF_PING_POLICIES = ("ignore", "hold", "allow")
NOTIFICATION_MODES = ("each", "digest", "none")


def _choice(environ: dict[str, str] | os._Environ[str], name: str, choices: tuple[str, ...], default: str) -> str:
    value = (environ.get(name) or default).strip().lower()
    if value not in choices:
        raise ValueError(f"{name} must be one of {', '.join(choices)}, not {value!r}")
    return value


class Settings(NamedTuple):  # not a dataclass: cheaper at cold start (see spam.Finding)
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
    spam_retention_days: int = 0  # the template sets 30; unset keeps everything
    self_pings: str = "ignore"
    spam_keywords: str = ""
    akismet_key_parameter: str = ""
    akismet_url: str = "https://rest.akismet.com"
    admin_secret_arn: str = ""
    api_url: str = ""  # the API's public base URL, for links in mails
    notify_queue_url: str = ""
    notifications: str = "each"
    moderation_topic_arn: str = ""
    webhook_url: str = ""
    one_click_hours: int = 72
    webhook_retry_s: int = 30
    # The first retry of a transiently failed verification waits this long, each next one twice as long;
    # 0 (unset: tests, the local stack without the template) leaves it to the queue's visibility timeout.
    verify_retry_s: int = 0
    faults: FaultPlan | None = None  # development and tests only: LINKBACK_FAULTS (see faults.py)

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
            spam_retention_days=int(environ.get("LINKBACK_SPAM_RETENTION_DAYS") or 0),
            self_pings=_choice(environ, "LINKBACK_SELF_PINGS", SELF_PING_POLICIES, "ignore"),
            spam_keywords=environ.get("LINKBACK_SPAM_KEYWORDS", ""),
            akismet_key_parameter=environ.get("LINKBACK_AKISMET_KEY_PARAMETER", "").strip(),
            akismet_url=environ.get("LINKBACK_AKISMET_URL") or "https://rest.akismet.com",
            admin_secret_arn=environ.get("LINKBACK_ADMIN_SECRET_ARN", ""),
            api_url=(environ.get("LINKBACK_API_URL") or "").rstrip("/"),
            notify_queue_url=environ.get("LINKBACK_NOTIFY_QUEUE_URL", ""),
            notifications=_choice(environ, "LINKBACK_NOTIFICATIONS", NOTIFICATION_MODES, "each"),
            moderation_topic_arn=environ.get("LINKBACK_MODERATION_TOPIC_ARN", ""),
            webhook_url=environ.get("LINKBACK_WEBHOOK_URL", "").strip(),
            one_click_hours=int(environ.get("LINKBACK_ONE_CLICK_HOURS") or 72),
            webhook_retry_s=int(environ.get("LINKBACK_WEBHOOK_RETRY_SECONDS") or 30),
            verify_retry_s=int(environ.get("LINKBACK_VERIFY_RETRY_SECONDS") or 0),
            faults=_fault_plan(environ.get("LINKBACK_FAULTS", "")),
        )


def _fault_plan(spec: str) -> FaultPlan | None:
    """The injected faults, parsed (a typo fails at start-up); the faults module is loaded only when some
    are asked for, which AWS never does."""
    if not spec.strip():
        return None
    from linkback.faults import parse_faults

    return parse_faults(spec) or None


@lru_cache(maxsize=1)
def settings() -> Settings:
    """The process-wide settings; tests that change the environment call `settings.cache_clear()`."""
    return Settings.from_environ()
