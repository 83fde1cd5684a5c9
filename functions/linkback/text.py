"""Text that we store and show: valid Unicode, no control characters, bounded length."""

from __future__ import annotations

import re
import unicodedata

# C0/C1 controls except tab and newline, plus the Unicode non-characters and lone surrogates that
# would make a stored string invalid UTF-8.
_CONTROL = re.compile("[\x00-\x08\x0b-\x1f\x7f-\x9f\ud800-\udfff\ufdd0-\ufdef\ufffe\uffff]")
_SPACE_RUN = re.compile(r"\s+")
ELLIPSIS = "…"


def clean_text(value: str | None, max_length: int, *, single_line: bool = True) -> str:
    """NFC-normalised, control-free text cropped to max_length characters (with an ellipsis)."""
    if not value:
        return ""
    text = _CONTROL.sub("", unicodedata.normalize("NFC", value))
    text = _SPACE_RUN.sub(" ", text) if single_line else text
    text = text.strip()
    if len(text) <= max_length:
        return text
    cropped = text[: max_length - 1]
    # Cut at a word boundary when one is near, so an excerpt does not end mid-word.
    space = cropped.rfind(" ", max_length // 2)
    if space > 0 and text[max_length - 1] != " ":
        cropped = cropped[:space]
    return cropped.rstrip() + ELLIPSIS


# Characters XML 1.0 cannot carry at all (§2.2 Char): most C0 controls, lone surrogates, U+FFFE/FFFF.
_NOT_XML = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ud800-\udfff\ufffe\uffff]")


def xml_text(value: str) -> str:
    """Text that can go into an XML reply (before escaping): what XML cannot represent becomes U+FFFD."""
    return _NOT_XML.sub("\ufffd", value)


class LazyPattern:
    """A regular expression compiled on first use: compiled at import, the spam modules' patterns would
    cost a cold Lambda ~10 ms, and most of the functions that import the package never score a page."""

    __slots__ = ("compiled", "flags", "source")

    def __init__(self, source: str, flags: int = 0) -> None:
        self.source, self.flags = source, flags
        self.compiled: re.Pattern[str] | None = None

    def __call__(self) -> re.Pattern[str]:
        if self.compiled is None:
            self.compiled = re.compile(self.source, self.flags)
        return self.compiled
