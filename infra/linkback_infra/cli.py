"""The `linkback` command."""

from __future__ import annotations

import argparse
import json
import os
import signal
import sys
import threading
import time
from pathlib import Path
from typing import Any


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
        parameters=dict(args.parameter),
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


def _local_stack(args: argparse.Namespace, instead: str) -> dict[str, Any]:
    """What the running `linkback dev` wrote about itself in its data dir, with the local services'
    dummy credentials set for the AWS clients about to be made."""
    from .dev import LOCAL_CREDENTIALS, STACK_FILE

    stack_file = Path(args.data_dir) / STACK_FILE
    if not stack_file.exists():
        raise SystemExit(f"no running `linkback dev` found ({stack_file} is missing); start it, or pass {instead}")
    os.environ.update(LOCAL_CREDENTIALS)
    return json.loads(stack_file.read_text(encoding="utf-8"))


def _repository(args: argparse.Namespace):  # type: ignore[no-untyped-def]
    """The mentions table of a deployed stack (`--table`, AWS credentials as usual) or, by default,
    of the `linkback dev` stack running on this machine's data dir."""
    from linkback.storage import MentionRepository

    if args.table:
        return MentionRepository(args.table, args.region or os.environ.get("AWS_REGION") or "us-east-1")
    from .dev import REGION

    stack = _local_stack(args, "--table")
    os.environ["AWS_ENDPOINT_URL_DYNAMODB"] = stack["endpoints"]["dynamodb"]
    return MentionRepository(stack["table"], REGION)


def _queues(args: argparse.Namespace) -> tuple[Any, str, str]:
    """(sqs client, verify queue URL, DLQ URL) of a deployed stack (the QueueUrl and DeadLetterQueueUrl
    outputs, AWS credentials as usual) or of the running `linkback dev`."""
    import boto3

    if args.queue_url and args.dlq_url:
        return (
            boto3.client("sqs", region_name=args.region or os.environ.get("AWS_REGION")),
            args.queue_url,
            args.dlq_url,
        )
    from .dev import REGION

    stack = _local_stack(args, "--queue-url/--dlq-url")
    sqs = boto3.client("sqs", region_name=REGION, endpoint_url=stack["endpoints"]["sqs"])
    return sqs, stack["queues"]["VerifyQueue"], stack["queues"]["VerifyDeadLetterQueue"]


def _dlq_list(args: argparse.Namespace) -> int:
    from datetime import UTC, datetime

    from .dlq import list_dead_letters

    sqs, _queue, dlq = _queues(args)
    letters = list_dead_letters(sqs, dlq, limit=args.limit)
    print(f"{len(letters)} message(s) in the dead-letter queue")
    for letter in letters:
        first = (
            datetime.fromtimestamp(letter.first_received_ms / 1000, UTC).strftime("%Y-%m-%d %H:%M")
            if letter.first_received_ms
            else "?"
        )
        mention = letter.mention_id or "(unreadable body)"
        print(f"  {letter.message_id}  mention {mention}  received {letter.receive_count}x, first {first}")
    return 0


def _dlq_redrive(args: argparse.Namespace) -> int:
    from .dlq import redrive

    sqs, queue, dlq = _queues(args)
    moved = redrive(sqs, dlq, queue, limit=args.limit)
    print(f"moved {moved} message(s) back to the verify queue")
    return 0


def _moderate_list(args: argparse.Namespace) -> int:
    from linkback.model import Status
    from linkback.urls import normalise_origin

    repository = _repository(args)
    records = repository.held_for_site(normalise_origin(args.site), Status(args.status), limit=args.limit)
    print(f"{len(records)} {args.status} mention(s) of {args.site}, oldest first")
    for record in records:
        print(f"  {record.pk}  {record.received_at[:16]}  {record.protocol:<10}  {record.source}  →  {record.target}")
    return 0


def _moderate_decide(args: argparse.Namespace) -> int:
    from linkback.model import Status, utc_now

    repository = _repository(args)
    status = {"approve": Status.APPROVED, "spam": Status.SPAM, "delete": Status.DELETED}[args.moderate_command]
    for mention_id in args.ids:
        record = repository.get(mention_id)
        if record is None:
            print(f"  {mention_id}: no such mention")
            continue
        before = record.status  # the update refreshes the record in place
        changed = repository.decide_as_owner(record, status, utc_now())
        print(f"  {mention_id}: {before} → {status}" if changed else f"  {mention_id}: changed meanwhile, not done")
    return 0


def _token_create(args: argparse.Namespace) -> int:
    from linkback.model import utc_now
    from linkback.urls import InvalidUrl, normalise_origin

    try:
        site = normalise_origin(args.site)
    except InvalidUrl as error:
        raise SystemExit(f"--site: {error}") from error
    token = _repository(args).create_site_token(site, utc_now())
    host = site.split("://", 1)[1].split(":", 1)[0]
    print(f"token for {site} (shown once; only its hash is stored):\n{token}")
    print(f"read the whole site: /api/mentions.jf2?domain={host}&token={token}")
    return 0


def _snippet(args: argparse.Namespace) -> int:
    from linkback import widget_asset

    from .snippet import SnippetError, snippet

    try:
        print(snippet(args.api, args.page, title=args.title, version=widget_asset.widget().version), end="")
    except SnippetError as error:
        raise SystemExit(f"linkback snippet: {error}") from error
    return 0


def _export(args: argparse.Namespace) -> int:
    from .export import ExportError, export_feed

    try:
        document = export_feed(args.api, args.target)
    except ExportError as error:
        raise SystemExit(f"linkback export: {error}") from error
    text = json.dumps(document, ensure_ascii=False, indent=2) + "\n"
    if args.out:
        Path(args.out).write_text(text, encoding="utf-8")
        print(f"linkback export: {len(document['children'])} mentions written to {args.out}", file=sys.stderr)
    else:
        sys.stdout.write(text)
    return 0


def _parameter(text: str) -> tuple[str, str]:
    name, equals, value = text.partition("=")
    if not equals or not name:
        raise argparse.ArgumentTypeError("use NAME=VALUE, e.g. SenderPingsPerHour=5")
    return name, value


def _stack_arguments(command: argparse.ArgumentParser, *, table: bool) -> None:
    """Which stack a command acts on: a deployed one (its outputs, AWS credentials as usual) or, by
    default, the `linkback dev` running from a data dir."""
    if table:
        command.add_argument("--table", help="a deployed stack's TableName output (default: the local dev stack)")
    command.add_argument("--region")
    command.add_argument("--data-dir", default=".linkback", help="the local dev stack's data dir")


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
    dev.add_argument(
        "--parameter",
        action="append",
        default=[],
        type=_parameter,
        metavar="NAME=VALUE",
        help="override a template parameter, e.g. SenderPingsPerHour=5 (repeatable)",
    )
    dev.set_defaults(run=_dev)

    token = commands.add_parser("token", help="read tokens for a whole site's feed (domain + token)")
    token_commands = token.add_subparsers(dest="token_command", required=True)
    create = token_commands.add_parser("create", help="create a token for one site and print it once")
    create.add_argument("--site", required=True, help="the site origin, e.g. https://example.com")
    _stack_arguments(create, table=True)
    create.set_defaults(run=_token_create)

    snippet = commands.add_parser("snippet", help="print the discovery links, TrackBack RDF and widget tags for a page")
    snippet.add_argument("--api", required=True, help="the API base URL (the stack's ApiUrl output)")
    snippet.add_argument("--page", required=True, help="the page's canonical URL")
    snippet.add_argument("--title", help="the page's title, for the TrackBack RDF's dc:title")
    snippet.set_defaults(run=_snippet)

    export = commands.add_parser(
        "export", help="fetch a page's approved mentions as one jf2 file (for builds without JS)"
    )
    export.add_argument("--api", required=True, help="the API base URL")
    export.add_argument("--target", required=True, action="append", help="the page URL (repeatable: same post)")
    export.add_argument("--out", help="write the JSON here (default: standard output)")
    export.set_defaults(run=_export)

    moderate = commands.add_parser("moderate", help="the owner's decisions on held mentions")
    moderate_commands = moderate.add_subparsers(dest="moderate_command", required=True)
    listing = moderate_commands.add_parser("list", help="held (or spam) mentions of a site, oldest first")
    listing.add_argument("--site", required=True)
    listing.add_argument("--status", choices=("pending", "spam"), default="pending")
    listing.add_argument("--limit", type=int, default=50)
    listing.set_defaults(run=_moderate_list)
    for name, about in (("approve", "publish"), ("spam", "mark as spam"), ("delete", "delete")):
        decide = moderate_commands.add_parser(name, help=f"{about} mentions by id")
        decide.add_argument("ids", nargs="+", metavar="ID")
        decide.set_defaults(run=_moderate_decide)
    for command in (listing, *[moderate_commands.choices[name] for name in ("approve", "spam", "delete")]):
        _stack_arguments(command, table=True)

    dlq = commands.add_parser("dlq", help="mentions whose verification failed 5 times (the dead-letter queue)")
    dlq_commands = dlq.add_subparsers(dest="dlq_command", required=True)
    for name, run, about in (
        ("list", _dlq_list, "show what is in the dead-letter queue"),
        ("redrive", _dlq_redrive, "send dead letters back to the verify queue"),
    ):
        command = dlq_commands.add_parser(name, help=about)
        command.add_argument("--queue-url", help="a deployed stack's QueueUrl output (default: the local dev stack)")
        command.add_argument("--dlq-url", help="a deployed stack's DeadLetterQueueUrl output")
        _stack_arguments(command, table=False)
        command.add_argument("--limit", type=int, default=100)
        command.set_defaults(run=run)
    return parser


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    return args.run(args)


if __name__ == "__main__":
    sys.exit(main())
