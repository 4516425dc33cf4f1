"""Leadership among replicas of one service: a PostgreSQL advisory lock held on a connection."""

from __future__ import annotations

import contextlib
import hashlib
import logging

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncConnection

from libs.common.db import Database

log = logging.getLogger(__name__)


def lock_key(name: str) -> int:
    """A stable signed 64-bit key for ``pg_try_advisory_lock`` from a readable name."""
    return int.from_bytes(hashlib.sha256(name.encode()).digest()[:8], "big", signed=True)


class LeaderLease:
    """Held by at most one replica at a time; lost with its connection, so a dead leader frees it.

    SQLite is one process's file: the process is always the leader there.
    """

    def __init__(self, db: Database, name: str) -> None:
        self.db = db
        self.name = name
        self._key = lock_key(name)
        self._connection: AsyncConnection | None = None

    async def held(self) -> bool:
        """Whether this replica leads now, trying to become leader if nobody does."""
        if self.db.dialect == "sqlite":
            return True
        if self._connection is not None:
            try:
                await self._connection.execute(select(1))
                # Never left "idle in transaction": a server's idle_in_transaction_session_timeout
                # would end the session, and the lock with it, so leadership would flap.
                await self._connection.commit()
                return True
            except Exception:
                log.warning("lost the connection holding lease %s", self.name)
                await self.release()
                return False
        connection = await self.db.engine.connect()
        try:
            acquired = bool(await connection.scalar(select(func.pg_try_advisory_lock(self._key))))
            await connection.commit()
        except Exception:
            await connection.close()
            raise
        if acquired:
            log.info("became leader for %s", self.name)
            self._connection = connection
        else:
            await connection.close()
        return acquired

    async def release(self) -> None:
        """Give up leadership (closing the connection drops the lock)."""
        if self._connection is None:
            return
        connection, self._connection = self._connection, None
        try:
            await connection.execute(select(func.pg_advisory_unlock(self._key)))
            await connection.commit()
        except Exception:
            # The lock may still be held by this session: never hand it back to the pool.
            with contextlib.suppress(Exception):
                await connection.invalidate()
        with contextlib.suppress(Exception):
            await connection.close()
