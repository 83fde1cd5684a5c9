"""Every benchmark in bench/ still runs against today's code, on a small workload.

The figures are not asserted (speed is measured by `make bench`, not by timed tests); what is asserted
is that each script runs to its table and exits 0. A bench that breaks silently when the domain package
changes would report nothing the next time someone needs the figure (a NamedTuple refactor once broke
spam_eval this way).
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]

SMALL_RUNS = {
    "cold_start": (["--runs", "1", "--only", "VerifyFunction", "MentionsFunction"], "VerifyFunction"),
    "request_cpu": (["--requests", "60"], "jf2 feed, 20 entries"),
    "link_extraction": (["--pages", "12"], "same answer (links or not, and which element) on every page: ✓"),
    "spam_eval": (["--quiet"], "legitimate pages decided spam: 0"),
    # How many fetches overlap is a figure (a busy machine starts threads late); that none failed is not.
    "verifier_concurrency": (["--delay", "0.2"], ", failed records: 0"),
    "end_to_end": (["--pings", "30", "--senders", "3", "--reads", "20"], "errors 0 (budget 0)"),
    "load": (
        ["--pings", "60", "--senders", "3", "--repeated", "3", "--copies", "4", "--wait", "60"],
        "accounting balances ✓",
    ),
    "widget_render": (["--runs", "1"], "200 mentions: DOM built in"),
}


@pytest.mark.parametrize("script", sorted(SMALL_RUNS))
def test_the_benchmark_runs_to_its_table(script: str) -> None:
    arguments, expected = SMALL_RUNS[script]
    done = subprocess.run(
        [sys.executable, str(ROOT / "bench" / f"{script}.py"), *arguments],
        capture_output=True,
        text=True,
        timeout=110,
        check=False,
        cwd=ROOT,
    )
    assert done.returncode == 0, done.stderr[-3000:]
    assert expected in done.stdout, done.stdout[-3000:]


def test_every_benchmark_that_make_bench_runs_is_smoke_tested_here() -> None:
    source = (ROOT / "bench" / "run_all.py").read_text()
    listed = {line.split('"')[1].removesuffix(".py") for line in source.splitlines() if '.py"' in line}
    assert listed <= set(SMALL_RUNS), "a bench in run_all.py has no small run here"
