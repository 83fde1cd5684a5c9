"""`linkback import`: a WordPress export or a jf2 dump read (linkback_infra.imports) and stored in the table.

Each mention is stored with the conditional put every received mention goes through
(`MentionRepository.create`): its id is the hash of its normalised source and target, so a mention
already there (imported before, or received since) is left as it is, and running an import twice
changes nothing. The status decides the index keys there, so imported approved mentions are public at
once and held ones wait in the owner's moderation list.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence
from datetime import datetime
from pathlib import Path
from typing import TextIO

from linkback.fields import IMPORTED_FIELDS
from linkback.model import Status, isoformat, utc_now
from linkback.store.repository import MentionRepository
from linkback.store.schema import MentionRecord
from linkback.urls import InvalidUrl, normalise_origin
from linkback_infra.imports import (
    MAX_JF2_BYTES,
    MAX_WXR_BYTES,
    ImportBatch,
    ImportedMention,
    UnreadableImport,
    read_jf2,
    read_wxr,
)

from .tables import Column, Progress, render_table

FORMATS = {"wxr": (read_wxr, MAX_WXR_BYTES), "jf2": (read_jf2, MAX_JF2_BYTES)}
PROGRESS_STEP = 25  # mentions per progress line: a log of a 10 000-mention import stays readable


def read_export(path: Path, kind: str, sites: Sequence[str]) -> ImportBatch:
    """The mentions of the file at `path`, read as `kind` ("wxr" or "jf2"); UnreadableImport if it cannot be."""
    parse, cap = FORMATS[kind]
    try:
        with path.open("rb") as file:
            data = file.read(cap + 1)  # one byte more than allowed is enough to refuse it
    except OSError as error:
        raise UnreadableImport(error.strerror or str(error)) from error
    if len(data) > cap:
        raise UnreadableImport(f"the file is larger than {cap // (1024 * 1024)} MB")
    return parse(data, sites)


def record_for(mention: ImportedMention, origin: str, now: datetime) -> MentionRecord:
    """The table's record of an imported mention (unsaved). `verified_at` stays empty unless another
    linkback stack verified it: the recheck sweep reads it, and leaves linkbacks we never fetched alone."""
    stamp = isoformat(now)
    deleted = mention.status is Status.DELETED
    carried = {field.name: getattr(mention, field.name) for field in IMPORTED_FIELDS}
    return MentionRecord(
        mention.id,
        **{
            **carried,
            "spam_reasons": list(mention.spam_reasons),
            "deleted_by": str(mention.deleted_by) if deleted and mention.deleted_by else None,
        },
        protocol=str(mention.protocol),
        source=mention.source,
        target=mention.target,
        site=mention.site,
        status=str(mention.status),
        status_reason=mention.status_reason or f"imported from a {origin}",
        received_at=mention.received_at,
        updated_at=stamp,
        verified_at=mention.verified_at,
        deleted_at=stamp if deleted else None,
    )


def store(repository: MentionRepository, batch: ImportBatch, *, now: datetime, stream: TextIO | None = None) -> None:
    """Store every mention of the batch, counting in its report what was new and what was there."""
    report = batch.report
    with Progress(len(batch.mentions), "stored", stream=stream) as progress:
        for number, mention in enumerate(batch.mentions, 1):
            if repository.create(record_for(mention, batch.origin, now)):
                report.imported += 1
            else:
                report.already_there += 1
            if number % PROGRESS_STEP == 0 or number == len(batch.mentions):
                progress.advance(number - progress.done)


def summary(batch: ImportBatch) -> str:
    """What the owner reads at the end: every entry of the file is in exactly one row."""
    report = batch.report
    rows: list[tuple[str, int]] = [("imported", report.imported), ("already there", report.already_there)]
    rows += [(f"skipped: {reason}", count) for reason, count in report.skipped.most_common()]
    return render_table([Column("RESULT"), Column("ENTRIES", align_right=True, truncate=False)], rows)


def sites_for(args: argparse.Namespace) -> tuple[str, ...]:
    """The sites whose pages may be targets: `--site`, else the local stack's configured ones; with
    `--table` and no `--site`, none (a WordPress export then brings its own)."""
    if args.site:
        try:
            return tuple(normalise_origin(site) for site in args.site)
        except InvalidUrl as error:
            raise SystemExit(f"linkback import: --site: {error}") from error
    if args.table:
        if args.import_format == "jf2":
            raise SystemExit("linkback import jf2: --site is needed with --table (the sites the mentions are for)")
        return ()
    from .admin_client import AdminApiNotFound, AdminError, find_admin_api

    try:
        return tuple(find_admin_api(args).sites())
    except (AdminApiNotFound, AdminError) as error:
        raise SystemExit(f"linkback import: which sites does the stack serve? {error}; pass --site") from error


def run_import(args: argparse.Namespace, repository: MentionRepository, sites: Sequence[str]) -> int:
    path = Path(args.file)
    try:
        batch = read_export(path, args.import_format, sites)
    except UnreadableImport as error:
        print(f"linkback import {args.import_format}: {path}: {error}", file=sys.stderr)
        return 1
    store(repository, batch, now=utc_now())
    report = batch.report
    read = report.imported + report.already_there + sum(report.skipped.values())
    of_site = f" of {batch.site}" if batch.site else ""
    print(f"{path.name}: {batch.origin}{of_site}, {read} entries read")
    print(summary(batch), end="")
    return 0
