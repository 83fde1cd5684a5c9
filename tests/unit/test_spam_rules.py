"""Spam scoring, rule by rule: what each rule notices, what it lets pass, and how the scores decide."""

from __future__ import annotations

import time
from pathlib import Path

import pytest

from linkback.spam.domains import registrable_domain
from linkback.spam.measure import PageStats, page_stats
from linkback.spam.rules import (
    CONTENT_RULE_MAX,
    DEFAULT_KEYWORD_RULES,
    RULES,
    Assessment,
    Decision,
    Finding,
    KeywordRule,
    Signals,
    SpamPolicy,
    assess,
    authorship,
    commercial_anchors,
    copied_excerpt,
    generic_praise,
    hidden_links,
    keyword_rules,
    link_farm,
    owner_list,
    repeat_offender,
    self_ping,
    sender_address,
    thin_content,
    trackback_claims,
)

FIXTURES = Path(__file__).resolve().parent.parent / "fixtures" / "spam"
SOURCE = "https://blog.example.net/2024/05/comments-on-a-static-blog/"
TARGET = "https://example.com/posts/static-comments/"
POLICY = SpamPolicy()
PROSE = (
    "<p>I moved this blog off a database last winter and the one thing I missed was comments. Not the spam, "
    "obviously, but the handful of readers who used to write back.</p>"
    f"<p>Jo wrote up <a href='{TARGET}'>a way to keep comments without a database</a> that receives Webmentions "
    "and stores them somewhere small. I like that it does not try to be a comment widget.</p>"
    "<p>I have not tried it yet: my host only gives me FTP, so anything with a queue is out of reach.</p>"
)


def page(body: str, *, title: str = "Comments on a static blog", lang: str = "en") -> str:
    head = f"<meta charset=utf-8><title>{title}</title>"
    return f"<!doctype html><html lang='{lang}'><head>{head}</head><body>{body}</body></html>"


def signals(**overrides) -> Signals:
    """A pingback from an ordinary blog post that links to the target, as the verifier would describe it."""
    values = {
        "protocol": "pingback",
        "source": SOURCE,
        "target": TARGET,
        "page_url": SOURCE,
        "page_text": page(PROSE),
        "content_type": "text/html",
        "link_context": "Jo wrote up a way to keep comments without a database that receives Webmentions",
        "page_title": "Comments on a static blog",
    }
    values.update(overrides)
    return Signals(**values)


def stats_of(given: Signals) -> PageStats:
    return page_stats(given.page_text, given.content_type, given.page_url, given.target)


def run(rule, given: Signals, policy: SpamPolicy = POLICY) -> Finding | None:
    return rule(given, stats_of(given), policy)


def links(anchors: list[str], *, site: str = "site", hidden: str = "") -> str:
    """A list of outbound links, each to a site of its own."""
    items = "".join(f"<li><a href='https://www.{site}{n}.org/'>{anchor}</a></li>" for n, anchor in enumerate(anchors))
    return f"<ul{hidden}>{items}</ul>"


def fixture(path: str) -> str:
    return (FIXTURES / path).read_text(encoding="utf-8")


# --- registrable domains -------------------------------------------------------------------------------


def test_the_registrable_domain_drops_subdomains_under_a_two_label_public_suffix():
    assert registrable_domain("www.blog.example.co.uk") == "example.co.uk"


def test_the_registrable_domain_of_a_url_ignores_scheme_userinfo_port_case_and_trailing_dot():
    assert registrable_domain("https://user@WWW.Example.COM.:8443/path?q=1") == "example.com"


def test_each_blog_on_a_shared_blog_host_is_its_own_registrable_domain():
    assert registrable_domain("https://alice.github.io/post/") == "alice.github.io"
    assert registrable_domain("bob.blogspot.com") == "bob.blogspot.com"


def test_an_ip_address_is_its_own_registrable_domain():
    assert registrable_domain("http://192.0.2.10:8080/") == "192.0.2.10"
    assert registrable_domain("http://[2001:db8::1]/") == "2001:db8::1"


# --- measuring the page --------------------------------------------------------------------------------


def test_scripts_styles_and_comments_are_not_visible_text():
    stats = page_stats(page("<script>var casino = 1;</script><style>p{}</style><!-- viagra --><p>Hello there</p>"))

    assert stats.text == "Hello there"


def test_an_unterminated_comment_hides_the_rest_of_the_page_as_in_a_browser():
    stats = page_stats("<p>shown</p><!-- <p>never shown</p><a href='https://spam.example.org/'>x</a>")

    assert stats.text == "shown"
    assert stats.outbound_links == 0


def test_links_to_the_pages_own_domain_and_relative_links_are_not_outbound():
    html = page(
        "<a href='/about/'>About</a><a href='https://www.blog.example.net/x'>x</a>"
        "<a href='https://static.blog.example.net/y'>y</a><a href='https://other.example.org/'>other</a>"
    )

    stats = page_stats(html, "text/html", SOURCE, TARGET)

    assert (stats.links, stats.outbound_links, stats.outbound_domains) == (4, 1, 1)


@pytest.mark.parametrize(
    "opening",
    [
        "<div style='display:none'>",
        '<div style="visibility: hidden;">',
        "<div style='position:absolute;left:-9999px'>",
        "<p style='font-size:0px'>",
        "<section hidden>",
    ],
)
def test_links_inside_an_inline_hidden_element_are_counted_as_hidden(opening):
    name = opening[1:].split()[0].rstrip(">")
    html = page(
        f"<p>visible</p>{opening}<a href='https://a.example.org/'>a</a><a href='https://b.example.org/'>b</a></{name}>"
    )

    stats = page_stats(html, "text/html", SOURCE, TARGET)

    assert (stats.hidden_outbound_links, stats.outbound_links) == (2, 0)


def test_a_hidden_element_ends_at_its_own_closing_tag_not_at_a_nested_ones():
    html = page(
        "<div style='display:none'><div><a href='https://a.example.org/'>a</a></div>"
        "<a href='https://b.example.org/'>b</a></div><a href='https://c.example.org/'>c</a>"
    )

    stats = page_stats(html, "text/html", SOURCE, TARGET)

    assert (stats.hidden_outbound_links, stats.outbound_links) == (2, 1)


def test_a_class_named_hidden_is_not_the_hidden_attribute():
    # Tailwind's responsive menus: hidden on phones, shown on desktops, by a stylesheet we never read.
    html = page("<nav class='mt-4 hidden lg:flex'><a href='https://social.example.org/@me'>me</a></nav>")

    stats = page_stats(html, "text/html", SOURCE, TARGET)

    assert (stats.hidden_outbound_links, stats.outbound_links) == (0, 1)


def test_the_word_hidden_in_text_hides_nothing():
    stats = page_stats(
        page("<p>the hidden costs of hosting</p><a href='https://a.example.org/'>a</a>"), "text/html", SOURCE
    )

    assert stats.outbound_links == 1


def test_a_plain_text_page_counts_the_urls_in_its_text_as_links():
    text = "Read https://example.com/posts/static-comments/ and https://other.example.org/x, not https://blog.example.net/y"

    stats = page_stats(text, "text/plain", SOURCE, TARGET)

    assert (stats.links, stats.outbound_links, stats.outbound_domains) == (3, 2, 2)


HOSTILE = {
    "a megabyte of '<'": "<" * 2**20,
    "a megabyte of unterminated comments": "<!--" * 2**18,
    "a megabyte of unclosed '<a'": "<a" * 2**19,
    "an unterminated script full of '<'": "<script>" + "<" * 2**20,
    "a hidden div holding 200 000 nested divs": "<div hidden>" + "<div>" * 200_000,
    "the word hidden 140 000 times": " hidden" * 150_000,
    "100 000 links to distinct hosts": "".join(
        f"<a href='https://h{n}.example{n % 97}.org/'>x</a>" for n in range(100_000)
    ),
}


@pytest.mark.parametrize("name", list(HOSTILE))
def test_measuring_a_hostile_megabyte_stays_linear(name):
    # Well under 50 ms per MB on a laptop (bench/spam_eval.py); the bound here only catches a quadratic
    # pattern, which would take seconds, not a slow machine.
    html = HOSTILE[name]
    started = time.thread_time()

    page_stats(html, "text/html", SOURCE, TARGET)

    assert time.thread_time() - started < 0.5


# --- the owner's lists ---------------------------------------------------------------------------------


def test_a_blocked_source_is_spam_whatever_the_page_says():
    assessment = assess(signals(list_verdict="block", list_entry="domain blog.example.net"))

    assert assessment.decision == Decision.SPAM
    assert assessment.findings[0].rule == "owner_list"
    assert "domain blog.example.net" in assessment.findings[0].reason


def test_an_allowed_source_is_strongly_trusted():
    finding = run(owner_list, signals(list_verdict="allow", list_entry="domain blog.example.net"))

    assert finding is not None and finding.score < -POLICY.hold_at


def test_an_allowed_source_is_still_scored_and_at_worst_held():
    # Given a page that would be spam on its own
    spammy = signals(page_text=page(links(["online casino"] * 30)), offences=3)
    assert assess(spammy).decision == Decision.SPAM

    # When the owner has allowed its domain
    allowed = assess(spammy._replace(list_verdict="allow", list_entry="domain blog.example.net"))

    # Then it is held for the owner, not thrown away, and the rules still speak
    assert allowed.decision == Decision.HOLD
    assert {f.rule for f in allowed.findings} >= {"owner_list", "commercial_anchors", "repeat_offender"}


def test_no_list_entry_no_list_finding():
    assert run(owner_list, signals()) is None


# --- self-pings ----------------------------------------------------------------------------------------

OWN = signals(source="https://www.example.com/posts/another/", page_url="https://www.example.com/posts/another/")


def test_a_self_ping_is_ignored_by_default():
    assessment = assess(OWN, SpamPolicy(own_sites=("https://example.com",)))

    assert assessment.decision == Decision.IGNORE
    assert [f.rule for f in assessment.findings] == ["self_ping"]


def test_a_self_ping_is_held_when_the_owner_asks_to_see_them():
    assessment = assess(OWN, SpamPolicy(own_sites=("https://example.com",), self_pings="hold"))

    assert assessment.decision == Decision.HOLD


def test_a_self_ping_is_scored_like_any_mention_when_allowed():
    policy = SpamPolicy(own_sites=("https://example.com",), self_pings="allow")

    assert run(self_ping, OWN, policy) is None
    assert assess(OWN, policy).decision == Decision.APPROVE


def test_a_source_that_redirects_onto_the_owners_site_is_a_self_ping():
    redirected = signals(source="https://short.example.org/x", page_url="https://example.com/posts/another/")

    assert run(self_ping, redirected, SpamPolicy(own_sites=("https://example.com",))) is not None


def test_another_site_is_not_a_self_ping():
    assert run(self_ping, signals(), SpamPolicy(own_sites=("https://example.com",))) is None


# --- sender address (Simple Trackback Validation) ------------------------------------------------------


def test_a_ping_from_an_address_unrelated_to_the_source_host_is_a_weak_signal():
    finding = run(sender_address, signals(sender_ip="203.0.113.9", source_addresses=("198.51.100.7",)))

    assert finding is not None and 0 < finding.score < POLICY.hold_at
    assert "203.0.113.9" in finding.reason


def test_a_ping_from_the_source_hosts_own_address_says_nothing():
    assert run(sender_address, signals(sender_ip="198.51.100.7", source_addresses=("198.51.100.7",))) is None


def test_a_ping_from_a_neighbouring_machine_of_the_same_provider_says_nothing():
    assert run(sender_address, signals(sender_ip="198.51.100.200", source_addresses=("198.51.100.7",))) is None


def test_an_ipv4_mapped_ipv6_sender_is_its_ipv4_address():
    assert run(sender_address, signals(sender_ip="::ffff:198.51.100.7", source_addresses=("198.51.100.7",))) is None


def test_webmention_senders_are_not_held_to_the_source_hosts_address():
    # Webmentions are often sent by services (Bridgy, webmention.app) on the author's behalf.
    given = signals(protocol="webmention", sender_ip="203.0.113.9", source_addresses=("198.51.100.7",))

    assert run(sender_address, given) is None


def test_without_both_addresses_the_sender_is_not_judged():
    assert run(sender_address, signals(sender_ip="203.0.113.9")) is None
    assert run(sender_address, signals(source_addresses=("198.51.100.7",))) is None


# --- TrackBack claims ----------------------------------------------------------------------------------

TRACKBACK_PAGE = fixture("legit/movabletype-trackback.html")
TRACKBACK = signals(
    protocol="trackback",
    source="http://www.oldschool.example.com/archives/2024/05/trackback_lives.html",
    page_url="http://www.oldschool.example.com/archives/2024/05/trackback_lives.html",
    target="https://example.com/posts/trackback-is-not-dead/",
    page_text=TRACKBACK_PAGE,
    page_title="Old School Weblog: TrackBack lives",
    link_context="",
    sent_title="TrackBack lives",
    sent_blog_name="Old School Weblog",
    sent_excerpt=(
        "Nice to see someone defend TrackBack in 2024. Jo Tanaka argues that TrackBack is not dead, just "
        "neglected, and that a receiver which verifies the link and holds anything doubtful makes it us [&#8230;]"
    ),
)


def test_trackback_claims_that_the_page_shows_are_trustworthy():
    finding = run(trackback_claims, TRACKBACK)

    assert finding is not None and finding.score < 0


def test_trackback_claims_describing_another_page_are_suspicious():
    finding = run(
        trackback_claims,
        TRACKBACK._replace(
            sent_title="Cheap Cialis Online",
            sent_excerpt="Generic cialis tablets at discount prices, free shipping and no prescription needed at all.",
        ),
    )

    assert finding is not None and finding.score > 0
    assert "title and excerpt" in finding.reason


def test_an_excerpt_matches_across_an_inline_tag_in_a_language_without_spaces():
    html = page(
        "<p>四十歳で日本語を学び始めたという<a href='https://example.com/posts/learning-japanese/'>ジョーさんの記事</a>を読んで、少し書いてみます。</p>",
        lang="ja",
    )
    given = TRACKBACK._replace(
        page_text=html,
        sent_title="",
        sent_blog_name="",
        sent_excerpt="四十歳で日本語を学び始めたというジョーさんの記事を読んで、少し書いてみます。",
    )

    finding = run(trackback_claims, given)

    assert finding is not None and finding.score < 0


def test_a_blog_name_found_only_in_the_pages_head_counts_as_shown():
    html = "<html><head><meta property='og:site_name' content='Quiet Corners'></head><body><p>Fonts.</p></body></html>"

    finding = run(
        trackback_claims,
        TRACKBACK._replace(page_text=html, sent_title="", sent_excerpt="", sent_blog_name="Quiet Corners"),
    )

    assert finding is not None and finding.score < 0


def test_pingbacks_and_webmentions_make_no_claims_to_check():
    assert run(trackback_claims, TRACKBACK._replace(protocol="pingback")) is None


# --- copies of our post --------------------------------------------------------------------------------


def test_a_feed_republisher_copy_of_our_post_looks_copied():
    # Given a splog that republished our feed item, with the credit line the original feed carried
    credit = f"The post <a href='{TARGET}'>Static comments without a database</a> appeared first on Jo's notes."
    title = "Static comments without a database | TechFeed Mirror"
    given = signals(
        page_text=page(f"<p>Our words.</p><p>{credit}</p>", title=title),
        page_title=title,
        link_context="Our words. The post Static comments without a database appeared first on Jo's notes.",
    )

    finding = run(copied_excerpt, given)

    assert finding is not None and finding.score >= POLICY.hold_at
    assert "credit line" in finding.reason and "title" in finding.reason


def test_a_reply_titled_after_our_post_with_its_own_words_is_not_a_copy():
    given = signals(
        page_title="Re: Static comments without a database",
        link_context=(
            "I tried the approach from Static comments without a database on my own site and ran into one "
            "problem worth sharing"
        ),
    )

    assert run(copied_excerpt, given) is None


def test_a_trackback_whose_excerpt_is_all_the_text_around_the_link_and_titled_as_ours_looks_copied():
    excerpt = (
        "Static comments without a database. My site is a folder of HTML files on object storage and I wanted replies"
    )
    given = signals(
        protocol="trackback", sent_excerpt=excerpt, sent_title="Static comments", link_context=excerpt + " …"
    )

    finding = run(copied_excerpt, given)

    assert finding is not None
    assert "excerpt" in finding.reason


# --- thin content --------------------------------------------------------------------------------------


def test_a_short_anonymous_page_is_thin_but_not_even_held_for_that_alone():
    given = signals(page_text=page(f"<p>Reading: <a href='{TARGET}'>static comments</a>.</p>"))

    finding = run(thin_content, given)
    assessment = assess(given)

    assert finding is not None and finding.score < POLICY.hold_at
    assert assessment.decision == Decision.APPROVE


def test_a_short_note_with_an_h_entry_is_not_thin():
    given = signals(page_text=fixture("legit/indieweb-like.html"), has_h_entry=True, author_name="Ana Souza")

    assert run(thin_content, given) is None


def test_two_hundred_characters_of_japanese_are_not_thin():
    given = signals(page_text=page("<p>" + "日本語の文章です。" * 22 + f"<a href='{TARGET}'>記事</a></p>", lang="ja"))

    assert run(thin_content, given) is None


def test_a_page_with_enough_words_is_not_thin():
    assert run(thin_content, signals()) is None


# --- link farms ----------------------------------------------------------------------------------------


def test_hundreds_of_links_to_hundreds_of_sites_with_nothing_else_is_a_link_farm():
    finding = run(link_farm, signals(page_text=page(links([f"Blog {n}" for n in range(300)]))))

    assert finding is not None and finding.score == CONTENT_RULE_MAX
    assert "300 outbound links to 300 sites" in finding.reason


def test_a_link_roundup_that_says_something_about_each_link_is_not_a_link_farm():
    given = signals(
        page_text=fixture("legit/wordpress-weekly-links-roundup.html"),
        source="https://frontendweekly.example.com/2024/05/24/links-142/",
        page_url="https://frontendweekly.example.com/2024/05/24/links-142/",
    )

    assert run(link_farm, given) is None


def test_a_link_farm_alone_is_held_not_called_spam():
    assert assess(signals(page_text=page(links([f"Blog {n}" for n in range(1000)])))).decision == Decision.HOLD


# --- hidden links --------------------------------------------------------------------------------------


def test_a_hidden_block_of_outbound_links_is_hidden_link_spam():
    finding = run(
        hidden_links, signals(page_text=page(PROSE + links(["a", "b", "c", "d"], hidden=" style='display:none'")))
    )

    assert finding is not None and finding.score >= POLICY.hold_at
    assert "4 outbound links to 4 sites" in finding.reason


def test_hiding_the_link_to_our_post_weighs_more():
    hidden_target = f"<div style='display:none'><a href='https://x.example.org/'>x</a><a href='{TARGET}'>t</a></div>"
    one_hidden = run(
        hidden_links,
        signals(
            page_text=page(
                PROSE + "<div hidden><a href='https://x.example.org/'>x</a><a href='https://y.example.org/'>y</a></div>"
            )
        ),
    )

    finding = run(hidden_links, signals(page_text=page(PROSE + hidden_target)))

    assert finding is not None and one_hidden is not None and finding.score > one_hidden.score
    assert "including the link to your site" in finding.reason


def test_a_hidden_menu_of_the_sites_own_pages_is_not_hidden_link_spam():
    menu = "<nav id='menu' hidden><a href='/blog/'>Blog</a><a href='https://blog.example.net/about/'>About</a></nav>"

    assert run(hidden_links, signals(page_text=page(menu + PROSE))) is None


# --- commercial anchors --------------------------------------------------------------------------------


def test_outbound_links_anchored_with_sales_keywords_are_suspicious():
    finding = run(
        commercial_anchors, signals(page_text=page(PROSE + links(["cheap viagra online", "best online casino"])))
    )

    assert finding is not None and POLICY.hold_at <= finding.score < POLICY.spam_at


def test_one_sales_anchor_among_honest_links_only_nudges():
    given = signals(
        page_text=fixture("legit/portuguese-casino-estoril.html"),
        source="https://viagenslentas.example.pt/2024/05/estoril-de-bicicleta/",
        page_url="https://viagenslentas.example.pt/2024/05/estoril-de-bicicleta/",
        target="https://example.com/posts/bike-commute/",
    )

    finding = run(commercial_anchors, given)

    assert finding is not None and finding.score < POLICY.hold_at


def test_the_anchor_of_the_link_to_our_post_is_our_title_not_the_pages_choice():
    given = signals(
        target="https://example.com/posts/cheap-vps-benchmarks/",
        page_text=page(PROSE + "<a href='https://example.com/posts/cheap-vps-benchmarks/'>cheap VPS benchmarks</a>"),
    )

    assert run(commercial_anchors, given) is None


def test_a_page_whose_outbound_links_mostly_sell_something_is_spam_on_that_alone():
    given = signals(
        page_text=page(
            PROSE
            + links(
                ["plumber near me", "roofing contractor Dallas", "cheap insurance quotes", "payday loans", "Tom's blog"]
            )
        )
    )

    assert run(commercial_anchors, given).score >= POLICY.spam_at
    assert assess(given).decision == Decision.SPAM


# --- stock praise --------------------------------------------------------------------------------------


def test_stock_praise_next_to_the_link_is_comment_spam_talk():
    finding = run(
        generic_praise, signals(link_context="Great post, thanks for sharing! Very informative. static comments")
    )

    assert finding is not None and finding.score > 0
    assert "great post" in finding.reason


def test_a_sentence_about_the_post_is_not_stock_praise():
    assert run(generic_praise, signals()) is None


# --- keyword rules -------------------------------------------------------------------------------------


def test_a_default_keyword_on_the_page_counts():
    finding = run(keyword_rules, signals(page_text=page(PROSE + "<p>Buy viagra here.</p>")))

    assert finding is not None and "viagra" in finding.reason


def test_keywords_match_whole_words_only():
    inside_words = "<p>Ask a specialist at the antiviagra clinic near the viagrafalls museum.</p>"

    assert run(keyword_rules, signals(page_text=page(PROSE + inside_words))) is None


def test_keywords_in_hidden_text_and_in_a_trackbacks_claims_count_too():
    hidden = signals(page_text=page(PROSE + "<div style='display:none'>payday loans</div>"))
    claimed = signals(protocol="trackback", sent_title="write my essay")

    assert run(keyword_rules, hidden) is not None
    assert run(keyword_rules, claimed) is not None


def test_the_default_keywords_together_stay_below_spam():
    every_word = "viagra cialis online casino no deposit bonus payday loans write my essay replica watches"
    finding = run(keyword_rules, signals(page_text=page(PROSE + f"<p>{every_word}</p>")))

    assert finding is not None and finding.score < POLICY.spam_at


def test_an_owner_keyword_rule_may_be_a_regular_expression():
    policy = SpamPolicy(keyword_rules=(KeywordRule("/\\bfree\\s+spins?\\b/", 1.5),))

    finding = run(keyword_rules, signals(page_text=page(PROSE + "<p>100 Free  Spins today</p>")), policy)

    assert finding is not None and finding.score == 1.5


def test_an_owner_keyword_weighted_above_spam_decides_alone():
    policy = SpamPolicy(keyword_rules=(KeywordRule("sourdough starter kit", 10.0),))

    assessment = assess(signals(page_text=page(PROSE + "<p>Sourdough starter kit, 20% off</p>")), policy)

    assert assessment.decision == Decision.SPAM


def test_without_keyword_rules_nothing_is_matched():
    assert run(keyword_rules, signals(page_text=page(PROSE + "<p>viagra</p>")), SpamPolicy(keyword_rules=())) is None


# --- repeat offenders ----------------------------------------------------------------------------------


def test_a_first_mention_is_no_repeat_offence():
    assert run(repeat_offender, signals()) is None


def test_each_earlier_spam_verdict_weighs_more_up_to_a_cap():
    once, twice, often = (run(repeat_offender, signals(offences=n)) for n in (1, 2, 50))

    assert 0 < once.score < twice.score <= often.score == CONTENT_RULE_MAX


# --- authorship ----------------------------------------------------------------------------------------


def test_an_h_entry_with_a_named_author_is_trustworthy():
    finding = run(authorship, signals(has_h_entry=True, author_name="Nadia Rahman"))

    assert finding is not None and finding.score < 0 and "Nadia Rahman" in finding.reason


def test_an_h_entry_without_an_author_is_a_little_trustworthy():
    named = run(authorship, signals(has_h_entry=True, author_name="Nadia Rahman"))
    anonymous = run(authorship, signals(has_h_entry=True))

    assert named.score < anonymous.score < 0


def test_a_page_without_an_h_entry_earns_no_authorship():
    assert run(authorship, signals()) is None


# --- combining ---------------------------------------------------------------------------------------


def test_external_findings_are_added_as_given():
    akismet = Finding("akismet", 6.0, "Akismet says spam")

    assessment = assess(signals(external=(akismet,)))

    assert assessment.findings[-1] == akismet
    assert assessment.decision == Decision.SPAM


def test_findings_come_in_rule_order_and_only_rules_that_fired():
    given = signals(
        offences=1, has_h_entry=True, author_name="Lu", sender_ip="203.0.113.9", source_addresses=("198.51.100.7",)
    )

    assessment = assess(given)

    assert [f.rule for f in assessment.findings] == ["repeat_offender", "sender_address", "authorship"]


def test_each_finding_is_named_after_the_rule_function_that_made_it():
    # Given a page that trips most rules at once
    given = signals(
        protocol="trackback",
        page_text=page(
            links(["online casino"] * 200, hidden="") + links(["viagra"] * 5, site="pills", hidden=" hidden")
        ),
        offences=2,
        sender_ip="203.0.113.9",
        source_addresses=("198.51.100.7",),
        sent_title="Best casino",
        link_context="Great post, thanks for sharing",
        has_h_entry=True,
        author_name="Casino Expert",
    )

    fired = {finding.rule for finding in assess(given).findings}

    assert len(fired) >= 8
    assert fired <= {rule.__name__ for rule in RULES}


def test_reasons_read_rule_reason_and_signed_score():
    assessment = Assessment(Decision.HOLD, 2.5, (Finding("link_farm", 2.5, "the page has 80 outbound links"),))

    assert assessment.reasons() == ("link_farm: the page has 80 outbound links (+2.5)",)


@pytest.mark.parametrize(
    ("score", "decision"),
    [
        (2.4, Decision.APPROVE),
        (2.5, Decision.HOLD),
        (4.9, Decision.HOLD),
        (5.0, Decision.SPAM),
        (-3.0, Decision.APPROVE),
    ],
)
def test_the_summed_score_decides_at_the_thresholds(score, decision):
    assert assess(signals(external=(Finding("test", score, "given"),))).decision == decision


def test_the_thresholds_are_the_policys():
    strict = SpamPolicy(hold_at=1.0, spam_at=2.0)

    assert assess(signals(external=(Finding("test", 2.0, "given"),)), strict).decision == Decision.SPAM


def test_a_policy_holding_above_its_spam_threshold_is_refused():
    with pytest.raises(ValueError, match="hold_at"):
        SpamPolicy(hold_at=6.0, spam_at=5.0)


def test_an_unknown_self_ping_policy_is_refused():
    with pytest.raises(ValueError, match="self_pings"):
        SpamPolicy(self_pings="drop")


def test_an_invalid_owner_regular_expression_is_refused_when_the_policy_is_made():
    with pytest.raises(ValueError, match="not a valid regular expression"):
        SpamPolicy(keyword_rules=(KeywordRule("/casino(/", 2.0),))


def test_the_default_keyword_rules_are_a_small_set():
    assert 5 <= len(DEFAULT_KEYWORD_RULES) <= 20


def test_an_ordinary_blog_post_is_approved_with_nothing_to_say():
    assessment = assess(signals())

    assert (assessment.decision, assessment.score, assessment.findings) == (Decision.APPROVE, 0.0, ())
