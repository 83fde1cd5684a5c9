"""Cold start per handler: import + first-request init in a fresh interpreter, next to its SDK baseline.

Run: .venv/bin/python bench/cold_start.py [--runs 15]
     .venv/bin/python bench/cold_start.py --built DIR --python python3.12   (sam build's artifacts)
     .venv/bin/python bench/cold_start.py --package --python python3.12     (builds with functions/Makefile)
Each handler is measured as: import the module, then build the clients its first request builds
(wiring). Its baseline is what it cannot avoid, measured the same way in a fresh interpreter: the
SDK imports (boto3/botocore, pynamodb's connection, Powertools' logger, metrics and, for HTTP
functions, its resolver) and the same clients. Budget: handler ≤ 1.15 x baseline (medians).
With --built or --package, bytecode writing is off, as on Lambda's read-only /var/task.
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
BUDGET = 1.15
HTTP = "import aws_lambda_powertools.event_handler"
SDK = (
    "import boto3, botocore.session, pynamodb.connection, aws_lambda_powertools.logging, aws_lambda_powertools.metrics"
)
SQS = "boto3.client('sqs', region_name='us-east-1')"
SECRETS = "import boto3; boto3.client('secretsmanager', region_name='us-east-1')"
SNS = "import boto3; boto3.client('sns', region_name='us-east-1')"
INIT = "from linkback import wiring; wiring.repository()"
SEND = "; wiring.verify_queue()._client"
# function: (handler module, first-request init, baseline)
HANDLERS = {
    "TrackbackFunction": ("handlers.trackback", INIT + SEND, f"{SDK}; {HTTP}; {SQS}"),
    "PingbackFunction": ("handlers.pingback", INIT + SEND, f"{SDK}; {HTTP}; {SQS}"),
    "WebmentionFunction": ("handlers.webmention", INIT + SEND, f"{SDK}; {HTTP}; {SQS}"),
    "VerifyFunction": (
        "handlers.verify",
        INIT + "; wiring.fetcher(); wiring.rate_limiter(); wiring.screen()",
        f"{SDK}; import aws_lambda_powertools.utilities.batch",
    ),
    "MentionsFunction": ("handlers.mentions", INIT, f"{SDK}; {HTTP}"),
    "RecheckFunction": ("handlers.recheck", INIT + SEND, f"{SDK}; {SQS}"),
    # The admin token comes from Secrets Manager on the first request: its client is part of the init.
    "AdminFunction": ("handlers.admin", INIT + f"; {SECRETS}", f"{SDK}; {HTTP}; {SECRETS}"),
    "NotifyFunction": (
        "handlers.notify",
        INIT + f"; {SECRETS}; {SNS}",
        f"{SDK}; import aws_lambda_powertools.utilities.batch; {SECRETS}; {SNS}",
    ),
}
# The code runs {depth} Python frames deep: CPython 3.12 is markedly slower when deep recursion (here,
# compiling urllib3's IPv6 regexes under botocore's import) meets a boundary of its frame-stack chunks
# (python/cpython#142183), so one fixed depth flips a ratio with unrelated import changes. Lambda's
# bootstrap imports the handler at its own depth; runs are spread over depths 0-7 and the median taken.
PROBE = (
    "import time\n"
    "def at_depth(n, code):\n"
    "    return at_depth(n - 1, code) if n else exec(code, {{}})\n"
    "t = time.perf_counter(); at_depth({depth}, {code!r}); print(time.perf_counter() - t)"
)
DEPTHS = 8
ENVIRONMENT = {
    "AWS_LAMBDA_FUNCTION_NAME": "bench",
    "AWS_REGION": "us-east-1",
    "AWS_DEFAULT_REGION": "us-east-1",
    "LINKBACK_SITES": "https://example.com",
    "LINKBACK_QUEUE_URL": "https://sqs.us-east-1.amazonaws.com/123456789012/bench-verify",
}


def measure(python: str, code: str, path: Path, runs: int, read_only: bool, runtime: Path | None = None) -> float:
    # Lambda's runtime provides boto3/botocore (/var/runtime, after the package on sys.path).
    paths = [str(path)] + ([str(runtime)] if runtime else [])
    env = {**os.environ, **ENVIRONMENT, "PYTHONPATH": os.pathsep.join(paths)}
    if read_only:
        env["PYTHONDONTWRITEBYTECODE"] = "1"
    samples = []
    for run in range(runs):
        probe = PROBE.format(depth=run % DEPTHS, code=code)
        out = subprocess.run([python, "-c", probe], env=env, capture_output=True, text=True)
        if out.returncode:
            raise SystemExit(f"could not run {code!r}:\n{out.stderr[-2000:]}")
        samples.append(float(out.stdout.strip().splitlines()[-1]) * 1000)
    return statistics.median(samples)


def package_sizes(python: str, into: Path, functions: list[str]) -> dict[str, float]:
    """Build each function with functions/Makefile (as sam build does) and size its directory."""
    sizes = {}
    for function in functions:
        target = into / function
        subprocess.run(
            [
                "make",
                "-s",
                "-C",
                str(ROOT / "functions"),
                f"build-{function}",
                f"ARTIFACTS_DIR={target}",
                f"PYTHON={python}",
            ],
            check=True,
            capture_output=True,
        )
        sizes[function] = sum(f.stat().st_size for f in target.rglob("*") if f.is_file()) / 1e6
    return sizes


def runtime_sdk(python: str, into: Path) -> Path:
    """boto3 as Lambda's Python runtime provides it: outside the package, compiled."""
    subprocess.run(
        [python, "-m", "pip", "install", "-q", "--target", str(into), "boto3"], check=True, capture_output=True
    )
    subprocess.run([python, "-m", "compileall", "-q", "-j", "0", str(into)], check=True, capture_output=True)
    return into


def zipped_mb(directory: Path) -> float:
    import shutil

    with tempfile.TemporaryDirectory() as scratch:
        return Path(shutil.make_archive(f"{scratch}/package", "zip", directory)).stat().st_size / 1e6


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--runs", type=int, default=15)
    parser.add_argument("--built", type=Path, help="sam build's artifacts directory (.aws-sam/build)")
    parser.add_argument("--package", action="store_true", help="build each package with functions/Makefile first")
    parser.add_argument("--python", default=sys.executable)
    parser.add_argument("--only", nargs="+", choices=sorted(HANDLERS), help="measure these functions alone")
    args = parser.parse_args()
    measured = {name: HANDLERS[name] for name in args.only or HANDLERS}
    version = subprocess.run([args.python, "--version"], capture_output=True, text=True, check=True).stdout.strip()
    built, sizes, runtime = args.built, {}, None
    scratch = tempfile.TemporaryDirectory(prefix="linkback-build-")
    if args.package:
        built = Path(scratch.name)
        sizes = package_sizes(args.python, built, list(measured))
    if built:
        runtime = runtime_sdk(args.python, Path(scratch.name) / "_runtime")
    where = f"built packages in {built}" if built else "the source tree"
    print(
        f"cold start (import + first-request init), median of {args.runs} fresh interpreters "
        f"at stack depths 0-{DEPTHS - 1}, {version}, {where}"
    )
    print(f"  {'function':<20} {'handler':>9} {'baseline':>9} {'ratio':>6}  budget ≤ {BUDGET}x   package")
    worst = 0.0
    for function, (module, init, baseline) in measured.items():
        path = built / function if built else ROOT / "functions"
        handler_ms = measure(
            args.python, f"import {module}; {init}", path, args.runs, read_only=bool(built), runtime=runtime
        )
        baseline_ms = measure(args.python, baseline, path, args.runs, read_only=bool(built), runtime=runtime)
        ratio = handler_ms / baseline_ms
        worst = max(worst, ratio)
        size = ""
        if built and (built / function).is_dir():
            size_mb = (
                sizes.get(function) or sum(f.stat().st_size for f in (built / function).rglob("*") if f.is_file()) / 1e6
            )
            size = f"{size_mb:5.1f} MB unzipped, {zipped_mb(built / function):4.1f} MB zipped"
        mark = "✓" if ratio <= BUDGET else "✗"
        print(f"  {function:<20} {handler_ms:6.1f} ms {baseline_ms:6.1f} ms {ratio:5.2f}x  {mark}          {size}")
    scratch.cleanup()
    return 0


if __name__ == "__main__":
    sys.exit(main())
