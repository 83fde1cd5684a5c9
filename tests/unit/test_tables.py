"""What `linkback moderate` prints: tables that fit the terminal without cutting what the owner must
copy, cells from strangers that cannot steer the terminal, and a progress report readable in a log."""

from __future__ import annotations

import io

from linkback_infra.tables import (
    Column,
    Progress,
    display_width,
    printable,
    render_fields,
    render_table,
    truncate,
)

MENTION_ID = "01HZX3J9Q7W2V5K8M4N6P0R2T4"
COLUMNS = [Column("ID", truncate=False), Column("VIA"), Column("SOURCE"), Column("TITLE")]
ROWS = [
    (MENTION_ID, "webmention", "https://blog.example.net/2024/05/a-rather-long-reply-about-your-post/", "A reply"),
    ("01HZX3J9Q7W2V5K8M4N6P0R2T5", "pingback", "https://example.org/p", "A much longer title than the rest"),
]


class _Terminal(io.StringIO):
    def isatty(self) -> bool:
        return True


def test_columns_are_aligned_under_their_headers() -> None:
    # Given rows that fit, When rendered, Then every column starts where its header does
    lines = render_table(COLUMNS, ROWS, width=500).splitlines()
    starts = [lines[0].index(header) for header in ("ID", "VIA", "SOURCE", "TITLE")]
    assert starts[0] == 0
    for line, row in zip(lines[1:], ROWS, strict=True):
        assert [line.index(cell) for cell in row] == starts


def test_a_table_that_fits_is_printed_whole() -> None:
    text = render_table(COLUMNS, ROWS, width=500)
    assert "…" not in text
    for row in ROWS:
        for cell in row:
            assert cell in text


def test_no_line_is_wider_than_the_terminal() -> None:
    for width in (60, 80, 100):
        lines = render_table(COLUMNS, ROWS, width=width).splitlines()
        assert max(display_width(line) for line in lines) <= width, width


def test_a_long_cell_is_cut_with_an_ellipsis() -> None:
    text = render_table(COLUMNS, ROWS, width=80)
    assert "https://blog.exam" in text
    assert ROWS[0][2] not in text
    assert "…" in text


def test_the_widest_column_gives_way_first() -> None:
    # Given a long source and short protocol names, When squeezed a little, Then only the source is cut
    text = render_table(COLUMNS, ROWS, width=120)
    assert "webmention" in text
    assert "pingback" in text
    assert "A much longer title than the rest" in text
    assert ROWS[0][2] not in text


def test_the_id_column_is_never_cut_even_when_the_line_overflows() -> None:
    text = render_table(COLUMNS, ROWS, width=20)
    for row in ROWS:
        assert row[0] in text


def test_lines_have_no_trailing_spaces_and_the_table_ends_with_a_newline() -> None:
    text = render_table(COLUMNS, [(MENTION_ID, "trackback", "https://example.org/", "")], width=120)
    assert text.endswith("\n")
    assert all(line == line.rstrip() for line in text.splitlines())


def test_a_right_aligned_column_lines_up_its_last_digit() -> None:
    columns = [Column("ID", truncate=False), Column("SCORE", align_right=True)]
    lines = render_table(columns, [("a", "0.25"), ("b", "10.50")], width=80).splitlines()
    assert len({len(line) for line in lines}) == 1


def test_missing_values_are_empty_cells() -> None:
    lines = render_table(COLUMNS, [(MENTION_ID, None, "https://example.org/", None)], width=120).splitlines()
    assert lines[1].split() == [MENTION_ID, "https://example.org/"]


def test_wide_characters_count_as_two_cells() -> None:
    # A Japanese title takes twice the columns its length says; aligned by display width, not len()
    assert display_width("日本語") == 6
    lines = render_table([Column("TITLE"), Column("VIA")], [("日本語", "pingback"), ("abc", "trackback")], width=80)
    first, second = lines.splitlines()[1:]
    assert display_width(first[: first.index("pingback")]) == display_width(second[: second.index("trackback")])


def test_truncation_counts_wide_characters_and_keeps_the_ellipsis_inside_the_width() -> None:
    cut = truncate("日本語のタイトル", 7)
    assert cut.endswith("…")
    assert display_width(cut) <= 7


def test_a_title_cannot_send_escape_sequences_to_the_terminal() -> None:
    # A sender controls the title: ESC ] 0 ; would retitle the window, ESC [ 2 J would clear the screen
    text = render_table([Column("TITLE")], [("Nice post\x1b]0;pwned\x07\x1b[2J",)], width=80)
    assert "\x1b" not in text
    assert "\x07" not in text
    assert "Nice post" in text


def test_a_bidi_override_cannot_reverse_a_domain_on_screen() -> None:
    # "Trojan Source": U+202E would make the rest of the cell read right to left
    shown = printable("https://\u202eelpmaxe.maps/")
    assert "\u202e" not in shown
    assert "elpmaxe.maps" in shown


def test_line_breaks_in_a_cell_stay_on_one_line() -> None:
    row = (MENTION_ID, "webmention", "https://example.org/", "two\nlines\u2028here")
    text = render_table(COLUMNS, [row], width=120)
    assert len(text.splitlines()) == 2
    assert "two lines here" in text


def test_fields_are_aligned_and_never_cut() -> None:
    long_excerpt = "word " * 60
    lines = render_fields([("id", MENTION_ID), ("spam reasons", "blocked domain"), ("excerpt", long_excerpt)])
    first, second, third = lines.splitlines()
    assert first.index(MENTION_ID) == second.index("blocked domain") == third.index("word")
    assert long_excerpt.strip() in lines


def test_progress_off_a_terminal_prints_one_plain_line_per_step() -> None:
    # Given stderr redirected to a file, When two chunks of a bulk decision complete
    log = io.StringIO()
    with Progress(40, "approved", stream=log) as progress:
        progress.advance(25)
        progress.advance(15)
    # Then the log holds one line per step and no carriage returns
    assert log.getvalue() == "25/40 approved\n40/40 approved\n"


def test_progress_on_a_terminal_redraws_one_bar_and_ends_the_line() -> None:
    terminal = _Terminal()
    with Progress(40, "approved", stream=terminal, bar_width=10) as progress:
        progress.advance(12)
        progress.advance(28)
    assert terminal.getvalue() == "\r[###-------] 12/40 approved\r[##########] 40/40 approved\n"


def test_the_bar_is_full_only_when_every_step_is_done() -> None:
    progress = Progress(40, "marked spam", stream=io.StringIO(), bar_width=10)
    progress.done = 39
    assert progress.line() == "[#########-] 39/40 marked spam"
