"""What `linkback moderate` prints: aligned tables that fit the terminal, and a progress bar for bulk
decisions.

Every cell may come from a stranger: titles, excerpts, author names and URLs are whatever the sender's
page said. Control characters are made harmless before anything reaches the owner's terminal, where an
escape sequence could rewrite what is on screen (or the window title) and a bidirectional override
could make `spam.example` read as `elpmaxe.maps`.
"""

from __future__ import annotations

import shutil
import sys
import unicodedata
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any, TextIO

ELLIPSIS = "…"
GAP = "  "
MIN_WIDTH = 6  # below this a truncated cell says nothing; the line overflows instead
# Unicode's explicit bidi embeddings, overrides and isolates (UAX #9): the "Trojan Source" characters.
BIDI_CONTROLS = frozenset("\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069\u200e\u200f\u061c")


@dataclass(frozen=True)
class Column:
    header: str
    # False for what the owner copies into the next command (a mention id): cut, it would be useless.
    truncate: bool = True
    align_right: bool = False
    # Cut no narrower than this: a protocol name cut to "we…" tells less than a longer line would.
    min_width: int = MIN_WIDTH


def printable(value: Any) -> str:
    """A cell's text on one line, with no character that can steer the terminal."""
    if value is None:
        return ""
    text = value if isinstance(value, str) else str(value)
    if text.isprintable():
        return text
    shown = []
    for char in text:
        if char in "\t\n\r\v\f" or unicodedata.category(char) in ("Zl", "Zp"):
            shown.append(" ")
        elif char in BIDI_CONTROLS or unicodedata.category(char) in ("Cc", "Cs", "Co", "Cn"):
            shown.append("\ufffd")
        else:
            shown.append(char)
    return "".join(shown)


def display_width(text: str) -> int:
    """Terminal cells the text takes: East Asian wide characters take two, combining marks none."""
    width = 0
    for char in text:
        if unicodedata.combining(char) or unicodedata.category(char) == "Cf":
            continue
        width += 2 if unicodedata.east_asian_width(char) in ("W", "F") else 1
    return width


def truncate(text: str, width: int) -> str:
    """The text cut to `width` terminal cells, its last visible one an ellipsis when anything was cut."""
    if display_width(text) <= width:
        return text
    if width <= 0:
        return ""
    kept, used = [], 0
    for char in text:
        extra = display_width(char)
        if used + extra > width - 1:
            break
        kept.append(char)
        used += extra
    return "".join(kept) + ELLIPSIS


def _pad(text: str, width: int, align_right: bool) -> str:
    fill = " " * max(0, width - display_width(text))
    return fill + text if align_right else text + fill


def column_widths(natural: Sequence[int], columns: Sequence[Column], width: int) -> list[int]:
    """Shrink the widest truncatable column one cell at a time until the line fits `width`, so a long
    source URL gives way before a short protocol name does."""
    widths = list(natural)
    excess = sum(widths) + len(GAP) * (len(widths) - 1) - width
    while excess > 0:
        shrinkable = [i for i, column in enumerate(columns) if column.truncate and widths[i] > column.min_width]
        if not shrinkable:
            break
        widest = max(shrinkable, key=lambda i: widths[i])
        widths[widest] -= 1
        excess -= 1
    return widths


def render_table(columns: Sequence[Column], rows: Iterable[Sequence[Any]], *, width: int | None = None) -> str:
    """The rows under a header line, columns aligned and, where allowed, cut to fit `width` (by default
    the terminal's); no trailing spaces. Ends with a newline."""
    if width is None:
        width = shutil.get_terminal_size().columns
    cells = [[printable(value) for value in row] for row in rows]
    headers = [column.header for column in columns]
    natural = [
        max(display_width(text) for text in (header, *(row[i] for row in cells))) for i, header in enumerate(headers)
    ]
    widths = column_widths(natural, columns, width)
    lines = []
    for row in (headers, *cells):
        shown = [
            _pad(truncate(text, widths[i]) if columns[i].truncate else text, widths[i], columns[i].align_right)
            for i, text in enumerate(row)
        ]
        lines.append(GAP.join(shown).rstrip())
    return "\n".join(lines) + "\n"


def render_fields(fields: Iterable[tuple[str, Any]]) -> str:
    """`name  value` lines, names aligned, values whole (a detail view is read, not scanned)."""
    pairs = [(name, printable(value)) for name, value in fields]
    if not pairs:
        return ""
    name_width = max(display_width(name) for name, _ in pairs)
    return "".join(f"{_pad(name, name_width, False)}{GAP}{value}".rstrip() + "\n" for name, value in pairs)


class Progress:
    """`[#####-----] 12/40 approved` redrawn in place on a terminal; where stderr is a file or a pipe
    (CI logs, `2>log`), one plain `12/40 approved` line per step instead of carriage-return noise."""

    def __init__(self, total: int, label: str, *, stream: TextIO | None = None, bar_width: int = 20) -> None:
        self.total = total
        self.label = label
        self.done = 0
        self.stream = stream if stream is not None else sys.stderr
        self.bar_width = bar_width
        isatty = getattr(self.stream, "isatty", None)
        self.redraw = bool(isatty and isatty())
        self._drawn = False

    def line(self) -> str:
        filled = self.bar_width if self.total <= 0 else self.bar_width * min(self.done, self.total) // self.total
        return f"[{'#' * filled}{'-' * (self.bar_width - filled)}] {self.done}/{self.total} {self.label}"

    def advance(self, step: int = 1) -> None:
        self.done += step
        if self.redraw:
            self.stream.write("\r" + self.line())
            self._drawn = True
        else:
            self.stream.write(f"{self.done}/{self.total} {self.label}\n")
        self.stream.flush()

    def finish(self) -> None:
        """End the redrawn line so what follows starts on its own."""
        if self._drawn:
            self.stream.write("\n")
            self.stream.flush()
            self._drawn = False

    def __enter__(self) -> Progress:
        return self

    def __exit__(self, *_: object) -> None:
        self.finish()
