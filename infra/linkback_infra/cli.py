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
    from linkback.faults import parse_faults

    from .dev import TABLE_NAME, LocalStack

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
    from linkback.store.repository import MentionRepository

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


MODERATION_STATUSES = ("pending", "spam", "approved", "rejected", "deleted", "queued")
BULK_CHUNK = 25  # ids per /admin/mentions/bulk call (the API takes 100): a progress step every 25
DECIDED = {"approve": "approved", "spam": "marked spam", "delete": "deleted", "restore": "restored"}
NOT_DONE = {"not_found": "no such mention", "conflict": "changed meanwhile, not done"}


def _moderate(args: argparse.Namespace) -> int:
    """Every `linkback moderate` command: find the admin API, run, and turn its errors into one line."""
    from .admin_client import AdminApiNotFound, AdminError, find_admin_api

    try:
        return args.moderate_run(find_admin_api(args), args)
    except (AdminApiNotFound, AdminError) as error:
        print(f"linkback moderate {args.moderate_command}: {error}", file=sys.stderr)
        return 1


def _moderated_site(client: Any, args: argparse.Namespace) -> str:
    if args.site:
        return str(args.site).rstrip("/")
    sites = client.sites()
    if len(sites) == 1:
        return str(sites[0])
    raise SystemExit(f"linkback moderate list: --site is needed; this stack serves {', '.join(sites) or 'no site'}")


def _moderate_list(client: Any, args: argparse.Namespace) -> int:
    from .tables import Column, render_table

    site = _moderated_site(client, args)
    mentions: list[dict[str, Any]] = []
    cursor = None
    while len(mentions) < args.limit:
        page = client.list(site, args.status, min(100, args.limit - len(mentions)), cursor)
        mentions += page.mentions
        cursor = page.next_cursor
        if not cursor:
            break
    if args.json:
        document = {"site": site, "status": args.status, "mentions": mentions, "next_cursor": cursor}
        print(json.dumps(document, ensure_ascii=False, indent=2))
        return 0
    order = "newest first" if args.status == "approved" else "oldest first"
    print(f"{len(mentions)} {args.status} mention(s) of {site}, {order}")
    if mentions:
        # Fits 80 columns with the 32-character ids whole; the score only where it explains the list.
        scored = args.status == "spam"
        columns = [
            Column("ID", truncate=False),
            Column("RECEIVED", truncate=False),
            Column("VIA", min_width=6),
            *([Column("SCORE", align_right=True, truncate=False)] if scored else []),
            Column("SOURCE"),
            Column("TARGET"),
            Column("TITLE"),
        ]
        rows = [
            (
                mention["id"],
                (mention.get("received_at") or "")[:10],
                mention.get("protocol"),
                *([_score(mention.get("spam_score"))] if scored else []),
                mention.get("source"),
                _page(str(mention.get("target") or ""), site),
                mention.get("title"),
            )
            for mention in mentions
        ]
        print(render_table(columns, rows), end="")
    if cursor:
        print(f"more {args.status} mentions remain: raise --limit (now {args.limit})")
    return 0


def _page(target: str, site: str) -> str:
    """The target's path: the site is in the heading, and the path is what tells posts apart."""
    if target == site or target.startswith(site + "/"):
        return target[len(site) :] or "/"
    return target


def _minute(timestamp: str | None) -> str:
    return (timestamp or "")[:16].replace("T", " ")


def _score(score: float | None) -> str:
    return "" if score is None else f"{score:.2f}" if isinstance(score, float) else str(score)


def _moderate_show(client: Any, args: argparse.Namespace) -> int:
    from .tables import Column, render_fields, render_table

    mention = client.show(args.id)
    if args.json:
        print(json.dumps(mention, ensure_ascii=False, indent=2))
        return 0
    author = mention.get("author") or {}
    status = mention.get("status")
    reason = mention.get("status_reason")
    fields = [
        ("id", mention.get("id")),
        ("status", f"{status} ({reason})" if reason else status),
        ("protocol", mention.get("protocol")),
        ("property", mention.get("wm_property")),
        ("source", mention.get("source")),
        ("target", mention.get("target")),
        ("site", mention.get("site")),
        ("title", mention.get("title")),
        ("author", " ".join(part for part in (author.get("name"), author.get("url") and f"<{author['url']}>") if part)),
        ("photo", author.get("photo")),
        ("excerpt", mention.get("excerpt")),
        ("received", mention.get("received_at")),
        ("verified", mention.get("verified_at")),
        ("updated", mention.get("updated_at")),
        ("sender", " ".join(part for part in (mention.get("sender_ip"), mention.get("user_agent")) if part)),
        ("spam score", _score(mention.get("spam_score"))),
        ("spam reasons", "; ".join(mention.get("spam_reasons") or [])),
    ]
    print(render_fields((name, value) for name, value in fields if value), end="")
    history = mention.get("history") or []
    if history:
        print("\nhistory")
        columns = [Column("AT"), Column("BY"), Column("FROM"), Column("TO"), Column("NOTE")]
        rows = [
            (_minute(step.get("at")), step.get("by"), step.get("from"), step.get("to"), step.get("note"))
            for step in history
        ]
        print(render_table(columns, rows), end="")
    return 0


def _moderate_decide(client: Any, args: argparse.Namespace) -> int:
    from .admin_client import AdminError

    action = args.moderate_command
    extras = {
        "block": getattr(args, "block", None),
        "allow": "domain" if getattr(args, "allow_domain", False) else None,
    }
    ids = list(dict.fromkeys(args.ids))  # the same id twice would be reported as a conflict with itself
    if len(ids) == 1:
        try:
            reply = client.act(ids[0], action, **extras)
        except AdminError as error:
            if error.error not in NOT_DONE:
                raise
            print(f"{ids[0]}: {NOT_DONE[error.error]}")
            return 1
        print(f"{ids[0]}: {_transition(reply['mention'])}")
        if reply.get("listed"):
            print(_listed(reply["listed"]))
        return 0
    return _moderate_bulk(client, action, ids, extras)


def _transition(mention: dict[str, Any]) -> str:
    history = mention.get("history") or []
    last = history[-1] if history else {}
    if last.get("to") == mention["status"] and last.get("from"):
        return f"{last['from']} → {mention['status']}"
    return f"now {mention['status']}"


def _moderate_bulk(client: Any, action: str, ids: list[str], extras: dict[str, str | None]) -> int:
    from .admin_client import AdminError
    from .tables import Progress

    failures: list[tuple[str, str]] = []
    done = 0
    with Progress(len(ids), DECIDED[action]) as progress:
        for start in range(0, len(ids), BULK_CHUNK):
            chunk = ids[start : start + BULK_CHUNK]
            try:
                results = {result["id"]: result for result in client.bulk(action, chunk, **extras)}
            except AdminError as error:
                progress.finish()
                print(f"{done} of {len(ids)} mention(s) {DECIDED[action]}, then the API refused: {error}")
                return 1
            for mention_id in chunk:
                result = results.get(mention_id, {"ok": False, "error": "no result"})
                if result.get("ok"):
                    done += 1
                else:
                    failures.append((mention_id, NOT_DONE.get(result.get("error"), str(result.get("error")))))
            progress.advance(len(chunk))
    print(f"{done} of {len(ids)} mention(s) {DECIDED[action]}")
    for mention_id, why in failures:
        print(f"  {mention_id}: {why}")
    return 1 if failures else 0


def _listed(entry: dict[str, Any]) -> str:
    verb = {"block": "blocked", "allow": "allowed"}.get(entry.get("kind", ""), str(entry.get("kind")))
    note = f"  ({entry['note']})" if entry.get("note") else ""
    return f"{verb} {entry.get('scope')} {entry.get('value')}{note}"


def _list_scope(value: str) -> str:
    return "url" if "://" in value else "domain"


def _moderate_block(client: Any, args: argparse.Namespace) -> int:
    from .tables import printable

    entry = client.add_list_entry("block", _list_scope(args.value), args.value, args.note)
    print(printable(_listed(entry)))
    return 0


def _moderate_allow(client: Any, args: argparse.Namespace) -> int:
    from .tables import printable

    if "://" in args.value:
        raise SystemExit(f"linkback moderate allow: the allow list holds domains; give a host name, not {args.value}")
    entry = client.add_list_entry("allow", "domain", args.value, args.note)
    print(printable(_listed(entry)))
    return 0


def _moderate_unlist(client: Any, args: argparse.Namespace) -> int:
    from .admin_client import AdminError
    from .tables import printable

    kind = {"unblock": "block", "unallow": "allow"}[args.moderate_command]
    scope = _list_scope(args.value) if kind == "block" else "domain"
    try:
        entry = client.remove_list_entry(kind, scope, args.value)
    except AdminError as error:
        if error.status != 404:
            raise
        print(f"{args.value} is not on the {kind} list")
        return 1
    print(printable(f"removed {entry.get('scope')} {entry.get('value')} from the {kind} list"))
    return 0


def _moderate_lists(client: Any, args: argparse.Namespace) -> int:
    from .tables import Column, render_table

    entries = client.lists(args.kind)
    if args.json:
        print(json.dumps({"entries": entries}, ensure_ascii=False, indent=2))
        return 0
    which = f"the {args.kind} list" if args.kind else "the block and allow lists"
    print(f"{len(entries)} entr{'y' if len(entries) == 1 else 'ies'} on {which}")
    if entries:
        columns = [Column("KIND"), Column("SCOPE"), Column("VALUE"), Column("NOTE"), Column("ADDED"), Column("BY")]
        rows = [
            (
                entry.get("kind"),
                entry.get("scope"),
                entry.get("value"),
                entry.get("note"),
                _minute(entry.get("created_at")),
                entry.get("created_by"),
            )
            for entry in entries
        ]
        print(render_table(columns, rows), end="")
    return 0


def _moderate_webhook_secret(client: Any, args: argparse.Namespace) -> int:
    document = client.webhook_secret()
    print(document["secret"])
    print(f"(verify the {document['header']} header of each webhook with it; see README, Webhooks)", file=sys.stderr)
    return 0


def _positive(text: str) -> int:
    number = int(text)
    if number < 1:
        raise argparse.ArgumentTypeError("must be 1 or more")
    return number


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
    from linkback.read import widget_asset

    from .snippet import SnippetError, snippet

    try:
        print(snippet(args.api, args.page, title=args.title, version=widget_asset.widget().version), end="")
    except SnippetError as error:
        raise SystemExit(f"linkback snippet: {error}") from error
    return 0


def _export(args: argparse.Namespace) -> int:
    """`--target`: a page's approved mentions from the public feed; else the owner's whole site through
    the admin API, in the statuses asked for."""
    from .admin_client import AdminApiNotFound, AdminError, find_admin_api
    from .export import ExportError, csv_text, export_feed, owner_export

    if args.target:
        if not args.api or args.site or args.status:
            raise SystemExit("linkback export: --target reads the public feed: give --api, and no --site or --status")
        try:
            document = export_feed(args.api, args.target)
        except ExportError as error:
            raise SystemExit(f"linkback export: {error}") from error
    else:
        statuses = MODERATION_STATUSES if args.status in (None, "all") else (args.status,)
        try:
            client = find_admin_api(args)
            site = _exported_site(client, args)
            document = owner_export(client, site, statuses)
        except (AdminApiNotFound, AdminError) as error:
            print(f"linkback export: {error}", file=sys.stderr)
            return 1
    if args.format == "csv":
        text = csv_text(document["children"])
    else:
        text = json.dumps(document, ensure_ascii=False, indent=2) + "\n"
    if args.out:
        # A BOM, so that a spreadsheet opening the CSV reads it as UTF-8; newline="": csv wrote CRLF itself.
        encoding = "utf-8-sig" if args.format == "csv" else "utf-8"
        Path(args.out).write_text(text, encoding=encoding, newline="")
        print(f"linkback export: {len(document['children'])} mentions written to {args.out}", file=sys.stderr)
    else:
        sys.stdout.write(text)
    return 0


def _exported_site(client: Any, args: argparse.Namespace) -> str:
    from linkback.urls import InvalidUrl, normalise_origin

    if args.site:
        try:
            return normalise_origin(args.site)
        except InvalidUrl as error:
            raise SystemExit(f"linkback export: --site: {error}") from error
    sites = client.sites()
    if len(sites) == 1:
        return str(sites[0])
    raise SystemExit(f"linkback export: --site is needed; this stack serves {', '.join(sites) or 'no site'}")


def _import(args: argparse.Namespace) -> int:
    from .importer import run_import, sites_for

    repository = _repository(args)
    return run_import(args, repository, sites_for(args))


def _restore_copy(args: argparse.Namespace) -> int:
    import boto3

    from .restore import copy_items
    from .tables import Progress

    dynamodb = boto3.client("dynamodb", region_name=args.region or os.environ.get("AWS_REGION") or None)
    total = dynamodb.describe_table(TableName=args.source)["Table"].get("ItemCount", 0)  # approximate, for the bar
    progress = Progress(max(total, 1), "items read")
    # A step per 100 items: the bar moves without a line per item where stderr is a log.
    report = copy_items(
        dynamodb,
        source=args.source,
        target=args.target,
        mode=args.mode,
        on_item=lambda read: progress.advance(100) if read.read % 100 == 0 else None,
    )
    progress.finish()
    kinds = ", ".join(f"{count} {kind}" for kind, count in sorted(report.by_kind.items())) or "nothing"
    print(f"{report.read} items read, {report.written} written ({kinds}), {report.already_there} already there")
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
        "export",
        help="a page's approved mentions (--target, for builds without JS) or, for the owner, a site's "
        "mentions in every status (jf2 that `linkback import jf2` reads back, or CSV)",
    )
    export.add_argument(
        "--api", help="the API base URL (with --site: the admin token from $LINKBACK_ADMIN_TOKEN or --token-file)"
    )
    export.add_argument("--target", action="append", help="the page URL (repeatable: same post)")
    export.add_argument("--site", help="the owner's export of this site (default: the stack's only site)")
    export.add_argument("--status", choices=(*MODERATION_STATUSES, "all"), help="the owner's export: default all")
    export.add_argument("--format", choices=("jf2", "csv"), default="jf2")
    export.add_argument("--out", help="write the file here (default: standard output)")
    export.add_argument("--token-file", help="a file holding the admin token (with --api)")
    export.add_argument("--stack", help="a deployed stack's name: its ApiUrl output and admin token secret")
    export.add_argument("--region", help="the deployed stack's region")
    export.add_argument("--data-dir", default=".linkback", help="the local dev stack's data dir (the default API)")
    export.set_defaults(run=_export)

    importing = commands.add_parser(
        "import", help="store the pingbacks and trackbacks of a WordPress export, or a jf2 dump's mentions"
    )
    import_formats = importing.add_subparsers(dest="import_format", required=True)
    for name, about in (
        ("wxr", "a WordPress export (Tools > Export): its pingbacks and trackbacks, with their states and dates"),
        ("jf2", "webmention.io's /api/mentions.jf2 dump, or `linkback export --format jf2`"),
    ):
        command = import_formats.add_parser(name, help=about)
        command.add_argument("file", metavar="FILE")
        command.add_argument(
            "--site",
            action="append",
            help="a site origin whose pages may be targets (repeatable; default: the stack's sites)",
        )
        _stack_arguments(command, table=True)
        command.set_defaults(run=_import)

    restore = commands.add_parser("restore", help="bring a point-in-time restored table's items back into the stack")
    restore_commands = restore.add_subparsers(dest="restore_command", required=True)
    copy = restore_commands.add_parser("copy", help="copy items from the restored table into the live one")
    copy.add_argument("--from", dest="source", required=True, help="the table AWS restored into")
    copy.add_argument("--to", dest="target", required=True, help="the stack's table (its TableName output)")
    copy.add_argument(
        "--mode",
        choices=("missing", "overwrite"),
        default="missing",
        help="missing: only items the live table lacks (default); overwrite: every item as it was",
    )
    copy.add_argument("--region")
    copy.set_defaults(run=_restore_copy)

    moderate = commands.add_parser("moderate", help="the owner's decisions, through the stack's admin API")
    moderate_commands = moderate.add_subparsers(dest="moderate_command", required=True)
    listing = moderate_commands.add_parser("list", help="mentions of a site in one status (held ones by default)")
    listing.add_argument("--site", help="the site origin (default: the stack's only site)")
    listing.add_argument("--status", choices=MODERATION_STATUSES, default="pending")
    listing.add_argument("--limit", type=_positive, default=50)
    listing.add_argument("--json", action="store_true", help="print the API's mentions as JSON")
    listing.set_defaults(moderate_run=_moderate_list)
    show = moderate_commands.add_parser("show", help="everything known about one mention, and its history")
    show.add_argument("id", metavar="ID")
    show.add_argument("--json", action="store_true")
    show.set_defaults(moderate_run=_moderate_show)
    decisions = {}
    for name, about in (
        ("approve", "publish mentions"),
        ("spam", "mark mentions as spam"),
        ("delete", "delete mentions"),
        ("restore", "undo a delete or a spam verdict"),
    ):
        decisions[name] = decide = moderate_commands.add_parser(name, help=f"{about} by id")
        decide.add_argument("ids", nargs="+", metavar="ID")
        decide.set_defaults(moderate_run=_moderate_decide)
    decisions["approve"].add_argument(
        "--allow-domain", action="store_true", help="also allow the source's domain: its mentions skip moderation"
    )
    decisions["spam"].add_argument(
        "--block", choices=("domain", "url"), help="also block the source's domain or URL: its mentions are spam"
    )
    block = moderate_commands.add_parser("block", help="mark every mention from a domain or URL as spam")
    block.add_argument("value", metavar="DOMAIN_OR_URL")
    block.add_argument("--note", help="why, for the list")
    block.set_defaults(moderate_run=_moderate_block)
    allow = moderate_commands.add_parser("allow", help="publish mentions from a domain without holding them")
    allow.add_argument("value", metavar="DOMAIN")
    allow.add_argument("--note", help="why, for the list")
    allow.set_defaults(moderate_run=_moderate_allow)
    for name, metavar, about in (
        ("unblock", "DOMAIN_OR_URL", "take a domain or URL off the block list"),
        ("unallow", "DOMAIN", "take a domain off the allow list"),
    ):
        unlist = moderate_commands.add_parser(name, help=about)
        unlist.add_argument("value", metavar=metavar)
        unlist.set_defaults(moderate_run=_moderate_unlist)
    lists = moderate_commands.add_parser("lists", help="the block and allow lists")
    lists.add_argument("--kind", choices=("block", "allow"))
    lists.add_argument("--json", action="store_true")
    lists.set_defaults(moderate_run=_moderate_lists)
    secret = moderate_commands.add_parser("webhook-secret", help="print the key that signs the webhooks")
    secret.set_defaults(moderate_run=_moderate_webhook_secret)
    for command in moderate_commands.choices.values():
        command.set_defaults(run=_moderate)
        command.add_argument(
            "--api", help="the admin API's base URL (token from $LINKBACK_ADMIN_TOKEN or --token-file)"
        )
        command.add_argument("--token-file", help="a file holding the admin token (with --api)")
        command.add_argument("--stack", help="a deployed stack's name: its ApiUrl output and admin token secret")
        command.add_argument("--region", help="the deployed stack's region")
        command.add_argument("--data-dir", default=".linkback", help="the local dev stack's data dir (the default API)")

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
