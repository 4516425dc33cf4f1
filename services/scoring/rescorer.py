"""The background rescorer: scores what the consumers marked, in coalesced passes.

Consumers mark in their inbox transaction what moved (service.keep_touched, on_indicator,
on_agency); the rescorer wakes when such a transaction commits in this process, or every
``DX_SCORING_COALESCE_MS`` (marks made by other replicas), and never runs two passes closer
than that: marks made meanwhile — many consumer batches — are scored by one pass. Marks are
forgotten only in the transaction that stored their new scores, so a crash loses nothing.

One replica in the cluster runs passes: the one holding the rescorer's lease.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import Collection

from prometheus_client import Gauge, Histogram
from sqlalchemy import event
from sqlalchemy.ext.asyncio import AsyncSession

from libs.common.events import utcnow
from libs.common.lease import LeaderLease
from libs.common.metrics import LATENCY_BUCKETS
from libs.common.service import ServiceRuntime
from services.scoring import repository, service
from services.scoring.repository import Mark
from services.scoring.settings import ScoringSettings

log = logging.getLogger(__name__)

BACKLOG = Gauge("dx_scoring_dirty_backlog", "Rescore marks waiting for the rescorer")
OLDEST = Gauge(
    "dx_scoring_dirty_oldest_age_seconds", "How long the oldest pending rescore mark has waited"
)
PASS_MARKS = Histogram(
    "dx_scoring_coalesced_marks",
    "Marks one rescorer pass scored (what many consumer batches marked, scored once)",
    buckets=(1, 2, 5, 10, 25, 50, 100, 250, 500, 1000, 2500, 5000, 10000, 50000),
)
PASS_SECONDS = Histogram(
    "dx_scoring_rescore_pass_seconds",
    "Time of one rescorer pass over the pending marks",
    buckets=(*LATENCY_BUCKETS, 30, 60),
)

# After a failed pass (database away), the next one waits at least this long.
RETRY_SECONDS = 1.0
# How often a replica that does not lead tries to take the lease.
LEASE_RETRY_SECONDS = 2.0
# How long stop() lets the transaction in flight finish before cancelling it.
STOP_SECONDS = 5.0


def rescorer_lease(runtime: ServiceRuntime) -> LeaderLease:
    """The lease of the replica that runs the rescorer."""
    return LeaderLease(runtime.db, f"scoring-rescorer:{runtime.settings.schema_for(runtime.name)}")


class Rescorer:
    """Scores the pending marks with the catalogue in memory, while this replica leads."""

    def __init__(self, runtime: ServiceRuntime, settings: ScoringSettings) -> None:
        self.runtime = runtime
        self.interval = settings.coalesce_seconds
        self.lease = rescorer_lease(runtime)
        # Read at the first pass this replica leads, then refreshed by the catalogue marks.
        self.catalogue: service.Catalogue | None = None
        self._leading = False
        self._next_lease_try = 0.0
        self._wake = asyncio.Event()
        self._stopping = False
        self._task: asyncio.Task[None] | None = None

    async def mark(self, session: AsyncSession, marks: Collection[Mark]) -> None:
        """Record marks in the session's transaction; wake the rescorer when it commits."""
        await repository.mark(session, marks, utcnow())
        event.listen(session.sync_session, "after_commit", self._woken, once=True)

    def _woken(self, _session: object) -> None:
        self._wake.set()

    def start(self) -> None:
        """Run the loop in the background."""
        self._task = asyncio.create_task(self._run(), name=f"rescorer:{self.runtime.name}")

    async def stop(self) -> None:
        """Stop the loop once its transaction in flight ends (pending marks stay for the next
        start or the next leader)."""
        self._stopping = True
        self._wake.set()
        if self._task is not None:
            _, running = await asyncio.wait({self._task}, timeout=STOP_SECONDS)
            if running:
                self._task.cancel()
                with contextlib.suppress(asyncio.CancelledError):
                    await self._task
            self._task = None
        await self.lease.release()

    async def pass_once(self) -> int:
        """Score every pending mark if this replica leads; return how many were scored."""
        if not self._leading and time.monotonic() < self._next_lease_try:
            return 0  # another replica leads: ask again later, not at every pass
        self._leading = await self.lease.held()
        if not self._leading:
            self.catalogue = None  # read it again when leading
            self._next_lease_try = time.monotonic() + LEASE_RETRY_SECONDS
            BACKLOG.set(0)  # the leader's gauges say how far behind the rescorer is
            OLDEST.set(0)
            return 0
        async with self.runtime.db.read() as session:
            pending, oldest = await repository.backlog(session)
            BACKLOG.set(sum(pending.values()))
            OLDEST.set(0 if oldest is None else (utcnow() - oldest).total_seconds())
            if not pending:
                return 0
            if self.catalogue is None:
                self.catalogue = await service.Catalogue.load(session)
        started = time.perf_counter()
        scored = await service.score_marks(
            self.runtime, self.catalogue, kinds=pending.keys(), between=self._between
        )
        PASS_SECONDS.observe(time.perf_counter() - started)
        PASS_MARKS.observe(scored)
        return scored

    async def _between(self) -> bool:
        """Between two transactions of a pass: give the event loop back; go on unless stopping."""
        await asyncio.sleep(0)
        return not self._stopping

    async def _run(self) -> None:
        worked = -self.interval  # when the last pass that scored something started
        while not self._stopping:
            # Coalesce: at most one pass that scores per interval, whatever wakes the loop; a
            # mark after a quiet while is scored at once.
            delay = worked + self.interval - time.monotonic()
            if delay > 0:
                await asyncio.sleep(delay)
            if self._stopping:
                break
            self._wake.clear()
            started = time.monotonic()
            try:
                if await self.pass_once():
                    worked = started
            except Exception:
                log.exception("rescorer pass failed; retrying")
                worked = started + RETRY_SECONDS
            # Not wait_for: on 3.11 it swallows a cancel that lands as the wake-up is set.
            with contextlib.suppress(TimeoutError):
                async with asyncio.timeout(self.interval):
                    await self._wake.wait()
