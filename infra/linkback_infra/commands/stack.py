"""Which stack a command acts on, shared by the command groups: the options that name a deployed one,
and the mentions table or queues of that stack or, by default, of the running `linkback dev`."""

from __future__ import annotations

import argparse
import json
import os
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from linkback.store.repository import MentionRepository


def stack_arguments(command: argparse.ArgumentParser, *, table: bool) -> None:
    """Which stack a command acts on: a deployed one (its outputs, AWS credentials as usual) or, by
    default, the `linkback dev` running from a data dir."""
    if table:
        command.add_argument("--table", help="a deployed stack's TableName output (default: the local dev stack)")
    command.add_argument("--region")
    command.add_argument("--data-dir", default=".linkback", help="the local dev stack's data dir")


def local_stack(args: argparse.Namespace, instead: str) -> dict[str, Any]:
    """What the running `linkback dev` wrote about itself in its data dir, with the local services'
    dummy credentials set for the AWS clients about to be made."""
    from ..dev import LOCAL_CREDENTIALS, STACK_FILE

    stack_file = Path(args.data_dir) / STACK_FILE
    if not stack_file.exists():
        raise SystemExit(f"no running `linkback dev` found ({stack_file} is missing); start it, or pass {instead}")
    os.environ.update(LOCAL_CREDENTIALS)
    return json.loads(stack_file.read_text(encoding="utf-8"))


def repository(args: argparse.Namespace) -> MentionRepository:
    """The mentions table of a deployed stack (`--table`, AWS credentials as usual) or, by default,
    of the `linkback dev` stack running on this machine's data dir."""
    from linkback.store.repository import MentionRepository

    if args.table:
        return MentionRepository(args.table, args.region or os.environ.get("AWS_REGION") or "us-east-1")
    from ..dev import REGION

    stack = local_stack(args, "--table")
    os.environ["AWS_ENDPOINT_URL_DYNAMODB"] = stack["endpoints"]["dynamodb"]
    return MentionRepository(stack["table"], REGION)


def queues(args: argparse.Namespace) -> tuple[Any, str, str]:
    """(sqs client, verify queue URL, DLQ URL) of a deployed stack (the QueueUrl and DeadLetterQueueUrl
    outputs, AWS credentials as usual) or of the running `linkback dev`."""
    import boto3

    if args.queue_url and args.dlq_url:
        return (
            boto3.client("sqs", region_name=args.region or os.environ.get("AWS_REGION")),
            args.queue_url,
            args.dlq_url,
        )
    from ..dev import REGION

    stack = local_stack(args, "--queue-url/--dlq-url")
    sqs = boto3.client("sqs", region_name=REGION, endpoint_url=stack["endpoints"]["sqs"])
    return sqs, stack["queues"]["VerifyQueue"], stack["queues"]["VerifyDeadLetterQueue"]


# Underscored like the rest of the CLI's argument types because argparse names the type in its error
# ("invalid _positive value: 'x'"): the name is part of the output.
def _positive(text: str) -> int:
    """An argument type: a whole number, 1 or more."""
    number = int(text)
    if number < 1:
        raise argparse.ArgumentTypeError("must be 1 or more")
    return number
