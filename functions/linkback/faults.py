"""Faults injected on purpose, for development and tests only: they prove that every effect of the
verifier happens exactly once although SQS delivers at least once.

`LINKBACK_FAULTS` (off unless set; the template never sets it), e.g. `after_fetch=2,after_write=1,
before_ack=1,dynamodb=8s`:
- `after_fetch=N`: the first N verifications die right after their source was fetched;
- `after_write=N`: the first N die right after their verdict was stored, before the owner is told;
- `before_ack=N`: the local poller loses its first N batches after the handler returned and before it
  deleted their messages, as a Lambda that timed out would;
- `dynamodb=Ns`: every DynamoDB call is throttled for N seconds from the first verification on.

A crash is an `InjectedCrash` raised out of the invocation: nothing the real code does catches it, so
the queue brings the whole batch back after its visibility timeout, as after an out-of-memory kill.
"""

from __future__ import annotations

import re
import threading
import time
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, fields
from typing import Any

from linkback.errors import InjectedCrash

__all__ = [
    "DYNAMODB_CALL",
    "THROTTLED",
    "FaultPlan",
    "Faults",
    "FaultyFetcher",
    "FaultyRepository",
    "InjectedCrash",
    "parse_faults",
]

THROTTLED = "ProvisionedThroughputExceededException"
# Every operation of a botocore DynamoDB client, before it is signed and sent.
DYNAMODB_CALL = "before-call.dynamodb"
_HOOK_ID = "linkback-injected-dynamodb-throttling"
_SECONDS = re.compile(r"(\d+(?:\.\d+)?)s?")
# The names LINKBACK_FAULTS uses → FaultPlan's fields.
_NAMES = {
    "after_fetch": "after_fetch",
    "after_write": "after_write",
    "before_ack": "before_ack",
    "dynamodb": "dynamodb_s",
}


@dataclass(frozen=True)
class FaultPlan:
    """What LINKBACK_FAULTS asks for; all zero (false) when nothing is injected."""

    after_fetch: int = 0
    after_write: int = 0
    before_ack: int = 0
    dynamodb_s: float = 0.0

    def __bool__(self) -> bool:
        return any(getattr(self, field.name) for field in fields(self))


def parse_faults(text: str) -> FaultPlan:
    """`after_fetch=2,after_write=1,before_ack=1,dynamodb=8s` → FaultPlan; "" → no faults.

    A typo raises ValueError: a fault that silently does not happen would make a test pass for nothing.
    """
    values: dict[str, Any] = {}
    for item in text.split(","):
        if not item.strip():
            continue
        name, equals, value = (part.strip() for part in item.partition("="))
        field_name = _NAMES.get(name)
        if not equals or field_name is None:
            raise ValueError(
                f"LINKBACK_FAULTS: {item.strip()!r} is not one of after_fetch=N, after_write=N, before_ack=N, "
                "dynamodb=Ns"
            )
        if field_name in values:
            raise ValueError(f"LINKBACK_FAULTS names {name} twice")
        if field_name == "dynamodb_s":
            seconds = _SECONDS.fullmatch(value)
            if seconds is None:
                raise ValueError(f"LINKBACK_FAULTS: dynamodb takes seconds, like dynamodb=8s, not {value!r}")
            values[field_name] = float(seconds.group(1))
        elif value.isdigit():
            values[field_name] = int(value)
        else:
            raise ValueError(f"LINKBACK_FAULTS: {name} takes a count, like {name}=1, not {value!r}")
    return FaultPlan(**values)


class Faults:
    """One process's faults (a Lambda instance, or the whole local stack): each is spent once per count,
    whichever thread reaches it first."""

    def __init__(self, plan: FaultPlan, clock: Callable[[], float] = time.monotonic) -> None:
        self.plan = plan
        self.injected: Counter[str] = Counter()  # what has happened so far, for logs and tests
        self._clock = clock
        self._lock = threading.Lock()
        self._outage_ends: float | None = None

    def _spend(self, fault: str, budget: int) -> bool:
        with self._lock:
            if self.injected[fault] >= budget:
                return False
            self.injected[fault] += 1
            return True

    def verification_started(self) -> None:
        """The DynamoDB outage starts with the first verification, so the intake before it still lands."""
        if self.plan.dynamodb_s:
            with self._lock:
                if self._outage_ends is None:
                    self._outage_ends = self._clock() + self.plan.dynamodb_s

    def after_fetch(self, source: str) -> None:
        if self._spend("after_fetch", self.plan.after_fetch):
            raise InjectedCrash(f"injected crash after fetching the source {source}")

    def after_write(self, mention_id: str) -> None:
        if self._spend("after_write", self.plan.after_write):
            raise InjectedCrash(f"injected crash after storing the verdict on {mention_id}")

    def loses_ack(self) -> bool:
        """True when this batch is to be lost before its messages are deleted."""
        return self._spend("before_ack", self.plan.before_ack)

    def dynamodb_down(self) -> bool:
        with self._lock:
            ends = self._outage_ends
        return ends is not None and self._clock() < ends

    def throttle(self, client: Any) -> None:
        """Make this botocore DynamoDB client fail every call as throttled while the outage lasts.

        Raised before the request is sent, as the ClientError botocore would raise for DynamoDB's own
        answer, so whatever wraps the client (pynamodb) surfaces it exactly as it would in AWS.
        """
        if not self.plan.dynamodb_s:
            return
        events = client.meta.events
        # One hook per client, and this process's: a client kept from an earlier plan drops the old one.
        events.unregister(DYNAMODB_CALL, unique_id=_HOOK_ID)
        events.register_first(DYNAMODB_CALL, self._before_call, unique_id=_HOOK_ID)

    def _before_call(self, model: Any, **_: Any) -> None:
        if not self.dynamodb_down():
            return
        from botocore.exceptions import ClientError

        with self._lock:
            self.injected["dynamodb"] += 1
        raise ClientError(
            {
                "Error": {"Code": THROTTLED, "Message": "injected: the level of configured provisioned throughput"},
                "ResponseMetadata": {"HTTPStatusCode": 400},
            },
            model.name,
        )


# The crashes wrap the verifier's adapters (wiring applies them), so the pipeline itself knows nothing of
# them: a crash "after fetching" is one raised as the fetch returns, "after writing" one raised as the
# verdict's conditional write returns having written.


class FaultyFetcher:
    """The fetcher, dying after a successful fetch while `after_fetch` lasts."""

    def __init__(self, fetcher: Any, faults: Faults) -> None:
        self.fetcher = fetcher
        self.faults = faults

    def fetch(self, url: str, on_behalf_of: str = "") -> Any:
        page = self.fetcher.fetch(url, on_behalf_of=on_behalf_of)
        self.faults.after_fetch(url)
        return page


class FaultyRepository:
    """The repository, dying after a stored verdict while `after_write` lasts; everything else passes."""

    def __init__(self, repository: Any, faults: Faults) -> None:
        self._repository = repository
        self.faults = faults

    def record_verdict(self, record: Any, verdict: Any, now: Any) -> bool:
        written = bool(self._repository.record_verdict(record, verdict, now))
        if written:
            self.faults.after_write(record.pk)
        return written

    def __getattr__(self, name: str) -> Any:
        return getattr(self._repository, name)
