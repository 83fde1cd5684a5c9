"""The Akismet client against a local server speaking Akismet's protocol: verdicts, failures, what is sent."""

from __future__ import annotations

import time
from collections.abc import Iterator
from dataclasses import replace

import pytest
import requests

from linkback.spam.akismet import (
    AkismetClient,
    AkismetQuery,
    AkismetUnavailable,
    AkismetVerdict,
    akismet_finding,
    ask_akismet,
)
from linkback_infra.akismet_server import AkismetServer

KEY = "a1b2c3d4e5f6"
BLOG = "https://example.com"
POST = "https://example.com/2024/05/static-sites-revisited/"

TRACKBACK = AkismetQuery(
    blog=BLOG,
    user_ip="203.0.113.7",
    user_agent="WordPress/6.5.3; https://other.example",
    permalink=POST,
    comment_type="trackback",
    comment_author="Other Blog",
    comment_author_url="https://other.example/2024/05/a-reply/",
    comment_content="<strong>A reply</strong>\n\nStatic sites can take comments after all.",
    comment_date_gmt="2024-05-04T10:11:12Z",
)
PINGBACK = replace(
    TRACKBACK,
    user_ip="198.51.100.23",
    user_agent="The Incutio XML-RPC PHP Library -- WordPress/6.5.3",
    comment_type="pingback",
    comment_author="A reply | Other Blog",
    comment_content="[…] as the post on static sites says […]",
)
WEBMENTION = replace(
    TRACKBACK,
    user_ip="2001:db8::5",
    user_agent="Bridgy (https://brid.gy/about)",
    comment_type="webmention",
    comment_author="Jane Example",
    comment_author_url="https://jane.example/notes/42",
    comment_content="Liked this post about static sites.",
    comment_date_gmt=None,
    referrer="https://jane.example/",
    is_test=True,
)
SPAM_DOMAIN = "https://cheap-pills.example"


@pytest.fixture
def akismet() -> Iterator[AkismetServer]:
    with AkismetServer(KEY, spam_urls={SPAM_DOMAIN}, spam_words={"casino"}) as server:
        yield server


@pytest.fixture
def client(akismet: AkismetServer) -> Iterator[AkismetClient]:
    client = AkismetClient(KEY, endpoint=akismet.endpoint_url, timeout_s=2.0)
    yield client
    client.close()


# --------------------------------------------------------------------------- comment-check


def test_an_ordinary_mention_is_not_spam(client: AkismetClient) -> None:
    assert client.comment_check(TRACKBACK) == AkismetVerdict(spam=False, discard=False)


def test_the_guaranteed_spam_author_is_spam(client: AkismetClient) -> None:
    # Given Akismet's documented test value as the author
    query = replace(PINGBACK, comment_author="akismet-guaranteed-spam")

    assert client.comment_check(query) == AkismetVerdict(spam=True, discard=False)


def test_a_source_on_a_spam_domain_is_spam(client: AkismetClient) -> None:
    query = replace(WEBMENTION, comment_author_url=f"{SPAM_DOMAIN}/buy-now")

    assert client.comment_check(query).spam


def test_a_spam_word_in_the_content_is_spam(client: AkismetClient) -> None:
    query = replace(TRACKBACK, comment_content="Best online Casino bonuses")

    assert client.comment_check(query).spam


def test_the_discard_tip_marks_blatant_spam(akismet: AkismetServer, client: AkismetClient) -> None:
    # Given Akismet sends `X-akismet-pro-tip: discard` with its spam answers
    akismet.discard = True

    verdict = client.comment_check(replace(TRACKBACK, comment_author="akismet-guaranteed-spam"))

    assert verdict == AkismetVerdict(spam=True, discard=True)


def test_the_discard_tip_never_turns_ham_into_spam(akismet: AkismetServer, client: AkismetClient) -> None:
    akismet.discard = True

    assert client.comment_check(TRACKBACK) == AkismetVerdict(spam=False, discard=False)


# --------------------------------------------------------------------------- failures


def test_an_invalid_key_makes_akismet_unavailable_with_its_debug_help(akismet: AkismetServer) -> None:
    client = AkismetClient("not-the-key", endpoint=akismet.endpoint_url, timeout_s=2.0)

    with pytest.raises(AkismetUnavailable, match=r"invalid.*Invalid API key"):
        client.comment_check(TRACKBACK)


def test_a_server_error_makes_akismet_unavailable(akismet: AkismetServer, client: AkismetClient) -> None:
    akismet.fail_with = 500

    with pytest.raises(AkismetUnavailable, match="HTTP 500"):
        client.comment_check(TRACKBACK)


def test_a_failed_check_is_not_retried(akismet: AkismetServer, client: AkismetClient) -> None:
    akismet.fail_with = 503

    with pytest.raises(AkismetUnavailable):
        client.comment_check(TRACKBACK)

    assert len(akismet.received_for("comment-check")) == 1


def test_a_hanging_akismet_is_given_up_within_the_timeout(akismet: AkismetServer) -> None:
    # Given Akismet takes far longer than the client waits
    akismet.hang_s = 10.0
    client = AkismetClient(KEY, endpoint=akismet.endpoint_url, timeout_s=0.5)

    # When the verifier asks
    started = time.monotonic()
    with pytest.raises(AkismetUnavailable, match=r"no answer within 0\.5 s"):
        client.comment_check(TRACKBACK)

    # Then it has its answer (none) about when the timeout says, and asked once
    assert time.monotonic() - started < 1.5
    assert len(akismet.received_for("comment-check")) == 1


def test_a_trickling_answer_is_given_up_at_the_deadline(akismet: AkismetServer) -> None:
    # Given each byte of "false" arrives well within a read timeout, but all of them take far longer
    akismet.drip_s = 0.4
    client = AkismetClient(KEY, endpoint=akismet.endpoint_url, timeout_s=0.5)

    started = time.monotonic()
    with pytest.raises(AkismetUnavailable, match=r"no answer within 0\.5 s"):
        client.comment_check(TRACKBACK)

    assert time.monotonic() - started < 1.5


def test_nothing_listening_makes_akismet_unavailable() -> None:
    # Given a port that was free a moment ago
    with AkismetServer(KEY) as gone:
        endpoint = gone.endpoint_url
    client = AkismetClient(KEY, endpoint=endpoint, timeout_s=1.0)

    with pytest.raises(AkismetUnavailable, match="ConnectionError"):
        client.comment_check(TRACKBACK)


def test_a_wrong_endpoint_makes_akismet_unavailable(akismet: AkismetServer) -> None:
    client = AkismetClient(KEY, endpoint=f"{akismet.endpoint_url}/not-akismet", timeout_s=1.0)

    with pytest.raises(AkismetUnavailable, match="HTTP 404"):
        client.comment_check(TRACKBACK)


def test_ask_akismet_turns_a_failure_into_its_reason(akismet: AkismetServer, client: AkismetClient) -> None:
    akismet.fail_with = 500

    assert ask_akismet(client, TRACKBACK) == (None, "HTTP 500")


def test_ask_akismet_passes_a_verdict_on(client: AkismetClient) -> None:
    assert ask_akismet(client, TRACKBACK) == (AkismetVerdict(spam=False, discard=False), None)


# --------------------------------------------------------------------------- what is sent


EXPECTED_FORMS = {
    "trackback": (
        TRACKBACK,
        {
            "api_key": KEY,
            "blog": BLOG,
            "user_ip": "203.0.113.7",
            "user_agent": "WordPress/6.5.3; https://other.example",
            "permalink": POST,
            "comment_type": "trackback",
            "comment_author": "Other Blog",
            "comment_author_url": "https://other.example/2024/05/a-reply/",
            "comment_content": "<strong>A reply</strong>\n\nStatic sites can take comments after all.",
            "comment_date_gmt": "2024-05-04T10:11:12Z",
            "blog_charset": "UTF-8",
        },
    ),
    "pingback": (
        PINGBACK,
        {
            "api_key": KEY,
            "blog": BLOG,
            "user_ip": "198.51.100.23",
            "user_agent": "The Incutio XML-RPC PHP Library -- WordPress/6.5.3",
            "permalink": POST,
            "comment_type": "pingback",
            "comment_author": "A reply | Other Blog",
            "comment_author_url": "https://other.example/2024/05/a-reply/",
            "comment_content": "[…] as the post on static sites says […]",
            "comment_date_gmt": "2024-05-04T10:11:12Z",
            "blog_charset": "UTF-8",
        },
    ),
    "webmention": (
        WEBMENTION,
        {
            "api_key": KEY,
            "blog": BLOG,
            "user_ip": "2001:db8::5",
            "user_agent": "Bridgy (https://brid.gy/about)",
            "referrer": "https://jane.example/",
            "permalink": POST,
            "comment_type": "webmention",
            "comment_author": "Jane Example",
            "comment_author_url": "https://jane.example/notes/42",
            "comment_content": "Liked this post about static sites.",
            "blog_charset": "UTF-8",
            "is_test": "1",
        },
    ),
}


@pytest.mark.parametrize("protocol", EXPECTED_FORMS)
def test_comment_check_sends_exactly_akismets_fields(
    protocol: str, akismet: AkismetServer, client: AkismetClient
) -> None:
    query, expected = EXPECTED_FORMS[protocol]

    client.comment_check(query)

    (request,) = akismet.received_for("comment-check")
    assert request.form == expected
    assert request.content_type.startswith("application/x-www-form-urlencoded")


def test_the_client_names_itself_in_the_user_agent(akismet: AkismetServer) -> None:
    client = AkismetClient(KEY, endpoint=akismet.endpoint_url, user_agent="linkback/9.9 | Akismet client")

    client.comment_check(TRACKBACK)

    assert akismet.received[0].user_agent == "linkback/9.9 | Akismet client"


# --------------------------------------------------------------------------- the owner's decisions


def test_submit_spam_reports_the_mention(akismet: AkismetServer, client: AkismetClient) -> None:
    client.submit_spam(PINGBACK)

    (request,) = akismet.received_for("submit-spam")
    assert request.form == EXPECTED_FORMS["pingback"][1]


def test_submit_ham_reports_the_mention(akismet: AkismetServer, client: AkismetClient) -> None:
    client.submit_ham(WEBMENTION)

    (request,) = akismet.received_for("submit-ham")
    assert request.form == EXPECTED_FORMS["webmention"][1]


def test_a_refused_submission_makes_akismet_unavailable(akismet: AkismetServer) -> None:
    client = AkismetClient("not-the-key", endpoint=akismet.endpoint_url, timeout_s=2.0)

    with pytest.raises(AkismetUnavailable, match="invalid"):
        client.submit_spam(TRACKBACK)


def test_a_failing_submission_makes_akismet_unavailable(akismet: AkismetServer, client: AkismetClient) -> None:
    akismet.fail_with = 500

    with pytest.raises(AkismetUnavailable, match="HTTP 500"):
        client.submit_ham(TRACKBACK)


# --------------------------------------------------------------------------- verify-key


def test_verify_key_accepts_the_configured_key(akismet: AkismetServer, client: AkismetClient) -> None:
    assert client.verify_key(BLOG) is True
    (request,) = akismet.received_for("verify-key")
    assert request.form == {"api_key": KEY, "blog": BLOG}


def test_verify_key_refuses_another_key(akismet: AkismetServer) -> None:
    client = AkismetClient("not-the-key", endpoint=akismet.endpoint_url, timeout_s=2.0)

    assert client.verify_key(BLOG) is False


def test_verify_key_on_a_failing_server_is_unavailable_not_false(akismet: AkismetServer, client: AkismetClient) -> None:
    # A key must not be reported wrong because Akismet is down.
    akismet.fail_with = 502

    with pytest.raises(AkismetUnavailable):
        client.verify_key(BLOG)


# --------------------------------------------------------------------------- the local server itself


def test_the_local_server_treats_the_administrator_test_role_as_ham(akismet: AkismetServer) -> None:
    # Akismet's documented ham test value wins over a spam word
    form = {"api_key": KEY, "blog": BLOG, "user_ip": "192.0.2.1", "user_role": "administrator", "is_test": "1"}

    answer = requests.post(
        f"{akismet.endpoint_url}/1.1/comment-check", data={**form, "comment_content": "casino"}, timeout=2
    )

    assert answer.text == "false"


def test_the_local_server_refuses_a_check_without_user_ip(akismet: AkismetServer) -> None:
    answer = requests.post(f"{akismet.endpoint_url}/1.1/comment-check", data={"api_key": KEY, "blog": BLOG}, timeout=2)

    assert answer.text == "invalid"
    assert answer.headers["X-akismet-debug-help"] == 'Empty "user_ip" value'


# --------------------------------------------------------------------------- the finding recorded


def test_spam_is_a_strong_finding() -> None:
    assert akismet_finding(AkismetVerdict(spam=True, discard=False), None) == (6.0, "Akismet says spam")


def test_blatant_spam_weighs_more_than_spam() -> None:
    score, reason = akismet_finding(AkismetVerdict(spam=True, discard=True), None)

    assert score > 6.0
    assert reason == "Akismet says blatant spam"


def test_ham_is_a_mild_finding_against_spam() -> None:
    assert akismet_finding(AkismetVerdict(spam=False, discard=False), None) == (-1.0, "Akismet says not spam")


def test_an_unavailable_akismet_scores_nothing_and_says_why() -> None:
    assert akismet_finding(None, "HTTP 500") == (0.0, "Akismet unavailable: HTTP 500")


def test_a_finding_needs_a_verdict_or_an_error() -> None:
    with pytest.raises(ValueError):
        akismet_finding(None, None)
