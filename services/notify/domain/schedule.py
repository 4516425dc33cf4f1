"""Cron schedules and delivery backoff: when a job is due, when a message is tried again.

Pure: callers pass the instants.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from croniter import croniter

from services.notify.domain.calendar import VIETNAM


def next_fire(expression: str, after: datetime) -> datetime:
    """The first instant strictly after ``after`` at which the cron fires (Vietnam time)."""
    fire: datetime = croniter(expression, after.astimezone(VIETNAM)).get_next(datetime)
    return fire


def due_fire(expression: str, last_run: datetime, now: datetime) -> datetime | None:
    """The latest fire in ``(last_run, now]``, or None if the job is not due.

    However many fires were missed while no replica ran, the job runs once for the latest.
    """
    if next_fire(expression, last_run) > now:
        return None
    # croniter's get_prev is strictly before its start: start just after now to include now.
    latest: datetime = croniter(
        expression, (now + timedelta(microseconds=1)).astimezone(VIETNAM)
    ).get_prev(datetime)
    return latest


def retry_delay(attempts: int, *, base_seconds: float, max_seconds: float) -> timedelta:
    """How long to wait after the ``attempts``-th failed attempt: base, 2x, 4x … up to max."""
    exponent = max(attempts - 1, 0)
    # Cap the exponent before raising: a long-failing message would overflow a float.
    seconds = base_seconds * (2 ** min(exponent, 40))
    return timedelta(seconds=min(seconds, max_seconds))
