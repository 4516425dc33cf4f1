"""Which periods a value touches, which periods an indicator owes, assessment dates, series."""

from datetime import date

import pytest

from libs.common.periods import ReportingPeriod, parse_period
from services.scoring.domain.calendar import (
    affected_periods,
    assessment_period,
    reports_for,
    series_up_to,
)


def periods(*texts: str) -> list[ReportingPeriod]:
    return [parse_period(text) for text in texts]


@pytest.mark.parametrize(
    ("period", "frequency", "expected"),
    [
        pytest.param("2023-S1", "half", ["2023-S1", "2023"], id="half-counts-for-year"),
        pytest.param("2023", "half", ["2023"], id="year-is-itself"),
        pytest.param("2023-05", "month", ["2023-05", "2023", "2023-S1", "2023-Q2"], id="month"),
        pytest.param("2023-05", "half", ["2023-05"], id="off-frequency-month"),
        pytest.param("2023-S2", "year", ["2023-S2"], id="half-of-yearly-indicator"),
    ],
)
def test_affected_periods(period: str, frequency: str, expected: list[str]) -> None:
    found = affected_periods(parse_period(period), frequency)
    assert sorted(map(str, found)) == sorted(expected)


@pytest.mark.parametrize(
    ("frequency", "period", "owed"),
    [
        pytest.param("half", "2023-S1", True, id="half-owes-half"),
        pytest.param("half", "2023", True, id="half-owes-year"),
        pytest.param("half", "2023-Q1", False, id="half-owes-no-quarter"),
        pytest.param("year", "2023-S1", False, id="year-owes-no-half"),
        pytest.param("month", "2023-03", True, id="month-owes-month"),
    ],
)
def test_reports_for(frequency: str, period: str, owed: bool) -> None:
    assert reports_for(frequency, parse_period(period)) is owed


@pytest.mark.parametrize(
    ("as_of", "expected"),
    [
        pytest.param(date(2023, 7, 12), "2023-S1", id="committee-report-of-july"),
        pytest.param(date(2023, 6, 30), "2023-S1", id="last-day-of-the-half"),
        pytest.param(date(2023, 6, 29), "2022-S2", id="half-not-over-yet"),
        pytest.param(date(2024, 1, 1), "2023-S2", id="new-year"),
    ],
)
def test_assessment_period(as_of: date, expected: str) -> None:
    assert str(assessment_period(as_of)) == expected


def test_series_keeps_figures_up_to_the_asked_period_one_per_day() -> None:
    points = dict(
        zip(periods("2022", "2022-S2", "2023-S1", "2023-S2", "2023"), (1, 2, 3, 4, 5), strict=True)
    )
    asked = parse_period("2023-S1")
    # 2022 and 2022-S2 end the same day: the year's figure is the one published for it.
    assert [(o.period, o.value) for o in series_up_to(points, asked)] == [
        ("2022", 1),
        ("2023-S1", 3),
    ]
    # The asked period's own figure wins its day over the longer period's.
    later = series_up_to(points, parse_period("2023-S2"))
    assert [(o.period, o.value) for o in later] == [("2022", 1), ("2023-S1", 3), ("2023-S2", 4)]


def test_series_skips_missing_figures() -> None:
    points = dict(zip(periods("2022-S2", "2023-S1"), (None, 7.0), strict=True))
    assert [o.period for o in series_up_to(points, parse_period("2023-S1"))] == ["2023-S1"]
