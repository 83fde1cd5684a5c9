"""The owner's decisions: approve, mark spam, delete, restore; block and allow lists that learn from them.

One path serves the admin API, the bulk action and the one-click links in mails, so each decision is
conditional on the status that was read (a verifier or another click in between wins, and the owner is
told), joins the mention's audit trail, and teaches the lists and Akismet the same way.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING, Any, Protocol
from urllib.parse import urlsplit

from linkback.errors import LinkbackError
from linkback.model import Status
from linkback.store.schema import ListEntry, MentionRecord

if TYPE_CHECKING:
    from linkback.store.contract import MentionStore

OWNER_ACTIONS = ("approve", "spam", "delete", "restore")
DECIDED = {"approve": Status.APPROVED, "spam": Status.SPAM, "delete": Status.DELETED}
RESTORABLE = frozenset({Status.DELETED, Status.SPAM, Status.REJECTED})
LIST_KINDS = ("block", "allow")
LIST_SCOPES = ("domain", "url")
MAX_BULK = 100


class InvalidRequest(LinkbackError):
    """A moderation request that cannot mean anything (unknown action, list kind, bad value): 400."""


class SpamFeedback(Protocol):
    """Told when the owner overrules a verdict, so the spam service learns (Akismet submit-spam/ham)."""

    def report(self, record: MentionRecord, *, spam: bool) -> None: ...


@dataclass(frozen=True)
class ActionResult:
    mention_id: str
    record: MentionRecord | None
    error: str | None = None  # "not_found" | "conflict" | "used" (a one-click link clicked before)
    listed: ListEntry | None = None

    @property
    def ok(self) -> bool:
        return self.error is None


def source_domain(source: str) -> str:
    from linkback.spam.domains import registrable_domain

    return registrable_domain(source)


def normalise_list_value(scope: str, value: str) -> str:
    """A domain entry is a lower-case host name; a URL entry is an http(s) URL as the verifier sees it."""
    value = value.strip()
    if scope == "domain":
        from linkback.urls import InvalidUrl, normalise_url

        # The same normal form (IDNA, lower case, no port) the sources are stored in, or it never matches.
        try:
            host = urlsplit(normalise_url(value if "://" in value else f"http://{value}")).hostname or ""
        except (InvalidUrl, ValueError):
            host = ""
        if "." not in host or "@" in value.split("/", 3)[2 if "://" in value else 0]:
            raise InvalidRequest(f"{value!r} is not a domain name")
        return host
    if scope == "url":
        from linkback.urls import InvalidUrl, normalise_url

        try:
            return normalise_url(value)
        except InvalidUrl as error:
            raise InvalidRequest(f"{value!r} is not an http(s) URL") from error
    raise InvalidRequest(f"scope must be one of {', '.join(LIST_SCOPES)}")


def restore_status(record: MentionRecord) -> Status:
    """What "restore" returns a mention to: the status before the owner's latest decision when that was
    a published one; otherwise (the verifier's spam or rejection overruled) approved."""
    for change in reversed(record.history or []):
        if change.to_status == record.status:
            if change.from_status in (Status.APPROVED, Status.PENDING):
                return Status(change.from_status)
            break
    return Status.APPROVED


def act(
    repository: MentionStore,
    mention_id: str,
    action: str,
    *,
    by: str,
    now: datetime,
    block: str | None = None,
    allow: str | None = None,
    note: str | None = None,
    feedback: SpamFeedback | None = None,
) -> ActionResult:
    if action not in OWNER_ACTIONS:
        raise InvalidRequest(f"action must be one of {', '.join(OWNER_ACTIONS)}")
    if block is not None and (action != "spam" or block not in LIST_SCOPES):
        raise InvalidRequest('"block" goes with the spam action and is "domain" or "url"')
    if allow is not None and (action not in ("approve", "restore") or allow != "domain"):
        raise InvalidRequest('"allow" goes with approve or restore and is "domain"')
    record = repository.get(mention_id)
    if record is None:
        return ActionResult(mention_id, None, "not_found")
    if action == "restore" and record.status not in RESTORABLE:
        raise InvalidRequest(f"only a deleted, spam or rejected mention can be restored; this one is {record.status}")
    status = restore_status(record) if action == "restore" else DECIDED[action]
    was_spam = record.status == Status.SPAM  # read first: a successful update refreshes the record
    if not repository.decide_as_owner(record, status, now, by=by, note=note):
        return ActionResult(mention_id, repository.get(mention_id), "conflict")
    listed = None
    if block:
        value = record.source if block == "url" else source_domain(record.source)
        listed = repository.add_list_entry("block", block, value, by=by, now=now, note=f"from mention {mention_id}")
    elif allow:
        value = source_domain(record.source)
        listed = repository.add_list_entry("allow", "domain", value, by=by, now=now, note=f"from mention {mention_id}")
    if status == Status.SPAM:
        repository.record_offence(record.sender_ip, source_domain(record.source), now)
    if feedback is not None:
        # Only when the owner overrules the verifier: telling Akismet what it already said teaches nothing.
        if status == Status.SPAM and not was_spam:
            feedback.report(record, spam=True)
        elif status == Status.APPROVED and was_spam:
            feedback.report(record, spam=False)
    return ActionResult(mention_id, record, None, listed)  # the update refreshed it with what it wrote


def parse_status(value: str | None) -> Status:
    try:
        return Status((value or "pending").strip().lower())
    except ValueError:
        raise InvalidRequest(f"status must be one of {', '.join(Status)}") from None


def act_on_many(
    repository: MentionStore,
    ids: Any,
    action: Any,
    *,
    by: str,
    now: datetime,
    block: str | None = None,
    allow: str | None = None,
    note: str | None = None,
    feedback: SpamFeedback | None = None,
) -> list[tuple[str, ActionResult | InvalidRequest]]:
    """The same decision on up to MAX_BULK mentions, each on its own: one id that cannot take the action
    (restoring an approved one) does not stop the others."""
    if not isinstance(ids, list) or not ids or not all(isinstance(i, str) for i in ids):
        raise InvalidRequest('"ids" must be a non-empty list of mention ids')
    if len(ids) > MAX_BULK:
        raise InvalidRequest(f"at most {MAX_BULK} ids per request")
    if action not in OWNER_ACTIONS:
        raise InvalidRequest(f"action must be one of {', '.join(OWNER_ACTIONS)}")
    outcomes: list[tuple[str, ActionResult | InvalidRequest]] = []
    for mention_id in ids:
        try:
            outcome: ActionResult | InvalidRequest = act(
                repository, mention_id, action, by=by, now=now, block=block, allow=allow, note=note, feedback=feedback
            )
        except InvalidRequest as refused:
            outcome = refused
        outcomes.append((mention_id, outcome))
    return outcomes


ONE_CLICK_CALLER = "one-click link"
# A used link is remembered a day past its expiry: a replay is refused as "used" rather than "expired".
USED_LINK_MEMORY_S = 86400


def act_from_link(
    repository: MentionStore,
    mention_id: str,
    action: str,
    *,
    nonce: str,
    expires_at: float,
    now: datetime,
    feedback: SpamFeedback | None = None,
) -> ActionResult:
    """A one-click link's decision, once: the link's nonce is claimed first, so a second click (or a mail
    scanner's replay of the POST) acts on nothing and is answered `used`."""
    keep_s = max(60, int(expires_at - now.timestamp()) + USED_LINK_MEMORY_S)
    if not repository.claim_once(f"link#{nonce}", now=now, keep_s=keep_s):
        return ActionResult(mention_id, None, "used")
    return act(repository, mention_id, action, by=ONE_CLICK_CALLER, now=now, feedback=feedback)
