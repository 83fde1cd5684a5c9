"""Text we store and show: valid Unicode, no control characters, bounded length."""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from linkback.text import ELLIPSIS, clean_text


def test_nothing_is_the_empty_string():
    assert clean_text(None, 10) == ""
    assert clean_text("", 10) == ""


def test_control_characters_and_non_characters_are_removed():
    assert clean_text("a\x00b\x07c\x1bd\x7fe\x9ff\ufffeg\uffffh", 50) == "abcdefgh"


def test_runs_of_whitespace_become_one_space_on_a_single_line():
    assert clean_text("  one \n\n two\t\tthree  ", 50) == "one two three"


def test_line_breaks_are_kept_when_not_single_line():
    assert clean_text("one\ntwo", 50, single_line=False) == "one\ntwo"


def test_text_is_stored_in_normal_form_c():
    assert clean_text("Zoe\u0308", 50) == "Zo\u00eb"


def test_text_within_the_limit_is_unchanged():
    assert clean_text("exactly ten", 11) == "exactly ten"


def test_long_text_is_cut_at_a_word_boundary_with_an_ellipsis():
    assert clean_text("the quick brown fox jumps over the lazy dog", 18) == "the quick brown" + ELLIPSIS


def test_a_word_that_fits_whole_before_the_cut_is_kept():
    # "the quick brown fox" is 19 characters: with the ellipsis it fits in 20 exactly
    assert clean_text("the quick brown fox jumps over the lazy dog", 20) == "the quick brown fox" + ELLIPSIS


def test_long_text_without_spaces_is_cut_mid_word_with_an_ellipsis():
    assert clean_text("a" * 30, 10) == "a" * 9 + ELLIPSIS


@settings(max_examples=200, deadline=None)
@given(st.text(), st.integers(min_value=1, max_value=300))
def test_cleaned_text_never_exceeds_the_limit_nor_keeps_control_characters(value, limit):
    cleaned = clean_text(value, limit)

    assert len(cleaned) <= limit
    assert not any(ord(char) < 0x20 or 0x7F <= ord(char) <= 0x9F for char in cleaned)
    assert cleaned == cleaned.strip()
