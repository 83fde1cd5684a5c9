"""What becomes of a verification that failed: given up (the DLQ keeps it), acknowledged because a later
verification already stands, or tried again after a doubling wait.

A failure that may pass (the source timed out or answered 5xx/429, its host's fetch budget is used up,
DynamoDB throttled us) waits VerifyRetrySeconds doubling per receive, so five receives span minutes
rather than five visibility timeouts of one bad moment.
"""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING, Literal, NamedTuple

from linkback.backoff import doubling
from linkback.errors import TransientFetchError

if TYPE_CHECKING:
    from linkback.store.contract import MentionStore

# The longest back-off: a source down for a quarter of an hour is retried at least that often until the
# redrive limit, and the DLQ (14 days) keeps what is still failing then.
RETRY_CAP_S = 900
# DynamoDB's answers that mean "later": the same back-off as a source that timed out, not the DLQ.
RETRYABLE_AWS_CODES = frozenset(
    {
        "ProvisionedThroughputExceededException",
        "ThrottlingException",
        "RequestLimitExceeded",
        "InternalServerError",
        "ServiceUnavailable",
    }
)


class Retry(NamedTuple):
    """`give_up`: report the failure (after maxReceiveCount the DLQ keeps it); `superseded`: acknowledge;
    `later`: report it and keep the message invisible for `delay_s` (0: the queue's timeout decides)."""

    action: Literal["give_up", "superseded", "later"]
    delay_s: int = 0


def is_transient(error: BaseException) -> bool:
    """Whether trying the same message again later may succeed: a source's passing failure, or DynamoDB
    throttling / a connection that broke (pynamodb wraps botocore's error as `cause`)."""
    if isinstance(error, TransientFetchError):
        return True
    from botocore.exceptions import ClientError, HTTPClientError
    from botocore.exceptions import ConnectionError as AwsConnectionError

    seen: BaseException | None = error
    for _ in range(8):  # a short chain; never loop on a cycle
        if seen is None:
            return False
        if isinstance(seen, ClientError):
            return seen.response.get("Error", {}).get("Code") in RETRYABLE_AWS_CODES
        if isinstance(seen, HTTPClientError | AwsConnectionError):  # refused, reset, connect/read timeout
            return True
        seen = getattr(seen, "cause", None) or seen.__cause__ or seen.__context__
    return False


def retry_delay_s(receive_count: int, *, base_s: int) -> int:
    """How long a message that failed on its n-th receive stays invisible: `base_s` doubling per receive,
    at most RETRY_CAP_S; 0 when no back-off is configured (the queue's visibility timeout decides)."""
    return doubling(max(receive_count, 1), base_s=base_s, cap_s=RETRY_CAP_S) if base_s > 0 else 0


def superseded(verified_at: str | None, sent_ms: str | int | None) -> bool:
    """Whether a verification that began after this message was sent has stored its verdict already.

    Then this copy (a re-send's, a duplicate, one whose acknowledgement was lost) asks for nothing more,
    and retrying it could only end in the DLQ: a flaky source fetched for ten copies of one mention can
    fail one of them five times. verified_at is when a verification began, before its fetch.
    """
    if not verified_at or not sent_ms:
        return False
    return datetime.fromisoformat(verified_at).timestamp() * 1000 >= int(sent_ms)


def plan_retry(
    error: BaseException,
    *,
    mention_id: str,
    repository: MentionStore,
    sent_ms: str | int | None,
    receive_count: int,
    base_s: int,
) -> Retry:
    """The policy for one failed verification of `mention_id`, whose message was sent at `sent_ms`."""
    if not is_transient(error):
        return Retry("give_up")
    try:
        stored = repository.get(mention_id)
    except Exception:
        stored = None  # DynamoDB is what failed: retry as planned
    if stored is not None and superseded(stored.verified_at, sent_ms):
        return Retry("superseded")
    return Retry("later", retry_delay_s(receive_count, base_s=base_s))
