"""The verifier's spam step: gather what the rules need (the owner's lists, earlier offences, Akismet's
opinion) and let `spam.assess` score it. The rules themselves are pure and live in `spam`.
"""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING, Protocol
from urllib.parse import urlsplit

from linkback.spam.domains import registrable_domain
from linkback.spam.rules import DEFAULT_KEYWORD_RULES, Assessment, Finding, KeywordRule, Signals, SpamPolicy, assess

if TYPE_CHECKING:
    from collections.abc import Mapping

    from linkback.spam.akismet import AkismetClient, AkismetQuery
    from linkback.store.contract import MentionStore
    from linkback.store.schema import MentionRecord
    from linkback.verify.extract import Extracted
    from linkback.verify.fetch import FetchedPage
    from linkback.verify.links.reference import LinkEvidence

AKISMET_COMMENT_MAX = 4000  # Akismet judges the words; the whole page adds nothing but bytes


class Logger(Protocol):
    def warning(self, msg: str, *, extra: Mapping[str, object] | None = None) -> None: ...


def keyword_rules(configured: tuple[tuple[str, float], ...]) -> tuple[KeywordRule, ...]:
    """The built-in keyword rules plus the owner's (SpamKeywords, parsed and checked by the settings)."""
    return DEFAULT_KEYWORD_RULES + tuple(KeywordRule(pattern=pattern, score=score) for pattern, score in configured)


def policy(*, sites: tuple[str, ...], self_pings: str, keywords: tuple[tuple[str, float], ...] = ()) -> SpamPolicy:
    return SpamPolicy(self_pings=self_pings, own_sites=sites, keyword_rules=keyword_rules(keywords))


def akismet_query(record: MentionRecord, page_text: str = "", *, is_test: bool = False) -> AkismetQuery:
    """What Akismet is told about a mention: the sender, the source as the comment's author URL, and
    the words around the link (or the sender's excerpt) as its content."""
    from linkback.spam.akismet import AkismetQuery

    return AkismetQuery(
        blog=record.site,
        user_ip=record.sender_ip or "",
        user_agent=record.user_agent or "",
        permalink=record.target,
        comment_type=record.protocol,
        comment_author=record.author_name or record.sent_blog_name or "",
        comment_author_url=record.source,
        comment_content=(page_text or record.excerpt or record.sent_excerpt or record.title or "")[
            :AKISMET_COMMENT_MAX
        ],
        comment_date_gmt=record.received_at,
        is_test=is_test,
    )


class AkismetFeedback:
    """Tells Akismet when the owner overrules it (submit-spam / submit-ham); never fails a decision."""

    def __init__(self, client: AkismetClient, logger: Logger) -> None:
        self.client = client
        self.logger = logger

    def report(self, record: MentionRecord, *, spam: bool) -> None:
        from linkback.spam.akismet import AkismetUnavailable

        query = akismet_query(record)
        try:
            (self.client.submit_spam if spam else self.client.submit_ham)(query)
        except AkismetUnavailable as error:
            self.logger.warning("Akismet feedback not sent", extra={"mention_id": record.pk, "reason": str(error)})


class Screen:
    """Everything the spam step needs besides the mention and the page, built once per process."""

    def __init__(self, repository: MentionStore, policy: SpamPolicy, akismet: AkismetClient | None = None) -> None:
        self.repository = repository
        self.policy = policy
        self.akismet = akismet

    def __call__(
        self,
        record: MentionRecord,
        page: FetchedPage,
        evidence: LinkEvidence,
        extracted: Extracted | None,
        now: datetime,
    ) -> Assessment:
        host = (urlsplit(record.source).hostname or "").lower()
        domain = registrable_domain(record.source)
        entry = self.repository.matching_list_entry(record.source, (host, domain))
        return assess(
            Signals(
                protocol=record.protocol,
                source=record.source,
                target=record.target,
                page_url=page.url,
                page_text=page.text,
                content_type=page.content_type,
                link_context=evidence.context,
                page_title=evidence.title,
                sender_ip=record.sender_ip,
                source_addresses=page.addresses,
                sent_title=record.sent_title or "",
                sent_excerpt=record.sent_excerpt or "",
                sent_blog_name=record.sent_blog_name or "",
                list_verdict=entry.kind if entry else None,
                list_entry=f"{entry.scope} {entry.value}" if entry else "",
                offences=self.repository.offences(record.sender_ip, domain, now),
                has_h_entry=extracted is not None,
                author_name=(extracted.author_name or "") if extracted else "",
                external=self._akismet(record, evidence),
            ),
            self.policy,
        )

    def _akismet(self, record: MentionRecord, evidence: LinkEvidence) -> tuple[Finding, ...]:
        if self.akismet is None:
            return ()
        from linkback.spam.akismet import AkismetUnavailable, akismet_finding

        try:
            verdict, error = self.akismet.comment_check(akismet_query(record, evidence.context)), None
        except AkismetUnavailable as failure:
            # The service being down must never hold the pipeline: its silence is no signal.
            verdict, error = None, str(failure)
        except Exception as failure:  # a bug of ours around it must not stop verification either
            verdict, error = None, f"unexpected {type(failure).__name__}"
        score, reason = akismet_finding(verdict, error)
        return (Finding("akismet", score, reason),)
