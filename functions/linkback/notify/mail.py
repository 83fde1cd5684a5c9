"""The owner's mails about held mentions (sent through SNS): one per hold, or a daily digest.

Everything a mail says about a mention came from a stranger: its title, excerpt and author are collapsed
to single lines and cropped before they reach a mail, so a hostile title cannot forge an "Approve:" line
or push the real links out of sight. Pure: the announcer publishes what these return.
"""

from __future__ import annotations

import re
import textwrap
import unicodedata
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from urllib.parse import urlsplit

from linkback.moderation.oneclick import LINK_ACTIONS

# SNS Publish: "Subjects must be ... no line breaks or control characters, and less than 100 characters
# long"; email subjects are safest in plain ASCII (non-ASCII ones are rejected or rewritten).
SUBJECT_MAX_CHARS = 99
# SNS Publish: messages "at most 256 KB in size (262,144 bytes, not 262,144 characters)".
SNS_MESSAGE_MAX_BYTES = 262_144
MAX_DIGEST_ITEMS = 100
_DIGEST_BUDGET_BYTES = SNS_MESSAGE_MAX_BYTES - 16_384  # room for the header, the trailer and SNS's footer
_TITLE_MAX = 200
_FIELD_MAX = 500  # URLs, author, reasons
_EXCERPT_MAX = 600
_DIGEST_EXCERPT_MAX = 200


@dataclass(frozen=True)
class MentionSummary:
    """What the owner is told about one mention (built by the integrator from the stored record)."""

    id: str
    site: str
    protocol: str
    source: str
    target: str
    title: str
    excerpt: str
    author_name: str
    received_at: str
    spam_score: float
    reasons: tuple[str, ...]
    status: str


# Line and paragraph separators, control and format characters (bidi overrides can make a spam domain
# read as another one; zero-width characters hide text): none belongs in a one-line field of a mail.
_INVISIBLE = frozenset({"Cc", "Cf", "Zl", "Zp", "Cs", "Co", "Cn"})
_SPACES = re.compile(r"\s+")


def _one_line(text: str, limit: int) -> str:
    cleaned = "".join(" " if unicodedata.category(char) in _INVISIBLE else char for char in text or "")
    return _crop(_SPACES.sub(" ", cleaned).strip(), limit)


def _crop(text: str, limit: int, ellipsis: str = "…") -> str:
    return text if len(text) <= limit else text[: limit - len(ellipsis)].rstrip() + ellipsis


def _ascii(text: str) -> str:
    # "Zoë" reads better as "Zoe" than as "Zo?"; scripts without a Latin spelling are dropped.
    decomposed = unicodedata.normalize("NFKD", text)
    return _SPACES.sub(" ", decomposed.encode("ascii", "ignore").decode("ascii")).strip()


def _host(url: str) -> str:
    try:
        return urlsplit(url).hostname or url
    except ValueError:
        return url


def _subject(text: str) -> str:
    return _crop(_ascii(_one_line(text, 4 * SUBJECT_MAX_CHARS)), SUBJECT_MAX_CHARS, "...")


def _ordered_links(links: Mapping[str, str]) -> list[tuple[str, str]]:
    known = [action for action in LINK_ACTIONS if action in links]
    others = sorted(action for action in links if action not in LINK_ACTIONS)
    return [(_one_line(action, 40).capitalize(), _one_line(links[action], 2_000)) for action in known + others]


def _held_because(summary: MentionSummary) -> list[str]:
    return [_one_line(reason, _FIELD_MAX) for reason in summary.reasons] or ["(no reason recorded)"]


def pending_mail(summary: MentionSummary, links: Mapping[str, str]) -> tuple[str, str]:
    """(subject, body) of the mail that says one mention is held, with one line per action link."""
    what = _one_line(summary.title, _TITLE_MAX) or _host(summary.source)
    subject = _subject(f"Mention held on {_host(summary.site)}: {what}")
    lines = [
        f"A {_one_line(summary.protocol, 40)} mention of your page is held for your decision.",
        "",
        f"Site:       {_one_line(summary.site, _FIELD_MAX)}",
        f"Source:     {_one_line(summary.source, _FIELD_MAX)}",
        f"Target:     {_one_line(summary.target, _FIELD_MAX)}",
        f"Title:      {_one_line(summary.title, _TITLE_MAX) or '(none)'}",
        f"Author:     {_one_line(summary.author_name, _FIELD_MAX) or '(unknown)'}",
        f"Received:   {_one_line(summary.received_at, 40)}",
        f"Spam score: {summary.spam_score:.2f}",
        "",
        "Why it is held:",
        *(f"  - {reason}" for reason in _held_because(summary)),
    ]
    excerpt = _one_line(summary.excerpt, _EXCERPT_MAX)
    if excerpt:
        lines += ["", "Excerpt:", *textwrap.wrap(excerpt, 72, initial_indent="  > ", subsequent_indent="  > ")]
    lines.append("")
    ordered = _ordered_links(links)
    if ordered:
        lines += [f"{label}: {url}" for label, url in ordered]
        lines += [
            "",
            "Each link opens a confirmation page; nothing changes until you press its button.",
            "A link works once, and expires after a while.",
            "",
        ]
    lines += [
        "Or decide from the command line: linkback moderate approve|spam|delete <id>",
        "",
        f"Mention id: {_one_line(summary.id, 80)}",
    ]
    return subject, "\n".join(lines) + "\n"


def digest_mail(
    site: str, items: Sequence[tuple[MentionSummary, Mapping[str, str]]], *, period: str
) -> tuple[str, str]:
    """(subject, body) of one mail listing many held mentions, bounded in items and in bytes."""
    host = _host(site)
    count = len(items)
    noun = "mention" if count == 1 else "mentions"
    subject = _subject(f"{count} {noun} held on {host} ({period})")
    header = [
        f"{count} {noun} of {_one_line(site, _FIELD_MAX)} held for your decision ({_one_line(period, 80)}).",
        "Each link opens a confirmation page; nothing changes until you press its button.",
        "A link works once, and expires after a while.",
        "",
    ]
    body = "\n".join(header) + "\n"
    size = len(body.encode("utf-8"))
    shown = 0
    for number, (summary, links) in enumerate(items[:MAX_DIGEST_ITEMS], start=1):
        block = _digest_entry(number, summary, links)
        block_size = len(block.encode("utf-8"))
        if size + block_size > _DIGEST_BUDGET_BYTES:
            break
        body += block
        size += block_size
        shown += 1
    if not items:
        body += "Nothing is waiting.\n"
    elif shown < count:
        body += (
            f"... and {count - shown} more waiting, not listed here. See them all with:\n"
            f"  linkback moderate list --site {_one_line(site, _FIELD_MAX)}\n"
        )
    return subject, body


def _digest_entry(number: int, summary: MentionSummary, links: Mapping[str, str]) -> str:
    title = _one_line(summary.title, _TITLE_MAX) or "(no title)"
    lines = [
        f"{number}. {title}",
        f"   Source:  {_one_line(summary.source, _FIELD_MAX)}",
        f"   Target:  {_one_line(summary.target, _FIELD_MAX)}",
        f"   Author:  {_one_line(summary.author_name, _FIELD_MAX) or '(unknown)'}",
        f"   Held because: {'; '.join(_held_because(summary))} (spam score {summary.spam_score:.2f})",
    ]
    excerpt = _one_line(summary.excerpt, _DIGEST_EXCERPT_MAX)
    if excerpt:
        lines.append(f"   > {excerpt}")
    lines += [f"   {label}: {url}" for label, url in _ordered_links(links)]
    lines.append(f"   Mention id: {_one_line(summary.id, 80)}")
    return "\n".join(lines) + "\n\n"
