"""Reading the response type, author and content of a source page from its microformats2."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest
import requests

from linkback.verify.extract import CONTENT_MAX, MF2_MAX_CHARS, Extracted, extract

FIXTURES = Path(__file__).resolve().parent.parent / "fixtures" / "extract"
TARGET = "https://example.com/posts/hello/"
EVENT = "https://example.com/events/indieweb-meetup/"
SOURCE = "https://source.example.net/2024/05/a-response/"


def extract_from(fixture: str, *, target: str = TARGET, page_url: str = SOURCE) -> Extracted | None:
    html = (FIXTURES / fixture).read_text(encoding="utf-8")
    return extract(html, page_url=page_url, target=target)


def extracted(fixture: str, **kwargs: str) -> Extracted:
    result = extract_from(fixture, **kwargs)
    assert result is not None, f"{fixture}: no h-entry found"
    return result


# --- the response type (wm-property) ----------------------------------------------------------------


def test_an_entry_whose_in_reply_to_is_the_target_url_is_a_reply():
    result = extracted("reply-in-reply-to-url.html", page_url="https://ann.example.net/notes/2024/05/02/1/")

    assert result.wm_property == "in-reply-to"
    assert result.rsvp is None


def test_an_entry_whose_in_reply_to_is_an_h_cite_of_the_target_is_a_reply():
    # Given an h-cite whose u-url is the target written with another case, the default port and a fragment
    result = extracted("reply-in-reply-to-h-cite.html")

    assert result.wm_property == "in-reply-to"


def test_an_entry_with_like_of_the_target_is_a_like():
    assert extracted("like.html").wm_property == "like-of"


def test_an_entry_with_an_h_cite_repost_of_the_target_is_a_repost():
    assert extracted("repost.html").wm_property == "repost-of"


def test_an_entry_with_bookmark_of_the_target_is_a_bookmark():
    assert extracted("bookmark.html").wm_property == "bookmark-of"


def test_an_rsvp_that_replies_to_the_target_event_is_an_rsvp_with_its_value():
    result = extracted("rsvp-yes.html", target=EVENT)

    assert result.wm_property == "rsvp"
    assert result.rsvp == "yes"


def test_an_rsvp_to_another_event_that_links_to_the_target_is_a_mention():
    # Given the same RSVP page, but the notified target is a post it does not reply to
    result = extracted("rsvp-yes.html", target="https://fay.example.com/")

    assert result.wm_property == "mention-of"
    assert result.rsvp is None


def test_an_entry_that_only_links_to_the_target_in_its_content_is_a_mention():
    assert extracted("mention.html").wm_property == "mention-of"


def test_a_reply_to_the_target_by_a_nested_comment_is_a_mention_by_the_page_entry():
    # Given a post whose comment section shows someone else's reply to the target: the page's own
    # entry does not respond to the target, and the comment's words and author are not the page's
    result = extracted("reply-only-in-nested-comment.html")

    assert result.wm_property == "mention-of"
    assert result.name == "Notes on running a small forum"
    assert result.author_name == "Olu"
    assert result.url == "https://olu.example.net/2024/small-forum"


# --- which entry ------------------------------------------------------------------------------------


def test_in_an_h_feed_the_entry_that_links_to_the_target_is_chosen():
    result = extracted("h-feed.html", page_url="https://hal.example.org/notes/")

    assert result.url == "https://hal.example.org/notes/2"
    assert result.content == "Finally added webmentions to my site, following this guide. Took an hour."


def test_when_no_entry_mentions_the_target_the_first_entry_is_chosen():
    # Given a feed page notified for a URL none of its entries links to (the link is elsewhere on the page)
    result = extracted("h-feed.html", page_url="https://hal.example.org/notes/", target="https://example.com/other/")

    assert result.url == "https://hal.example.org/notes/3"
    assert result.wm_property == "mention-of"


def test_an_h_entry_inside_tailwind_h_full_and_h_screen_elements_is_still_top_level():
    # Tailwind's height utilities look like mf2 root class names; read as roots they would hide the entry
    result = extracted("tailwind-h-full-body.html")

    assert result.wm_property == "in-reply-to"
    assert result.author_name == "Tomás"


def test_a_page_without_microformats_gives_nothing():
    assert extract_from("no-microformats.html") is None


def test_a_classic_wordpress_hentry_without_h_entry_gives_nothing():
    # Classic microformats (hentry, vcard) are not read: the caller's <title> + context fallback is
    # what pingback-era pages get, and they skip the mf2 parser's cost.
    assert extract_from("classic-wordpress-hentry.html") is None


# --- name and content ----------------------------------------------------------------------------------


def test_an_article_keeps_its_name_as_a_title():
    assert extracted("mention.html").name == "Weekly links #42"


def test_a_note_whose_name_repeats_its_content_has_no_name():
    result = extracted("note-name-repeats-content.html")

    assert result.name is None
    assert result.content == "Just set up my own webmention receiver, thanks to this walkthrough. Took twenty minutes!"


def test_an_entry_without_content_has_no_name_even_with_an_implied_one():
    # mf2 implies a like's name from all its text ("Carl liked Hello, comments 5 May"): not a title
    result = extracted("like.html")

    assert result.name is None
    assert result.content is None


def test_content_is_the_plain_text_of_e_content_with_whitespace_collapsed():
    result = extracted("reply-in-reply-to-url.html")

    assert result.content == (
        "Great write-up! I moved my own blog to a static host last year and comments were the one thing I missed."
    )


def test_a_long_wordpress_e_content_is_cropped_at_a_word_with_an_ellipsis():
    result = extracted("wordpress-long-content.html", page_url="https://mo.example.co.uk/2024/05/16/one-year-on/")

    assert result.content is not None
    assert len(result.content) <= CONTENT_MAX
    assert result.content.startswith("A year ago I exported eleven years of posts from WordPress")
    assert result.content.endswith("which was…")


def test_a_wordpress_entry_inside_a_site_wide_h_feed_gives_its_title_date_url_and_author():
    result = extracted("wordpress-long-content.html", page_url="https://mo.example.co.uk/2024/05/16/one-year-on/")

    assert result.wm_property == "mention-of"
    assert result.name == "Moving a blog off WordPress, one year on"
    assert result.published == "2024-05-16T07:45:12+01:00"
    assert result.url == "https://mo.example.co.uk/2024/05/16/one-year-on/"
    assert result.author_name == "Mo Reyes"
    assert result.author_photo == "https://secure.gravatar.example/avatar/3f1c?s=96&d=mm&r=g"


def test_published_is_the_datetime_as_written_with_its_offset():
    assert extracted("reply-in-reply-to-url.html").published == "2024-05-02T18:04:11+02:00"
    assert extracted("like.html").published == "2024-05-05T07:30:00Z"
    assert extracted("reply-in-reply-to-h-cite.html").published == "2024-05-04"


def test_the_entry_url_is_resolved_against_the_page_url():
    result = extracted("reply-in-reply-to-url.html", page_url="https://ann.example.net/notes/2024/05/02/1/")

    assert result.url == "https://ann.example.net/notes/2024/05/02/1/"


def test_an_entry_without_u_url_has_no_url():
    assert extracted("author-photo-with-alt.html").url is None


def test_a_javascript_u_url_is_dropped():
    html = (
        '<div class="h-entry"><a class="u-url" href="javascript:alert(1)">#</a>'
        f'<a class="u-in-reply-to" href="{TARGET}">re</a><p class="e-content">Hi</p>'
        '<a class="p-author h-card" href="javascript:alert(2)">Mallory</a></div>'
    )
    result = extract(html, page_url=SOURCE, target=TARGET)

    assert result is not None
    assert result.url is None
    assert result.author_url is None
    assert result.author_name == "Mallory"


# --- the author -------------------------------------------------------------------------------------


def test_the_author_h_card_gives_name_url_and_photo():
    result = extracted("reply-in-reply-to-url.html", page_url="https://ann.example.net/notes/2024/05/02/1/")

    assert (result.author_name, result.author_url, result.author_photo) == (
        "Ann Example",
        "https://ann.example.net/",
        "https://ann.example.net/images/ann.jpg",
    )


def test_an_author_photo_with_alt_text_gives_the_photo_url():
    result = extracted("author-photo-with-alt.html")

    assert result.author_photo == "https://ivy.example.net/avatar-128.png"
    assert result.author_name == "Ivy Quinn"


def test_without_an_entry_author_the_top_level_h_card_is_the_author():
    result = extracted("author-top-level-h-card.html", page_url="https://jun.example.com/2024/05/14/reply")

    assert (result.author_name, result.author_url, result.author_photo) == (
        "Jun Park",
        "https://jun.example.com/",
        "https://jun.example.com/me.jpg",
    )


def test_an_author_url_is_completed_from_the_h_card_with_that_url_on_the_page():
    result = extracted("author-as-url.html", page_url="https://rae.example.org/2024/05/21/reply")

    assert (result.author_name, result.author_url, result.author_photo) == (
        "Rae Lin",
        "https://rae.example.org/",
        "https://rae.example.org/rae.png",
    )


def test_an_author_given_as_plain_text_is_a_name_only():
    result = extracted("author-as-name.html")

    assert (result.author_name, result.author_url, result.author_photo) == ("Sam Ortiz", None, None)


def test_an_entry_in_an_h_feed_without_its_own_author_takes_the_feed_author():
    result = extracted("h-feed.html", page_url="https://hal.example.org/notes/")

    assert (result.author_name, result.author_url) == ("Hal", "https://hal.example.org/")


# --- cost and safety -----------------------------------------------------------------------------------


def test_a_page_without_h_entry_does_not_load_the_mf2_parser(monkeypatch: pytest.MonkeyPatch):
    # Given that importing mf2py would fail
    monkeypatch.setitem(sys.modules, "mf2py", None)

    assert extract_from("no-microformats.html") is None


def test_extraction_never_fetches_anything(monkeypatch: pytest.MonkeyPatch):
    def no_network(*args: object, **kwargs: object) -> None:
        raise AssertionError("extract() must not use the network")

    monkeypatch.setattr(requests, "get", no_network)
    monkeypatch.setattr(requests.Session, "request", no_network)

    assert extracted("author-top-level-h-card.html").wm_property == "in-reply-to"


def test_an_h_entry_nested_too_deeply_to_parse_gives_nothing():
    # The parser recurses per element: 20 000 nested <div> raise RecursionError, caught as "no mf2"
    html = '<div class="h-entry">' + "<div>" * 20_000 + f'<a class="u-in-reply-to" href="{TARGET}">t</a>'

    assert extract(html, page_url=SOURCE, target=TARGET) is None


def test_a_page_longer_than_the_mf2_limit_is_read_up_to_the_limit():
    # Given a reply whose entry starts the page, followed by more markup than the parser will read
    entry = (FIXTURES / "reply-in-reply-to-url.html").read_text(encoding="utf-8").replace("</body>", "")
    html = entry + "<p>filler paragraph</p>" * (MF2_MAX_CHARS // 20) + "</body></html>"

    result = extract(html, page_url=SOURCE, target=TARGET)

    assert result is not None
    assert result.wm_property == "in-reply-to"


def test_an_h_entry_that_starts_after_the_mf2_limit_is_not_read():
    html = "<p>filler paragraph</p>" * (MF2_MAX_CHARS // 20) + (FIXTURES / "like.html").read_text(encoding="utf-8")

    assert extract(html, page_url=SOURCE, target=TARGET) is None
