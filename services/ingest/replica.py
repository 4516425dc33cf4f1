"""Ingest's catalogue replica held in memory: validation reads it for every submission.

Reading a hundred indicators (with their reporters) and agencies from the database for each
request cost more than keeping the submission. The copy is the whole replica, read again
after ``TTL_SECONDS`` or as soon as this process applies a catalogue event. Another ingest
replica (cluster) may apply an event this one never sees: its copy then catches up within
``TTL_SECONDS``, and a code the copy lacks is always looked up afresh (``service.load``).
"""

from __future__ import annotations

import asyncio
import time
from dataclasses import dataclass
from datetime import datetime
from weakref import WeakKeyDictionary

from libs.common.db import Database
from libs.common.service import ServiceRuntime
from services.ingest import repository
from services.ingest.validation import Catalogue

TTL_SECONDS = 2.0


@dataclass(frozen=True)
class Held:
    """The replica as read: its catalogue, and the instant of the last change it applied."""

    catalogue: Catalogue
    version: datetime | None


class CatalogueCopy:
    """The replica as of its last read; ``invalidate`` when the replica changed."""

    def __init__(self, ttl: float = TTL_SECONDS) -> None:
        self.ttl = ttl
        self._held: Held | None = None
        self._read_at = 0.0
        self._generation = 0
        self._reading = asyncio.Lock()

    def invalidate(self) -> None:
        """Forget the copy: the next reader reads the replica again."""
        self._held = None
        self._generation += 1

    def _current(self) -> Held | None:
        if self._held is not None and time.monotonic() - self._read_at < self.ttl:
            return self._held
        return None

    async def get(self, db: Database, *, fresh: bool = False) -> Held:
        """The copy, read again when asked, stale or invalidated (by one reader at a time)."""
        if not fresh and (current := self._current()) is not None:
            return current
        generation = self._generation
        async with self._reading:
            if not fresh and (current := self._current()) is not None:
                return current  # read by the request that held the lock
            started = time.monotonic()
            async with db.read() as session:
                # The version first: under READ COMMITTED each statement sees the newest
                # commits, so the entries read after it are at least as new as it says.
                version = await repository.catalogue_changed_at(session)
                held = Held(await repository.load_catalogue(session), version)
            if generation == self._generation:
                # An invalidation during the read may mean it missed the change: keep it not.
                self._held, self._read_at = held, started
            return held


_COPIES: WeakKeyDictionary[ServiceRuntime, CatalogueCopy] = WeakKeyDictionary()


def catalogue_copy(runtime: ServiceRuntime) -> CatalogueCopy:
    """The in-memory copy of this ingest runtime's replica."""
    copy = _COPIES.get(runtime)
    if copy is None:
        copy = _COPIES[runtime] = CatalogueCopy()
    return copy
