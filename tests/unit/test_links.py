"""Finding the link to the target in a fetched page, and the title and words around it."""

from __future__ import annotations

import re

import pytest

from linkback.verify.links.reference import CONTEXT_CHARS, find_in_text, find_link

from .fixture_files import read_text

TARGET = "https://example.com/posts/hello/"
SOURCE = "https://blog.example.org/2024/05/static-sites-deserve-comments/"


def evidence_in(fixture: str, *, target: str = TARGET, base_url: str = SOURCE):
    return find_link(read_text(f"html/{fixture}"), base_url=base_url, target=target)


# --- is there a link? ---------------------------------------------------------------------------


def test_a_link_in_the_body_of_a_wordpress_post_is_found():
    evidence = evidence_in("wordpress-post.html")

    assert evidence is not None
    assert evidence.tag == "a"


def test_a_page_that_mentions_the_target_only_inside_html_comments_does_not_link_to_it():
    # Given a page whose only mention is TrackBack's RDF autodiscovery block and a commented-out link
    assert evidence_in("link-only-in-comment.html") is None


def test_a_page_that_mentions_the_target_only_inside_script_and_style_does_not_link_to_it():
    assert evidence_in("link-only-in-script.html") is None


def test_a_relative_link_is_resolved_against_the_page_url():
    # Given a follow-up post on the same site that links to the first post by its path
    evidence = evidence_in("relative-link.html", base_url="https://example.com/posts/one-month-later/")

    assert evidence is not None


def test_a_relative_link_is_resolved_against_the_first_base_element():
    # Given a mirror page whose first <base href> points at the original site
    evidence = evidence_in("base-href.html", base_url="https://mirror.example.net/jo/archive.html")

    assert evidence is not None


def test_an_image_embedded_from_the_target_is_a_link_to_it():
    evidence = evidence_in("image-link.html", target="https://example.com/photos/sunset.jpg")

    assert evidence is not None
    assert evidence.tag == "img"


def test_a_link_written_in_another_case_with_the_default_port_and_a_fragment_still_matches():
    # <a href="HTTPS://Example.COM:443/posts/%68ello/#comments">
    assert evidence_in("link-in-other-form.html") is not None


def test_a_link_without_the_trailing_slash_does_not_match_a_target_with_one():
    # /posts/hello and /posts/hello/ may be two resources (urls.py keeps the slash as sent)
    assert evidence_in("link-without-trailing-slash.html") is None


def test_a_link_to_another_page_of_the_same_site_does_not_match():
    assert evidence_in("wordpress-post.html", target="https://example.com/posts/goodbye/") is None


def test_a_link_with_escaped_ampersands_matches_a_target_with_a_query():
    html = '<p>See <a href="https://example.com/?p=12&amp;lang=en">this</a>.</p>'

    assert find_link(html, base_url=SOURCE, target="https://example.com/?p=12&lang=en") is not None


@pytest.mark.parametrize(
    "markup",
    [
        '<video src="{t}" controls></video>',
        '<video poster="{t}"></video>',
        '<audio src="{t}"></audio>',
        '<blockquote cite="{t}"><p>Quoted.</p></blockquote>',
        '<area href="{t}" alt="map">',
    ],
    ids=["video-src", "video-poster", "audio", "blockquote-cite", "area"],
)
def test_media_and_citations_are_links_too(markup):
    assert find_link(markup.format(t=TARGET), base_url=SOURCE, target=TARGET) is not None


@pytest.mark.parametrize(
    "markup",
    [
        '<link rel="canonical" href="{t}">',
        '<meta property="og:url" content="{t}">',
        '<a data-href="{t}">share</a>',
        '<form action="{t}"></form>',
    ],
    ids=["link-element", "meta", "data-attribute", "form-action"],
)
def test_attributes_that_do_not_link_are_not_links(markup):
    assert find_link(markup.format(t=TARGET), base_url=SOURCE, target=TARGET) is None


def test_an_unparseable_href_is_skipped_without_an_error():
    html = f'<a href="http://[oops/">broken</a> <a href="{TARGET}">fine</a>'

    assert find_link(html, base_url=SOURCE, target=TARGET) is not None


# --- the title ----------------------------------------------------------------------------------


def test_the_title_is_the_documents_title_with_entities_decoded():
    evidence = evidence_in("wordpress-post.html")

    assert evidence.title == "Static sites deserve comments too \N{EN DASH} Notes from Zoë & friends"


def test_a_page_without_a_title_gives_an_empty_title():
    evidence = find_link(f'<p><a href="{TARGET}">x</a></p>', base_url=SOURCE, target=TARGET)

    assert evidence.title == ""


def test_an_svg_icons_title_is_not_part_of_the_page_title():
    assert evidence_in("svg-icon-title.html").title == "Thoughts on linkback"


# --- the context --------------------------------------------------------------------------------


def test_the_context_is_the_sentence_around_the_link_with_whitespace_collapsed():
    evidence = evidence_in("wordpress-post.html")

    assert (
        "Then I read Jo\N{RIGHT SINGLE QUOTATION MARK}s post Hello, linkback, which receives TrackBacks and "
        "Pingbacks with a handful of Lambda functions" in evidence.context
    )
    assert not re.search(r"\s{2}|[\t\n]", evidence.context)


def test_the_context_leaves_out_script_text_near_the_link():
    evidence = evidence_in("long-article.html")

    assert "trackOutbound" not in evidence.context
    assert "A good example is Jo's linkback, which receives" in evidence.context


def test_the_context_leaves_out_text_far_from_the_link():
    context = evidence_in("long-article.html").context

    assert "Farewell" not in context
    assert "Closing paragraph" not in context


def test_the_context_takes_about_context_chars_before_the_link():
    context = evidence_in("long-article.html").context
    before = context[: context.index("Jo's linkback")]

    assert len(before) <= CONTEXT_CHARS + len("… ")


def test_a_context_cut_from_a_longer_text_is_marked_with_ellipses_at_word_boundaries():
    words_of_the_page = set(re.split(r"\s+|<[^>]*>", read_text("html/long-article.html")))

    context = evidence_in("long-article.html").context

    assert context.startswith("… ")
    assert context.endswith(" …")
    assert context.removeprefix("… ").split(" ")[0] in words_of_the_page
    assert context.removesuffix(" …").split(" ")[-1] in words_of_the_page


def test_a_short_paragraph_is_the_whole_context():
    evidence = evidence_in("base-href.html", base_url="https://mirror.example.net/jo/archive.html")

    assert evidence.context == "This is a copy of Jo's archive page. The original post is Hello, linkback."


def test_the_context_of_an_image_is_the_text_around_it():
    evidence = evidence_in("image-link.html", target="https://example.com/photos/sunset.jpg")

    assert evidence.context == "Photo by Jo, used with permission."


def test_line_breaks_separate_words_in_the_context():
    assert "linkback trains" in evidence_in("br-separated.html").context


def test_a_page_that_leaves_out_the_optional_head_end_tag_still_gives_context():
    assert "I liked Jo's linkback post a lot." in evidence_in("head-end-tag-omitted.html").context


def test_the_context_of_an_indented_page_does_not_end_mid_word():
    context = evidence_in("deeply-indented.html").context

    assert context.endswith((".", "…"))


def test_the_context_of_an_indented_page_starts_at_the_first_visible_word():
    assert evidence_in("deeply-indented.html").context.startswith("This week I finally set up Jo's linkback")


# --- text/plain sources -------------------------------------------------------------------------


def test_a_plain_text_page_that_contains_the_target_url_links_to_it():
    evidence = find_in_text(read_text("text/gemini-mirror-note.txt"), target=TARGET)

    assert evidence is not None
    assert evidence.tag == "text"
    assert evidence.title == ""


def test_the_context_in_plain_text_is_the_lines_around_the_url_on_one_line():
    evidence = find_in_text(read_text("text/gemini-mirror-note.txt"), target=TARGET)

    assert "neatest one so far is Jo's linkback (https://example.com/posts/hello/), which takes" in evidence.context
    assert "\n" not in evidence.context


def test_a_plain_text_page_without_the_target_url_does_not_link_to_it():
    assert find_in_text(read_text("text/gemini-mirror-note.txt"), target="https://example.com/posts/goodbye/") is None


def test_a_plain_text_url_that_merely_starts_with_the_target_is_not_a_link_to_it():
    text = read_text("text/other-post-with-longer-url.txt")

    assert find_in_text(text, target="https://example.com/posts/hello") is None
