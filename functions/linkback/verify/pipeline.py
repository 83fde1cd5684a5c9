"""The verifier's steps, in the order they run: load, fetch, find the link, extract, score spam, decide,
store, and tell the owner about what is held.

Network failures that may pass (timeouts, 5xx, 429) raise TransientFetchError so the queue delivers
the message again and, after the redrive limit, parks it in the DLQ; everything else ends in a
stored verdict with its reason.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import TYPE_CHECKING, NamedTuple, Protocol
from urllib.parse import urlsplit

from linkback.errors import PermanentFetchError, TransientFetchError
from linkback.model import PUBLISHED, DeletedBy, Status, Verdict, is_owner_verdict
from linkback.store.schema import MentionRecord
from linkback.verify.fetch import FetchedPage
from linkback.verify.links.fast import find_link
from linkback.verify.links.reference import LinkEvidence, ParseBudgetExceeded, find_in_json, find_in_text

if TYPE_CHECKING:
    from typing import TypedDict

    from linkback.spam.rules import Assessment
    from linkback.store.contract import MentionStore
    from linkback.verify.extract import Extracted

    class _VerdictCommon(TypedDict):
        """The fields of a linking page's Verdict that do not depend on its microformats."""

        status: Status
        reason: str
        fetch_status: int | None
        fetched_url: str | None
        spam_score: float
        spam_reasons: tuple[str, ...]


ANNOUNCE_MEMORY_S = 30 * 86400
# The spam step (screening.Screen in production): the rules' judgement of a page that does link.
Screen = Callable[[MentionRecord, FetchedPage, LinkEvidence, "Extracted | None", datetime], "Assessment"]


class Fetcher(Protocol):
    def fetch(self, url: str, on_behalf_of: str = "") -> FetchedPage: ...


class Limiter(Protocol):
    def take(self, scope: str, key: str, *, limit: int, window_s: int, now: float) -> int | None: ...


class FetchBudget(NamedTuple):
    """At most `per_minute` fetches of one source host, whoever asks: linkback must never become a
    way to flood a third party (the 2014 pingback reflection attacks)."""

    limiter: Limiter
    per_minute: int


class Outcome(NamedTuple):
    mention_id: str
    status: Status | None  # None: nothing to do (unknown id, or an owner's verdict stands)
    reason: str


def find_evidence(page: FetchedPage, target: str) -> LinkEvidence | None:
    if page.content_type == "text/plain":
        return find_in_text(page.text, target=target)
    if page.content_type == "application/json":
        return find_in_json(page.text, target=target)
    return find_link(page.text, base_url=page.url, target=target)


def _gone(record: MentionRecord, reason: str, page_status: int | None, page_url: str | None) -> Verdict:
    """A mention that was verified before and lost its source or its link is deleted by its source
    (Webmention §3.2.4: a source that now answers 410 Gone, or no longer links, deletes the mention);
    one that never verified is simply rejected."""
    if record.status in PUBLISHED:
        return Verdict(
            status=Status.DELETED,
            reason=reason,
            deleted_by=DeletedBy.SOURCE,
            fetch_status=page_status,
            fetched_url=page_url,
        )
    return Verdict(status=Status.REJECTED, reason=reason, fetch_status=page_status, fetched_url=page_url)


def _approved_by_owner(record: MentionRecord) -> bool:
    history = record.history or []
    return bool(history) and history[-1].to_status == Status.APPROVED and record.status == Status.APPROVED


def _status_for(record: MentionRecord, moderation: str, assessment: Assessment | None) -> tuple[Status, str]:
    """The status a linking page earns, and why in the owner's words."""
    from linkback.spam.rules import Decision

    reasons = "; ".join(f.reason for f in assessment.findings if f.score > 0) if assessment else ""
    decision = assessment.decision if assessment else Decision.APPROVE
    if _approved_by_owner(record):
        return Status.APPROVED, "the source links to the target; approved by the owner"
    if decision == Decision.SPAM:
        return Status.SPAM, f"spam: {reasons}" if reasons else "spam"
    if decision == Decision.IGNORE:
        return Status.REJECTED, "a self-ping: the source is on one of this site's own pages"
    if record.status == Status.APPROVED:
        # Published before: a doubt that is not spam does not take it down again.
        return Status.APPROVED, "the source links to the target"
    if decision == Decision.HOLD:
        return Status.PENDING, f"held for moderation: {reasons}" if reasons else "held for moderation"
    if moderation == "auto":
        return Status.APPROVED, "the source links to the target"
    return Status.PENDING, "the source links to the target; held for moderation (manual mode)"


def decide(
    record: MentionRecord,
    page: FetchedPage,
    evidence: LinkEvidence | None,
    moderation: str,
    extracted: Extracted | None = None,
    assessment: Assessment | None = None,
) -> Verdict:
    if evidence is None:
        reason = "the source no longer links to the target" if record.status in PUBLISHED else None
        return _gone(record, reason or "the source does not link to the target", page.status, page.url)
    status, reason = _status_for(record, moderation, assessment)
    common: _VerdictCommon = {
        "status": status,
        "reason": reason,
        "fetch_status": page.status,
        "fetched_url": page.url,
        "spam_score": assessment.score if assessment else 0,
        "spam_reasons": assessment.reasons() if assessment else (),
    }
    if extracted is not None:
        # The page's own microformats say what it is, who wrote it and when.
        return Verdict(
            **common,
            title=extracted.name or evidence.title or record.sent_title or None,
            excerpt=extracted.content or evidence.context or record.sent_excerpt or None,
            author_name=extracted.author_name or record.sent_blog_name or None,
            author_url=extracted.author_url,
            author_photo=extracted.author_photo,
            published=extracted.published,
            entry_url=extracted.url,
            wm_property=extracted.wm_property,
            rsvp=extracted.rsvp,
        )
    # No microformats (most Pingback and TrackBack sources): the page title and the words around the
    # link, then the sender's own words (TrackBack's title/excerpt/blog_name, kept as sent).
    return Verdict(
        **common,
        title=evidence.title or record.sent_title or None,
        excerpt=evidence.context or record.sent_excerpt or None,
        author_name=record.sent_blog_name or None,
    )


def extract_entry(page: FetchedPage, target: str) -> Extracted | None:
    if page.content_type not in ("text/html", "application/xhtml+xml"):
        return None
    from linkback.verify.extract import extract  # only the verifier pays for microformats parsing

    return extract(page.text, page_url=page.url, target=target)


def verify_mention(
    mention_id: str,
    *,
    repository: MentionStore,
    fetcher: Fetcher,
    moderation: str,
    now: datetime,
    budget: FetchBudget | None = None,
    screen: Screen | None = None,
    notify: Callable[[str], None] | None = None,
) -> Outcome:
    record = repository.get(mention_id)
    if record is None:
        return Outcome(mention_id, None, "no such mention")
    if is_owner_verdict(record.status, record.deleted_by):
        return Outcome(mention_id, None, f"the owner marked it {record.status}")
    if budget is not None:
        host = urlsplit(record.source).hostname or ""
        wait_s = budget.limiter.take("fetch", host, limit=budget.per_minute, window_s=60, now=now.timestamp())
        if wait_s is not None:
            reason = f"the fetch budget for {host} is used up; retrying later"
            repository.record_failed_attempt(record, reason, now)
            raise TransientFetchError(reason)
    try:
        page = fetcher.fetch(record.source, on_behalf_of=record.site)
    except PermanentFetchError as error:
        verdict = _gone(record, error.reason, error.status, None)
    except TransientFetchError as error:
        repository.record_failed_attempt(record, str(error), now)
        raise
    else:
        try:
            evidence = find_evidence(page, record.target)
        except ParseBudgetExceeded as error:
            if record.status in PUBLISHED:
                # A page it was found on before: do not delete on a budget; try again later.
                repository.record_failed_attempt(record, str(error), now)
                raise TransientFetchError(str(error)) from error
            verdict = _gone(record, str(error), page.status, page.url)
        else:
            extracted = extract_entry(page, record.target) if evidence is not None else None
            assessment = screen(record, page, evidence, extracted, now) if screen and evidence else None
            verdict = decide(record, page, evidence, moderation, extracted, assessment)
    previous = record.status  # record_verdict refreshes the record with what it wrote
    if not repository.record_verdict(record, verdict, now):
        return Outcome(mention_id, None, "the mention changed during verification")
    if verdict.status == Status.SPAM and previous != Status.SPAM and screen is not None:
        from linkback.spam.domains import registrable_domain

        repository.record_offence(record.sender_ip, registrable_domain(record.source), now)
    if verdict.status == Status.PENDING and notify is not None:
        # Once per hold, even across a crash between the write and here: the marker is written after the
        # notification is queued (a crash in between queues it twice; the announcer mails once per hold).
        announced = f"announce#{mention_id}#{record.held_at or record.verified_at}"
        if not repository.was_claimed(announced):
            notify(mention_id)  # after the write: the notifier reads the record as stored
            repository.claim_once(announced, now=now, keep_s=ANNOUNCE_MEMORY_S)
    return Outcome(mention_id, verdict.status, verdict.reason)
