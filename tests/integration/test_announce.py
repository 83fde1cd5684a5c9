"""Telling the owner about held mentions, against DynamoDB Local: one mail per hold with one-click links
that verify and expire, a daily digest per site instead, or nothing. Only SNS is replaced, by an outbox
that keeps what would have been published."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest

from linkback.model import Protocol, Status, Verdict, isoformat, mention_id
from linkback.moderation import oneclick
from linkback.notify.announcer import Announcer
from linkback.store.repository import MentionRepository
from linkback.store.schema import MentionRecord

from .conftest import REGION, SITE, Resources

OTHER_SITE = "https://blog.example.org"
QUIET_SITE = "https://quiet.example.net"
ADMIN_SECRET = "admin-secret-of-this-test"
API_URL = "https://api.example.com"
T0 = datetime(2024, 5, 1, 12, 0, tzinfo=UTC)
LINK = re.compile(r"^\s*(Approve|Spam|Delete): (\S+)$", re.MULTILINE)


def at(minutes: int) -> datetime:
    return T0 + timedelta(minutes=minutes)


# --------------------------------------------------------------------------- fixtures and helpers


@pytest.fixture
def repository(linkback_env: Resources) -> MentionRepository:
    return MentionRepository(linkback_env.table_name, REGION)


@dataclass
class Outbox:
    """The moderation topic: keeps each (subject, body) it is given."""

    mails: list[tuple[str, str]] = field(default_factory=list)

    def __call__(self, subject: str, body: str) -> None:
        self.mails.append((subject, body))


@pytest.fixture
def outbox() -> Outbox:
    return Outbox()


def announcer(repository: MentionRepository, outbox: Outbox, mode: str, **options: Any) -> Announcer:
    return Announcer(repository, admin_secret=ADMIN_SECRET, api_url=API_URL, mode=mode, publish=outbox, **options)


def held(repository: MentionRepository, name: str, *, site: str = SITE, verified: datetime = T0) -> MentionRecord:
    """A mention the verifier held for the owner, with the reasons it gave."""
    source = f"https://blog.example.net/{name}"
    target = f"{site}/2024/a-post"
    record = MentionRecord(
        mention_id(source, target),
        protocol=str(Protocol.WEBMENTION),
        source=source,
        target=target,
        site=site,
        status=str(Status.PENDING),
        status_reason="held for moderation: the page has only 90 characters of text",
        received_at=isoformat(verified - timedelta(minutes=1)),
        updated_at=isoformat(verified),
        verified_at=isoformat(verified),
        title=f"A reply called {name}",
        spam_score=2.5,
        spam_reasons=["thin_content: the page has only 90 characters of text (+1.5)"],
    )
    assert repository.create(record)
    stored = repository.get(record.pk)
    assert stored is not None
    return stored


def links_in(body: str) -> dict[str, str]:
    return {action.lower(): url for action, url in LINK.findall(body)}


def token_of(url: str) -> str:
    assert url.startswith(f"{API_URL}/admin/act?t=")
    return parse_qs(urlsplit(url).query)["t"][0]


def read_link(url: str, now: datetime, secret: str = ADMIN_SECRET) -> oneclick.OneClick:
    return oneclick.read(oneclick.link_key(secret), token_of(url), now=now.timestamp())


# --------------------------------------------------------------------------- one mail per hold


def test_a_held_mention_is_mailed_once(repository: MentionRepository, outbox: Outbox) -> None:
    mention = held(repository, "reply")
    each = announcer(repository, outbox, "each")

    first = each.announce(mention.pk, at(1))
    again = each.announce(mention.pk, at(2))  # the queue delivering the same message again

    assert (first, again) == (["mail"], [])
    assert len(outbox.mails) == 1


def test_the_mail_says_what_is_held_and_why(repository: MentionRepository, outbox: Outbox) -> None:
    mention = held(repository, "reply")

    announcer(repository, outbox, "each").announce(mention.pk, at(1))

    [(subject, body)] = outbox.mails
    assert "example.com" in subject
    assert "A reply called reply" in subject
    for detail in (mention.source, mention.target, mention.pk, "the page has only 90 characters of text"):
        assert detail in body


def test_a_mention_held_again_after_a_new_verification_is_mailed_again(
    repository: MentionRepository, outbox: Outbox
) -> None:
    mention = held(repository, "reply")
    each = announcer(repository, outbox, "each")
    each.announce(mention.pk, at(1))

    # The sender changed the page and sent again; the verifier held it again
    assert repository.record_verdict(mention, Verdict(status=Status.PENDING, reason="held again"), at(60))
    delivered = each.announce(mention.pk, at(61))

    assert delivered == ["mail"]
    assert len(outbox.mails) == 2


@pytest.mark.parametrize("decision", [Status.APPROVED, Status.SPAM, Status.DELETED])
def test_a_mention_decided_before_it_is_announced_is_not_mailed(
    repository: MentionRepository, outbox: Outbox, decision: Status
) -> None:
    mention = held(repository, "reply")
    repository.decide_as_owner(mention, decision, at(1), by="admin API")

    delivered = announcer(repository, outbox, "each").announce(mention.pk, at(2))

    assert delivered == []
    assert outbox.mails == []


def test_an_unknown_mention_is_not_mailed(repository: MentionRepository, outbox: Outbox) -> None:
    assert announcer(repository, outbox, "each").announce("0123456789abcdef0123456789abcdef", at(1)) == []
    assert outbox.mails == []


# --------------------------------------------------------------------------- one-click links


def test_the_mail_carries_one_signed_link_per_action_on_the_mention(
    repository: MentionRepository, outbox: Outbox
) -> None:
    mention = held(repository, "reply")

    announcer(repository, outbox, "each").announce(mention.pk, at(1))

    links = links_in(outbox.mails[0][1])
    assert set(links) == {"approve", "spam", "delete"}
    for action, url in links.items():
        click = read_link(url, at(2))
        assert (click.mention_id, click.action) == (mention.pk, action)


def test_each_link_has_its_own_nonce(repository: MentionRepository, outbox: Outbox) -> None:
    mention = held(repository, "reply")

    announcer(repository, outbox, "each").announce(mention.pk, at(1))

    nonces = {read_link(url, at(2)).nonce for url in links_in(outbox.mails[0][1]).values()}
    assert len(nonces) == 3


def test_a_link_expires_after_the_configured_hours(repository: MentionRepository, outbox: Outbox) -> None:
    mention = held(repository, "reply")
    sent = at(1)
    announcer(repository, outbox, "each", link_hours=2).announce(mention.pk, sent)
    approve = links_in(outbox.mails[0][1])["approve"]

    assert read_link(approve, sent + timedelta(hours=2, seconds=-1)).action == "approve"
    with pytest.raises(oneclick.InvalidLink) as refused:
        read_link(approve, sent + timedelta(hours=2))
    assert refused.value.reason == "expired"


def test_a_link_is_worthless_to_another_installation(repository: MentionRepository, outbox: Outbox) -> None:
    mention = held(repository, "reply")
    announcer(repository, outbox, "each").announce(mention.pk, at(1))

    with pytest.raises(oneclick.InvalidLink) as refused:
        read_link(links_in(outbox.mails[0][1])["approve"], at(2), secret="another installation's secret")

    assert refused.value.reason == "tampered"


# --------------------------------------------------------------------------- the digest


def test_in_digest_mode_a_held_mention_is_not_mailed_on_its_own(repository: MentionRepository, outbox: Outbox) -> None:
    mention = held(repository, "reply")

    assert announcer(repository, outbox, "digest").announce(mention.pk, at(1)) == []
    assert outbox.mails == []


def test_the_digest_sends_one_mail_per_site_with_held_mentions(repository: MentionRepository, outbox: Outbox) -> None:
    ours = [held(repository, "first"), held(repository, "second", verified=at(5))]
    theirs = held(repository, "elsewhere", site=OTHER_SITE)

    sent = announcer(repository, outbox, "digest").digest((SITE, OTHER_SITE, QUIET_SITE), at(60))

    assert sent == 2
    [(our_subject, our_body), (their_subject, their_body)] = outbox.mails
    assert "2 mentions held on example.com" in our_subject
    assert "1 mention held on blog.example.org" in their_subject
    for record in ours:
        assert record.source in our_body
    assert theirs.source not in our_body
    assert theirs.source in their_body


def test_the_digest_lists_only_mentions_still_held(repository: MentionRepository, outbox: Outbox) -> None:
    waiting = held(repository, "waiting")
    decided = held(repository, "decided")
    repository.decide_as_owner(decided, Status.APPROVED, at(1), by="admin API")

    announcer(repository, outbox, "digest").digest((SITE,), at(60))

    [(subject, body)] = outbox.mails
    assert "1 mention held" in subject
    assert waiting.source in body
    assert decided.source not in body


def test_the_digests_links_act_on_their_own_mentions(repository: MentionRepository, outbox: Outbox) -> None:
    first, second = held(repository, "first"), held(repository, "second", verified=at(5))

    announcer(repository, outbox, "digest").digest((SITE,), at(60))

    clicks = [read_link(url, at(61)) for _, url in LINK.findall(outbox.mails[0][1])]
    assert sorted((click.mention_id, click.action) for click in clicks) == sorted(
        (record.pk, action) for record in (first, second) for action in ("approve", "spam", "delete")
    )


def test_a_digest_with_nothing_held_sends_nothing(repository: MentionRepository, outbox: Outbox) -> None:
    held(repository, "elsewhere", site=OTHER_SITE)

    assert announcer(repository, outbox, "digest").digest((SITE, QUIET_SITE), at(60)) == 0
    assert outbox.mails == []


def test_in_each_mode_no_digest_is_sent(repository: MentionRepository, outbox: Outbox) -> None:
    held(repository, "reply")

    assert announcer(repository, outbox, "each").digest((SITE,), at(60)) == 0
    assert outbox.mails == []


# --------------------------------------------------------------------------- no mail at all


def test_with_mail_turned_off_nothing_is_ever_mailed(repository: MentionRepository, outbox: Outbox) -> None:
    mention = held(repository, "reply")
    silent = announcer(repository, outbox, "none")

    assert silent.announce(mention.pk, at(1)) == []
    assert silent.digest((SITE,), at(60)) == 0
    assert outbox.mails == []


def test_without_a_topic_nothing_is_mailed(repository: MentionRepository) -> None:
    mention = held(repository, "reply")
    unwired = Announcer(repository, admin_secret=ADMIN_SECRET, api_url=API_URL, mode="each", publish=None)

    assert unwired.announce(mention.pk, at(1)) == []
    assert not repository.was_claimed(f"mail#{mention.pk}#{mention.verified_at}")
