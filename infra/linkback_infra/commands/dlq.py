"""`linkback dlq list/redrive`: the mentions whose verification kept failing."""

from __future__ import annotations

import argparse

from .stack import queues, stack_arguments


def register(commands: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    dlq = commands.add_parser("dlq", help="mentions whose verification failed 5 times (the dead-letter queue)")
    dlq_commands = dlq.add_subparsers(dest="dlq_command", required=True)
    for name, run, about in (
        ("list", _dlq_list, "show what is in the dead-letter queue"),
        ("redrive", _dlq_redrive, "send dead letters back to the verify queue"),
    ):
        command = dlq_commands.add_parser(name, help=about)
        command.add_argument("--queue-url", help="a deployed stack's QueueUrl output (default: the local dev stack)")
        command.add_argument("--dlq-url", help="a deployed stack's DeadLetterQueueUrl output")
        stack_arguments(command, table=False)
        command.add_argument("--limit", type=int, default=100)
        command.set_defaults(run=run)


def _dlq_list(args: argparse.Namespace) -> int:
    from datetime import UTC, datetime

    from ..dlq import list_dead_letters

    sqs, _queue, dlq = queues(args)
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
    from ..dlq import redrive

    sqs, queue, dlq = queues(args)
    moved = redrive(sqs, dlq, queue, limit=args.limit)
    print(f"moved {moved} message(s) back to the verify queue")
    return 0
