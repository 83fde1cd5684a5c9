"""LINKBACK_FAULTS: how a fault plan is written, that each fault happens exactly as often as asked
(whichever thread reaches it), and that the DynamoDB outage looks to botocore's callers like AWS's own
throttling. No network: the botocore client below points at a closed port and is answered by hooks."""

from __future__ import annotations

import threading
from pathlib import Path
from typing import Any

import botocore.session
import pytest
from botocore.awsrequest import AWSResponse
from botocore.exceptions import ClientError

from linkback.config import Settings
from linkback.faults import THROTTLED, FaultPlan, Faults, InjectedCrash, parse_faults

TEMPLATE = Path(__file__).resolve().parents[2] / "template.yaml"


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


# ------------------------------------------------------------------------------------ the plan


def test_no_fault_is_injected_when_the_variable_is_unset() -> None:
    assert not Settings.from_environ({"LINKBACK_SITES": "https://example.com"}).faults


def test_a_plan_names_each_fault_with_its_count_and_the_outage_in_seconds() -> None:
    plan = parse_faults("after_fetch=2,after_write=1,before_ack=1,dynamodb=8s")

    assert plan == FaultPlan(after_fetch=2, after_write=1, before_ack=1, dynamodb_s=8.0)


def test_the_settings_read_the_plan_from_linkback_faults() -> None:
    settings = Settings.from_environ({"LINKBACK_SITES": "https://example.com", "LINKBACK_FAULTS": "before_ack=3"})

    assert settings.faults == FaultPlan(before_ack=3)


@pytest.mark.parametrize(("text", "seconds"), [("dynamodb=30", 30.0), ("dynamodb=1.5s", 1.5), (" dynamodb = 2s ", 2.0)])
def test_the_outage_takes_whole_or_fractional_seconds_with_or_without_the_unit(text: str, seconds: float) -> None:
    assert parse_faults(text) == FaultPlan(dynamodb_s=seconds)


def test_an_empty_plan_injects_nothing() -> None:
    assert not parse_faults(" , ")
    assert parse_faults("after_write=1")


@pytest.mark.parametrize(
    "text",
    [
        "after_fech=1",  # a typo must not silently test nothing
        "after_fetch",
        "after_fetch=-1",
        "after_fetch=two",
        "dynamodb=8m",
        "after_fetch=1,after_fetch=2",
        "dynamodb_s=8",
    ],
)
def test_a_plan_that_cannot_be_read_is_refused(text: str) -> None:
    with pytest.raises(ValueError, match="LINKBACK_FAULTS"):
        parse_faults(text)


def test_the_template_never_sets_faults() -> None:
    # Faults are for development and tests: a deployed stack must not be able to inject them.
    assert "LINKBACK_FAULTS" not in TEMPLATE.read_text(encoding="utf-8")


# ------------------------------------------------------------------------------------ crashes


def test_a_crash_after_fetch_happens_on_the_first_n_verifications_only() -> None:
    faults = Faults(parse_faults("after_fetch=2"))

    for mention in ("m1", "m2"):
        with pytest.raises(InjectedCrash, match=mention):
            faults.after_fetch(mention)
    faults.after_fetch("m3")  # spent: the third verification goes on

    assert faults.injected["after_fetch"] == 2


def test_a_crash_after_write_is_independent_of_the_crash_after_fetch() -> None:
    faults = Faults(parse_faults("after_write=1"))

    faults.after_fetch("m1")
    with pytest.raises(InjectedCrash, match="after storing the verdict"):
        faults.after_write("m1")
    faults.after_write("m2")


def test_lost_acknowledgements_are_counted_per_batch() -> None:
    faults = Faults(parse_faults("before_ack=2"))

    assert [faults.loses_ack() for _ in range(4)] == [True, True, False, False]


def test_concurrent_verifications_spend_a_count_exactly_once_each() -> None:
    # Given a batch verified on many threads at once and three crashes to inject
    faults = Faults(parse_faults("after_fetch=3"))
    crashed: list[str] = []
    start = threading.Barrier(40)

    def verify(number: int) -> None:
        start.wait()
        try:
            faults.after_fetch(f"m{number}")
        except InjectedCrash:
            crashed.append(f"m{number}")

    threads = [threading.Thread(target=verify, args=(number,)) for number in range(40)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=5)
    # Then exactly three of them crashed
    assert len(crashed) == 3


# ------------------------------------------------------------------------------------ DynamoDB


def test_the_outage_starts_at_the_first_verification_and_lasts_its_seconds() -> None:
    clock = Clock()
    faults = Faults(parse_faults("dynamodb=30s"), clock=clock)
    # Before any verification (the intake), DynamoDB answers
    assert not faults.dynamodb_down()
    faults.verification_started()
    clock.now += 29.9
    faults.verification_started()  # a later verification does not push the end back
    assert faults.dynamodb_down()
    clock.now += 0.2
    assert not faults.dynamodb_down()


def test_without_an_outage_in_the_plan_verifications_never_start_one() -> None:
    faults = Faults(parse_faults("after_fetch=1"))
    faults.verification_started()

    assert not faults.dynamodb_down()


def dynamodb_client() -> Any:
    """A real botocore DynamoDB client whose calls never leave the process: a closed port, and a
    last hook that answers every call that gets that far with an empty table list."""
    client = botocore.session.get_session().create_client(
        "dynamodb",
        region_name="us-east-1",
        endpoint_url="http://127.0.0.1:9",
        aws_access_key_id="local",
        aws_secret_access_key="local",
    )

    def answer(**_: Any) -> tuple[AWSResponse, dict[str, Any]]:
        return AWSResponse("http://127.0.0.1:9", 200, {}, None), {"TableNames": []}

    client.meta.events.register_last("before-call.dynamodb", answer)
    return client


def test_a_throttled_client_fails_every_call_as_dynamodb_does_when_throttling() -> None:
    # Given a client under an outage that has begun
    faults = Faults(parse_faults("dynamodb=5s"), clock=Clock())
    client = dynamodb_client()
    faults.throttle(client)
    faults.verification_started()
    # When it calls DynamoDB
    with pytest.raises(ClientError) as raised:
        client.list_tables()
    # Then it gets the error code DynamoDB answers with, and the outage counted it
    assert raised.value.response["Error"]["Code"] == THROTTLED == "ProvisionedThroughputExceededException"
    assert raised.value.operation_name == "ListTables"
    assert faults.injected["dynamodb"] == 1


def test_a_throttled_client_answers_again_once_the_outage_is_over() -> None:
    clock = Clock()
    faults = Faults(parse_faults("dynamodb=5s"), clock=clock)
    client = dynamodb_client()
    faults.throttle(client)
    faults.verification_started()
    clock.now += 5

    assert client.list_tables() == {"TableNames": []}


def test_throttling_a_client_twice_keeps_only_the_latest_plans_hook() -> None:
    # Given a client throttled by an earlier plan whose outage never started, then by a new one
    earlier = Faults(parse_faults("dynamodb=5s"), clock=Clock())
    latest = Faults(parse_faults("dynamodb=5s"), clock=Clock())
    client = dynamodb_client()
    earlier.throttle(client)
    latest.throttle(client)
    # When only the earlier plan's outage starts, the client is not throttled
    earlier.verification_started()
    assert client.list_tables() == {"TableNames": []}
    # and the latest plan's outage throttles it
    latest.verification_started()
    with pytest.raises(ClientError):
        client.list_tables()
