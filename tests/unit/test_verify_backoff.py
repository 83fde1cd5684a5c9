"""The verify handler's retry policy: which failures wait and come back (a source's passing failure,
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

from handlers.verify import RETRY_CAP_S, MeasuredFetcher, is_transient, retry_delay_s
from linkback import wiring
from linkback.errors import PermanentFetchError, TransientFetchError
from linkback.faults import Faults, parse_faults
from linkback.observability import metrics
from linkback.store.queue import InvalidMessage
from linkback.verify.fetch import FetchedPage


@pytest.fixture
def retry_seconds(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    monkeypatch.setenv("LINKBACK_VERIFY_RETRY_SECONDS", "30")
    wiring.reset()
    yield
    monkeypatch.delenv("LINKBACK_VERIFY_RETRY_SECONDS")
    wiring.reset()


def test_each_retry_waits_twice_as_long_as_the_one_before_up_to_a_quarter_hour(retry_seconds: None) -> None:
    assert [retry_delay_s(receive) for receive in range(1, 8)] == [30, 60, 120, 240, 480, 900, 900]
    assert RETRY_CAP_S == 900


def test_without_a_configured_back_off_the_queues_visibility_timeout_decides(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("LINKBACK_VERIFY_RETRY_SECONDS", raising=False)
    wiring.reset()

    assert retry_delay_s(3) == 0


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
