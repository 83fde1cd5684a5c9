"""The one doubling every retry in the stack waits by (a verification, a webhook delivery)."""

from __future__ import annotations

# The longest visibility timeout SQS accepts (ChangeMessageVisibility), and so the longest useful wait.
SQS_MAX_DELAY_S = 43200


def doubling(attempt: int, *, base_s: int, cap_s: int = SQS_MAX_DELAY_S) -> int:
    """Seconds to wait after the n-th failed attempt (1-based): `base_s` doubling per attempt, at most `cap_s`."""
    if attempt < 1:
        raise ValueError("attempt counts failed attempts from 1")
    if attempt > 63:  # 2**63 would only be capped anyway
        return cap_s
    return min(cap_s, base_s * 2 ** (attempt - 1))
