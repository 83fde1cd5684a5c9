"""The adapters built from the settings, once per process and only when first needed."""

from __future__ import annotations

import time
from functools import lru_cache
from typing import TYPE_CHECKING, Any

from linkback.config import settings
from linkback.store.limits import RateLimiter
from linkback.store.queue import MentionQueue
from linkback.store.repository import MentionRepository

# Imported where first used, not here: every handler imports this module, and cold start is billed per
# function. The receivers alone need intake and events, the verifier alone the fetcher; the
# recheck and read functions need neither (bench/cold_start.py holds each within 1.15x its SDK baseline).
if TYPE_CHECKING:
    from linkback.faults import Faults
    from linkback.model import Protocol
    from linkback.notify.announcer import Announcer
    from linkback.receive.intake import IntakeLimits, Receipt
    from linkback.spam.akismet import AkismetClient
    from linkback.spam.screening import AkismetFeedback, Screen
    from linkback.verify.fetch import SafeFetcher
    from linkback.verify.pipeline import Outcome
    from linkback.verify.retry import Retry

__all__ = [
    "admin_secret",
    "akismet",
    "announcer",
    "faults",
    "fetcher",
    "intake_limits",
    "notify_queue",
    "rate_limiter",
    "receive",
    "repository",
    "reset",
    "screen",
    "settings",
    "spam_feedback",
    "verify",
    "verify_queue",
]

# "{site}" is filled per fetch with the site on whose behalf we fetch (as WordPress names the blog),
# so an owner who finds us in their logs knows whom to ask, and the about page says how to stop us.
USER_AGENT = "linkback/0.1 (+{about}; verifying a link to {{site}})"


@lru_cache(maxsize=1)
def repository() -> MentionRepository:
    built = MentionRepository(settings().table_name, settings().region, retention_days=settings().spam_retention_days)
    injected = faults()
    if injected is not None and injected.plan.dynamodb_s:
        from linkback.store.schema import MODELS

        # Every model's botocore client (one, shared, since MentionRepository binds them) must see the outage.
        for model in MODELS:
            injected.throttle(model._get_connection().connection.client)
    return built


@lru_cache(maxsize=1)
def faults() -> Faults | None:
    """This process's injected faults (LINKBACK_FAULTS, development and tests only); None, as in AWS,
    when there are none."""
    plan = settings().faults
    if not plan:
        return None
    from linkback.faults import Faults

    return Faults(plan)


@lru_cache(maxsize=1)
def verify_queue() -> MentionQueue:
    return MentionQueue(settings().queue_url, settings().region)


@lru_cache(maxsize=1)
def notify_queue() -> MentionQueue | None:
    """Where held mentions are announced (None when the stack has no notification queue)."""
    return MentionQueue(settings().notify_queue_url, settings().region) if settings().notify_queue_url else None


class _Cached:
    """A secret read from AWS once and kept for a while: a rotated secret is picked up within
    `ttl_s` without costing a call per request."""

    def __init__(self, read: Any, ttl_s: float = 300) -> None:
        self.read = read
        self.ttl_s = ttl_s
        self.value: str | None = None
        self.read_at = 0.0

    def get(self) -> str:
        now = time.monotonic()
        if self.value is None or now - self.read_at > self.ttl_s:
            self.value = self.read()
            self.read_at = now
        return self.value


def _read_admin_secret() -> str:
    import boto3

    arn = settings().admin_secret_arn
    if not arn:
        raise RuntimeError("LINKBACK_ADMIN_SECRET_ARN is not set: the admin API has no credential")
    secret = boto3.client("secretsmanager", region_name=settings().region).get_secret_value(SecretId=arn)
    return str(secret["SecretString"]).strip()


def _read_akismet_key() -> str:
    import boto3

    name = "/" + settings().akismet_key_parameter.lstrip("/")
    parameter = boto3.client("ssm", region_name=settings().region).get_parameter(Name=name, WithDecryption=True)
    return str(parameter["Parameter"]["Value"]).strip()


@lru_cache(maxsize=1)
def _admin_secret() -> _Cached:
    return _Cached(_read_admin_secret)


def admin_secret() -> str:
    """The admin API's bearer token (Secrets Manager), which also keys one-click links and webhooks."""
    return _admin_secret().get()


@lru_cache(maxsize=1)
def akismet() -> AkismetClient | None:
    """The Akismet client when a key is configured; None otherwise, or when the key cannot be read:
    Akismet is one signal among many and must never stop verification."""
    if not settings().akismet_key_parameter:
        return None
    from linkback.observability import logger
    from linkback.spam.akismet import AkismetClient

    try:
        key = _read_akismet_key()
    except Exception as error:  # any AWS failure: the pipeline goes on without Akismet
        logger.warning("Akismet key unreadable; spam scoring goes on without Akismet", extra={"error": str(error)})
        return None
    return AkismetClient(key, endpoint=settings().akismet_url)


def spam_feedback() -> AkismetFeedback | None:
    """Akismet told of the owner's overrulings, when Akismet is configured."""
    client = akismet()
    if client is None:
        return None
    from linkback.observability import logger
    from linkback.spam.screening import AkismetFeedback

    return AkismetFeedback(client, logger)


@lru_cache(maxsize=8)  # one client per service (SNS and SQS in the notifier), each made once
def _aws_client(service: str) -> Any:
    import boto3

    return boto3.client(service, region_name=settings().region)


def _publish_to_moderation_topic(subject: str, body: str) -> None:
    _aws_client("sns").publish(TopicArn=settings().moderation_topic_arn, Subject=subject, Message=body)


@lru_cache(maxsize=1)
def announcer() -> Announcer:
    """How the owner is told about held mentions, from this process's settings."""
    from linkback.notify.announcer import Announcer

    return Announcer(
        repository=repository(),
        admin_secret=admin_secret(),
        api_url=settings().api_url,
        mode=settings().notifications,
        publish=_publish_to_moderation_topic if settings().moderation_topic_arn else None,
        webhook_url=settings().webhook_url,
        link_hours=settings().one_click_hours,
    )


@lru_cache(maxsize=1)
def screen() -> Screen:
    """The verifier's spam step with this process's settings, lists and Akismet."""
    from linkback.spam.screening import Screen, policy

    spam_policy = policy(sites=settings().sites, self_pings=settings().self_pings, keywords=settings().spam_keywords)
    return Screen(repository(), spam_policy, akismet())


@lru_cache(maxsize=1)
def fetcher() -> SafeFetcher:
    from linkback.verify.fetch import SafeFetcher

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
    from linkback.receive.intake import IntakeLimits

    return IntakeLimits(
        limiter=rate_limiter(),
        sender_pings_per_hour=settings().sender_pings_per_hour,
        resend_interval_s=settings().resend_interval_s,
    )


def receive(protocol: Protocol, source: str, target: str, event: Any, sent: dict[str, str] | None = None) -> Receipt:
    """The intake path with this process's settings and adapters, for a ping read from an HTTP API event."""
    from linkback.model import utc_now
    from linkback.receive import events, intake
    from linkback.receive.intake import Ping

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


def announce_held(mention_id: str) -> None:
    """Queue the owner's notification of a held mention; losing it must not undo a stored verdict."""
    queue = notify_queue()
    if queue is None:
        return
    try:
        queue.enqueue(mention_id)
    except Exception:
        from aws_lambda_powertools.metrics import MetricUnit

        from linkback.observability import logger, metrics

        logger.exception("Held mention not announced", extra={"mention_id": mention_id})
        metrics.add_metric(name="NotifyEnqueueFailed", unit=MetricUnit.Count, value=1)


def verify(mention_id: str) -> Outcome:
    """The verify pipeline with this process's settings and adapters. Injected faults (development and
    tests only) wrap the adapters here; the pipeline never sees them."""
    from linkback.model import utc_now
    from linkback.observability import MeasuredFetcher
    from linkback.verify.pipeline import FetchBudget, verify_mention

    store: Any = repository()
    source_fetcher: Any = MeasuredFetcher(fetcher())
    injected = faults()
    if injected is not None:
        from linkback.faults import FaultyFetcher, FaultyRepository

        injected.verification_started()  # a DynamoDB outage starts with the first verification
        store, source_fetcher = FaultyRepository(store, injected), FaultyFetcher(source_fetcher, injected)
    return verify_mention(
        mention_id,
        repository=store,
        fetcher=source_fetcher,
        moderation=settings().moderation,
        now=utc_now(),
        budget=FetchBudget(rate_limiter(), settings().source_host_fetches_per_minute),
        screen=screen(),
        notify=announce_held,
    )


def verify_retry(mention_id: str, error: BaseException, *, sent_ms: str | None, receive_count: int) -> Retry:
    """What to do with a failed verification of `mention_id`, by the retry policy and this stack's back-off."""
    from linkback.verify.retry import plan_retry

    return plan_retry(
        error,
        mention_id=mention_id,
        repository=repository(),
        sent_ms=sent_ms,
        receive_count=receive_count,
        base_s=settings().verify_retry_s,
    )


def reset() -> None:
    """Forget everything built from the environment (tests and the local stack change it)."""
    settings.cache_clear()
    repository.cache_clear()
    faults.cache_clear()
    verify_queue.cache_clear()
    fetcher.cache_clear()
    rate_limiter.cache_clear()
    notify_queue.cache_clear()
    _admin_secret.cache_clear()
    akismet.cache_clear()
    screen.cache_clear()
    announcer.cache_clear()
    _aws_client.cache_clear()
