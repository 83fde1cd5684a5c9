"""The `linkback` command."""

from __future__ import annotations

import argparse
import os
import signal
import sys
import threading
import time
from pathlib import Path


def _dev(args: argparse.Namespace) -> int:
    from .dev import TABLE_NAME, LocalStack

    stack = LocalStack(
        host=args.host,
        port=args.port,
        data_dir=Path(args.data_dir),
        sites=args.sites,
        moderation=args.moderation,
        log_level=args.log_level,
        allow_private_sources=args.allow_private_sources,
    )
    stop = threading.Event()
    for signum in (signal.SIGINT, signal.SIGTERM):
        signal.signal(signum, lambda *_: stop.set())
    began = time.monotonic()
    try:
        base_url = stack.start()
    except Exception as error:
        print(f"linkback dev: could not start: {error}", file=sys.stderr)
        return 1
    print(f"linkback dev: sites {args.sites}; moderation {args.moderation}", flush=True)
    if args.allow_private_sources:
        print("linkback dev: sources on loopback/private addresses are allowed (development only)", flush=True)
    print(f"linkback dev: TrackBack ping URL {base_url}/trackback?target=<post URL>", flush=True)
    print(f"linkback dev: Pingback endpoint {base_url}/pingback", flush=True)
    print(
        f"linkback dev: DynamoDB Local {stack.endpoints['dynamodb']} (table {TABLE_NAME}); "
        f"SQS {stack.endpoints['sqs']}",
        flush=True,
    )
    print(f"linkback dev: ready in {time.monotonic() - began:.1f} s at {base_url}  (Ctrl-C stops)", flush=True)
    try:
        stack.wait(stop)
    finally:
        stack.stop()
        print("linkback dev: stopped", flush=True)
    return 0


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="linkback", description=__doc__)
    commands = parser.add_subparsers(dest="command", required=True)
    dev = commands.add_parser("dev", help="run the whole stack locally (DynamoDB Local, SQS server, handlers)")
    dev.add_argument("--host", default="127.0.0.1")
    dev.add_argument("--port", type=int, default=8787, help="0 picks a free port")
    dev.add_argument("--data-dir", default=".linkback", help="where DynamoDB Local keeps its data and logs")
    dev.add_argument(
        "--sites",
        default=os.environ.get("LINKBACK_SITES", "https://example.com"),
        help="comma-separated site origins whose pages may be targets (env LINKBACK_SITES)",
    )
    dev.add_argument("--moderation", choices=("auto", "manual"), default=os.environ.get("LINKBACK_MODERATION", "auto"))
    dev.add_argument("--log-level", default=os.environ.get("POWERTOOLS_LOG_LEVEL", "INFO"))
    dev.add_argument(
        "--allow-private-sources",
        action="store_true",
        default=os.environ.get("LINKBACK_ALLOW_PRIVATE_SOURCES") == "1",
        help="let the verifier fetch sources on loopback/private addresses (development and tests only)",
    )
    dev.set_defaults(run=_dev)
    return parser


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    return args.run(args)


if __name__ == "__main__":
    sys.exit(main())
