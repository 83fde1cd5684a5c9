"""Settings are read once, at init: every value the stack cannot run with is refused with a message that
names the variable and the value it had, each default is the one `Settings` declares, and a handler with a
broken setting fails its cold start with that message instead of failing requests later."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from linkback.config import InvalidSetting, Settings

ROOT = Path(__file__).resolve().parents[2]
SITE = {"LINKBACK_SITES": "https://example.com"}
HANDLERS = ("trackback", "pingback", "webmention", "verify", "mentions", "recheck", "admin", "notify")


def settings(**environ: str) -> Settings:
    return Settings.from_environ({**SITE, **environ})


def refusal(**environ: str) -> str:
    with pytest.raises(InvalidSetting) as refused:
        Settings.from_environ(environ)
    return str(refused.value)


def test_unset_values_take_the_defaults_settings_declares() -> None:
    read = settings()

    assert read == Settings(sites=("https://example.com",))
    assert (read.resend_interval_s, read.recheck_after_days, read.allowed_ports) == (30, 30, frozenset({80, 443}))


def test_empty_values_from_optional_template_parameters_take_the_defaults() -> None:
    read = settings(LINKBACK_RESEND_INTERVAL_SECONDS="", LINKBACK_NOTIFICATIONS="", LINKBACK_ALLOWED_PORTS=" ")

    assert (read.resend_interval_s, read.notifications, read.allowed_ports) == (30, "each", frozenset({80, 443}))


def test_sites_are_required() -> None:
    assert refusal() == ("LINKBACK_SITES='': is required: the comma-separated origins of the sites to receive for")


def test_a_site_that_is_not_an_origin_is_named_with_the_whole_setting() -> None:
    message = refusal(LINKBACK_SITES="https://example.com,ftp://files.example.com")

    assert message.startswith("LINKBACK_SITES='https://example.com,ftp://files.example.com': 'ftp://files.example.com'")


def test_sites_are_normalised_and_deduplicated() -> None:
    read = Settings.from_environ({"LINKBACK_SITES": "https://Example.com:443/, https://example.com,https://b.example"})

    assert read.sites == ("https://example.com", "https://b.example")


@pytest.mark.parametrize(
    ("name", "value", "why"),
    [
        ("LINKBACK_RESEND_INTERVAL_SECONDS", "30s", "must be a whole number"),
        ("LINKBACK_SENDER_PINGS_PER_HOUR", "0", "must be at least 1"),
        ("LINKBACK_RECHECK_AFTER_DAYS", "-3", "must be at least 1"),
        ("LINKBACK_ONE_CLICK_HOURS", "three", "must be a whole number"),
        ("LINKBACK_MODERATION", "sometimes", "must be one of auto, manual"),
        ("LINKBACK_SELF_PINGS", "drop", "must be one of ignore, hold, allow"),
        ("LINKBACK_NOTIFICATIONS", "weekly", "must be one of each, digest, none"),
        ("LINKBACK_ALLOW_PRIVATE_SOURCES", "yes", "must be 1 (on) or 0 (off)"),
        ("LINKBACK_ALLOWED_PORTS", "80,http", "must be comma-separated port numbers"),
        ("LINKBACK_ALLOWED_PORTS", "80,70000", "must be comma-separated port numbers from 1 to 65535"),
    ],
)
def test_a_bad_value_is_refused_naming_its_variable_and_value(name: str, value: str, why: str) -> None:
    assert refusal(**SITE, **{name: value}) == f"{name}={value!r}: {why}"


def test_spam_keywords_are_parsed_at_init() -> None:
    read = settings(LINKBACK_SPAM_KEYWORDS="casino-bonus=3, /c[a@]sino/")

    assert read.spam_keywords == (("casino-bonus", 3.0), ("/c[a@]sino/", 2.0))


def test_a_spam_keyword_that_is_not_a_regular_expression_fails_at_init() -> None:
    message = refusal(**SITE, LINKBACK_SPAM_KEYWORDS="ok, /[unclosed/=1")

    assert message.startswith("LINKBACK_SPAM_KEYWORDS='ok, /[unclosed/=1': spam keyword '/[unclosed/'")
    assert "is not a valid regular expression" in message


def test_a_fault_plan_with_a_typo_fails_at_init_naming_the_variable() -> None:
    assert refusal(**SITE, LINKBACK_FAULTS="after_fetchh=1").startswith("LINKBACK_FAULTS='after_fetchh=1': ")


def _import_handler(name: str, environ: dict[str, str]) -> subprocess.CompletedProcess[str]:
    clean = {key: value for key, value in os.environ.items() if not key.startswith("LINKBACK_")}
    return subprocess.run(
        [sys.executable, "-c", f"import handlers.{name}"],
        env={**clean, "PYTHONPATH": str(ROOT / "functions"), "AWS_DEFAULT_REGION": "us-east-1", **environ},
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )


@pytest.mark.parametrize("handler", HANDLERS)
def test_a_handler_with_a_broken_setting_fails_at_init_with_its_message(handler: str) -> None:
    started = _import_handler(handler, {**SITE, "LINKBACK_RESEND_INTERVAL_SECONDS": "thirty"})

    assert started.returncode != 0
    assert "LINKBACK_RESEND_INTERVAL_SECONDS='thirty': must be a whole number" in started.stderr


@pytest.mark.parametrize("handler", HANDLERS)
def test_a_handler_without_sites_fails_at_init(handler: str) -> None:
    started = _import_handler(handler, {})

    assert started.returncode != 0
    assert "LINKBACK_SITES='': is required" in started.stderr


def test_a_handler_with_good_settings_starts() -> None:
    assert _import_handler("trackback", SITE).returncode == 0
