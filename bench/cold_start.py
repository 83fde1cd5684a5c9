"""Cold-start import time per handler: a fresh interpreter imports the handler module, N times.

Run: .venv/bin/python bench/cold_start.py [--runs 7]
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
HANDLERS = ("handlers.trackback", "handlers.pingback", "handlers.verify", "handlers.mentions")
PROBE = "import time; t=time.perf_counter(); import {module}; print(time.perf_counter()-t)"


def measure(module: str, runs: int) -> list[float]:
    env = {
        **os.environ,
        "PYTHONPATH": str(ROOT / "functions"),
        "POWERTOOLS_TRACE_DISABLED": "false",
        "AWS_LAMBDA_FUNCTION_NAME": "bench",
        "AWS_REGION": "us-east-1",
    }
    samples = []
    for _ in range(runs):
        out = subprocess.run(
            [sys.executable, "-c", PROBE.format(module=module)], env=env, capture_output=True, text=True, check=True
        )
        samples.append(float(out.stdout.strip().splitlines()[-1]) * 1000)
    return samples


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--runs", type=int, default=7)
    args = parser.parse_args()
    print(f"cold-start import time, median of {args.runs} fresh interpreters ({sys.version.split()[0]})")
    for module in HANDLERS:
        samples = measure(module, args.runs)
        print(f"  {module:<20} {statistics.median(samples):7.1f} ms  (min {min(samples):.1f}, max {max(samples):.1f})")


if __name__ == "__main__":
    main()
