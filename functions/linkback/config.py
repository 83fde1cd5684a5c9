"""Settings, parsed and validated once per process from the environment the template sets.

Every handler reads them at init (`wiring.settings()` at import), so a broken setting fails the cold start
with one message naming the variable and the value it had, instead of the first request of each kind
failing later with a bare `int()` error. Each default is written once, in `Settings`.
"""

from __future__ import annotations

import os
import re
from collections.abc import Mapping
from functools import lru_cache
from typing import TYPE_CHECKING, Literal, NamedTuple

from linkback.urls import InvalidUrl, normalise_origin

if TYPE_CHECKING:
    from linkback.faults import FaultPlan

ModerationMode = Literal["auto", "manual"]
MODERATION_MODES = ("auto", "manual")
SELF_PING_POLICIES = ("ignore", "hold", "allow")
NOTIFICATION_MODES = ("each", "digest", "none")
DEFAULT_KEYWORD_SCORE = 2.0
_WEIGHTED = re.compile(r"=\s*-?\d+(\.\d+)?$")


class InvalidSetting(ValueError):
    """A setting the stack cannot run with; the message names the variable and its value."""

    def __init__(self, name: str, value: str, why: str) -> None:
        super().__init__(f"{name}={value!r}: {why}")
        self.name = name
        self.value = value


class Settings(NamedTuple):  # not a dataclass: cheaper at cold start (see spam.rules.Finding)
    sites: tuple[str, ...]
    table_name: str = "linkback-mentions"
    queue_url: str = ""
    moderation: ModerationMode = "auto"
    allow_private_sources: bool = False
    region: str = "us-east-1"
    recheck_after_days: int = 30
    sender_pings_per_hour: int = 60
    resend_interval_s: int = 30
    source_host_fetches_per_minute: int = 20
    about_url: str = ""
    allowed_ports: frozenset[int] = frozenset({80, 443})
    spam_retention_days: int = 0  # the template sets 30; unset keeps everything
    self_pings: str = "ignore"
    # The owner's keyword rules (SpamKeywords), after the built-in ones: (pattern, score) pairs.
    spam_keywords: tuple[tuple[str, float], ...] = ()
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
    def from_environ(cls, environ: Mapping[str, str] = os.environ) -> Settings:
        """The settings the environment describes; InvalidSetting names the first one that is wrong."""
        read = _Reader(environ, cls._field_defaults)
        return cls(
            sites=read.origins("LINKBACK_SITES"),
            table_name=read.text("LINKBACK_TABLE_NAME", "table_name"),
            queue_url=read.text("LINKBACK_QUEUE_URL", "queue_url"),
            moderation=read.choice("LINKBACK_MODERATION", "moderation", MODERATION_MODES),  # type: ignore[arg-type]
            allow_private_sources=read.flag("LINKBACK_ALLOW_PRIVATE_SOURCES"),
            region=environ.get("AWS_REGION") or environ.get("AWS_DEFAULT_REGION") or cls._field_defaults["region"],
            recheck_after_days=read.number("LINKBACK_RECHECK_AFTER_DAYS", "recheck_after_days", minimum=1),
            sender_pings_per_hour=read.number("LINKBACK_SENDER_PINGS_PER_HOUR", "sender_pings_per_hour", minimum=1),
            resend_interval_s=read.number("LINKBACK_RESEND_INTERVAL_SECONDS", "resend_interval_s"),
            source_host_fetches_per_minute=read.number(
                "LINKBACK_SOURCE_HOST_FETCHES_PER_MINUTE", "source_host_fetches_per_minute", minimum=1
            ),
            about_url=read.text("LINKBACK_ABOUT_URL", "about_url"),
            allowed_ports=read.ports("LINKBACK_ALLOWED_PORTS", "allowed_ports"),
            spam_retention_days=read.number("LINKBACK_SPAM_RETENTION_DAYS", "spam_retention_days"),
            self_pings=read.choice("LINKBACK_SELF_PINGS", "self_pings", SELF_PING_POLICIES),
            spam_keywords=read.keywords("LINKBACK_SPAM_KEYWORDS"),
            akismet_key_parameter=read.text("LINKBACK_AKISMET_KEY_PARAMETER", "akismet_key_parameter"),
            akismet_url=read.text("LINKBACK_AKISMET_URL", "akismet_url"),
            admin_secret_arn=read.text("LINKBACK_ADMIN_SECRET_ARN", "admin_secret_arn"),
            api_url=read.text("LINKBACK_API_URL", "api_url").rstrip("/"),
            notify_queue_url=read.text("LINKBACK_NOTIFY_QUEUE_URL", "notify_queue_url"),
            notifications=read.choice("LINKBACK_NOTIFICATIONS", "notifications", NOTIFICATION_MODES),
            moderation_topic_arn=read.text("LINKBACK_MODERATION_TOPIC_ARN", "moderation_topic_arn"),
            webhook_url=read.text("LINKBACK_WEBHOOK_URL", "webhook_url"),
            one_click_hours=read.number("LINKBACK_ONE_CLICK_HOURS", "one_click_hours", minimum=1),
            webhook_retry_s=read.number("LINKBACK_WEBHOOK_RETRY_SECONDS", "webhook_retry_s", minimum=1),
            verify_retry_s=read.number("LINKBACK_VERIFY_RETRY_SECONDS", "verify_retry_s"),
            faults=read.faults("LINKBACK_FAULTS"),
        )


class _Reader:
    """Reads one variable each, falling back to the field's default when it is unset or empty (the
    template passes optional parameters as empty strings)."""

    def __init__(self, environ: Mapping[str, str], defaults: Mapping[str, object]) -> None:
        self.environ = environ
        self.defaults = defaults

    def _raw(self, name: str) -> str:
        return (self.environ.get(name) or "").strip()

    def text(self, name: str, field: str) -> str:
        return self._raw(name) or str(self.defaults[field])

    def flag(self, name: str) -> bool:
        value = self._raw(name)
        if value not in ("", "0", "1"):
            raise InvalidSetting(name, value, "must be 1 (on) or 0 (off)")
        return value == "1"

    def choice(self, name: str, field: str, choices: tuple[str, ...]) -> str:
        value = self._raw(name).lower() or str(self.defaults[field])
        if value not in choices:
            raise InvalidSetting(name, value, f"must be one of {', '.join(choices)}")
        return value

    def number(self, name: str, field: str, *, minimum: int = 0) -> int:
        value = self._raw(name)
        if not value:
            return int(self.defaults[field])  # type: ignore[call-overload]
        try:
            number = int(value)
        except ValueError:
            raise InvalidSetting(name, value, "must be a whole number") from None
        if number < minimum:
            raise InvalidSetting(name, value, f"must be at least {minimum}")
        return number

    def origins(self, name: str) -> tuple[str, ...]:
        value = self._raw(name)
        items = [item for item in value.split(",") if item.strip()]
        if not items:
            raise InvalidSetting(name, value, "is required: the comma-separated origins of the sites to receive for")
        origins = []
        for item in items:
            try:
                origins.append(normalise_origin(item))
            except InvalidUrl as error:
                raise InvalidSetting(name, value, f"{item.strip()!r} is not a site origin ({error})") from None
        return tuple(dict.fromkeys(origins))

    def ports(self, name: str, field: str) -> frozenset[int]:
        value = self._raw(name)
        if not value:
            return frozenset(self.defaults[field])  # type: ignore[call-overload]
        try:
            ports = frozenset(int(port) for port in value.split(",") if port.strip())
        except ValueError:
            raise InvalidSetting(name, value, "must be comma-separated port numbers") from None
        if not ports or not all(0 < port < 65536 for port in ports):
            raise InvalidSetting(name, value, "must be comma-separated port numbers from 1 to 65535")
        return ports

    def keywords(self, name: str) -> tuple[tuple[str, float], ...]:
        """Comma-separated `word`, `word=score` or `/regex/=score`; a regex that does not compile is refused
        here, at init, rather than at the first verification."""
        value = self._raw(name)
        rules = []
        for item in value.split(","):
            item = item.strip()
            if not item:
                continue
            pattern, _, weight = item.rpartition("=") if _WEIGHTED.search(item) else (item, "", "")
            pattern = pattern.strip()
            if pattern.startswith("/") and pattern.endswith("/") and len(pattern) > 2:
                try:
                    re.compile(pattern[1:-1])
                except re.error as error:
                    raise InvalidSetting(
                        name, value, f"spam keyword {pattern!r} is not a valid regular expression: {error}"
                    ) from None
            rules.append((pattern, float(weight) if weight else DEFAULT_KEYWORD_SCORE))
        return tuple(rules)

    def faults(self, name: str) -> FaultPlan | None:
        """The injected faults, parsed (a typo fails at start-up); the faults module is loaded only when some
        are asked for, which AWS never does."""
        value = self._raw(name)
        if not value:
            return None
        from linkback.faults import parse_faults

        try:
            return parse_faults(value) or None
        except ValueError as error:
            raise InvalidSetting(name, value, str(error)) from None


@lru_cache(maxsize=1)
def settings() -> Settings:
    """The process-wide settings; tests that change the environment call `settings.cache_clear()`."""
    return Settings.from_environ()
