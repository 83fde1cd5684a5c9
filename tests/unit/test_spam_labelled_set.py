"""Spam scoring on a labelled set of real-looking pages: how often it is right, and never wrong against a
legitimate sender.

Each page in tests/fixtures/spam/{legit,spam}/ is read the way the verifier reads it: the link and the
words around it by `fastlinks.find_link`, the h-entry and its author by `extract.extract`; what is not in
the HTML (protocol, the sender's address, TrackBack claims, earlier offences) comes from labels.json.
Run with `-s` to see the confusion table.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

import pytest

from linkback.spam.rules import Assessment, Decision, Signals, assess
from linkback.urls import normalise_url
from linkback.verify.extract import extract
from linkback.verify.links.fast import find_link

FIXTURES = Path(__file__).resolve().parent.parent / "fixtures" / "spam"
MIN_PAGES_PER_LABEL = 45
MIN_PRECISION = 0.9
MIN_RECALL = 0.9


@dataclass(frozen=True)
class LabelledPage:
    path: str  # relative to FIXTURES, e.g. "legit/indieweb-like.html"
    label: str  # "legit" | "spam"
    note: str  # why the page is in the set, and what makes it hard
    linked: bool  # find_link found the link to the target
    signals: Signals


def labels() -> dict[str, dict]:
    return json.loads((FIXTURES / "labels.json").read_text(encoding="utf-8"))


def read_page(path: str, entry: dict) -> LabelledPage:
    """The signals the verifier would hand to `assess` for this page."""
    html = (FIXTURES / path).read_text(encoding="utf-8")
    page_url = normalise_url(entry.get("page_url") or entry["source"])
    target = normalise_url(entry["target"])
    evidence = find_link(html, base_url=page_url, target=target)
    extracted = extract(html, page_url=page_url, target=target)
    signals = Signals(
        protocol=entry["protocol"],
        source=entry["source"],
        target=target,
        page_url=page_url,
        page_text=html,
        content_type="text/html",
        link_context=evidence.context if evidence else "",
        page_title=evidence.title if evidence else "",
        sender_ip=entry.get("sender_ip"),
        source_addresses=tuple(entry.get("source_addresses", ())),
        sent_title=entry.get("sent_title", ""),
        sent_excerpt=entry.get("sent_excerpt", ""),
        sent_blog_name=entry.get("sent_blog_name", ""),
        offences=entry.get("offences", 0),
        has_h_entry=extracted is not None,
        author_name=(extracted.author_name or "") if extracted else "",
    )
    return LabelledPage(
        path=path, label=entry["label"], note=entry.get("note", ""), linked=evidence is not None, signals=signals
    )


def labelled_pages() -> list[LabelledPage]:
    return [read_page(path, entry) for path, entry in labels().items()]


@dataclass(frozen=True)
class Confusion:
    """Decisions per label: rows are what the page is, columns what `assess` decided."""

    counts: dict[tuple[str, Decision], int]

    def count(self, label: str, decision: Decision) -> int:
        return self.counts.get((label, decision), 0)

    @property
    def precision(self) -> float:
        called_spam = self.count("spam", Decision.SPAM) + self.count("legit", Decision.SPAM)
        return self.count("spam", Decision.SPAM) / called_spam if called_spam else 1.0

    @property
    def recall(self) -> float:
        spam = sum(self.count("spam", decision) for decision in Decision)
        return self.count("spam", Decision.SPAM) / spam if spam else 1.0

    def table(self) -> str:
        decisions = (Decision.APPROVE, Decision.HOLD, Decision.SPAM, Decision.IGNORE)
        lines = ["page \\ decided " + "".join(f"{d.value:>9}" for d in decisions)]
        for label in ("legit", "spam"):
            lines.append(f"{label:<15}" + "".join(f"{self.count(label, d):>9}" for d in decisions))
        lines.append(f"spam precision {self.precision:.3f}   spam recall {self.recall:.3f}")
        return "\n".join(lines)


def confusion(results: list[tuple[LabelledPage, Assessment]]) -> Confusion:
    counts: dict[tuple[str, Decision], int] = {}
    for page, assessment in results:
        key = (page.label, assessment.decision)
        counts[key] = counts.get(key, 0) + 1
    return Confusion(counts)


@pytest.fixture(scope="module")
def results() -> list[tuple[LabelledPage, Assessment]]:
    return [(page, assess(page.signals)) for page in labelled_pages()]


# --- the set itself ----------------------------------------------------------------------------------


def test_every_fixture_page_is_labelled_and_every_label_has_its_page():
    on_disk = {str(path.relative_to(FIXTURES)) for path in FIXTURES.glob("*/*.html")}

    assert on_disk == set(labels())


def test_the_set_has_enough_pages_of_each_label():
    entries = labels().values()

    assert sum(entry["label"] == "legit" for entry in entries) >= MIN_PAGES_PER_LABEL
    assert sum(entry["label"] == "spam" for entry in entries) >= MIN_PAGES_PER_LABEL


def test_every_label_sits_in_the_folder_of_its_name():
    for path, entry in labels().items():
        assert path.split("/", 1)[0] == entry["label"], path


def test_every_target_is_a_page_of_the_owners_site():
    for path, entry in labels().items():
        assert entry["target"].startswith("https://example.com/"), path


def test_every_fixture_page_links_to_its_target(results):
    # The link is checked before scoring: a page that does not link never reaches `assess`, so a
    # fixture without one would measure nothing.
    unlinked = [page.path for page, _ in results if not page.linked]

    assert unlinked == []


# --- how well the rules do on it ---------------------------------------------------------------------


def test_no_legitimate_page_is_decided_spam(results):
    # A false positive costs a real person their reply; at worst a legitimate page is held.
    wrongly_spam = [
        (page.path, assessment.reasons())
        for page, assessment in results
        if page.label == "legit" and assessment.decision == Decision.SPAM
    ]

    assert wrongly_spam == []


def test_spam_precision_and_recall_are_at_least_0_9(results):
    matrix = confusion(results)
    print("\n" + matrix.table())

    assert matrix.precision >= MIN_PRECISION
    assert matrix.recall >= MIN_RECALL


def test_no_page_of_the_set_is_ignored(results):
    # None of these comes from the owner's site: IGNORE here would mean the self-ping rule misfired.
    assert [page.path for page, assessment in results if assessment.decision == Decision.IGNORE] == []
