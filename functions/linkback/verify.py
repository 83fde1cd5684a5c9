"""The verifier's steps, in the order they run: load, fetch, find the link, extract, decide, store.

Network failures that may pass (timeouts, 5xx, 429) raise TransientFetchError so the queue delivers
the message again and, after the redrive limit, parks it in the DLQ; everything else ends in a
stored verdict with its reason.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Protocol

from .errors import PermanentFetchError, TransientFetchError
from .fetch import FetchedPage
from .links import LinkEvidence, find_in_text, find_link
from .model import OWNER_VERDICTS, Status
from .storage import MentionRecord, MentionRepository, Verdict


class Fetcher(Protocol):
    def fetch(self, url: str) -> FetchedPage: ...


@dataclass(frozen=True)
class Outcome:
    mention_id: str
    status: Status | None  # None: nothing to do (unknown id, or an owner's verdict stands)
    reason: str


def find_evidence(page: FetchedPage, target: str) -> LinkEvidence | None:
    if page.content_type == "text/plain":
        return find_in_text(page.text, target=target)
    return find_link(page.text, base_url=page.url, target=target)


def decide(record: MentionRecord, page: FetchedPage, evidence: LinkEvidence | None, moderation: str) -> Verdict:
    if evidence is None:
        return Verdict(
            status=Status.REJECTED,
            reason="the source does not link to the target",
            fetch_status=page.status,
            fetched_url=page.url,
        )
    # The sender's own words (TrackBack's title/excerpt) are kept as sent; what we show is what the
    # page says, falling back to the sender's words where the page has none.
    title = evidence.title or record.sent_title or None
    excerpt = evidence.context or record.sent_excerpt or None
    status = Status.APPROVED if moderation == "auto" else Status.PENDING
    return Verdict(
        status=status,
        reason="the source links to the target" + ("" if status is Status.APPROVED else "; held for moderation"),
        fetch_status=page.status,
        fetched_url=page.url,
        title=title,
        excerpt=excerpt,
        author_name=record.sent_blog_name or None,
    )


def verify_mention(
    mention_id: str,
    *,
    repository: MentionRepository,
    fetcher: Fetcher,
    moderation: str,
    now: datetime,
) -> Outcome:
    record = repository.get(mention_id)
    if record is None:
        return Outcome(mention_id, None, "no such mention")
    if Status(record.status) in OWNER_VERDICTS:
        return Outcome(mention_id, None, f"the owner marked it {record.status}")
    try:
        page = fetcher.fetch(record.source)
    except PermanentFetchError as error:
        verdict = Verdict(status=Status.REJECTED, reason=error.reason, fetch_status=error.status)
    except TransientFetchError as error:
        repository.record_failed_attempt(record, str(error), now)
        raise
    else:
        verdict = decide(record, page, find_evidence(page, record.target), moderation)
    if not repository.record_verdict(record, verdict, now):
        return Outcome(mention_id, None, "the mention changed during verification")
    return Outcome(mention_id, verdict.status, verdict.reason)
