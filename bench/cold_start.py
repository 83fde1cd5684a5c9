"""Cold-start import time per handler: a fresh interpreter imports the handler module, N times.

Run: .venv/bin/python bench/cold_start.py [--runs 7]
     .venv/bin/python bench/cold_start.py --built .aws-sam/build --python python3.12
The second form imports from `sam build`'s artifacts with bytecode writing off, as on Lambda, whose
/var/task is read-only: it shows what shipping compiled bytecode (functions/Makefile) saves.
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
HANDLERS = {
    "TrackbackFunction": "handlers.trackback",
    "PingbackFunction": "handlers.pingback",
    "WebmentionFunction": "handlers.webmention",
    "VerifyFunction": "handlers.verify",
    "MentionsFunction": "handlers.mentions",
    "RecheckFunction": "handlers.recheck",
}
PROBE = "import time; t=time.perf_counter(); import {module}; print(time.perf_counter()-t)"


def measure(python: str, module: str, path: Path, runs: int, read_only: bool) -> list[float]:
    env = {**os.environ, "PYTHONPATH": str(path), "AWS_LAMBDA_FUNCTION_NAME": "bench", "AWS_REGION": "us-east-1"}
    if read_only:
        env["PYTHONDONTWRITEBYTECODE"] = "1"
    samples = []
    for _ in range(runs):
        out = subprocess.run(
            [python, "-c", PROBE.format(module=module)], env=env, capture_output=True, text=True, check=True
        )
        samples.append(float(out.stdout.strip().splitlines()[-1]) * 1000)
    return samples


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--runs", type=int, default=7)
    parser.add_argument("--built", type=Path, help="sam build's artifacts directory (.aws-sam/build)")
    parser.add_argument("--python", default=sys.executable)
    args = parser.parse_args()
    version = subprocess.run([args.python, "--version"], capture_output=True, text=True, check=True).stdout.strip()
    where = f"sam build artifacts in {args.built}" if args.built else "the source tree"
    print(f"cold-start import time from {where}, median of {args.runs} fresh interpreters ({version})")
    for function, module in HANDLERS.items():
        path = args.built / function if args.built else ROOT / "functions"
        samples = measure(args.python, module, path, args.runs, read_only=bool(args.built))
        median = statistics.median(samples)
        print(f"  {module:<20} {median:7.1f} ms  (min {min(samples):.1f}, max {max(samples):.1f})")


if __name__ == "__main__":
    main()
