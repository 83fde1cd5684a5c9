"""The verifier's last steps: finding the evidence in a fetched page and deciding the mention's status."""

from __future__ import annotations

from linkback.model import Status
from linkback.store.schema import MentionRecord
from linkback.verify.fetch import FetchedPage
from linkback.verify.links.reference import LinkEvidence
from linkback.verify.pipeline import decide, find_evidence

from .fixture_files import read_text

SOURCE = "https://blog.example.org/2024/05/static-sites-deserve-comments/"
TARGET = "https://example.com/posts/hello/"


def received(**overrides) -> MentionRecord:
    """A mention as the intake stored it, before verification (never saved here)."""
    values = {
        "protocol": "trackback",
        "source": SOURCE,
        "target": TARGET,
        "site": "https://example.com",
        "status": "queued",
        "received_at": "2024-05-20T10:11:12.131415Z",
        "updated_at": "2024-05-20T10:11:12.131415Z",
        "sent_title": "Sent title",
        "sent_excerpt": "The excerpt the sender wrote",
        "sent_blog_name": "Notes from Zoë",
    }
    values.update(overrides)
    return MentionRecord("3f1c0a9e8d7b6c5a4f3e2d1c0b9a8f7e", **values)


def page(text: str, *, url: str = SOURCE, content_type: str = "text/html") -> FetchedPage:
    return FetchedPage(url=url, status=200, content_type=content_type, text=text, truncated=False)


WORDPRESS_POST = page(read_text("html/wordpress-post.html"))
NO_LINK = page(read_text("html/link-only-in-comment.html"))


def verdict_for(record: MentionRecord, fetched: FetchedPage, moderation: str = "auto"):
    return decide(record, fetched, find_evidence(fetched, record.target), moderation)


# --- finding the evidence -----------------------------------------------------------------------


def test_an_html_page_is_searched_for_a_link():
    evidence = find_evidence(WORDPRESS_POST, TARGET)

    assert evidence is not None
    assert evidence.tag == "a"


def test_relative_links_resolve_against_the_url_the_page_was_finally_fetched_from():
    # Given a source that redirected to the same site as the target, where it links by path
    fetched = page(read_text("html/relative-link.html"), url="https://example.com/posts/one-month-later/")

    assert find_evidence(fetched, TARGET) is not None


def test_a_plain_text_page_is_searched_for_the_url_as_text():
    fetched = page(read_text("text/gemini-mirror-note.txt"), content_type="text/plain")

    evidence = find_evidence(fetched, TARGET)

    assert evidence is not None
    assert evidence.tag == "text"


def test_a_url_in_the_text_of_an_html_page_is_not_a_link():
    fetched = page(f"<p>I liked {TARGET} a lot.</p>")

    assert find_evidence(fetched, TARGET) is None


# --- deciding -----------------------------------------------------------------------------------


def test_a_source_that_links_is_approved_in_auto_moderation():
    verdict = verdict_for(received(), WORDPRESS_POST, "auto")

    assert verdict.status is Status.APPROVED
    assert verdict.reason == "the source links to the target"


def test_a_source_that_links_is_held_as_pending_in_manual_moderation():
    verdict = verdict_for(received(), WORDPRESS_POST, "manual")

    assert verdict.status is Status.PENDING
    assert verdict.reason == "the source links to the target; held for moderation (manual mode)"


def test_a_source_that_does_not_link_is_rejected_with_the_reason():
    verdict = verdict_for(received(), NO_LINK, "auto")

    assert verdict.status is Status.REJECTED
    assert verdict.reason == "the source does not link to the target"


def test_a_rejection_shows_nothing_of_the_page_or_the_sender():
    verdict = verdict_for(received(), NO_LINK, "auto")

    assert (verdict.title, verdict.excerpt, verdict.author_name) == (None, None, None)


def test_a_verdict_records_the_fetch_status_and_final_url():
    fetched = FetchedPage(url=SOURCE + "?amp=1", status=203, content_type="text/html", text="", truncated=False)

    verdict = verdict_for(received(), fetched)

    assert (verdict.fetch_status, verdict.fetched_url) == (203, SOURCE + "?amp=1")


def test_the_page_title_is_preferred_over_the_title_the_trackback_sent():
    verdict = verdict_for(received(sent_title="Sent title"), WORDPRESS_POST)

    assert verdict.title == "Static sites deserve comments too \N{EN DASH} Notes from Zoë & friends"


def test_the_title_the_trackback_sent_is_used_when_the_page_has_none():
    fetched = page(f'<p>Read <a href="{TARGET}">this</a>.</p>')

    assert verdict_for(received(sent_title="Sent title"), fetched).title == "Sent title"


def test_the_words_around_the_link_are_preferred_over_the_sent_excerpt():
    verdict = verdict_for(received(), WORDPRESS_POST)

    assert "Then I read Jo\N{RIGHT SINGLE QUOTATION MARK}s post Hello, linkback" in verdict.excerpt


def test_the_sent_excerpt_is_used_when_the_page_gives_no_context():
    # Given a link whose page has no visible text around it (an image, nothing else)
    fetched = page(f'<img src="{TARGET}">')

    verdict = verdict_for(received(sent_excerpt="The excerpt the sender wrote"), fetched)

    assert verdict.excerpt == "The excerpt the sender wrote"


def test_without_page_words_or_sent_words_the_title_and_excerpt_are_empty():
    # A Pingback sends no title or excerpt
    record = received(protocol="pingback", sent_title=None, sent_excerpt=None, sent_blog_name=None)
    evidence = LinkEvidence(tag="a", title="", context="")

    verdict = decide(record, page(""), evidence, "auto")

    assert (verdict.title, verdict.excerpt, verdict.author_name) == (None, None, None)


def test_the_trackback_blog_name_becomes_the_author_name():
    assert verdict_for(received(sent_blog_name="Notes from Zoë"), WORDPRESS_POST).author_name == "Notes from Zoë"
