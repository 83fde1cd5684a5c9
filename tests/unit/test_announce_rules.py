"""Telling the owner about held mentions (`notify.Announcer`) on the in-memory repository, the moderation topic
replaced by an outbox: one mail per hold, however often the message comes, and none for what was decided
meanwhile. (Against DynamoDB Local, with the one-click links: tests/integration/test_announce.py.)"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

import pytest

from linkback.model import Protocol, Status, Verdict, isoformat, mention_id
from linkback.notify.announcer import Announcer
from linkback.store.memory import InMemoryRepository
from linkback.store.schema import MentionRecord

SITE = "https://example.com"
OTHER_SITE = "https://blog.example.org"
ADMIN_SECRET = "admin-secret-of-this-test"
API_URL = "https://api.example.com"
T0 = datetime(2024, 5, 1, 12, 0, tzinfo=UTC)
HELD_BECAUSE = "held for moderation: the page has only 90 characters of text"
THIN_CONTENT = "thin_content: the page has only 90 characters of text (+1.5)"


def at(minutes: int) -> datetime:
    return T0 + timedelta(minutes=minutes)


@dataclass
class Outbox:
    """The moderation topic: keeps each (subject, body) it is given, or fails as SNS can."""

    mails: list[tuple[str, str]] = field(default_factory=list)
    failing: bool = False

    def __call__(self, subject: str, body: str) -> None:
        if self.failing:
            raise ConnectionError("SNS is unreachable")
        self.mails.append((subject, body))


@pytest.fixture
def repository() -> InMemoryRepository:
    return InMemoryRepository()


@pytest.fixture
def outbox() -> Outbox:
    return Outbox()


def announcer(repository: InMemoryRepository, outbox: Outbox, mode: str = "each") -> Announcer:
    return Announcer(repository, admin_secret=ADMIN_SECRET, api_url=API_URL, mode=mode, publish=outbox)


def held(repository: InMemoryRepository, name: str = "reply", *, site: str = SITE, now: datetime = T0) -> str:
    """A mention the verifier held for the owner, as the verifier stores it; its id."""
    source = f"https://blog.example.net/{name}"
    target = f"{site}/2024/a-post"
    record = MentionRecord(
        mention_id(source, target),
        protocol=str(Protocol.WEBMENTION),
        source=source,
        target=target,
        site=site,
        status=str(Status.QUEUED),
        received_at=isoformat(now - timedelta(minutes=1)),
        updated_at=isoformat(now - timedelta(minutes=1)),
    )
    assert repository.create(record)
    hold = Verdict(
        Status.PENDING, HELD_BECAUSE, title=f"A reply called {name}", spam_score=2.5, spam_reasons=(THIN_CONTENT,)
    )
    assert repository.record_verdict(record, hold, now)
    return record.pk


def stored(repository: InMemoryRepository, identifier: str) -> MentionRecord:
    record = repository.get(identifier)
    assert record is not None
    return record


# --------------------------------------------------------------------------- one mail per hold


def test_a_held_mention_is_mailed_once(repository: InMemoryRepository, outbox: Outbox) -> None:
    mention = held(repository)

    delivered = announcer(repository, outbox).announce(mention, at(1))

    assert delivered == ["mail"]
    assert len(outbox.mails) == 1


def test_a_redelivered_message_does_not_mail_twice(repository: InMemoryRepository, outbox: Outbox) -> None:
    mention = held(repository)
    each = announcer(repository, outbox)
    each.announce(mention, at(1))

    again = each.announce(mention, at(2))  # the queue delivering the same message again

    assert again == []
    assert len(outbox.mails) == 1


def test_the_mail_says_what_is_held_and_why(repository: InMemoryRepository, outbox: Outbox) -> None:
    mention = held(repository)

    announcer(repository, outbox).announce(mention, at(1))

    [(subject, body)] = outbox.mails
    assert "example.com" in subject
    assert "A reply called reply" in subject
    record = stored(repository, mention)
    for detail in (record.source, record.target, record.pk, "the page has only 90 characters of text"):
        assert detail in body


def test_a_mention_verified_again_while_still_held_is_not_mailed_again(
    repository: InMemoryRepository, outbox: Outbox
) -> None:
    mention = held(repository)
    each = announcer(repository, outbox)
    each.announce(mention, at(1))

    assert repository.record_verdict(stored(repository, mention), Verdict(Status.PENDING, HELD_BECAUSE), at(30))
    delivered = each.announce(mention, at(31))

    assert delivered == []
    assert len(outbox.mails) == 1


def test_a_mention_held_anew_after_it_was_rejected_is_mailed_again(
    repository: InMemoryRepository, outbox: Outbox
) -> None:
    # Given a held mention the owner was told about, whose source then dropped the link
    mention = held(repository)
    each = announcer(repository, outbox)
    each.announce(mention, at(1))
    assert repository.record_verdict(stored(repository, mention), Verdict(Status.REJECTED, "no link"), at(10))
    # When the sender sends it again and the verifier holds it again
    assert repository.update_resend(stored(repository, mention), status=Status.QUEUED, fields={}, now=at(20))
    assert repository.record_verdict(stored(repository, mention), Verdict(Status.PENDING, HELD_BECAUSE), at(21))
    delivered = each.announce(mention, at(22))
    # Then this new hold is mailed too
    assert delivered == ["mail"]
    assert len(outbox.mails) == 2


def test_a_mail_that_could_not_be_sent_is_sent_when_the_message_comes_again(
    repository: InMemoryRepository, outbox: Outbox
) -> None:
    mention = held(repository)
    each = announcer(repository, outbox)
    outbox.failing = True
    with pytest.raises(ConnectionError):
        each.announce(mention, at(1))
    outbox.failing = False

    delivered = each.announce(mention, at(2))

    assert delivered == ["mail"]
    assert len(outbox.mails) == 1


# --------------------------------------------------------------------------- nothing to ask


@pytest.mark.parametrize("decision", [Status.APPROVED, Status.SPAM, Status.DELETED])
def test_a_mention_decided_before_it_is_announced_is_not_mailed(
    repository: InMemoryRepository, outbox: Outbox, decision: Status
) -> None:
    mention = held(repository)
    assert repository.decide_as_owner(stored(repository, mention), decision, at(1), by="admin API")

    delivered = announcer(repository, outbox).announce(mention, at(2))

    assert delivered == []
    assert outbox.mails == []


def test_an_unknown_mention_is_not_mailed(repository: InMemoryRepository, outbox: Outbox) -> None:
    assert announcer(repository, outbox).announce("0123456789abcdef0123456789abcdef", at(1)) == []
    assert outbox.mails == []


def test_with_mail_turned_off_nothing_is_ever_mailed(repository: InMemoryRepository, outbox: Outbox) -> None:
    mention = held(repository)
    silent = announcer(repository, outbox, "none")

    assert silent.announce(mention, at(1)) == []
    assert silent.digest((SITE,), at(60)) == 0
    assert outbox.mails == []


# --------------------------------------------------------------------------- the digest


def test_the_digest_sends_one_mail_per_site_listing_what_is_still_held(
    repository: InMemoryRepository, outbox: Outbox
) -> None:
    waiting = held(repository, "waiting")
    decided = held(repository, "decided", now=at(5))
    assert repository.decide_as_owner(stored(repository, decided), Status.APPROVED, at(6), by="admin API")
    elsewhere = held(repository, "elsewhere", site=OTHER_SITE)

    sent = announcer(repository, outbox, "digest").digest((SITE, OTHER_SITE, "https://quiet.example.net"), at(60))

    assert sent == 2
    [(our_subject, our_body), (their_subject, their_body)] = outbox.mails
    assert "1 mention held on example.com" in our_subject
    assert stored(repository, waiting).source in our_body
    assert stored(repository, decided).source not in our_body
    assert "1 mention held on blog.example.org" in their_subject
    assert stored(repository, elsewhere).source in their_body


def test_in_digest_mode_a_held_mention_is_not_mailed_on_its_own(repository: InMemoryRepository, outbox: Outbox) -> None:
    mention = held(repository)

    assert announcer(repository, outbox, "digest").announce(mention, at(1)) == []
    assert outbox.mails == []
