"""Scheduled work: cron jobs with persisted state and catch-up, and the sender, on one leader."""

from __future__ import annotations

import asyncio
import contextlib
import logging
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
from services.notify.domain.calendar import local_day, periods_to_chase
from services.notify.domain.schedule import due_fire, next_fire
from services.notify.metrics import LAST_SUCCESSFUL_RUN
from services.notify.sender import Sender
from services.notify.service import (
    PROGRESS_JOB,
    REMINDERS_JOB,
    run_progress_letters,
    run_reminders,
)
from services.notify.settings import NotifySettings

log = logging.getLogger(__name__)

# A failed job is tried again after this pause rather than at every poll.
FAILED_JOB_PAUSE = timedelta(minutes=1)
# Progress letters cover statuses of periods that ended within about a year.
PROGRESS_HORIZON = timedelta(days=366)


@dataclass(frozen=True)
class Job:
    """A named cron job; ``run`` gets the Vietnamese calendar day it runs on."""

    name: str
    expression: str
    run: Callable[[date], Awaitable[None]]


class Scheduler:
    """Runs each job once per cron fire; a fire missed while no replica ran runs once, late."""

    def __init__(self, runtime: ServiceRuntime, settings: NotifySettings) -> None:
        self.runtime = runtime
        self.settings = settings
        self.jobs = (
            Job(REMINDERS_JOB, settings.schedule, self.scheduled_reminders),
            Job(PROGRESS_JOB, settings.progress_schedule, self.scheduled_progress),
        )
        self._not_before: dict[str, datetime] = {}

    async def tick(self, now: datetime) -> list[str]:
        """Run the jobs due at ``now``; return their names."""
        ran = []
        for job in self.jobs:
            if now < self._not_before.get(job.name, now):
                continue  # known not due: spare the database a read
            try:
                if await self._run_if_due(job, now):
                    ran.append(job.name)
            except Exception:
                log.exception("scheduled job %s failed; trying again later", job.name)
                self._not_before[job.name] = now + FAILED_JOB_PAUSE
        return ran

    async def _run_if_due(self, job: Job, now: datetime) -> bool:
        async with self.runtime.db.read() as session:
            state = await repository.job_state(session, job.name)
        if state is None:
            # First start ever: nothing was missed yet, the schedule starts now.
            async with self.runtime.db.transaction() as session:
                await repository.save_job_state(
                    session, job.name, last_fire_at=now, success_at=None
                )
            self._not_before[job.name] = next_fire(job.expression, now)
            return False
        if state.last_success_at is not None and job.name not in self._not_before:
            LAST_SUCCESSFUL_RUN.labels(job.name).set(aware(state.last_success_at).timestamp())
        last_fire = aware(state.last_fire_at)
        fire = due_fire(job.expression, last_fire, now)
        if fire is None:
            self._not_before[job.name] = next_fire(job.expression, last_fire)
            return False
        log.info("running %s for the fire of %s", job.name, fire.isoformat())
        await job.run(local_day(now))
        async with self.runtime.db.transaction() as session:
            await repository.save_job_state(
                session, job.name, last_fire_at=fire, success_at=utcnow()
            )
        self._not_before[job.name] = next_fire(job.expression, fire)
        return True

    async def scheduled_reminders(self, today: date) -> None:
        """Chase every period some indicator's calendar is in on ``today``."""
        async with self.runtime.db.read() as session:
            indicators = await repository.load_indicators(session)
        regimes = [(i.frequency, i.due_days) for i in indicators]
        for period in periods_to_chase(regimes, today, self.settings.policy()):
            await run_reminders(self.runtime, period=period, today=today, settings=self.settings)

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
        # Named by schema: platforms sharing one PostgreSQL database must not share a leader.
        schema = runtime.settings.schema_for(runtime.name)
        self.lease = LeaderLease(runtime.db, f"notify-worker:{schema}")
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

    def wake(self) -> None:
        """Look at the queue now (a run just queued letters)."""
        self._wake.set()

    async def _run(self) -> None:
        while not self._stopping:
            self._wake.clear()
            busy = False
            try:
                if await self.lease.held():
                    if self.settings.scheduler_enabled:
                        await self.scheduler.tick(utcnow())
                    attempted = await self.sender.deliver_due()
                    busy = attempted >= self.settings.sender_batch_size
            except Exception:
                log.exception("notify worker pass failed; retrying")
            if busy:
                continue
            # Not wait_for: on 3.11 it swallows a cancel that lands as the wake-up is set,
            # and stop() would wait for ever; the flag ends the loop whatever happens.
            with contextlib.suppress(TimeoutError):
                async with asyncio.timeout(self.settings.sender_poll_seconds):
                    await self._wake.wait()
