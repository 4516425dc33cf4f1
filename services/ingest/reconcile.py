"""Reconciliation: no accepted submission stays without a verdict because a broker lost it.

Ingest keeps every accepted submission; the store's verdict (``stored`` or ``rejected``) comes
back on ``dx.submission-status.v1``. A broker that loses its log (a restart of one keeping
topics in memory, a consumer group moved past events) loses the submission's event or the
verdict, and the submission would stay ``accepted`` for ever. So, under a leader lease, one
ingest replica looks every ``reconcile_interval_seconds`` for submissions still ``accepted``
``reconcile_after_seconds`` after they arrived, and announces each again from its stored raw
form as ``submission.unsettled``, through the outbox. The store keeps it under the original
``submission.accepted`` event id if it never had it (its inbox drops that event should it still
arrive) and gives its verdict again if it had (see ``services.indicators.reconcile``).

A submission whose event still waits in the outbox is left alone: it is late, not lost (the
outbox's own age alert covers it), and so is one whose announcement waits there. One announced
is not announced again before another ``reconcile_after_seconds`` pass.
``dx_ingest_unsettled_oldest_age_seconds`` is the age of the oldest submission still without a
verdict.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import uuid
from datetime import datetime, timedelta

from prometheus_client import Counter, Gauge
from sqlalchemy import func, select

from libs.common.db import aware
from libs.common.events import SubmissionUnsettled, accepted_event_id, utcnow
from libs.common.lease import LeaderLease
from libs.common.service import ServiceRuntime
from services.ingest.intake import accepted_event
from services.ingest.models import Submission
from services.ingest.settings import IngestSettings
from services.ingest.validation import Draft, DraftValue

log = logging.getLogger(__name__)

UNSETTLED_OLDEST_AGE = Gauge(
    "dx_ingest_unsettled_oldest_age_seconds",
    "Age of the oldest submission still accepted, without the store's verdict (leader only)",
)
REANNOUNCED = Counter(
    "dx_ingest_reconciled_total",
    "Submissions announced again because no verdict came within DX_INGEST_RECONCILE_AFTER_SECONDS",
)


def draft_of_payload(payload: str) -> Draft:
    """A kept submission's draft, read back from its stored canonical form."""
    document = json.loads(payload)
    values = [DraftValue(v["indicator"], v["value"], v.get("note")) for v in document["values"]]
    return Draft(document["agency"], document["period"], values)


class Reconciler:
    """Announces again, from its raw form, each submission left too long without a verdict."""

    def __init__(self, runtime: ServiceRuntime, settings: IngestSettings) -> None:
        self.runtime = runtime
        self.after = timedelta(seconds=settings.reconcile_after_seconds)
        self.interval = settings.reconcile_interval_seconds
        self.batch_size = settings.reconcile_batch_size
        db = runtime.db
        self.lease = LeaderLease(db, f"ingest-reconcile:{db.schema or ''}")
        #: Submission -> when it was last announced, and the announcement's event id.
        self._announced: dict[str, tuple[datetime, uuid.UUID]] = {}
        self._task: asyncio.Task[None] | None = None

    async def start(self) -> None:
        """Run in the background."""
        self._task = asyncio.create_task(self._run(), name="ingest-reconcile")

    async def stop(self) -> None:
        """Stop (a submission half-way is announced again by the next leader)."""
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
            self._task = None
        await self.lease.release()

    async def _run(self) -> None:
        while True:
            try:
                if await self.lease.held():
                    await self.run_once()
            except Exception:
                log.exception("reconciliation failed; trying again in %.1fs", self.interval)
            await asyncio.sleep(self.interval)

    async def run_once(self) -> int:
        """One pass; returns how many submissions were announced again."""
        now = utcnow()
        db, outbox = self.runtime.db, self.runtime.outbox.table
        async with db.read() as session:
            oldest = await session.scalar(
                select(func.min(Submission.received_at)).where(Submission.status == "accepted")
            )
            rows = (
                await session.scalars(
                    select(Submission)
                    .where(Submission.status == "accepted")
                    .where(Submission.received_at <= now - self.after)
                    .order_by(Submission.received_at, Submission.id)
                    .limit(self.batch_size)
                )
            ).all()
            # Its event, or its last announcement, still waits in the outbox: late, not lost.
            sent = {row.id: self._announced[row.id][1] for row in rows if row.id in self._announced}
            waiting = set(
                await session.scalars(
                    select(outbox.c.event_id)
                    .where(
                        outbox.c.event_id.in_(
                            [*(accepted_event_id(row.id) for row in rows), *sent.values()]
                        )
                    )
                    .where(outbox.c.published_at.is_(None))
                )
            )
        UNSETTLED_OLDEST_AGE.set(0 if oldest is None else (now - aware(oldest)).total_seconds())
        self._announced = {
            id: (at, event)
            for id, (at, event) in self._announced.items()
            if now - at < self.after or event in waiting
        }
        due = [
            row
            for row in rows
            if accepted_event_id(row.id) not in waiting and row.id not in self._announced
        ]
        if not due:
            return 0
        announcements = []
        for row in due:
            columns = {
                "id": row.id,
                "agency": row.agency,
                "period": row.period,
                "received_at": aware(row.received_at),
                "late": row.late,
                "source": row.source,
            }
            accepted = accepted_event(columns, draft_of_payload(row.payload))
            announcements.append((SubmissionUnsettled(accepted=accepted, announced_at=now), row))
        async with db.transaction() as session:
            await self.runtime.outbox.add(session, *((a, row.agency) for a, row in announcements))
        for announcement, row in announcements:
            self._announced[row.id] = (now, announcement.event_id())
            log.warning(
                "submission %s of %s still accepted %s after arrival: announced again",
                row.id,
                row.agency,
                now - row.received_at,
                extra={"submission": row.id, "agency": row.agency},
            )
        REANNOUNCED.inc(len(due))
        return len(due)


def register(runtime: ServiceRuntime, settings: IngestSettings) -> None:
    """Reconcile while the service runs."""
    reconciler = Reconciler(runtime, settings)
    runtime.on_start(reconciler.start)
    runtime.on_stop(reconciler.stop)
