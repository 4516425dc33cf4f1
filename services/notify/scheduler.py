"""Scheduled work: cron jobs with persisted state and catch-up, and the sender, on one leader.

Two leases: the worker's, held by one replica for as long as it delivers mail, and the
scheduler's, held only while scheduled jobs run, by the in-process scheduler or by
``dx reminders run`` (a Kubernetes CronJob), so the two never run the reminder job at once.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import date, datetime, timedelta

from libs.common.db import aware
from libs.common.events import utcnow
from libs.common.lease import LeaderLease
from libs.common.periods import parse_period
from libs.common.service import ServiceRuntime
from services.notify import repository
from services.notify.delivery import MailTransport
from services.notify.domain.calendar import local_day
from services.notify.domain.schedule import due_fire, next_fire
from services.notify.metrics import record_last_success
from services.notify.schemas import ReminderRun
from services.notify.sender import Sender
from services.notify.service import (
    PROGRESS_JOB,
    REMINDERS_JOB,
    run_due_reminders,
    run_progress_letters,
)
from services.notify.settings import NotifySettings

log = logging.getLogger(__name__)

# A failed job (or one whose lease another run holds) is tried again after this pause rather
# than at every poll.
FAILED_JOB_PAUSE = timedelta(minutes=1)
# Progress letters cover statuses of periods that ended within about a year.
PROGRESS_HORIZON = timedelta(days=366)
# Every replica exports the jobs' last successful runs, re-read from the database this often.
EXPORT_LAST_RUNS_SECONDS = 15.0


def worker_lease(runtime: ServiceRuntime) -> LeaderLease:
    """The lease of the replica that runs the background loop (delivery, and the schedules)."""
    # Named by schema: platforms sharing one PostgreSQL database must not share a leader.
    return LeaderLease(runtime.db, f"notify-worker:{runtime.settings.schema_for(runtime.name)}")


def scheduler_lease(runtime: ServiceRuntime) -> LeaderLease:
    """The lease held while scheduled jobs run, by whichever process runs them."""
    return LeaderLease(runtime.db, f"notify-scheduler:{runtime.settings.schema_for(runtime.name)}")


class SchedulerBusy(RuntimeError):
    """Another run of the scheduled jobs holds the scheduler's lease."""


@dataclass(frozen=True)
class Job:
    """A named cron job; ``run`` gets the Vietnamese calendar day it runs on."""

    name: str
    expression: str
    run: Callable[[date], Awaitable[None]]


class Scheduler:
    """Runs each job once per cron fire; a fire missed while no replica ran runs once, late.

    Jobs run under the scheduler's lease; a fire whose lease another run holds (``dx reminders
    run``) is looked at again after a pause, and is not run twice once that run recorded it.
    """

    def __init__(self, runtime: ServiceRuntime, settings: NotifySettings) -> None:
        self.runtime = runtime
        self.settings = settings
        self.jobs = (
            Job(REMINDERS_JOB, settings.schedule, self.scheduled_reminders),
            Job(PROGRESS_JOB, settings.progress_schedule, self.scheduled_progress),
        )
        self.lease = scheduler_lease(runtime)
        self._not_before: dict[str, datetime] = {}

    async def tick(self, now: datetime) -> list[str]:
        """Run the jobs due at ``now``; return their names."""
        # Jobs known not to be due are left out: spare the database a read and the lease.
        candidates = [job for job in self.jobs if now >= self._not_before.get(job.name, now)]
        if not candidates:
            return []
        if not await self.lease.held():
            log.info("another run holds lease %s; scheduled jobs wait", self.lease.name)
            for job in candidates:
                self._not_before[job.name] = now + FAILED_JOB_PAUSE
            return []
        ran = []
        try:
            for job in candidates:
                try:
                    if await self._run_if_due(job, now):
                        ran.append(job.name)
                except Exception:
                    log.exception("scheduled job %s failed; trying again later", job.name)
                    self._not_before[job.name] = now + FAILED_JOB_PAUSE
        finally:
            await self.lease.release()
        return ran

    async def run_reminders_now(self, now: datetime) -> list[ReminderRun]:
        """Run the reminder job at ``now`` as its schedule would (``dx reminders run``).

        Holds the scheduler's lease for the whole run, so it never overlaps the in-process
        scheduler's, and records its success where the scheduler does (every replica exports
        it); the schedule's latest fire up to ``now`` counts as handled. Raises SchedulerBusy
        when another run holds the lease.
        """
        if not await self.lease.held():
            raise SchedulerBusy(f"another run of the scheduled jobs holds lease {self.lease.name}")
        try:
            last_fire = await self._last_fire(REMINDERS_JOB, now)
            runs = await run_due_reminders(
                self.runtime, today=local_day(now), settings=self.settings
            )
            fire = due_fire(self.settings.schedule, last_fire, now) or last_fire
            await self._record_success(REMINDERS_JOB, fire)
            return runs
        finally:
            await self.lease.release()

    async def _run_if_due(self, job: Job, now: datetime) -> bool:
        last_fire = await self._last_fire(job.name, now)
        fire = due_fire(job.expression, last_fire, now)
        if fire is None:
            self._not_before[job.name] = next_fire(job.expression, last_fire)
            return False
        log.info("running %s for the fire of %s", job.name, fire.isoformat())
        await job.run(local_day(now))
        await self._record_success(job.name, fire)
        self._not_before[job.name] = next_fire(job.expression, fire)
        return True

    async def _last_fire(self, job: str, now: datetime) -> datetime:
        """The last fire ``job`` handled; the first time ever, its schedule starts at ``now``.

        A first start misses nothing, and is saved before the job runs: a job that never
        succeeds still exports when its schedule began, so its alert fires.
        """
        async with self.runtime.db.read() as session:
            state = await repository.job_state(session, job)
        if state is not None:
            return aware(state.last_fire_at)
        async with self.runtime.db.transaction() as session:
            await repository.save_job_state(session, job, last_fire_at=now, success_at=None)
        return now

    async def _record_success(self, job: str, fire: datetime) -> None:
        """Record that ``job`` handled ``fire`` and succeeded now, for every replica to export."""
        success_at = utcnow()
        async with self.runtime.db.transaction() as session:
            await repository.save_job_state(session, job, last_fire_at=fire, success_at=success_at)
        record_last_success(job, success_at)

    async def export_last_runs(self) -> None:
        """Export each job's last success as the database has it, whichever replica ran it.

        A job that never succeeded exports when its schedule began (nothing was due before), so
        that the alert on a job that does not run has a series to read from the first start on.
        """
        async with self.runtime.db.read() as session:
            for job in self.jobs:
                state = await repository.job_state(session, job.name)
                if state is not None:
                    record_last_success(
                        job.name, aware(state.last_success_at or state.last_fire_at)
                    )

    async def scheduled_reminders(self, today: date) -> None:
        """Chase every period some indicator's calendar is in on ``today``."""
        await run_due_reminders(self.runtime, today=today, settings=self.settings)

    async def scheduled_progress(self, today: date) -> None:
        """Send progress letters for every recent period with statuses."""
        async with self.runtime.db.read() as session:
            labels = await repository.status_periods(session)
        for label in sorted(labels):
            try:
                period = parse_period(label)
            except ValueError:
                log.warning("ignoring statuses of malformed period %r", label)
                continue
            if period.end < today - PROGRESS_HORIZON:
                continue
            await run_progress_letters(
                self.runtime, period=period, today=today, settings=self.settings
            )


class NotifyWorker:
    """The background loop of the replica holding the lease: scheduled jobs, then delivery."""

    def __init__(
        self, runtime: ServiceRuntime, settings: NotifySettings, transport: MailTransport
    ) -> None:
        self.runtime = runtime
        self.settings = settings
        self.scheduler = Scheduler(runtime, settings)
        self.sender = Sender(runtime, settings, transport)
        self.lease = worker_lease(runtime)
        self._wake = asyncio.Event()
        self._stopping = False
        self._task: asyncio.Task[None] | None = None

    def start(self) -> None:
        """Run the loop in the background."""
        self._task = asyncio.create_task(self._run(), name=f"worker:{self.runtime.name}")

    async def stop(self) -> None:
        """Stop the loop (queued mail stays queued for the next leader)."""
        self._stopping = True
        self._wake.set()
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
            self._task = None
        await self.lease.release()
        await self.scheduler.lease.release()

    def wake(self) -> None:
        """Look at the queue now (a run just queued letters)."""
        self._wake.set()

    async def _run(self) -> None:
        exported_at: float | None = None
        while not self._stopping:
            self._wake.clear()
            busy = False
            try:
                if await self.lease.held():
                    if self.settings.scheduler_enabled:
                        await self.scheduler.tick(utcnow())
                    attempted = await self.sender.deliver_due()
                    busy = attempted >= self.settings.sender_batch_size
                if (
                    exported_at is None
                    or time.monotonic() - exported_at >= EXPORT_LAST_RUNS_SECONDS
                ):
                    await self.scheduler.export_last_runs()
                    exported_at = time.monotonic()
            except Exception:
                log.exception("notify worker pass failed; retrying")
            if busy:
                continue
            # Not wait_for: on 3.11 it swallows a cancel that lands as the wake-up is set,
            # and stop() would wait for ever; the flag ends the loop whatever happens.
            with contextlib.suppress(TimeoutError):
                async with asyncio.timeout(self.settings.sender_poll_seconds):
                    await self._wake.wait()
