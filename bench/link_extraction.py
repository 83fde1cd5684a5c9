"""Link extraction: find_link's throughput against BeautifulSoup(html.parser), and hostile pages.

Run: .venv/bin/python bench/link_extraction.py [--pages 240] [--finder fast|stdlib]
`--finder fast` (the default) measures `linkback.verify.links.fast.find_link`, `--finder stdlib` the html.parser
one in `linkback.verify.links.reference`; with `fast`, both must also give identical evidence on every page.
The corpus is generated deterministically (seeded): blog posts, WordPress-like pages, link lists,
pages with the target only in a comment/script/attribute that does not link, relative and
<base>-resolved links, media links, entity- and percent-encoded hrefs, 5 KB to 400 KB. For every
page both finders must agree on whether the page links to the target and with which element.
Budgets: throughput ≥ 20x BeautifulSoup's; each hostile page ≤ 100 ms.
"""

from __future__ import annotations

import argparse
import random
import sys
import time
from pathlib import Path
from urllib.parse import urljoin

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "functions"))

from linkback.urls import InvalidUrl, normalise_url  # noqa: E402
from linkback.verify.links import fast as fastlinks  # noqa: E402
from linkback.verify.links import reference as links  # noqa: E402
from linkback.verify.links.reference import LINK_ATTRIBUTES, ParseBudgetExceeded  # noqa: E402

TARGET = "https://example.com/posts/hello/"
PAGE_URL = "https://blog.example.org/2024/05/a-reply/"
SPEED_BUDGET = 20.0
HOSTILE_BUDGET_MS = 100.0
MB = 1024 * 1024
WORDS = [
    "static",
    "sites",
    "deserve",
    "comments",
    "too",
    "and",
    "this",
    "post",
    "explains",
    "why",
    "a",
    "small",
    "receiver",
    "for",
    "trackbacks",
    "pingbacks",
    "and",
    "webmentions",
    "is",
    "enough",
    "for",
    "most",
    "blogs",
    "that",
    "want",
    "conversation",
    "without",
    "a",
    "database",
]
LINK_FORMS = [
    ("a", f"<a href='{TARGET}'>Jo's post</a>"),
    ("a", "<a href='/posts/hello/'>relative</a>"),
    ("a", "<a href='HTTPS://Example.COM:443/posts/%68ello/#comments'>other form</a>"),
    ("a", "<a href='https://example.com/posts/hello/?'>query</a>"),
    ("img", "<img src='https://example.com/posts/hello/' alt=''>"),
    ("blockquote", f"<blockquote cite='{TARGET}'><p>quoted words</p></blockquote>"),
    ("video", f"<video poster='{TARGET}' controls></video>"),
    (None, f"<!-- <a href='{TARGET}'>commented out</a> -->"),
    (None, f"<script>var u = '<a href=\"{TARGET}\">x</a>';</script>"),
    (None, f"<link rel='canonical' href='{TARGET}'><a data-href='{TARGET}'>share</a>"),
    (None, "<a href='https://example.com/posts/hello'>no trailing slash</a>"),
    (None, "<a href='https://example.com/posts/goodbye/'>another post</a>"),
]


def sentence(rng: random.Random) -> str:
    return " ".join(rng.choice(WORDS) for _ in range(rng.randint(8, 30))).capitalize() + "."


def paragraph(rng: random.Random, n: int) -> str:
    shape = rng.randrange(6)
    if shape == 0:
        link = f"<a href='https://other{n}.example.net/p/{n}'>{rng.choice(WORDS)}</a>"
        return f"<p>{sentence(rng)} {link} {sentence(rng)}</p>\n"
    if shape == 1:
        items = "".join(f"<li><a href='/archive/{n}/{i}'>{sentence(rng)}</a></li>" for i in range(rng.randint(3, 12)))
        return f"<ul class='archive'>{items}</ul>\n"
    if shape == 2:
        return f"<div class='wp-block'><p><em>{sentence(rng)}</em> <strong>{sentence(rng)}</strong></p></div>\n"
    if shape == 3:
        image = f"<img src='/img/{n}.jpg' alt='{rng.choice(WORDS)}'>"
        return f"<figure>{image}<figcaption>{sentence(rng)}</figcaption></figure>\n"
    if shape == 4:
        return f"<pre><code>{sentence(rng).replace(' ', '&nbsp;')} &lt;tag&gt;</code></pre>\n"
    return f"<table><tr><td>{sentence(rng)}</td><td><a href='#c{n}'>#</a></td></tr></table>\n"


def corpus(pages: int) -> list[str]:
    rng = random.Random(20240501)
    documents = []
    for n in range(pages):
        size = rng.choice((3, 10, 30, 60, 150, 600))  # paragraphs: ~0.5 KB each
        body = [paragraph(rng, i) for i in range(size)]
        _, link = LINK_FORMS[n % len(LINK_FORMS)]
        body.insert(rng.randrange(len(body) + 1), f"<p>{sentence(rng)} {link} {sentence(rng)}</p>")
        base = "<base href='https://example.com/'>" if n % 7 == 3 else ""
        head = (
            f"<meta charset=utf-8><title>{sentence(rng)} &ndash; Notes</title>{base}"
            "<style>p{margin:0} a[href]{color:red}</style><script>var a = '<a href=x>';</script>"
        )
        documents.append(
            f"<!doctype html><html><head>{head}</head><body><header><nav>{paragraph(rng, -1)}</nav></header>"
            f"<article class='h-entry'>{''.join(body)}</article><footer>{sentence(rng)}</footer></body></html>"
        )
    return documents


def soup_link(html: str) -> str | None:
    """The same question asked with BeautifulSoup(html.parser): the first element linking to TARGET."""
    from bs4 import BeautifulSoup

    soup = BeautifulSoup(html, "html.parser")
    base_url = PAGE_URL
    base = soup.find("base", href=True)
    if base is not None and base["href"]:
        base_url = urljoin(PAGE_URL, base["href"].strip())
    for element in soup.find_all(list(LINK_ATTRIBUTES)):
        for attribute in LINK_ATTRIBUTES[element.name]:
            value = element.get(attribute)
            if value:
                try:
                    if normalise_url(urljoin(base_url, value.strip())) == TARGET:
                        return element.name
                except (InvalidUrl, ValueError):
                    continue
    return None


def timed(call, documents: list[str], repeat: int) -> tuple[float, list]:
    best, answers = float("inf"), []
    for _ in range(repeat):
        started = time.perf_counter()
        answers = [call(document) for document in documents]
        best = min(best, time.perf_counter() - started)
    return best, answers


HOSTILE = {
    "deep nesting, 100 000 <div>": lambda: "<div>" * 100_000 + f"<a href='{TARGET}'>t</a>" + "</div>" * 100_000,
    "50 000 unclosed <b>": lambda: "<b>x" * 50_000 + f"<a href='{TARGET}'>t</a>",
    "1 MB of links (100 000 <a>)": lambda: (
        "".join(f"<a href='/p{i}'>x</a>" for i in range(100_000))[:MB] + f"<a href='{TARGET}'>t</a>"
    ),
    "1 MB of '<'": lambda: "<" * MB,
    "one 5 MB attribute": lambda: f"<a title='{'x' * 5 * MB}' href='{TARGET}'>t</a>",
    "1 MB of unclosed '<a'": lambda: "<a" * (MB // 2),
    "1 MB of unclosed '<!--'": lambda: "<!--" * (MB // 4),
    "1 MB of unclosed '</'": lambda: "</" * (MB // 2),
    "link, then 1 MB of '<a'": lambda: f"<p><a href='{TARGET}'>t</a>" + " words" * 60 + "</p>" + "<a" * (MB // 2),
}
# With --finder stdlib, 1 MB of unclosed '<a' / '<!--' / '</' costs html.parser's close() minutes
# (gh-135462); find_link's budget check cuts it off at PARSE_BUDGET_S ("budget exceeded").


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--pages", type=int, default=240)
    parser.add_argument("--finder", choices=("fast", "stdlib"), default="fast")
    args = parser.parse_args()
    find_link = fastlinks.find_link if args.finder == "fast" else links.find_link
    documents = corpus(args.pages)
    size_mb = sum(len(document.encode()) for document in documents) / 1e6

    def ours(html: str) -> str | None:
        evidence = find_link(html, base_url=PAGE_URL, target=TARGET)
        return evidence.tag if evidence else None

    ours_s, ours_answers = timed(ours, documents, 3)
    soup_s, soup_answers = timed(soup_link, documents, 1)
    disagree = [n for n, (a, b) in enumerate(zip(ours_answers, soup_answers, strict=True)) if a != b]
    ratio = soup_s / ours_s
    linked = sum(answer is not None for answer in ours_answers)
    print(f"link extraction on {len(documents)} generated pages ({size_mb:.1f} MB, {linked} link to the target)")
    print(f"  find_link ({args.finder:<6})      {size_mb / ours_s:7.1f} MB/s  ({ours_s * 1000:7.1f} ms for the corpus)")
    print(f"  BeautifulSoup(html.parser) {size_mb / soup_s:6.1f} MB/s  ({soup_s * 1000:7.1f} ms)")
    mark = "✓" if ratio >= SPEED_BUDGET else "✗"
    print(f"  speed-up {ratio:5.1f}x  budget ≥ {SPEED_BUDGET:.0f}x {mark}")
    agree = "✓" if not disagree else f"✗ pages {disagree[:10]}"
    print(f"  same answer (links or not, and which element) on every page: {agree}")
    if args.finder == "fast":
        differ = [
            n
            for n, document in enumerate(documents)
            if fastlinks.find_link(document, base_url=PAGE_URL, target=TARGET)
            != links.find_link(document, base_url=PAGE_URL, target=TARGET)
        ]
        same = "✓" if not differ else f"✗ pages {differ[:10]}"
        print(f"  same evidence (tag, title, context) as links.find_link (html.parser) on every page: {same}")
    print(f"hostile pages, best of 3, budget ≤ {HOSTILE_BUDGET_MS:.0f} ms each")
    for name, build in HOSTILE.items():
        page = build()
        best, outcome = float("inf"), ""
        for _ in range(3):
            started = time.perf_counter()
            try:
                found = find_link(page, base_url=PAGE_URL, target=TARGET)
                outcome = "link found" if found else "no link"
            except ParseBudgetExceeded:
                outcome = "budget exceeded"
            best = min(best, time.perf_counter() - started)
        mark = "✓" if best * 1000 <= HOSTILE_BUDGET_MS else "✗"
        print(f"  {name:<30} {len(page) / MB:5.2f} MB {best * 1000:8.1f} ms  {mark}  ({outcome})")
    return 0


if __name__ == "__main__":
    sys.exit(main())
