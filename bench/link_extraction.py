"""Link-extraction throughput of linkback.links.find_link on realistic and hostile pages.

Run: .venv/bin/python bench/link_extraction.py
"""

from __future__ import annotations

import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "functions"))

from linkback.links import find_link

TARGET = "https://example.com/posts/hello/"
PARAGRAPH = (
    "<p>Lorem ipsum dolor sit amet, <a href='https://other.example.net/{i}'>consectetur</a> adipiscing elit, "
    "sed do <em>eiusmod</em> tempor incididunt ut labore et dolore magna aliqua. <img src='/img/{i}.png' alt=''>"
    "</p>\n"
)


def blog_page(paragraphs: int, link_at_end: bool = True) -> str:
    body = "".join(PARAGRAPH.format(i=i) for i in range(paragraphs))
    link = f"<p>See <a href='{TARGET}'>this post</a>.</p>" if link_at_end else ""
    return (
        "<!doctype html><html><head><title>A long post</title><script>var a = '<a href=x>';</script>"
        f"<style>p{{margin:0}}</style></head><body><article>{body}{link}</article></body></html>"
    )


CASES = {
    "blog page 100 KB, link at the end": blog_page(420),
    "blog page 1 MB (the body cap), no link": blog_page(4300, link_at_end=False),
    "10 000 unclosed <b> tags": "<b>x" * 10_000 + f"<a href='{TARGET}'>t</a>",
    "nesting 20 000 <div> deep": "<div>" * 20_000 + f"<a href='{TARGET}'>t</a>" + "</div>" * 20_000,
    "one 1 MB attribute": f"<a title='{'x' * 1_000_000}' href='{TARGET}'>t</a>",
    "1 MB of '<' characters": "<" * 1_000_000,
}


def main() -> None:
    print("link extraction (linkback.links.find_link, stdlib html.parser), best of 3")
    for name, html in CASES.items():
        best = float("inf")
        for _ in range(3):
            started = time.perf_counter()
            find_link(html, base_url="https://source.example.net/post", target=TARGET)
            best = min(best, time.perf_counter() - started)
        size_mb = len(html.encode()) / 1e6
        print(f"  {name:<40} {size_mb:6.2f} MB  {best * 1000:8.1f} ms  {size_mb / best:6.1f} MB/s")


if __name__ == "__main__":
    main()
