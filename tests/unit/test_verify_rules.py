"""The verifier's rules end to end, on the in-memory repository with a fetcher that serves pages from a
dict: what is stored for a page that links, one that does not, a source that is gone or down, an owner's
verdict, a record that changed meanwhile, and when the owner is told about a held mention.
(The same pipeline behind the Lambda handler, SQS and DynamoDB Local: tests/integration/test_queue_and_verifier.py.)"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

import pytest

from linkback.errors import PermanentFetchError, TransientFetchError
from linkback.model import Protocol, Status, isoformat, mention_id
from linkback.spam.rules import SpamPolicy
from linkback.spam.screening import Screen
from linkback.store.memory import InMemoryRateLimiter, InMemoryRepository
from linkback.store.schema import MentionRecord
from linkback.verify.fetch import FetchedPage
from linkback.verify.pipeline import FetchBudget, Outcome, verify_mention

SITE = "https://example.com"
TARGET = f"{SITE}/2024/a-post"
SOURCE = "https://blog.example.net/reply"
SENDER_IP = "192.0.2.7"
T0 = datetime(2024, 5, 1, 12, 0, tzinfo=UTC)
HTML = "text/html; charset=utf-8"

LINKING_PAGE = f"""<!doctype html>
<html><head><title>A reply to a post</title></head>
<body><article><p>Some thoughts first. I read <a href="{TARGET}">this post about static sites</a>
twice, and here is why it changed how I publish.</p></article></body></html>"""

NOT_LINKING_PAGE = f"""<!doctype html>
<html><head><title>Elsewhere</title></head>
<body><p>A link to <a href="{SITE}/2024/another-post">another post</a> only.</p></body></html>"""


def at(minutes: float) -> datetime:
    return T0 + timedelta(minutes=minutes)


def page(text: str, *, status: int = 200, url: str = SOURCE) -> FetchedPage:
    return FetchedPage(url=url, status=status, content_type="text/html", text=text, truncated=False)


@dataclass
class Sources:
    """Stands in for the safe fetcher: a page, or a fetch error, per URL; counts the fetches, and can run
    something while a fetch is under way (an owner clicking meanwhile)."""

    pages: dict[str, FetchedPage | Exception] = field(default_factory=dict)
    fetched: list[str] = field(default_factory=list)
    during_fetch: Callable[[], None] | None = None

    def fetch(self, url: str, on_behalf_of: str = "") -> FetchedPage:
        self.fetched.append(url)
        if self.during_fetch is not None:
            self.during_fetch()
        answer = self.pages[url]
        if isinstance(answer, Exception):
            raise answer
        return answer


@dataclass
class Notifications:
    """Stands in for the notify queue: the ids of the held mentions the owner is to be told about."""

    sent: list[str] = field(default_factory=list)

    def __call__(self, mention_id: str) -> None:
        self.sent.append(mention_id)


@pytest.fixture
def repository() -> InMemoryRepository:
    return InMemoryRepository()


@pytest.fixture
def sources() -> Sources:
    return Sources()


def queued(repository: InMemoryRepository, source: str = SOURCE) -> str:
    """A mention as the intake stored it; its id."""
    record = MentionRecord(
        mention_id(source, TARGET),
        protocol=str(Protocol.WEBMENTION),
        source=source,
        target=TARGET,
        site=SITE,
        status=str(Status.QUEUED),
        received_at=isoformat(T0),
        updated_at=isoformat(T0),
        sender_ip=SENDER_IP,
    )
    assert repository.create(record)
    return record.pk


def verify(
    repository: InMemoryRepository,
    sources: Sources,
    identifier: str,
    *,
    now: datetime = T0,
    moderation: str = "auto",
    **options: object,
) -> Outcome:
    return verify_mention(identifier, repository=repository, fetcher=sources, moderation=moderation, now=now, **options)


def stored(repository: InMemoryRepository, identifier: str) -> MentionRecord:
    record = repository.get(identifier)
    assert record is not None
    return record


def public(repository: InMemoryRepository) -> list[str]:
    return [record.pk for record in repository.approved_for_target(TARGET, per_page=10, page=0)]


# --------------------------------------------------------------------------- verdicts


def test_a_page_linking_to_the_target_is_approved_with_its_title_and_excerpt(
    repository: InMemoryRepository, sources: Sources
) -> None:
    mention = queued(repository)
    sources.pages[SOURCE] = page(LINKING_PAGE)

    outcome = verify(repository, sources, mention)

    assert outcome.status == Status.APPROVED
    record = stored(repository, mention)
    assert (record.status, record.status_reason) == ("approved", "the source links to the target")
    assert record.title == "A reply to a post"
    assert record.excerpt is not None and "I read this post about static sites twice" in record.excerpt
    assert (record.fetch_status, record.fetched_url, record.attempts) == (200, SOURCE, 1)
    assert public(repository) == [mention]


def test_a_page_without_the_link_is_rejected_with_the_reason(repository: InMemoryRepository, sources: Sources) -> None:
    mention = queued(repository)
    sources.pages[SOURCE] = page(NOT_LINKING_PAGE)

    verify(repository, sources, mention)

    record = stored(repository, mention)
    assert (record.status, record.status_reason) == ("rejected", "the source does not link to the target")
    assert (record.title, record.excerpt) == (None, None)
    assert public(repository) == []


def test_manual_moderation_holds_a_linking_page_for_the_owner(repository: InMemoryRepository, sources: Sources) -> None:
    mention = queued(repository)
    sources.pages[SOURCE] = page(LINKING_PAGE)

    verify(repository, sources, mention, moderation="manual")

    assert stored(repository, mention).status == Status.PENDING
    assert [record.pk for record in repository.held_for_site(SITE)] == [mention]
    assert public(repository) == []


def test_an_approved_mention_whose_source_answers_410_is_deleted_by_its_source(
    repository: InMemoryRepository, sources: Sources
) -> None:
    # Given an approved mention
    mention = queued(repository)
    sources.pages[SOURCE] = page(LINKING_PAGE)
    verify(repository, sources, mention)
    # When its source is gone
    sources.pages[SOURCE] = PermanentFetchError("the source answered 410", status=410)
    verify(repository, sources, mention, now=at(60))
    # Then it is deleted, by its source, and no longer public
    record = stored(repository, mention)
    assert (record.status, record.deleted_by, record.deleted_at) == ("deleted", "source", isoformat(at(60)))
    assert (record.status_reason, record.fetch_status) == ("the source answered 410", 410)
    assert public(repository) == []


def test_a_mention_never_verified_whose_source_answers_410_is_rejected(
    repository: InMemoryRepository, sources: Sources
) -> None:
    mention = queued(repository)
    sources.pages[SOURCE] = PermanentFetchError("the source answered 410", status=410)

    verify(repository, sources, mention)

    record = stored(repository, mention)
    assert (record.status, record.status_reason, record.deleted_by) == ("rejected", "the source answered 410", None)


def test_an_unknown_mention_is_not_fetched(repository: InMemoryRepository, sources: Sources) -> None:
    outcome = verify(repository, sources, "0123456789abcdef0123456789abcdef")

    assert (outcome.status, outcome.reason) == (None, "no such mention")
    assert sources.fetched == []


# --------------------------------------------------------------------------- the owner's verdict and races


@pytest.mark.parametrize("verdict", [Status.SPAM, Status.DELETED])
def test_the_owners_verdict_stands_and_nothing_is_written(
    repository: InMemoryRepository, sources: Sources, verdict: Status
) -> None:
    mention = queued(repository)
    assert repository.decide_as_owner(stored(repository, mention), verdict, at(1), by="admin API")
    before = stored(repository, mention)
    sources.pages[SOURCE] = page(LINKING_PAGE)

    outcome = verify(repository, sources, mention, now=at(2))

    assert outcome.status is None
    assert sources.fetched == []
    after = stored(repository, mention)
    assert after.serialize() == before.serialize()  # not one attribute written
    assert public(repository) == []


def test_a_mention_that_changed_during_verification_is_not_written(
    repository: InMemoryRepository, sources: Sources
) -> None:
    # Given a queued mention whose source links, and an owner marking it spam while the verifier fetches
    mention = queued(repository)
    sources.pages[SOURCE] = page(LINKING_PAGE)
    sources.during_fetch = lambda: repository.decide_as_owner(
        stored(repository, mention), Status.SPAM, at(1), by="one-click link"
    )
    # When the verifier stores its verdict
    outcome = verify(repository, sources, mention, now=at(1))
    # Then the owner's decision stands, untouched by the verdict
    assert (outcome.status, outcome.reason) == (None, "the mention changed during verification")
    record = stored(repository, mention)
    assert (record.status, record.attempts, record.verified_at) == ("spam", 0, None)
    assert public(repository) == []


# --------------------------------------------------------------------------- sources that are down


def test_a_transient_fetch_error_records_a_failed_attempt_and_raises(
    repository: InMemoryRepository, sources: Sources
) -> None:
    mention = queued(repository)
    sources.pages[SOURCE] = TransientFetchError("the source answered 503")

    with pytest.raises(TransientFetchError):
        verify(repository, sources, mention)

    record = stored(repository, mention)
    assert (record.status, record.attempts, record.status_reason) == ("queued", 1, "the source answered 503")


def test_a_source_back_after_a_transient_error_is_verified(repository: InMemoryRepository, sources: Sources) -> None:
    mention = queued(repository)
    sources.pages[SOURCE] = TransientFetchError("the source answered 503")
    with pytest.raises(TransientFetchError):
        verify(repository, sources, mention)

    sources.pages[SOURCE] = page(LINKING_PAGE)
    verify(repository, sources, mention, now=at(1))

    record = stored(repository, mention)
    assert (record.status, record.attempts) == ("approved", 2)


def test_a_source_host_over_its_fetch_budget_is_not_fetched_and_retried_later(
    repository: InMemoryRepository, sources: Sources
) -> None:
    budget = FetchBudget(InMemoryRateLimiter(), per_minute=1)
    first, second = queued(repository, f"{SOURCE}/one"), queued(repository, f"{SOURCE}/two")
    sources.pages[f"{SOURCE}/one"] = sources.pages[f"{SOURCE}/two"] = page(LINKING_PAGE)
    verify(repository, sources, first, budget=budget)

    with pytest.raises(TransientFetchError):
        verify(repository, sources, second, budget=budget)

    assert sources.fetched == [f"{SOURCE}/one"]
    record = stored(repository, second)
    assert (record.status, record.attempts) == ("queued", 1)
    assert "fetch budget for blog.example.net" in (record.status_reason or "")


# --------------------------------------------------------------------------- telling the owner


def test_a_held_verdict_notifies_the_owner_once_even_if_verified_twice(
    repository: InMemoryRepository, sources: Sources
) -> None:
    notified = Notifications()
    mention = queued(repository)
    sources.pages[SOURCE] = page(LINKING_PAGE)

    verify(repository, sources, mention, moderation="manual", notify=notified)
    verify(repository, sources, mention, moderation="manual", notify=notified, now=at(5))  # the message again

    assert notified.sent == [mention]
    assert stored(repository, mention).attempts == 2


def test_an_approved_verdict_notifies_nobody(repository: InMemoryRepository, sources: Sources) -> None:
    notified = Notifications()
    mention = queued(repository)
    sources.pages[SOURCE] = page(LINKING_PAGE)

    verify(repository, sources, mention, notify=notified)

    assert notified.sent == []


# --------------------------------------------------------------------------- the spam step


def test_a_source_on_the_owners_block_list_is_marked_spam_and_counted_as_an_offence(
    repository: InMemoryRepository, sources: Sources
) -> None:
    repository.add_list_entry("block", "domain", "example.net", by="admin API", now=T0)
    screen = Screen(repository, SpamPolicy(own_sites=(SITE,)))
    mention = queued(repository)
    sources.pages[SOURCE] = page(LINKING_PAGE)

    verify(repository, sources, mention, screen=screen, now=at(1))

    record = stored(repository, mention)
    assert record.status == Status.SPAM
    assert "block list" in (record.status_reason or "")
    assert public(repository) == []
    assert repository.offences(SENDER_IP, "elsewhere.example", at(2)) == 1
