"""Akismet in the local stack: `linkback dev --akismet-key ... --akismet-url ...` against a local server
speaking Akismet's protocol. The verifier asks it about each mention, its "spam" decides, the owner's
overrulings are reported back, and an Akismet that fails never holds up verification.

The spam rules' own scores may move; these tests lean only on what Akismet's +6 decides by itself and
on what was sent to Akismet. Each test sends from, and serves its page on, a loopback address of its own:
spam recorded by one test would otherwise count against the next one's sender (repeat_offender).
"""

from __future__ import annotations

import functools
import itertools
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

import pytest
import requests
from requests.adapters import HTTPAdapter

from linkback_infra.akismet_server import AkismetRequest, AkismetServer
from linkback_infra.loopback_site import LoopbackSite

from .conftest import DevStack, start_dev, stop_dev
from .conftest import eventually as wait_until

WAIT_S = 20
HTML = "text/html; charset=utf-8"
SITE = "https://example.com"
SPAM_WORD = "casino-bonus"


@pytest.fixture(scope="module")
def akismet() -> Iterator[AkismetServer]:
    with AkismetServer(spam_words=(SPAM_WORD,)) as server:
        yield server


@pytest.fixture(scope="module")
def stack(tmp_path_factory: pytest.TempPathFactory, akismet: AkismetServer) -> Iterator[DevStack]:
    started = start_dev(
        tmp_path_factory.mktemp("akismet"), "--akismet-key", akismet.api_key, "--akismet-url", akismet.endpoint_url
    )
    yield started
    stop_dev(started)


class FromAddress(HTTPAdapter):
    """Connections made from one local address: the sender's IP the stack sees."""

    def __init__(self, address: str) -> None:
        self.address = address
        super().__init__()

    def init_poolmanager(self, *args: Any, **kwargs: Any) -> None:
        super().init_poolmanager(*args, **{**kwargs, "source_address": (self.address, 0)})


@dataclass
class Sender:
    """Someone else's blog on its own loopback address: its pages, and webmentions sent from there."""

    address: str
    site: LoopbackSite
    session: requests.Session


_ADDRESSES = (f"127.0.0.{n}" for n in itertools.count(2))


@pytest.fixture
def newcomer() -> Iterator[Callable[[], Sender]]:
    """Makes senders no earlier test has used."""
    made: list[Sender] = []

    def make() -> Sender:
        address = next(_ADDRESSES)
        session = requests.Session()
        session.mount("http://", FromAddress(address))
        made.append(Sender(address, LoopbackSite(host=address), session))
        return made[-1]

    yield make
    for sender in made:
        sender.site.stop()
        sender.session.close()


@pytest.fixture
def failing_akismet(akismet: AkismetServer) -> Iterator[AkismetServer]:
    akismet.fail_with = 500
    yield akismet
    akismet.fail_with = None


eventually = functools.partial(wait_until, timeout=WAIT_S)


# A page selling something, in the words Akismet (here: the local server's spam word) knows, and no
# authorship markup to speak for it.
SPAM_PAGE = (
    "<!doctype html><title>Big wins tonight</title><body><p>Claim your {word} now: the biggest welcome offer of "
    'the season is waiting, as <a href="{target}">this post</a> says, and it ends at midnight.</p></body>'
)
# Someone's considered reply, signed with an h-entry and an author.
REPLY_PAGE = (
    '<!doctype html><title>On static sites</title><body><article class="h-entry">'
    '<p class="p-author h-card"><a class="u-url p-name" href="/">Zoë Example</a></p>'
    '<div class="e-content"><p>I have been thinking about what <a href="{target}">this post</a> says about '
    "static sites and the conversation between blogs. Comments do not need a database of their own; a "
    "small verifier and a queue are enough, and the mentions stay with the site that received them.</p>"
    "</div></article></body>"
)


def mention_from(
    stack: DevStack, sender: Sender, name: str, page: str, *, site: LoopbackSite | None = None
) -> dict[str, Any]:
    """Send a webmention from `sender` about its page (or one on `site`) that links to a post; the mention's
    admin document once verified."""
    site = site or sender.site
    target = f"{SITE}/posts/{name}/"
    site.pages[f"/{name}"] = (200, HTML, page.format(word=SPAM_WORD, target=target))
    response = sender.session.post(
        f"{stack.base_url}/webmention", data={"source": site.url(f"/{name}"), "target": target}, timeout=10
    )
    assert response.status_code == 201, response.text
    mention_id = response.headers["Location"].rsplit("/", 1)[1]

    def verified() -> dict[str, Any] | None:
        document = stack.admin("GET", f"/admin/mentions/{mention_id}").json()["mention"]
        return document if document["status"] != "queued" else None

    document: dict[str, Any] | None = eventually(verified)
    assert document, stack.output.read_text()[-3000:]
    return document


def sent_about(akismet: AkismetServer, method: str, mention: dict[str, Any]) -> list[AkismetRequest]:
    return [r for r in akismet.received_for(method) if r.form.get("comment_author_url") == mention["source"]]


# --------------------------------------------------------------------------- asking Akismet


def test_a_mention_akismet_calls_spam_is_spam_and_says_so(
    stack: DevStack, newcomer: Callable[[], Sender], akismet: AkismetServer
) -> None:
    mention = mention_from(stack, newcomer(), "casino", SPAM_PAGE)

    assert mention["status"] == "spam", mention
    assert any("Akismet says spam" in reason for reason in mention["spam_reasons"]), mention["spam_reasons"]


def test_akismet_is_asked_about_the_sender_the_source_and_the_target(
    stack: DevStack, newcomer: Callable[[], Sender], akismet: AkismetServer
) -> None:
    # Given a page on one host, announced by a sender on another
    host, sender = newcomer(), newcomer()

    mention = mention_from(stack, sender, "asked", SPAM_PAGE, site=host.site)

    [check] = sent_about(akismet, "comment-check", mention)
    assert check.form["api_key"] == akismet.api_key
    assert check.form["blog"] == SITE
    assert check.form["comment_type"] == "webmention"
    assert check.form["user_ip"] == sender.address  # who sent the webmention, not where the page is
    assert check.form["permalink"] == mention["target"]
    assert check.form["comment_author_url"] == mention["source"]
    assert SPAM_WORD in check.form["comment_content"]


def test_a_mention_akismet_calls_ham_is_published(
    stack: DevStack, newcomer: Callable[[], Sender], akismet: AkismetServer
) -> None:
    mention = mention_from(stack, newcomer(), "reply", REPLY_PAGE)

    assert mention["status"] == "approved", mention
    assert any("Akismet says not spam" in reason for reason in mention["spam_reasons"]), mention["spam_reasons"]


# --------------------------------------------------------------------------- telling Akismet it was wrong


def test_the_owner_approving_akismets_spam_reports_it_as_ham(
    stack: DevStack, newcomer: Callable[[], Sender], akismet: AkismetServer
) -> None:
    sender = newcomer()
    mention = mention_from(stack, sender, "overruled-spam", SPAM_PAGE)
    assert mention["status"] == "spam"

    response = stack.admin("POST", f"/admin/mentions/{mention['id']}/approve")

    assert response.status_code == 200, response.text
    [ham] = sent_about(akismet, "submit-ham", mention)
    assert ham.form["api_key"] == akismet.api_key
    assert ham.form["permalink"] == mention["target"]
    assert ham.form["user_ip"] == sender.address
    assert sent_about(akismet, "submit-spam", mention) == []


def test_the_owner_marking_ham_as_spam_reports_it_as_spam(
    stack: DevStack, newcomer: Callable[[], Sender], akismet: AkismetServer
) -> None:
    mention = mention_from(stack, newcomer(), "overruled-ham", REPLY_PAGE)
    assert mention["status"] == "approved"

    response = stack.admin("POST", f"/admin/mentions/{mention['id']}/spam")

    assert response.status_code == 200, response.text
    [spam] = sent_about(akismet, "submit-spam", mention)
    assert spam.form["comment_type"] == "webmention"
    assert spam.form["permalink"] == mention["target"]
    assert sent_about(akismet, "submit-ham", mention) == []


def test_the_owner_agreeing_with_akismet_reports_nothing(
    stack: DevStack, newcomer: Callable[[], Sender], akismet: AkismetServer
) -> None:
    mention = mention_from(stack, newcomer(), "agreed", SPAM_PAGE)

    stack.admin("POST", f"/admin/mentions/{mention['id']}/delete")

    assert sent_about(akismet, "submit-ham", mention) == sent_about(akismet, "submit-spam", mention) == []


# --------------------------------------------------------------------------- Akismet failing


def test_a_failing_akismet_does_not_hold_up_verification(
    stack: DevStack, newcomer: Callable[[], Sender], failing_akismet: AkismetServer
) -> None:
    mention = mention_from(stack, newcomer(), "akismet-down", REPLY_PAGE)

    # Akismet was asked, failed, and its silence counted for nothing
    assert sent_about(failing_akismet, "comment-check", mention)
    assert mention["status"] == "approved", mention
    assert any("Akismet unavailable" in reason for reason in mention["spam_reasons"]), mention["spam_reasons"]
