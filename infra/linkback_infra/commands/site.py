"""`linkback token create` and `linkback snippet`: what a site needs to read its mentions and to
announce its endpoints."""

from __future__ import annotations

import argparse

from .stack import repository, stack_arguments


def register(commands: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    token = commands.add_parser("token", help="read tokens for a whole site's feed (domain + token)")
    token_commands = token.add_subparsers(dest="token_command", required=True)
    create = token_commands.add_parser("create", help="create a token for one site and print it once")
    create.add_argument("--site", required=True, help="the site origin, e.g. https://example.com")
    stack_arguments(create, table=True)
    create.set_defaults(run=_token_create)

    snippet = commands.add_parser("snippet", help="print the discovery links, TrackBack RDF and widget tags for a page")
    snippet.add_argument("--api", required=True, help="the API base URL (the stack's ApiUrl output)")
    snippet.add_argument("--page", required=True, help="the page's canonical URL")
    snippet.add_argument("--title", help="the page's title, for the TrackBack RDF's dc:title")
    snippet.set_defaults(run=_snippet)


def _token_create(args: argparse.Namespace) -> int:
    from linkback.model import utc_now
    from linkback.urls import InvalidUrl, normalise_origin

    try:
        site = normalise_origin(args.site)
    except InvalidUrl as error:
        raise SystemExit(f"--site: {error}") from error
    token = repository(args).create_site_token(site, utc_now())
    host = site.split("://", 1)[1].split(":", 1)[0]
    print(f"token for {site} (shown once; only its hash is stored):\n{token}")
    print(f"read the whole site: /api/mentions.jf2?domain={host}&token={token}")
    return 0


def _snippet(args: argparse.Namespace) -> int:
    from linkback.read import widget_asset

    from ..snippet import SnippetError, snippet

    try:
        print(snippet(args.api, args.page, title=args.title, version=widget_asset.widget().version), end="")
    except SnippetError as error:
        raise SystemExit(f"linkback snippet: {error}") from error
    return 0
