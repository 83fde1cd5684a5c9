"""`linkback dev`: the whole stack on this machine."""

from __future__ import annotations

import argparse
import os
import signal
import sys
import threading
import time
from pathlib import Path

from .stack import _positive


def register(commands: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
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
    dev.add_argument(
        "--parameter",
        action="append",
        default=[],
        type=_parameter,
        metavar="NAME=VALUE",
        help="override a template parameter, e.g. SenderPingsPerHour=5 (repeatable)",
    )
    dev.add_argument(
        "--akismet-key",
        default=os.environ.get("LINKBACK_AKISMET_KEY", ""),
        help="an Akismet API key: stored in the local SSM and used as one more spam signal (env LINKBACK_AKISMET_KEY)",
    )
    dev.add_argument(
        "--akismet-url",
        default="",
        help="where Akismet is, e.g. a local `python -m linkback_infra.akismet_server` (default: Akismet itself)",
    )
    dev.add_argument(
        "--faults",
        default=os.environ.get("LINKBACK_FAULTS", ""),
        metavar="SPEC",
        help="inject faults to watch recovery, e.g. after_fetch=2,after_write=1,before_ack=1,dynamodb=8s "
        "(env LINKBACK_FAULTS; development and tests only)",
    )
    dev.add_argument(
        "--visibility-timeout",
        type=_positive,
        metavar="SECONDS",
        help="the queues' visibility timeout instead of the template's, so redeliveries come quickly",
    )
    dev.set_defaults(run=_dev)


def _parameter(text: str) -> tuple[str, str]:
    name, equals, value = text.partition("=")
    if not equals or not name:
        raise argparse.ArgumentTypeError("use NAME=VALUE, e.g. SenderPingsPerHour=5")
    return name, value


def _dev(args: argparse.Namespace) -> int:
    from linkback.faults import parse_faults

    from ..dev import TABLE_NAME, LocalStack

    try:
        faults = parse_faults(args.faults)
    except ValueError as error:
        print(f"linkback dev: {error}", file=sys.stderr)
        return 2
    stack = LocalStack(
        host=args.host,
        port=args.port,
        data_dir=Path(args.data_dir),
        sites=args.sites,
        moderation=args.moderation,
        log_level=args.log_level,
        allow_private_sources=args.allow_private_sources,
        parameters=dict(args.parameter),
        akismet_key=args.akismet_key,
        akismet_url=args.akismet_url,
        visibility_timeout=args.visibility_timeout,
        faults=args.faults,
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
    if faults:
        print(f"linkback dev: injecting faults {args.faults} (development only)", flush=True)
    print(f"linkback dev: TrackBack ping URL {base_url}/trackback?target=<post URL>", flush=True)
    print(f"linkback dev: Pingback endpoint {base_url}/pingback", flush=True)
    print(
        f"linkback dev: DynamoDB Local {stack.endpoints['dynamodb']} (table {TABLE_NAME}); "
        f"SQS {stack.endpoints['sqs']}",
        flush=True,
    )
    print(f"linkback dev: admin API {base_url}/admin/  (Authorization: Bearer {stack.admin_token})", flush=True)
    print(f"linkback dev: mail to the owner is written to {stack.mail_dir}/", flush=True)
    print(f"linkback dev: ready in {time.monotonic() - began:.1f} s at {base_url}  (Ctrl-C stops)", flush=True)
    try:
        stack.wait(stop)
    finally:
        stack.stop()
        print("linkback dev: stopped", flush=True)
    return 0
