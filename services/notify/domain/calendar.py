"""The reminder calendar: which stage a report is at on a given day, and which periods to chase.

Pure: no I/O, no clock (callers pass ``today``, a Vietnamese calendar day).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta, timezone
from enum import StrEnum

from libs.common.periods import ReportingPeriod, period_containing

# Due dates are calendar days in Vietnam, which keeps UTC+7 all year (no daylight saving).
VIETNAM = timezone(timedelta(hours=7), "ICT")

# A scheduled run never looks further back than this many periods of one kind.
_MAX_PERIODS_BACK = 24


class Stage(StrEnum):
    """How far a chase has gone; each is sent at most once per agency, indicator and period."""

    REMINDER = "reminder"
    OVERDUE = "overdue"
    ESCALATION = "escalation"
    PROGRESS = "progress"


#: The order in which a missing report climbs (a letter takes its highest item's stage).
CHASE_ORDER: tuple[Stage, ...] = (Stage.REMINDER, Stage.OVERDUE, Stage.ESCALATION)


@dataclass(frozen=True)
class ChasePolicy:
    """When each stage starts, relative to a report's due date."""

    reminder_days: int = 7
    escalation_days: int = 14
    lookback_days: int = 60
    standing_agency: str = "BTTTT"


def local_day(moment: datetime) -> date:
    """The Vietnamese calendar day of an instant (a naive instant is taken as UTC)."""
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return moment.astimezone(VIETNAM).date()


def days_late(reported_at: datetime, due: date) -> int:
    """Whole days a report arrived after its due date (0 or less when on time)."""
    return (local_day(reported_at) - due).days


def missing_stage(today: date, due: date, policy: ChasePolicy) -> Stage | None:
    """The stage of a report still missing on ``today``; None while it is too early to remind."""
    if today < due - timedelta(days=policy.reminder_days):
        return None
    if today <= due:
        return Stage.REMINDER
    if today < due + timedelta(days=policy.escalation_days):
        return Stage.OVERDUE
    return Stage.ESCALATION


def highest(stages: Iterable[Stage]) -> Stage:
    """The furthest stage among a letter's items (progress letters stay progress)."""
    chosen = list(stages)
    chased = [s for s in chosen if s in CHASE_ORDER]
    if not chased:
        return Stage.PROGRESS
    return max(chased, key=CHASE_ORDER.index)


def chase_window(period: ReportingPeriod, due_days: int, policy: ChasePolicy) -> tuple[date, date]:
    """First and last day a scheduled run chases one indicator's reports for ``period``."""
    due = period.due_date(due_days)
    first = due - timedelta(days=policy.reminder_days)
    return first, due + timedelta(days=policy.escalation_days + policy.lookback_days)


def periods_to_chase(
    regimes: Iterable[tuple[str, int]], today: date, policy: ChasePolicy
) -> list[ReportingPeriod]:
    """Periods a scheduled run on ``today`` looks at, given (frequency, due_days) regimes."""
    found: set[ReportingPeriod] = set()
    for frequency, due_days in set(regimes):
        period = period_containing(today, frequency)
        # A period's window starts before it ends when due_days < reminder_days: look ahead one.
        candidates = [period.next(), period]
        for _ in range(_MAX_PERIODS_BACK):
            period = period.previous()
            candidates.append(period)
        for candidate in candidates:
            first, last = chase_window(candidate, due_days, policy)
            if first <= today <= last:
                found.add(candidate)
    return sorted(found)


def format_day(day: date) -> str:
    """A date as Vietnamese letters write it: dd/mm/yyyy."""
    return day.strftime("%d/%m/%Y")
