"""Spam scoring on the labelled set: each page's decision, the confusion matrix, and what each rule does.

Run: .venv/bin/python bench/spam_eval.py [--quiet]

The set is tests/fixtures/spam/{legit,spam}/*.html with labels.json, read exactly as
tests/unit/test_spam_labelled_set.py reads it (link and context by fastlinks.find_link, h-entry by
extract). For each rule: how many pages it fired on, and on how many it was decisive (the decision
without its finding would differ). Then the cost of `page_stats` and of a whole `assess` on 1 MB pages,
ordinary and hostile (budget: well under 50 ms per MB), and the import time of linkback.spam.rules with the
standard library modules every handler already has loaded (budget 5 ms).
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
import time
from collections import Counter
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "functions"))
sys.path.insert(0, str(ROOT))

from tests.unit.test_spam_labelled_set import confusion, labelled_pages  # noqa: E402

from linkback.spam.measure import page_stats  # noqa: E402
from linkback.spam.rules import RULES, Decision, SpamPolicy, assess, decision_for  # noqa: E402

MB = 1024 * 1024
STATS_BUDGET_MS = 50.0
IMPORT_BUDGET_MS = 5.0
SOURCE = "https://blog.example.org/2024/05/a-post/"
TARGET = "https://example.com/posts/static-comments/"


def megabyte_pages(pages: list) -> dict[str, str]:
    """1 MB pages: the labelled set's own markup repeated, a link farm, and hostile shapes."""
    legit = "".join(page.signals.page_text for page in pages if page.label == "legit")
    spam = "".join(page.signals.page_text for page in pages if page.label == "spam")
    farm = "".join(
        f"<li><a href='https://site{n}.example{n % 89}.net/'>cheap loans {n}</a></li>\n" for n in range(40_000)
    )
    hidden = "".join(
        f"<div style='display:none'><a href='https://x{n}.example{n % 51}.org/'>casino {n}</a></div>"
        for n in range(20_000)
    )
    return {
        "legit fixtures, repeated": (legit * (MB // len(legit) + 1))[:MB],
        "spam fixtures, repeated": (spam * (MB // len(spam) + 1))[:MB],
        "link farm (40 000 links)": farm[:MB],
        "hidden blocks (20 000)": hidden[:MB],
        "'&amp; ' x 175 000": "<p>" + "&amp; " * (MB // 6),
        "'<' x 1 MB": "<" * MB,
        "unterminated comments": "<!--" * (MB // 4),
        "unclosed '<a' x 512 K": "<a" * (MB // 2),
        "script full of '<'": "<script>" + "<" * MB,
        "hidden div, 100 000 nested": ("<div hidden>" + "<div>" * 100_000)[:MB],
    }


def best_ms(call, repeat: int = 5) -> float:
    best = float("inf")
    for _ in range(repeat):
        started = time.perf_counter()
        call()
        best = min(best, time.perf_counter() - started)
    return best * 1000


def import_ms() -> float:
    """linkback.spam.rules's own import time, from a bytecode cache kept outside the repository."""
    code = (
        "import sys, time, re, enum, dataclasses, functools, collections.abc; sys.path.insert(0, 'functions'); "
        "import linkback; started = time.perf_counter(); import linkback.spam.rules; "
        "print((time.perf_counter() - started) * 1000)"
    )
    with tempfile.TemporaryDirectory() as cache:
        env = {key: value for key, value in os.environ.items() if key != "PYTHONDONTWRITEBYTECODE"}
        env["PYTHONPYCACHEPREFIX"] = cache
        runs = [
            float(
                subprocess.run(
                    [sys.executable, "-c", code], cwd=ROOT, env=env, capture_output=True, text=True, check=True
                ).stdout
            )
            for _ in range(4)
        ]
    return min(runs[1:])  # the first run compiles and writes the cache


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--quiet", action="store_true", help="no per-page lines")
    args = parser.parse_args()
    policy = SpamPolicy()
    pages = labelled_pages()
    results = [(page, assess(page.signals, policy)) for page in pages]

    if not args.quiet:
        print(f"{'page':<58} {'label':<6} {'decided':<8} {'score':>6}  reasons")
        for page, assessment in results:
            expected = Decision.SPAM if page.label == "spam" else Decision.APPROVE
            mark = (
                " "
                if assessment.decision == expected
                else ("✗" if page.label == "legit" and assessment.decision == Decision.SPAM else "~")
            )
            rules = ", ".join(f"{f.rule} {f.score:+.1f}" for f in assessment.findings) or "-"
            decided = f"{assessment.decision.value:<8} {assessment.score:6.1f}"
            print(f"{mark} {page.path:<56} {page.label:<6} {decided}  {rules}")
        print()

    matrix = confusion(results)
    print(f"labelled set: {len(pages)} pages, hold at {policy.hold_at}, spam at {policy.spam_at}")
    print(matrix.table())
    legit_spam = matrix.count("legit", Decision.SPAM)
    print(f"legitimate pages decided spam: {legit_spam} {'✓' if legit_spam == 0 else '✗'}")
    print()

    fired: Counter[str] = Counter()
    decisive: Counter[str] = Counter()
    for _page, assessment in results:
        for finding in assessment.findings:
            fired[finding.rule] += 1
            others = [other for other in assessment.findings if other is not finding]
            if decision_for(others, policy)[0] != assessment.decision:
                decisive[finding.rule] += 1
    print(f"{'rule':<20} {'fired':>6} {'decisive':>9}   (decisive: the decision without it would differ)")
    for rule in [rule.__name__ for rule in RULES]:
        print(f"{rule:<20} {fired[rule]:>6} {decisive[rule]:>9}")
    print()

    print(f"cost on 1 MB pages, best of 5 (budget: page_stats well under {STATS_BUDGET_MS:.0f} ms)")
    for name, html in megabyte_pages(pages).items():
        stats_ms = best_ms(lambda html=html: page_stats(html, "text/html", SOURCE, TARGET))
        signals = pages[0].signals._replace(page_text=html, page_url=SOURCE, source=SOURCE, target=TARGET)
        assess_ms = best_ms(lambda signals=signals: assess(signals, policy))
        mark = "✓" if stats_ms < STATS_BUDGET_MS else "✗"
        print(f"  {name:<28} page_stats {stats_ms:6.1f} ms {mark}   assess {assess_ms:6.1f} ms")
    spent = import_ms()
    mark = "✓" if spent < IMPORT_BUDGET_MS else "✗"
    loaded = "re, enum, dataclasses already loaded"
    print(f"import linkback.spam.rules ({loaded}): {spent:.1f} ms  budget {IMPORT_BUDGET_MS:.0f} ms {mark}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
