"""The verifier's retry policy: which failures wait and come back (a source's passing failure,
DynamoDB throttling as pynamodb surfaces it), how long each wait is, and what the fetches measure.
No network: the pynamodb model below points at a closed port and is throttled before it sends."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from botocore.exceptions import ClientError, EndpointConnectionError
from pynamodb.attributes import UnicodeAttribute
from pynamodb.exceptions import GetError, UpdateError
from pynamodb.models import Model

from linkback import wiring
from linkback.errors import PermanentFetchError, TransientFetchError
from linkback.faults import Faults, parse_faults
from linkback.observability import MeasuredFetcher, metrics
from linkback.store.queue import InvalidMessage
from linkback.verify.fetch import FetchedPage
from linkback.verify.retry import RETRY_CAP_S, Retry, is_transient, plan_retry, retry_delay_s


@pytest.fixture
def retry_seconds(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    monkeypatch.setenv("LINKBACK_SITES", "https://example.com")
    monkeypatch.setenv("LINKBACK_VERIFY_RETRY_SECONDS", "30")
    wiring.reset()
    yield
    monkeypatch.delenv("LINKBACK_VERIFY_RETRY_SECONDS")
    wiring.reset()


def test_each_retry_waits_twice_as_long_as_the_one_before_up_to_a_quarter_hour(retry_seconds: None) -> None:
    assert [retry_delay_s(receive, base_s=wiring.settings().verify_retry_s) for receive in range(1, 8)] == [
        30,
        60,
        120,
        240,
        480,
        900,
        900,
    ]
    assert RETRY_CAP_S == 900


def test_without_a_configured_back_off_the_queues_visibility_timeout_decides(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("LINKBACK_SITES", "https://example.com")
    monkeypatch.delenv("LINKBACK_VERIFY_RETRY_SECONDS", raising=False)
    wiring.reset()

    assert retry_delay_s(3, base_s=wiring.settings().verify_retry_s) == 0


# ------------------------------------------------------------------------------ which failures


class Throttled(Model):
    class Meta:
        table_name = "throttled"
        region = "us-east-1"
        host = "http://127.0.0.1:9"  # closed: the outage answers before anything is sent
        aws_access_key_id = "local"
        aws_secret_access_key = "local"

    pk = UnicodeAttribute(hash_key=True)


def test_dynamodb_throttling_as_pynamodb_raises_it_is_transient() -> None:
    # Given pynamodb's own client under an outage
    faults = Faults(parse_faults("dynamodb=60s"))
    faults.throttle(Throttled._get_connection().connection.client)
    faults.verification_started()
    # When a read fails
    with pytest.raises(GetError) as raised:
        Throttled.get("a-mention")
    # Then pynamodb names the cause, and the handler retries it later rather than dead-letter it
    assert raised.value.cause_response_code == "ProvisionedThroughputExceededException"
    assert is_transient(raised.value)


def aws_error(code: str) -> ClientError:
    return ClientError({"Error": {"Code": code, "Message": code}}, "UpdateItem")


@pytest.mark.parametrize(
    "code",
    ["ProvisionedThroughputExceededException", "ThrottlingException", "RequestLimitExceeded", "InternalServerError"],
)
def test_dynamodbs_answers_that_mean_later_are_transient(code: str) -> None:
    assert is_transient(UpdateError("Failed to update item", aws_error(code)))


@pytest.mark.parametrize("code", ["ValidationException", "AccessDeniedException", "ResourceNotFoundException"])
def test_dynamodbs_answers_that_will_not_change_are_not_transient(code: str) -> None:
    assert not is_transient(UpdateError("Failed to update item", aws_error(code)))


def test_a_broken_connection_to_dynamodb_is_transient() -> None:
    cause = EndpointConnectionError(endpoint_url="http://127.0.0.1:9")

    assert is_transient(GetError("Failed to get item", cause))


@pytest.mark.parametrize(
    ("error", "transient"),
    [
        (TransientFetchError("the source answered 503"), True),
        (PermanentFetchError("the source answered 410", 410), False),
        (InvalidMessage("the message body is not JSON"), False),
        (RuntimeError("a bug"), False),
    ],
)
def test_a_source_failure_is_transient_only_when_the_fetcher_says_it_may_pass(
    error: BaseException, transient: bool
) -> None:
    assert is_transient(error) is transient


# ------------------------------------------------------------------------------ measurements


class Source:
    def __init__(self, failure: Exception | None = None) -> None:
        self.failure = failure

    def fetch(self, url: str, on_behalf_of: str = "") -> FetchedPage:
        if self.failure is not None:
            raise self.failure
        return FetchedPage(url=url, status=200, content_type="text/html", text="<p>hi</p>", truncated=False)


@pytest.fixture
def metric_set() -> Iterator[dict[str, Any]]:
    metrics.clear_metrics()
    yield metrics.metric_set
    metrics.clear_metrics()


def test_every_fetch_records_its_latency_in_milliseconds(metric_set: dict[str, Any]) -> None:
    MeasuredFetcher(Source()).fetch("https://blog.example.net/post")

    assert metric_set["FetchLatency"]["Unit"] == "Milliseconds"
    assert len(metric_set["FetchLatency"]["Value"]) == 1
    assert "FetchFailedTransient" not in metric_set


@pytest.mark.parametrize(
    ("failure", "metric"),
    [
        (TransientFetchError("the source answered 503"), "FetchFailedTransient"),
        (PermanentFetchError("the source answered 404", 404), "FetchFailedPermanent"),
    ],
)
def test_a_failed_fetch_is_counted_by_kind_and_still_timed(
    metric_set: dict[str, Any], failure: Exception, metric: str
) -> None:
    with pytest.raises(type(failure)):
        MeasuredFetcher(Source(failure)).fetch("https://blog.example.net/post")

    assert metric_set[metric]["Value"] == [1.0]
    assert "FetchLatency" in metric_set


# ------------------------------------------------------------------------------ the plan


class Stored:
    """What the policy reads of the stored mention: when its last verification began."""

    def __init__(self, verified_at: str | None, fails: bool = False) -> None:
        self.verified_at = verified_at
        self.fails = fails

    def get(self, mention_id: str) -> Stored:
        if self.fails:
            raise TransientFetchError("DynamoDB is down too")
        return self


SENT_MS = 1_780_000_000_000  # 2026-05-28T20:26:40Z


def plan(error: Exception, stored: Stored, receive_count: int = 2) -> Retry:
    return plan_retry(
        error, mention_id="m1", repository=stored, sent_ms=str(SENT_MS), receive_count=receive_count, base_s=30
    )


def test_a_permanent_failure_is_given_up_for_the_dead_letter_queue() -> None:
    assert plan(ValueError("a bug"), Stored(None)) == Retry("give_up")


def test_a_transient_failure_waits_the_doubling_of_its_receive() -> None:
    assert plan(TransientFetchError("the source answered 503"), Stored(None), receive_count=3) == Retry("later", 120)


def test_a_copy_whose_mention_was_verified_after_it_was_sent_is_acknowledged() -> None:
    later = "2026-05-28T20:26:41+00:00"

    assert plan(TransientFetchError("503"), Stored(later)) == Retry("superseded")


def test_a_copy_sent_after_the_last_verification_is_retried() -> None:
    earlier = "2026-05-28T20:26:39+00:00"

    assert plan(TransientFetchError("503"), Stored(earlier)).action == "later"


def test_when_the_stored_mention_cannot_be_read_the_retry_goes_ahead_as_planned() -> None:
    assert plan(TransientFetchError("503"), Stored(None, fails=True), receive_count=1) == Retry("later", 30)
