"""The intake's synchronous URL checks, the same for every protocol, and what each refusal reports."""

from __future__ import annotations

import pytest

from linkback.errors import InvalidSource, SourceIsTarget, TargetNotAccepted
from linkback.receive.intake import checked_urls

SITES = ("https://example.com", "https://blog.example.org")


def test_valid_urls_come_back_normalised_with_the_targets_site():
    checked = checked_urls("HTTPS://Other.example/reply#c1", "https://Example.com:443/posts/hello/", SITES)

    assert checked == ("https://other.example/reply", "https://example.com/posts/hello/", "https://example.com")


def test_a_target_on_a_site_we_do_not_serve_is_not_accepted():
    with pytest.raises(TargetNotAccepted) as refused:
        checked_urls("https://other.example/reply", "https://elsewhere.example/posts/hello/", SITES)

    assert refused.value.fault_code == 33


def test_a_target_that_is_not_a_usable_url_is_not_accepted():
    with pytest.raises(TargetNotAccepted, match="not a usable URL"):
        checked_urls("https://other.example/reply", "javascript:alert(1)", SITES)


def test_a_source_that_is_not_a_usable_url_is_an_invalid_source():
    with pytest.raises(InvalidSource) as refused:
        checked_urls("file:///etc/passwd", "https://example.com/posts/hello/", SITES)

    assert refused.value.fault_code == 16


def test_the_target_is_checked_before_the_source():
    # Nothing about the source is said to a sender whose target is not ours
    with pytest.raises(TargetNotAccepted):
        checked_urls("file:///etc/passwd", "https://elsewhere.example/", SITES)


def test_a_source_equal_to_the_target_after_normalising_is_refused():
    with pytest.raises(SourceIsTarget):
        checked_urls("https://EXAMPLE.com/posts/hello/#comments", "https://example.com/posts/hello/", SITES)


def test_a_source_on_the_same_site_as_the_target_is_accepted():
    source, _target, site = checked_urls(
        "https://example.com/posts/one-month-later/", "https://example.com/posts/hello/", SITES
    )

    assert (source, site) == ("https://example.com/posts/one-month-later/", "https://example.com")


def test_without_configured_sites_no_target_is_accepted():
    with pytest.raises(TargetNotAccepted):
        checked_urls("https://other.example/reply", "https://example.com/posts/hello/", ())
