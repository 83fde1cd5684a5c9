"""The in-memory repository the rule tests run on: that it offers the store contract with the real
repository's signatures, keeps what it stores apart from the callers' objects as a table does, refreshes the
record a write was given, and stays atomic under threads. Its behaviours proper are checked against the
DynamoDB repository's in tests/integration/test_repository_contract.py; nothing here needs Java or AWS."""

from __future__ import annotations

import inspect
import os
import subprocess
import sys
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from linkback.model import Protocol, Status, Verdict, isoformat, mention_id
from linkback.store.contract import Limiter, MentionStore
from linkback.store.limits import RateLimiter
from linkback.store.memory import InMemoryRateLimiter, InMemoryRepository
from linkback.store.repository import MentionRepository
from linkback.store.schema import MentionRecord

SITE = "https://example.com"
TARGET = f"{SITE}/2024/a-post"
SOURCE = "https://blog.example.net/reply"
T0 = datetime(2024, 5, 1, 12, 0, tzinfo=UTC)
FUNCTIONS = Path(__file__).resolve().parents[2] / "functions"


def at(minutes: float) -> datetime:
    return T0 + timedelta(minutes=minutes)


def queued(source: str = SOURCE) -> MentionRecord:
    return MentionRecord(
        mention_id(source, TARGET),
        protocol=str(Protocol.WEBMENTION),
        source=source,
        target=TARGET,
        site=SITE,
        status=str(Status.QUEUED),
        received_at=isoformat(T0),
        updated_at=isoformat(T0),
    )


@pytest.fixture
def repository() -> InMemoryRepository:
    return InMemoryRepository()


def contract_methods(protocol: type) -> list[str]:
    return sorted(name for name, value in vars(protocol).items() if callable(value) and not name.startswith("_"))


# --------------------------------------------------------------------------- the same interface


def test_both_repositories_offer_the_store_contract() -> None:
    for implementation in (MentionRepository, InMemoryRepository):
        missing = [name for name in contract_methods(MentionStore) if not callable(getattr(implementation, name, None))]
        assert missing == [], implementation.__name__


def test_the_in_memory_repository_is_a_mention_store() -> None:
    assert isinstance(InMemoryRepository(), MentionStore)


@pytest.mark.parametrize("method", contract_methods(MentionStore))
def test_each_contract_method_has_the_real_repositorys_signature(method: str) -> None:
    real = inspect.signature(getattr(MentionRepository, method))

    assert inspect.signature(getattr(MentionStore, method)) == real
    assert inspect.signature(getattr(InMemoryRepository, method)) == real


@pytest.mark.parametrize("method", ["approved_for_target", "count_for_target", "create_site_token"])
def test_the_real_repositorys_other_methods_exist_in_memory_too(method: str) -> None:
    assert inspect.signature(getattr(InMemoryRepository, method)) == inspect.signature(
        getattr(MentionRepository, method)
    )


def test_both_rate_limiters_take_as_the_contract_says() -> None:
    assert isinstance(InMemoryRateLimiter(), Limiter)
    assert inspect.signature(InMemoryRateLimiter.take) == inspect.signature(RateLimiter.take)
    assert inspect.signature(Limiter.take) == inspect.signature(RateLimiter.take)


def test_the_contract_loads_neither_pynamodb_nor_boto3() -> None:
    # Handlers import it at cold start: in a fresh interpreter, importing it must not pull the AWS libraries.
    probe = "import sys, linkback.store.contract; print(sorted({'pynamodb', 'boto3', 'botocore'} & set(sys.modules)))"
    environment = {"PATH": os.environ.get("PATH", ""), "PYTHONPATH": str(FUNCTIONS)}
    loaded = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, env=environment, check=True)

    assert loaded.stdout.strip() == "[]"


def test_the_in_memory_repository_works_without_aws_settings(tmp_path: Path) -> None:
    probe = (
        "from datetime import datetime, UTC\n"
        "from linkback.store.memory import InMemoryRepository\n"
        "r = InMemoryRepository()\n"
        "print(r.claim_once('k', now=datetime.now(UTC), keep_s=60), r.was_claimed('k'))\n"
    )
    environment = {
        "PATH": os.environ.get("PATH", ""),
        "PYTHONPATH": str(FUNCTIONS),
        "HOME": str(tmp_path),
        "AWS_CONFIG_FILE": str(tmp_path / "none"),
        "AWS_SHARED_CREDENTIALS_FILE": str(tmp_path / "none"),
    }
    ran = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, env=environment, check=True)

    assert ran.stdout.strip() == "True True"


# --------------------------------------------------------------------------- stored apart, as in a table


def test_changing_a_record_that_was_read_changes_nothing_stored(repository: InMemoryRepository) -> None:
    repository.create(queued())
    read = repository.get(queued().pk)
    assert read is not None

    read.status = str(Status.APPROVED)
    read.spam_reasons.append("written on the object, never stored")

    again = repository.get(read.pk)
    assert again is not None
    assert (again.status, again.spam_reasons) == ("queued", [])


def test_changing_a_record_after_creating_it_changes_nothing_stored(repository: InMemoryRepository) -> None:
    record = queued()
    repository.create(record)

    record.title = "set after the put"

    stored = repository.get(record.pk)
    assert stored is not None and stored.title is None


def test_a_stale_read_stays_stale_after_a_write(repository: InMemoryRepository) -> None:
    repository.create(queued())
    first, second = repository.get(queued().pk), repository.get(queued().pk)
    assert first is not None and second is not None

    repository.record_verdict(first, Verdict(Status.PENDING, "held for moderation"), at(1))

    assert (first.status, first.held_at) == ("pending", isoformat(at(1)))
    assert (second.status, second.held_at) == ("queued", None)


def test_a_created_record_carries_the_index_keys_of_its_status(repository: InMemoryRepository) -> None:
    record = queued()
    record.status = str(Status.APPROVED)

    repository.create(record)

    assert (record.public_target, record.public_site, record.moderation_key) == (TARGET, SITE, None)


def test_the_stored_mentions_can_be_listed_without_list_entries_or_markers(repository: InMemoryRepository) -> None:
    repository.create(queued("https://blog.example.net/one"))
    repository.create(queued("https://blog.example.net/two"))
    repository.add_list_entry("block", "domain", "spam.example", by="admin API", now=T0)
    repository.claim_once("mail#x", now=T0, keep_s=60)
    repository.record_offence("192.0.2.7", "spam.example", T0)

    assert sorted(record.source for record in repository.mentions()) == [
        "https://blog.example.net/one",
        "https://blog.example.net/two",
    ]


# --------------------------------------------------------------------------- one step at a time


def test_concurrent_creates_of_one_mention_store_it_once(repository: InMemoryRepository) -> None:
    with ThreadPoolExecutor(max_workers=10) as pool:
        created = list(pool.map(lambda _: repository.create(queued()), range(50)))

    assert created.count(True) == 1
    assert len(repository.mentions()) == 1


def test_concurrent_verdicts_on_one_read_write_once(repository: InMemoryRepository) -> None:
    repository.create(queued())
    reads = [repository.get(queued().pk) for _ in range(20)]

    with ThreadPoolExecutor(max_workers=10) as pool:
        written = list(
            pool.map(lambda record: repository.record_verdict(record, Verdict(Status.APPROVED, "links"), at(1)), reads)
        )

    assert written.count(True) == 1
    stored = repository.get(queued().pk)
    assert stored is not None and stored.attempts == 1


def test_concurrent_uses_of_a_budget_are_counted_up_to_its_limit() -> None:
    limiter = InMemoryRateLimiter()

    with ThreadPoolExecutor(max_workers=10) as pool:
        answers = list(
            pool.map(
                lambda _: limiter.take("fetch", "example.net", limit=20, window_s=60, now=1_714_564_800.0), range(50)
            )
        )

    assert answers.count(None) == 20
