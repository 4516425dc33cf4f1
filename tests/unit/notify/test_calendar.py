"""The reminder calendar, cron catch-up and delivery backoff: pure, table-driven."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import pytest

from libs.common.periods import parse_period
from services.notify.domain.calendar import (
    ChasePolicy,
    Stage,
    days_late,
    format_day,
    highest,
    local_day,
    missing_stage,
    periods_to_chase,
)
from services.notify.domain.schedule import due_fire, next_fire, retry_delay

POLICY = ChasePolicy(reminder_days=7, escalation_days=14)
DUE = date(2023, 7, 15)  # 2023-S1 with due_days 15


@pytest.mark.parametrize(
    ("today", "stage"),
    [
        (date(2023, 7, 7), None),  # 8 days before: too early
        (date(2023, 7, 8), Stage.REMINDER),  # exactly reminder_days before
        (date(2023, 7, 15), Stage.REMINDER),  # the due day itself is still on time
        (date(2023, 7, 16), Stage.OVERDUE),
        (date(2023, 7, 28), Stage.OVERDUE),  # 13 days after
        (date(2023, 7, 29), Stage.ESCALATION),  # escalation_days after
        (date(2024, 1, 1), Stage.ESCALATION),
    ],
)
def test_stage_of_a_missing_report(today: date, stage: Stage | None) -> None:
    assert missing_stage(today, DUE, POLICY) == stage


def test_stage_days_are_configurable() -> None:
    policy = ChasePolicy(reminder_days=0, escalation_days=1)
    assert missing_stage(date(2023, 7, 14), DUE, policy) is None
    assert missing_stage(date(2023, 7, 15), DUE, policy) is Stage.REMINDER
    assert missing_stage(date(2023, 7, 16), DUE, policy) is Stage.ESCALATION


def test_a_letter_takes_its_highest_stage() -> None:
    assert highest([Stage.REMINDER, Stage.ESCALATION, Stage.OVERDUE]) is Stage.ESCALATION
    assert highest([Stage.REMINDER]) is Stage.REMINDER
    assert highest([Stage.PROGRESS]) is Stage.PROGRESS


@pytest.mark.parametrize(
    ("moment", "day", "late"),
    [
        (datetime(2023, 7, 15, 16, 59, tzinfo=UTC), date(2023, 7, 15), 0),  # 23:59 in Hà Nội
        (datetime(2023, 7, 15, 17, 0, tzinfo=UTC), date(2023, 7, 16), 1),  # past midnight there
        (datetime(2023, 7, 10, 8, 0), date(2023, 7, 10), -5),  # naive is read as UTC
    ],
)
def test_days_are_vietnamese_calendar_days(moment: datetime, day: date, late: int) -> None:
    assert local_day(moment) == day
    assert days_late(moment, DUE) == late


def test_dates_are_written_dd_mm_yyyy() -> None:
    assert format_day(date(2023, 7, 5)) == "05/07/2023"


@pytest.mark.parametrize(
    ("regimes", "today", "periods"),
    [
        ([("half", 15)], date(2023, 7, 8), ["2023-S1"]),  # S1's reminder window opens
        ([("half", 15)], date(2023, 7, 7), []),  # S1 not yet in its window
        ([("half", 15)], date(2023, 9, 27), ["2023-S1"]),  # last day of escalation + lookback
        ([("half", 15)], date(2023, 9, 28), []),  # past the lookback
        ([("half", 0)], date(2023, 6, 25), ["2023-S1"]),  # window opens before the period ends
        ([("month", 10)], date(2023, 3, 5), ["2022-12", "2023-01", "2023-02"]),
        ([("half", 15), ("year", 30)], date(2024, 1, 20), ["2023-S2"]),
        ([("half", 15), ("year", 30)], date(2024, 1, 25), ["2023", "2023-S2"]),
    ],
)
def test_periods_a_scheduled_run_chases(
    regimes: list[tuple[str, int]], today: date, periods: list[str]
) -> None:
    policy = ChasePolicy(reminder_days=7, escalation_days=14, lookback_days=60)
    found = periods_to_chase(regimes, today, policy)
    assert found == [parse_period(p) for p in periods]


WORKDAYS_8AM = "0 8 * * 1-5"  # Vietnam time = 01:00 UTC


def utc(year: int, month: int, day: int, hour: int, minute: int = 0) -> datetime:
    return datetime(year, month, day, hour, minute, tzinfo=UTC)


def test_next_fire_is_in_vietnam_time() -> None:
    fire = next_fire(WORKDAYS_8AM, utc(2024, 1, 5, 2, 0))  # Friday 09:00 in Hà Nội
    assert fire.astimezone(UTC) == utc(2024, 1, 8, 1, 0)  # Monday 08:00 there


@pytest.mark.parametrize(
    ("last_run", "now", "fire"),
    [
        (utc(2024, 1, 8, 1, 0), utc(2024, 1, 8, 12, 0), None),  # ran today, next is tomorrow
        (utc(2024, 1, 8, 1, 0), utc(2024, 1, 9, 1, 0), utc(2024, 1, 9, 1, 0)),  # exactly on time
        (utc(2024, 1, 8, 1, 0), utc(2024, 1, 9, 3, 0), utc(2024, 1, 9, 1, 0)),  # a bit late
        # Down from Monday to the next Thursday: three fires missed, one catch-up for the latest.
        (utc(2024, 1, 8, 1, 0), utc(2024, 1, 11, 9, 0), utc(2024, 1, 11, 1, 0)),
        (utc(2024, 1, 5, 1, 0), utc(2024, 1, 7, 9, 0), None),  # the weekend has no fire
    ],
)
def test_due_fire_catches_up_once(last_run: datetime, now: datetime, fire: datetime | None) -> None:
    found = due_fire(WORKDAYS_8AM, last_run, now)
    assert (found.astimezone(UTC) if found else None) == fire


@pytest.mark.parametrize(
    ("attempts", "seconds"), [(1, 30), (2, 60), (3, 120), (6, 960), (8, 3600), (500, 3600)]
)
def test_retry_delay_doubles_up_to_the_cap(attempts: int, seconds: float) -> None:
    delay = retry_delay(attempts, base_seconds=30, max_seconds=3600)
    assert delay == timedelta(seconds=seconds)
