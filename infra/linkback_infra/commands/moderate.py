"""`linkback moderate`: the owner's decisions (list, show, approve, spam, delete, restore), the block
and allow lists, and the webhook secret, all through the stack's admin API."""

from __future__ import annotations

import argparse
import json
import sys
from typing import Any

from .stack import _positive

MODERATION_STATUSES = ("pending", "spam", "approved", "rejected", "deleted", "queued")
BULK_CHUNK = 25  # ids per /admin/mentions/bulk call (the API takes 100): a progress step every 25
DECIDED = {"approve": "approved", "spam": "marked spam", "delete": "deleted", "restore": "restored"}
NOT_DONE = {"not_found": "no such mention", "conflict": "changed meanwhile, not done"}


def register(commands: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
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


def _moderate(args: argparse.Namespace) -> int:
    """Every `linkback moderate` command: find the admin API, run, and turn its errors into one line."""
    from ..admin_client import AdminApiNotFound, AdminError, find_admin_api

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
    from ..tables import Column, render_table

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
    from ..tables import Column, render_fields, render_table

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
    from ..admin_client import AdminError

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
    from ..admin_client import AdminError
    from ..tables import Progress

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
    from ..tables import printable

    entry = client.add_list_entry("block", _list_scope(args.value), args.value, args.note)
    print(printable(_listed(entry)))
    return 0


def _moderate_allow(client: Any, args: argparse.Namespace) -> int:
    from ..tables import printable

    if "://" in args.value:
        raise SystemExit(f"linkback moderate allow: the allow list holds domains; give a host name, not {args.value}")
    entry = client.add_list_entry("allow", "domain", args.value, args.note)
    print(printable(_listed(entry)))
    return 0


def _moderate_unlist(client: Any, args: argparse.Namespace) -> int:
    from ..admin_client import AdminError
    from ..tables import printable

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
    from ..tables import Column, render_table

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
    print(
        f"(verify the {document['header']} header of each webhook with it; see docs/moderation.md, webhooks)",
        file=sys.stderr,
    )
    return 0
