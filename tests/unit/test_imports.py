"""Moving in: a WordPress export (WXR) and a webmention.io jf2 dump read as mentions (linkback_infra.imports).

The fixtures are real-shaped files: `wordpress-export.xml` as WordPress 6.5's Tools > Export writes it,
`webmention-io.jf2.json` as webmention.io's `/api/mentions.jf2` answers.
"""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

from linkback.model import Protocol, Status, mention_id
from linkback_infra import imports
from linkback_infra.export import owner_entry
from linkback_infra.imports import (
    SKIP_BAD_SOURCE,
    SKIP_COMMENT,
    SKIP_NO_DATE,
    SKIP_NO_SOURCE,
    SKIP_NOT_ENTRY,
    SKIP_NOT_LINKBACK,
    SKIP_OFF_SITE,
    SKIP_PRIVATE,
    SKIP_PROPERTY,
    SKIP_SAME_PAGE,
    ImportedMention,
    UnreadableImport,
    read_jf2,
    read_wxr,
)

FIXTURES = Path(__file__).resolve().parent.parent / "fixtures" / "import"
WXR = (FIXTURES / "wordpress-export.xml").read_bytes()
JF2 = (FIXTURES / "webmention-io.jf2.json").read_bytes()
SITES = ("https://example.com", "https://blog.example.org")
POST = "https://example.com/2024/05/static-comments/"
WEBMENTIONS_POST = "https://example.com/2024/05/uber-webmentions/"


def wordpress() -> dict[str, ImportedMention]:
    return {mention.source: mention for mention in read_wxr(WXR, SITES).mentions}


def webmention_io(sites: tuple[str, ...] = SITES) -> dict[str, ImportedMention]:
    return {mention.source: mention for mention in read_jf2(JF2, sites).mentions}


def wxr_with(comment: str, *, link: str = POST, namespace: str = "http://wordpress.org/export/1.2/") -> bytes:
    """A one-post export around one `wp:comment`, for the cases the fixture file does not hold."""
    return f"""<?xml version="1.0" encoding="UTF-8" ?>
<rss version="2.0" xmlns:wp="{namespace}"><channel>
<title>Notes</title><link>https://example.com</link>
<wp:wxr_version>{namespace.rsplit("/", 2)[-2]}</wp:wxr_version>
<wp:base_blog_url>https://example.com</wp:base_blog_url>
<item><title>A post</title><link>{link}</link><wp:post_id>1</wp:post_id>
<wp:comment>{comment}</wp:comment></item>
</channel></rss>""".encode()


def pingback_from(source: str, *, date_gmt: str = "2024-05-07 09:15:03", date: str = "2024-05-07 11:15:03") -> str:
    return f"""<wp:comment_author><![CDATA[A blog]]></wp:comment_author>
<wp:comment_author_url>{source}</wp:comment_author_url>
<wp:comment_date><![CDATA[{date}]]></wp:comment_date>
<wp:comment_date_gmt><![CDATA[{date_gmt}]]></wp:comment_date_gmt>
<wp:comment_content><![CDATA[[&#8230;] a link [&#8230;]]]></wp:comment_content>
<wp:comment_approved><![CDATA[1]]></wp:comment_approved>
<wp:comment_type><![CDATA[pingback]]></wp:comment_type>"""


def jf2_with(*children: object) -> bytes:
    return json.dumps({"type": "feed", "name": "Webmentions", "children": list(children)}).encode()


def webmention_entry(**fields: object) -> dict[str, object]:
    entry: dict[str, object] = {
        "type": "entry",
        "wm-source": "https://zoe.example.net/notes/1",
        "wm-target": POST,
        "wm-property": "mention-of",
        "wm-received": "2024-05-12T07:43:18Z",
    }
    entry.update(fields)
    return entry


# --- WordPress: each comment's fate -------------------------------------------------------------


def test_an_approved_pingback_is_imported_approved():
    pingback = wordpress()["https://zoe.example.net/2024/05/07/static-comments-reply/"]

    assert (pingback.protocol, pingback.status, pingback.target) == (Protocol.PINGBACK, Status.APPROVED, POST)


def test_an_unapproved_trackback_is_held_for_the_owner():
    trackback = wordpress()["http://bytes.example.org/archives/2024/05/comment-systems.html"]

    assert (trackback.protocol, trackback.status) == (Protocol.TRACKBACK, Status.PENDING)


def test_a_pingback_wordpress_called_spam_stays_spam():
    assert wordpress()["https://casino-bonus.example.info/best-offers/"].status == Status.SPAM


def test_a_trashed_trackback_is_deleted_by_the_owner():
    trashed = wordpress()["https://links.example.net/2024/weekly-21/"]

    assert (trashed.status, trashed.deleted_by, trashed.target) == (Status.DELETED, "owner", WEBMENTIONS_POST)


def test_visitors_comments_are_skipped_and_counted():
    report = read_wxr(WXR, SITES).report

    # Given two comments on the first post (approved and held) and one on the second
    assert report.skipped[SKIP_COMMENT] == 3


def test_a_pingback_to_a_post_outside_the_sites_is_skipped_with_a_reason():
    batch = read_wxr(WXR, SITES)

    assert batch.report.skipped[SKIP_OFF_SITE] == 1
    assert all("old-blog.example.net" not in mention.target for mention in batch.mentions)


def test_a_pingback_whose_author_url_is_not_http_is_skipped_with_a_reason():
    batch = read_wxr(WXR, SITES)

    assert batch.report.skipped[SKIP_BAD_SOURCE] == 1
    assert all(not mention.source.startswith("javascript:") for mention in batch.mentions)


def test_every_comment_in_the_export_is_either_a_mention_or_a_counted_skip():
    comments = len(re.findall(rb"<wp:comment>", WXR))
    batch = read_wxr(WXR, SITES)

    assert len(batch.mentions) + sum(batch.report.skipped.values()) == comments == 9


def test_a_comment_type_that_is_no_linkback_is_skipped_with_a_reason():
    note = pingback_from("https://shop.example.net/order/1").replace("pingback", "order_note")

    report = read_wxr(wxr_with(note), SITES).report

    assert report.skipped == {SKIP_NOT_LINKBACK: 1}


# --- WordPress: what a mention keeps ------------------------------------------------------------


def test_the_gmt_comment_date_becomes_received_and_published():
    pingback = wordpress()["https://zoe.example.net/2024/05/07/static-comments-reply/"]

    assert pingback.received_at == "2024-05-07T09:15:03.000000Z"
    assert pingback.published == "2024-05-07T09:15:03.000000Z"


def test_a_comment_never_stamped_in_gmt_falls_back_to_its_local_date():
    comment = pingback_from("https://a.example.net/1", date_gmt="0000-00-00 00:00:00", date="2011-02-03 04:05:06")

    (mention,) = read_wxr(wxr_with(comment), SITES).mentions

    assert mention.received_at == "2011-02-03T04:05:06.000000Z"


def test_a_comment_without_any_date_is_skipped_with_a_reason():
    comment = pingback_from("https://a.example.net/1", date_gmt="0000-00-00 00:00:00", date="")

    assert read_wxr(wxr_with(comment), SITES).report.skipped == {SKIP_NO_DATE: 1}


def test_the_brackets_wordpress_puts_around_a_pingback_excerpt_are_removed():
    pingback = wordpress()["https://zoe.example.net/2024/05/07/static-comments-reply/"]

    assert pingback.excerpt == (
        # WordPress wrote the apostrophes as `&#8217;`: typographic ones once decoded
        "Ada\u2019s post on static comments made me try it: the café\u2019s menu page now takes pingbacks too"
    )


def test_a_pingbacks_title_and_author_are_the_source_page_title_wordpress_stored():
    pingback = wordpress()["https://zoe.example.net/2024/05/07/static-comments-reply/"]

    assert pingback.title == pingback.author_name == "Zoë writes: on static comments"


def test_a_trackback_keeps_its_title_excerpt_and_blog_name():
    trackback = wordpress()["http://bytes.example.org/archives/2024/05/comment-systems.html"]

    assert trackback.title == "Comment systems compared"
    assert trackback.excerpt == "Five ways to take comments on a site without a database, tried on a weekend."
    assert trackback.author_name == "Bytes & Pieces"


def test_sources_and_targets_are_normalised_so_the_id_is_the_one_a_resend_would_get():
    comment = pingback_from("HTTPS://Zoe.Example.NET:443/notes/1#comments")

    (mention,) = read_wxr(wxr_with(comment, link="https://EXAMPLE.com/2024/05/static-comments/"), SITES).mentions

    assert (mention.source, mention.target) == ("https://zoe.example.net/notes/1", POST)
    assert mention.id == mention_id("https://zoe.example.net/notes/1", POST)


def test_a_self_pingback_from_the_post_itself_is_skipped():
    assert read_wxr(wxr_with(pingback_from(POST)), SITES).report.skipped == {SKIP_SAME_PAGE: 1}


def test_without_sites_the_exports_own_site_takes_the_targets():
    batch = read_wxr(WXR)

    assert batch.site == "https://example.com"
    assert len(batch.mentions) == 4


def test_targets_on_a_site_not_given_are_skipped():
    batch = read_wxr(WXR, ("https://blog.example.org",))

    assert batch.mentions == []
    assert batch.report.skipped[SKIP_OFF_SITE] == 5


def test_an_export_in_the_older_wxr_namespace_is_read():
    data = wxr_with(pingback_from("https://a.example.net/1"), namespace="http://wordpress.org/export/1.1/")

    assert len(read_wxr(data, SITES).mentions) == 1


# --- WordPress: files that are refused ----------------------------------------------------------

BILLION_LAUGHS = b"""<?xml version="1.0"?>
<!DOCTYPE rss [
 <!ENTITY lol "lol">
 <!ENTITY lol2 "&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;">
 <!ENTITY lol3 "&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;">
 <!ENTITY lol9 "&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;">
]>
<rss version="2.0" xmlns:wp="http://wordpress.org/export/1.2/"><channel><title>&lol9;</title></channel></rss>"""

EXTERNAL_ENTITY = b"""<?xml version="1.0"?>
<!DOCTYPE rss [<!ENTITY secret SYSTEM "file:///etc/passwd">]>
<rss version="2.0" xmlns:wp="http://wordpress.org/export/1.2/"><channel>
<wp:wxr_version>1.2</wp:wxr_version><item><link>https://example.com/p/</link>
<wp:comment><wp:comment_content>&secret;</wp:comment_content></wp:comment></item></channel></rss>"""


def test_a_billion_laughs_bomb_is_refused_with_a_clear_error():
    with pytest.raises(UnreadableImport, match=r"declares the XML entity 'lol.*billion laughs"):
        read_wxr(BILLION_LAUGHS, SITES)


def test_an_external_entity_is_refused_before_anything_is_read():
    with pytest.raises(UnreadableImport, match=r"declares the XML entity 'secret'.*\(XXE\)"):
        read_wxr(EXTERNAL_ENTITY, SITES)


def test_a_file_over_the_size_cap_is_refused(monkeypatch: pytest.MonkeyPatch):
    monkeypatch.setattr(imports, "MAX_WXR_BYTES", len(WXR) - 1)

    with pytest.raises(UnreadableImport, match="larger than"):
        read_wxr(WXR, SITES)


def test_a_file_that_is_not_xml_is_unreadable():
    with pytest.raises(UnreadableImport, match="not well-formed XML"):
        read_wxr(b"post_id,comment_author\n12,Zoe\n", SITES)


def test_an_rss_feed_without_wxr_version_is_not_a_wordpress_export():
    feed = b'<?xml version="1.0"?><rss version="2.0"><channel><title>A feed</title></channel></rss>'

    with pytest.raises(UnreadableImport, match="wxr_version"):
        read_wxr(feed, SITES)


# --- webmention.io's jf2 --------------------------------------------------------------------------


def test_webmention_io_entries_become_approved_webmentions():
    mentions = webmention_io().values()

    assert {(mention.protocol, mention.status) for mention in mentions} == {(Protocol.WEBMENTION, Status.APPROVED)}


def test_a_reply_keeps_its_property_author_content_and_dates():
    reply = webmention_io()["https://zoe.example.net/notes/2024/05/12/1/"]

    assert reply.wm_property == "in-reply-to"
    assert (reply.author_name, reply.author_url) == ("Zoë Durand", "https://zoe.example.net/")
    assert reply.author_photo == "https://avatars.example.net/zoe.example.net/5b0c7a4e.jpg"
    assert (
        reply.excerpt
        == "@ada this is exactly the setup I wanted for the café\u2019s site. Static comments, no database."
    )
    assert (reply.received_at, reply.published) == ("2024-05-12T07:43:18.000000Z", "2024-05-12T09:41:00+02:00")


def test_a_like_without_a_published_time_keeps_when_it_was_received():
    like = webmention_io()["https://kenji.example.jp/likes/2024-05-13-001"]

    assert (like.wm_property, like.published, like.received_at) == ("like-of", None, "2024-05-13T22:05:40.000000Z")


def test_a_repost_keeps_its_property():
    assert webmention_io()["https://reposter.example.org/reposts/81"].wm_property == "repost-of"


def test_a_mention_of_another_configured_site_belongs_to_that_site():
    mention = webmention_io()["http://bytes.example.org/archives/2024/05/webmention-roundup.html"]

    assert (mention.site, mention.title) == ("https://blog.example.org", "Webmention roundup")


def test_an_entry_without_wm_source_is_skipped_with_a_reason():
    assert read_jf2(JF2, SITES).report.skipped[SKIP_NO_SOURCE] == 1


def test_a_private_mention_is_not_imported_into_a_public_feed():
    assert read_jf2(JF2, SITES).report.skipped[SKIP_PRIVATE] == 1
    assert "https://private.example.net/p/1" not in webmention_io()


def test_a_jf2_target_outside_the_sites_is_skipped_with_a_reason():
    batch = read_jf2(JF2, ("https://example.com",))

    assert batch.report.skipped[SKIP_OFF_SITE] == 1
    assert len(batch.mentions) == 3


def test_an_author_photo_that_is_not_an_http_url_is_dropped():
    entry = webmention_entry(author={"name": "Eve", "url": "javascript:alert(1)", "photo": "data:image/png;base64,AA"})

    (mention,) = read_jf2(jf2_with(entry), SITES).mentions

    assert (mention.author_name, mention.author_url, mention.author_photo) == ("Eve", None, None)


def test_an_entry_with_an_unknown_property_is_skipped_with_a_reason():
    report = read_jf2(jf2_with(webmention_entry(**{"wm-property": "follow-of"})), SITES).report

    assert report.skipped == {SKIP_PROPERTY: 1}


def test_children_that_are_not_entries_are_skipped_not_a_crash():
    report = read_jf2(jf2_with(1, "text", None, [], {"type": "card", "name": "Ann"}), SITES).report

    assert report.skipped == {SKIP_NOT_ENTRY: 5}


def test_fields_of_the_wrong_type_are_dropped_not_a_crash():
    entry = webmention_entry(
        **{"wm-protocol": ["webmention"], "name": 7, "author": "Ann", "content": ["x"], "published": 2024}
    )

    (mention,) = read_jf2(jf2_with(entry), SITES).mentions

    assert (mention.protocol, mention.title, mention.author_name, mention.excerpt, mention.published) == (
        Protocol.WEBMENTION,
        None,
        None,
        None,
        None,
    )


def test_an_entry_without_any_date_is_skipped_with_a_reason():
    entry = webmention_entry(**{"wm-received": "yesterday"})

    assert read_jf2(jf2_with(entry), SITES).report.skipped == {SKIP_NO_DATE: 1}


def test_a_file_that_is_not_json_is_unreadable():
    with pytest.raises(UnreadableImport, match="not JSON"):
        read_jf2(WXR, SITES)


def test_json_that_is_not_a_feed_is_unreadable():
    with pytest.raises(UnreadableImport, match="not a jf2 feed"):
        read_jf2(b'{"type": "entry", "wm-source": "https://a.example.net/"}', SITES)


# --- linkback's own export read back --------------------------------------------------------------

HELD_SPAM = {
    "id": "0" * 32,
    "protocol": "pingback",
    "source": "https://casino-bonus.example.info/best-offers/",
    "target": POST,
    "site": "https://example.com",
    "status": "spam",
    "status_reason": "spam by owner",
    "received_at": "2024-05-09T01:44:10.000000Z",
    "updated_at": "2024-05-10T08:00:00.000000Z",
    "verified_at": "2024-05-09T01:44:12.000000Z",
    "published": "2024-05-09T01:40:00Z",
    "title": "Cheap watches online",
    "excerpt": "visit our casino",
    "author": {"name": "Casino", "url": "https://casino-bonus.example.info/", "photo": None},
    "wm_property": "mention-of",
    "spam_score": 0.93,
    "spam_reasons": ["link-heavy excerpt", "blocked domain"],
    "history": [],
}


def test_an_owner_export_reads_back_with_its_status_score_and_fields():
    (mention,) = read_jf2(jf2_with(owner_entry(HELD_SPAM)), SITES).mentions

    assert mention == ImportedMention(
        source=HELD_SPAM["source"],
        target=POST,
        site="https://example.com",
        protocol=Protocol.PINGBACK,
        status=Status.SPAM,
        received_at="2024-05-09T01:44:10.000000Z",
        published="2024-05-09T01:40:00Z",
        title="Cheap watches online",
        excerpt="visit our casino",
        author_name="Casino",
        author_url="https://casino-bonus.example.info/",
        wm_property="mention-of",
        spam_score=0.93,
        spam_reasons=("link-heavy excerpt", "blocked domain"),
        status_reason="spam by owner",
        verified_at="2024-05-09T01:44:12.000000Z",
    )


def test_a_mention_exported_while_still_queued_is_held_for_the_owner():
    queued = {**HELD_SPAM, "status": "queued"}

    (mention,) = read_jf2(jf2_with(owner_entry(queued)), SITES).mentions

    assert mention.status == Status.PENDING


def test_an_unknown_status_in_the_linkback_member_reads_as_approved():
    entry = webmention_entry(linkback={"status": "published", "spam_score": float("nan")})

    (mention,) = read_jf2(jf2_with(entry), SITES).mentions

    assert (mention.status, mention.spam_score) == (Status.APPROVED, 0)
