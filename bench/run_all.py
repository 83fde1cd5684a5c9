"""Every benchmark, one after the other (`make bench`); prints how long the whole run took.

Run: .venv/bin/python bench/run_all.py [--python python3.12]
With --python, cold starts are measured on packages built by functions/Makefile with that Python.
Exits 1 when a bench could not run, or ran and found a figure over its budget (exit status 3: cold_start).
"""

from __future__ import annotations

import argparse
import subprocess
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
# A bench that ran to its table but found a figure over its budget exits with this (cold_start does).
OVER_BUDGET = 3


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--python", help="a Python 3.12 to build and import the Lambda packages with")
    args = parser.parse_args()
    cold = ["cold_start.py", "--package", "--python", args.python] if args.python else ["cold_start.py"]
    scripts = [
        cold,
        ["request_cpu.py"],
        ["link_extraction.py"],
        ["spam_eval.py", "--quiet"],
        ["verifier_concurrency.py"],
        ["end_to_end.py"],
        ["load.py"],
        ["widget_render.py"],
    ]
    started, failed, over = time.perf_counter(), [], []
    for script in scripts:
        result = subprocess.run(
            [sys.executable, str(HERE / script[0]), *script[1:]], capture_output=True, text=True, check=False
        )
        # The local stack's handlers write their CloudWatch metrics (EMF) to stdout, as in Lambda: not a figure.
        lines = [line for line in result.stdout.splitlines() if not line.startswith('{"_aws"')]
        print("\n".join(line for n, line in enumerate(lines) if line.strip() or (n and lines[n - 1].strip())))
        if result.returncode == OVER_BUDGET:
            over.append(script[0])
            print(f"{script[0]}: over budget\n{result.stderr[-3000:]}")
        elif result.returncode:
            failed.append(script[0])
            print(f"{script[0]} could not run (exit {result.returncode}):\n{result.stderr[-3000:]}")
    print(
        f"\nwhole bench run: {time.perf_counter() - started:.0f} s"
        + (f"; could not run: {failed}" if failed else "")
        + (f"; over budget: {over}" if over else "")
    )
    return 1 if failed or over else 0


if __name__ == "__main__":
    sys.exit(main())
