"""`linkback export`, `linkback import wxr/jf2` and `linkback restore copy`: mentions into and out of a
stack, as files or from a point-in-time restored table."""

from __future__ import annotations

import argparse
import json
import os
import sys
from pathlib import Path
from typing import Any

from .moderate import MODERATION_STATUSES
from .stack import repository, stack_arguments


def register(commands: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
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
        stack_arguments(command, table=True)
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


def _export(args: argparse.Namespace) -> int:
    """`--target`: a page's approved mentions from the public feed; else the owner's whole site through
    the admin API, in the statuses asked for."""
    from ..admin_client import AdminApiNotFound, AdminError, find_admin_api
    from ..export import ExportError, csv_text, export_feed, owner_export

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
    from ..importer import run_import, sites_for

    return run_import(args, repository(args), sites_for(args))


def _restore_copy(args: argparse.Namespace) -> int:
    import boto3

    from ..restore import copy_items
    from ..tables import Progress

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
