"""Rate limits shared by every Lambda instance: conditional updates on a counter item in the table."""

from __future__ import annotations

from linkback.store.schema import LIMIT_PREFIX, Allowance, conditional


class RateLimiter:
    """Limits enforced by conditional updates on the table, so every Lambda instance shares them.

    DynamoDB's TTL deletes expired items within days, not seconds, so the conditions compare times
    themselves; the TTL only keeps the table from growing.
    """

    def take(self, scope: str, key: str, *, limit: int, window_s: int, now: float) -> int | None:
        """Count one use in the current fixed window; None if allowed, else seconds until the next window."""
        window = int(now // window_s)
        item = Allowance(f"{LIMIT_PREFIX}{scope}#{key}#{window}")
        counted = conditional(
            lambda: item.update(
                actions=[Allowance.hits.add(1), Allowance.expires_at.set(int((window + 2) * window_s))],
                condition=Allowance.pk.does_not_exist() | (Allowance.hits < limit),
            )
        )
        return None if counted else max(1, int((window + 1) * window_s - now))
