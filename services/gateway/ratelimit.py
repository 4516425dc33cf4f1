"""Per-key request budgets: in memory (one gateway) or in the gateway's database (several).

The embedded platform is one process: a token bucket per key, refilled continuously, costs no
round trip. Gateways of a cluster share their PostgreSQL database, where each request of a key
counts in that key's one-minute window, so a key's budget is the same however many gateways
serve it (one upsert per request).
"""

from __future__ import annotations

import math
import time
from dataclasses import dataclass

from sqlalchemy import case
from sqlalchemy.dialects.postgresql import insert

from libs.common.db import Database
from services.gateway.models import RateWindow

WINDOW_SECONDS = 60


@dataclass
class _Bucket:
    tokens: float
    updated: float


class RateLimiter:
    """Allows ``per_minute`` requests a minute per key, in bursts of up to that many."""

    def __init__(self) -> None:
        self._buckets: dict[str, _Bucket] = {}

    def check(self, key: str, per_minute: int | None, *, now: float | None = None) -> float:
        """0 if the request may pass, else the seconds to wait before retrying."""
        if not per_minute:
            return 0.0
        now = time.monotonic() if now is None else now
        rate = per_minute / 60.0
        bucket = self._buckets.get(key)
        if bucket is None:
            bucket = self._buckets[key] = _Bucket(tokens=float(per_minute), updated=now)
        bucket.tokens = min(float(per_minute), bucket.tokens + (now - bucket.updated) * rate)
        bucket.updated = now
        if bucket.tokens >= 1.0:
            bucket.tokens -= 1.0
            return 0.0
        return (1.0 - bucket.tokens) / rate

    @staticmethod
    def retry_after_header(wait: float) -> str:
        """``Retry-After`` in whole seconds, never 0."""
        return str(max(1, math.ceil(wait)))


class SharedRateLimiter:
    """``per_minute`` requests per key in each minute, counted in the database every gateway of
    the cluster uses (PostgreSQL)."""

    def __init__(self, db: Database) -> None:
        self.db = db

    async def check(self, key: str, per_minute: int | None) -> float:
        """0 if the request may pass, else the seconds to wait before retrying."""
        if not per_minute:
            return 0.0
        now = time.time()
        window = int(now // WINDOW_SECONDS)
        counted = insert(RateWindow).values(bucket=key, window=window, count=1)
        statement = counted.on_conflict_do_update(
            index_elements=[RateWindow.bucket],
            set_={
                "count": case((RateWindow.window == window, RateWindow.count + 1), else_=1),
                "window": window,
            },
        ).returning(RateWindow.count)
        async with self.db.transaction() as session:
            count = await session.scalar(statement)
        if count is not None and count <= per_minute:
            return 0.0
        return (window + 1) * WINDOW_SECONDS - now
