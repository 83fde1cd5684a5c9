"""The `linkback` command."""

from __future__ import annotations

import argparse
import sys

from .commands import dev, dlq, moderate, site, transfer


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="linkback", description=__doc__)
    commands = parser.add_subparsers(dest="command", required=True)
    # In the order the help lists them: dev; token, snippet; export, import, restore; moderate; dlq.
    for group in (dev, site, transfer, moderate, dlq):
        group.register(commands)
    return parser


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    return args.run(args)


if __name__ == "__main__":
    sys.exit(main())
