"""Per-page cost of the verifier's reading of a source: link finding, then microformats2 extraction.

Run: .venv/bin/python bench/extraction.py [--hostile-html5lib]

--hostile-html5lib also times mf2py's default tree builder (html5lib) on one hostile page, the reason
linkback.verify.extract uses "html.parser": expect over a minute.
"""

from __future__ import annotations

import contextlib
import statistics
import subprocess
import sys
import time
from collections.abc import Callable
from functools import partial
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "functions"))

from linkback.verify.extract import MF2_MAX_CHARS, extract
from linkback.verify.links.reference import find_link

FUNCTIONS = Path(__file__).resolve().parents[1] / "functions"

TARGET = "https://example.com/posts/hello/"
SOURCE = "https://blog.example.org/2024/05/re-hello/"
PARAGRAPH = (
    "<p>Lorem ipsum dolor sit amet, <a href='https://other.example.net/{i}'>consectetur</a> adipiscing elit, "
    "sed do <em>eiusmod</em> tempor incididunt ut labore et dolore magna aliqua. <img src='/img/{i}.png' alt=''>"
    "</p>\n"
)
COMMENT = (
    "<li class='p-comment h-cite'><a class='p-author h-card' href='https://c{i}.example.net/'>Reader {i}</a>"
    "<p class='p-content'>Thanks, comment number {i}.</p><a class='u-url' href='#c{i}'>#</a></li>\n"
)


def page(size: int, *, mf2: bool) -> str:
    """A blog post of about `size` bytes replying to TARGET; with or without its mf2 classes."""
    paragraphs = size // (len(PARAGRAPH) + len(COMMENT) // 5)
    body = "".join(PARAGRAPH.format(i=i) for i in range(paragraphs))
    comments = "".join(COMMENT.format(i=i) for i in range(paragraphs // 5))
    html = (
        "<!doctype html><html lang='en'><head><meta charset='utf-8'><title>Re: hello</title>"
        "<script>var a = '<a href=x>';</script><style>p{margin:0}</style></head><body>"
        "<header class='h-card'><a class='u-url p-name' href='/'>Blog owner</a>"
        "<img class='u-photo' src='/me.jpg' alt=''></header><article class='h-entry'><h1 class='p-name'>Re: hello</h1>"
        f"<p>In reply to <a class='u-in-reply-to' href='{TARGET}'>hello</a> by "
        "<a class='p-author h-card' href='https://blog.example.org/'>Ann</a>, "
        "<time class='dt-published' datetime='2024-05-02T18:04:11+02:00'>2 May</time></p>"
        f"<div class='e-content'>{body}</div><ol>{comments}</ol></article></body></html>"
    )
    if not mf2:
        for token in ("h-card", "h-entry", "h-cite", "u-", "p-", "e-content", "dt-"):
            html = html.replace(token, token.split("-", 1)[1])
    return html


def link(html: str) -> object:
    return find_link(html, base_url=SOURCE, target=TARGET)


def entry(html: str) -> object:
    return extract(html, page_url=SOURCE, target=TARGET)


def best_ms(run: Callable[[], object], repeat: int = 5) -> float:
    best = float("inf")
    for _ in range(repeat):
        started = time.perf_counter()
        run()
        best = min(best, time.perf_counter() - started)
    return best * 1000


def fresh_import_ms(statement: str, preload: str = "", runs: int = 5) -> float:
    """Median wall time of `statement` in a new interpreter (what a cold Lambda pays)."""
    code = (
        f"import sys, time; sys.path.insert(0, {str(FUNCTIONS)!r}); {preload}\n"
        f"started = time.perf_counter(); {statement}; print(time.perf_counter() - started)"
    )
    samples = [
        float(subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout)
        for _ in range(runs)
    ]
    return statistics.median(samples) * 1000


def row(name: str, html: str, ms: float) -> None:
    size_kb = len(html.encode()) / 1000
    print(f"  {name:<52} {size_kb:7.0f} KB  {ms:8.1f} ms")


def main() -> None:
    import mf2py

    # The first call pays the import; every figure below is a warm call.
    extract(page(2_000, mf2=True), page_url=SOURCE, target=TARGET)
    sizes = {"20 KB": 20_000, "200 KB": 200_000, "1 MB (the fetch cap)": 1_000_000}

    print("(a) find_link alone: what a page without microformats costs, best of 5")
    for label, size in sizes.items():
        html = page(size, mf2=False)
        row(f"find_link, {label} page", html, best_ms(partial(link, html)))

    print(f"(b) find_link + extract on an h-entry page (mf2 reads the first {MF2_MAX_CHARS // 1024} KB), best of 5")
    for label, size in sizes.items():
        html = page(size, mf2=True)
        assert extract(html, page_url=SOURCE, target=TARGET) is not None
        link_ms = best_ms(partial(link, html))
        extract_ms = best_ms(partial(entry, html))
        row(f"find_link + extract, {label}", html, link_ms + extract_ms)
        print(f"  {'':<52} {'':>10}  (extract {extract_ms:.1f} ms)")

    print("    for comparison, mf2py.parse alone with each tree builder")
    for label, size in list(sizes.items())[:2]:
        html = page(size, mf2=True)
        for builder in ("html.parser", "html5lib"):
            ms = best_ms(partial(mf2py.parse, doc=html, url=SOURCE, html_parser=builder), repeat=3)
            row(f"mf2py.parse {builder}, {label}", html, ms)

    print("(c) extract's early exit on a page without h-entry, best of 5")
    for label, size in sizes.items():
        html = page(size, mf2=False)
        assert extract(html, page_url=SOURCE, target=TARGET) is None
        row(f"extract, no h-entry, {label}", html, best_ms(partial(entry, html)))

    print("(d) hostile h-entry pages (deep nesting ends in a caught RecursionError → None), best of 3")
    hostile = {
        "20 000 nested <div> in an h-entry": "<div class='h-entry'>" + "<div>" * 20_000 + "</div>" * 20_000,
        "10 000 unclosed <b> in an h-entry": "<div class='h-entry'>" + "<b>x" * 10_000,
        "5 000 small h-entries": "".join(
            f"<div class='h-entry'><p class='p-name'>n{i}</p><a class='u-url' href='/{i}'>x</a></div>"
            for i in range(5_000)
        ),
    }
    for name, html in hostile.items():
        row(name, html, best_ms(partial(entry, html), repeat=3))
    if "--hostile-html5lib" in sys.argv:
        html = hostile["10 000 unclosed <b> in an h-entry"]
        ms = best_ms(partial(_parse_or_fail, mf2py, html, "html5lib"), repeat=1)
        row("the same unclosed <b> page, mf2py with html5lib", html, ms)

    print("(e) import time in a fresh interpreter, median of 5")
    base = fresh_import_ms("import linkback.verify.extract")
    print(f"  {'import linkback.verify.extract (mf2py stays unloaded)':<52} {base:8.1f} ms")
    cold = fresh_import_ms("import mf2py")
    print(f"  {'import mf2py, nothing loaded before':<52} {cold:8.1f} ms")
    # The verifier has already imported requests (the fetcher), which mf2py imports too.
    warm = fresh_import_ms("import mf2py", preload="import requests, linkback.verify.pipeline")
    print(f"  {'import mf2py after the verifier modules (first h-entry)':<52} {warm:8.1f} ms")


def _parse_or_fail(mf2py_module: object, html: str, builder: str) -> None:
    with contextlib.suppress(RecursionError):
        mf2py_module.parse(doc=html, url=SOURCE, html_parser=builder)  # type: ignore[attr-defined]


if __name__ == "__main__":
    main()
