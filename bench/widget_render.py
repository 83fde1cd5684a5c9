"""Render time of the widget for 200 mentions in headless Chromium (Debian's), measured in the page.

Run: .venv/bin/python bench/widget_render.py [--runs 5]
It drives the browser test that renders 200 mentions (tests/browser/test_widget.py) and prints the
figures that test measures with performance.now(): time to build the DOM, time to the next painted
frame, the longest task, and how many avatars were fetched (lazy loading).
"""

from __future__ import annotations

import argparse
import re
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
FIGURES = re.compile(r"200 mentions: DOM built in ([\d.]+) ms, next frame painted ([\d.]+) ms.*")


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--runs", type=int, default=3)
    args = parser.parse_args()
    print(f"widget: 200 mentions in headless Chromium, {args.runs} runs")
    for run in range(args.runs):
        result = subprocess.run(
            [
                sys.executable,
                "-m",
                "pytest",
                "-q",
                "-s",
                "-p",
                "no:cacheprovider",
                "tests/browser/test_widget.py",
                "-k",
                "200_mentions",
            ],
            cwd=ROOT,
            capture_output=True,
            text=True,
            check=False,
        )
        found = FIGURES.search(result.stdout)
        if not found:
            print(result.stdout[-2000:], result.stderr[-2000:])
            sys.exit(1)
        print(f"  run {run + 1}: {found.group(0)}")


if __name__ == "__main__":
    main()
