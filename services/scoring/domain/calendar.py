"""Periods as scoring needs them: what a value touches, assessment dates, fitted series."""

from collections.abc import Mapping
from datetime import date

from libs.common.periods import (
    PERIOD_KINDS,
    ReportingPeriod,
    check_kind,
    counts_for,
    period_containing,
)
from services.scoring.domain.targets import ObservedValue
from services.scoring.domain.trajectory import Observation


def affected_periods(period: ReportingPeriod, frequency: str) -> list[ReportingPeriod]:
    """The period of a value and every coarser period the value stands for."""
    found = [period]
    for kind in PERIOD_KINDS[: PERIOD_KINDS.index(period.kind)]:
        coarser = period_containing(period.start, kind)
        if counts_for(period, coarser, frequency):
            found.append(coarser)
    return found


def reports_for(frequency: str, period: ReportingPeriod) -> bool:
    """Whether an indicator reported every `frequency` owes a figure for `period`.

    A half-yearly indicator owes one for each half and each year, never for a quarter: a value
    never counts for a period finer than its own (libs.common.periods).
    """
    return PERIOD_KINDS.index(period.kind) <= PERIOD_KINDS.index(check_kind(frequency))


def assessment_period(as_of: date) -> ReportingPeriod:
    """The half-year that most recently ended on or before `as_of` (2023-07-12 -> 2023-S1)."""
    half = period_containing(as_of, "half")
    return half if half.end <= as_of else half.previous()


def _preferred(
    candidate: ReportingPeriod, current: ReportingPeriod, asked: ReportingPeriod
) -> bool:
    if candidate == asked or current == asked:
        return candidate == asked
    # Of two figures for the same day, the longer period's is the one published for it.
    return candidate.start < current.start


def series_up_to(
    points: Mapping[ReportingPeriod, ObservedValue | None], asked: ReportingPeriod
) -> list[Observation]:
    """The figures a trajectory is fitted to: those ending by the asked period, one per day.

    Two figures ending the same day (2023-S2 and 2023) would count that day twice; the asked
    period's own figure is kept, else the longer period's, so the latest point is the figure
    the band is read from.
    """
    chosen: dict[date, ReportingPeriod] = {}
    for period, value in points.items():
        if value is None or period.end > asked.end:
            continue
        current = chosen.get(period.end)
        if current is None or _preferred(period, current, asked):
            chosen[period.end] = period
    series = []
    for day in sorted(chosen):
        value = points[chosen[day]]
        assert value is not None  # filtered above; narrows the type
        series.append(Observation(str(chosen[day]), value))
    return series
