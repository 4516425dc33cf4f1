"""Reporting periods: parsing, calendar arithmetic, and which value stands for which period."""

from __future__ import annotations

import dataclasses
from datetime import date

import pytest
from hypothesis import given
from hypothesis import strategies as st
from pydantic import BaseModel, ValidationError

from libs.common.periods import (
    PERIOD_KINDS,
    ReportingPeriod,
    counts_for,
    latest_counting,
    parse_period,
    period_containing,
    periods_within,
)


def p(text: str) -> ReportingPeriod:
    return parse_period(text)


@pytest.mark.parametrize(
    ("text", "kind", "year", "start", "end"),
    [
        ("2023", "year", 2023, date(2023, 1, 1), date(2023, 12, 31)),
        ("2023-S1", "half", 2023, date(2023, 1, 1), date(2023, 6, 30)),
        ("2023-S2", "half", 2023, date(2023, 7, 1), date(2023, 12, 31)),
        ("2023-Q1", "quarter", 2023, date(2023, 1, 1), date(2023, 3, 31)),
        ("2023-Q2", "quarter", 2023, date(2023, 4, 1), date(2023, 6, 30)),
        ("2023-Q4", "quarter", 2023, date(2023, 10, 1), date(2023, 12, 31)),
        ("2023-01", "month", 2023, date(2023, 1, 1), date(2023, 1, 31)),
        ("2023-02", "month", 2023, date(2023, 2, 1), date(2023, 2, 28)),
        ("2024-02", "month", 2024, date(2024, 2, 1), date(2024, 2, 29)),
        ("2023-06", "month", 2023, date(2023, 6, 1), date(2023, 6, 30)),
        ("2023-12", "month", 2023, date(2023, 12, 1), date(2023, 12, 31)),
    ],
)
def test_parse_gives_kind_year_bounds_and_round_trips(
    text: str, kind: str, year: int, start: date, end: date
) -> None:
    period = parse_period(text)
    assert (period.kind, period.year, period.start, period.end) == (kind, year, start, end)
    assert str(period) == text


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("23", "malformed period '23'"),
        ("2023-S3", "impossible period '2023-S3': a year has halves S1..S2, not S3"),
        ("2023-S0", "halves S1..S2, not S0"),
        ("2023-13", "impossible period '2023-13': a year has months 01..12, not 13"),
        ("2023-00", "months 01..12, not 00"),
        ("2023-Q0", "impossible period '2023-Q0': a year has quarters Q1..Q4, not Q0"),
        ("2023-Q5", "quarters Q1..Q4, not Q5"),
        ("0999", "impossible period '0999': year must be 1000..9999"),
        ("2023-6", "malformed"),
        ("2023-s1", "malformed"),
        ("2023-H1", "malformed"),
        ("2023-S01", "malformed"),
        ("2023-S", "malformed"),
        (" 2023", "malformed"),
        ("2023-", "malformed"),
        ("", "malformed"),
        ("02023", "malformed"),
        ("2023/06", "malformed"),
        ("٢٠٢٣", "malformed"),  # Arabic-Indic digits are digits to Python, not to us
    ],
)
def test_parse_rejects_malformed_and_impossible_periods(text: str, message: str) -> None:
    with pytest.raises(ValueError, match=r"expected YYYY|a year has|year must") as error:
        parse_period(text)
    assert message in str(error.value)


def test_parse_names_the_accepted_forms() -> None:
    with pytest.raises(ValueError, match=r"YYYY, YYYY-S1\.\.S2, YYYY-Q1\.\.Q4 or YYYY-MM"):
        parse_period("2023-W12")


def test_parse_refuses_a_non_text() -> None:
    with pytest.raises(TypeError, match="a period is text"):
        parse_period(2023)  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("year", "kind", "index"),
    [(2023, "half", 3), (2023, "quarter", 0), (2023, "month", 13), (99, "year", 1)],
)
def test_constructor_checks_its_fields(year: int, kind: str, index: int) -> None:
    with pytest.raises(ValueError, match=r"must be|out of range"):
        ReportingPeriod(year, kind, index)  # type: ignore[arg-type]


def test_constructor_rejects_an_unknown_kind() -> None:
    with pytest.raises(ValueError, match="unknown period kind 'week'"):
        ReportingPeriod(2023, "week", 1)  # type: ignore[arg-type]


def test_periods_are_frozen_and_hashable() -> None:
    period = p("2023-S1")
    with pytest.raises(dataclasses.FrozenInstanceError):
        period.year = 2024  # type: ignore[misc]
    assert {period, p("2023-S1")} == {ReportingPeriod(2023, "half", 1)}


def test_periods_sort_by_start_and_a_container_first() -> None:
    texts = ["2023-02", "2022-S2", "2023-01", "2023-Q1", "2023", "2023-S1", "2022"]
    ordered = [str(x) for x in sorted(p(t) for t in texts)]
    assert ordered == ["2022", "2022-S2", "2023", "2023-S1", "2023-Q1", "2023-01", "2023-02"]
    assert p("2023-S2") > p("2023-S1") >= p("2023-S1")


@pytest.mark.parametrize(
    ("outer", "inner", "expected"),
    [
        ("2023", "2023-S1", True),
        ("2023", "2023-12", True),
        ("2023-S1", "2023-Q2", True),
        ("2023-S1", "2023-06", True),
        ("2023-S1", "2023-07", False),
        ("2023-S1", "2023-Q3", False),
        ("2023-Q1", "2023-S1", False),
        ("2023", "2024-01", False),
        ("2023-S1", "2023-S1", True),
    ],
)
def test_contains(outer: str, inner: str, expected: bool) -> None:
    assert p(outer).contains(p(inner)) is expected


def test_due_date_is_end_plus_due_days() -> None:
    assert p("2023-S1").due_date(15) == date(2023, 7, 15)
    assert p("2023").due_date(0) == date(2023, 12, 31)
    assert p("2023-12").due_date(15) == date(2024, 1, 15)
    with pytest.raises(ValueError, match="must not be negative"):
        p("2023").due_date(-1)


def test_a_due_date_past_the_calendar_is_never() -> None:
    # Once an OverflowError: a 500 for reminders of 9999-S2 (tests/e2e/test_hostile_api.py).
    assert p("9999-S2").due_date(15) == date.max
    assert p("9990").due_date(36_500) == date.max
    assert p("9999-S2").due_date(0) == date.max  # 31/12/9999, the last day there is


def test_has_ended_only_after_the_last_day() -> None:
    half = p("2023-S1")
    assert not half.has_ended(date(2023, 6, 30))
    assert half.has_ended(date(2023, 7, 1))
    assert not half.has_ended(date(2023, 1, 1))


@pytest.mark.parametrize(
    ("kind", "expected"),
    [("year", "2023"), ("half", "2023-S1"), ("quarter", "2023-Q2"), ("month", "2023-05")],
)
def test_period_containing_a_date(kind: str, expected: str) -> None:
    assert str(period_containing(date(2023, 5, 17), kind)) == expected


def test_period_containing_rejects_an_unknown_kind() -> None:
    with pytest.raises(ValueError, match="unknown period kind 'week'"):
        period_containing(date(2023, 5, 17), "week")


@pytest.mark.parametrize(
    ("text", "after", "before"),
    [
        ("2023", "2024", "2022"),
        ("2023-S2", "2024-S1", "2023-S1"),
        ("2023-Q1", "2023-Q2", "2022-Q4"),
        ("2023-01", "2023-02", "2022-12"),
        ("2023-12", "2024-01", "2023-11"),
    ],
)
def test_next_and_previous(text: str, after: str, before: str) -> None:
    assert str(p(text).next()) == after
    assert str(p(text).previous()) == before


@pytest.mark.parametrize(
    ("reported", "asked", "frequency", "expected"),
    [
        pytest.param("2023-06", "2023-S1", "month", True, id="monthly-month-in-half"),
        pytest.param("2023-06", "2023", "month", True, id="monthly-month-in-year"),
        pytest.param("2023-Q2", "2023-S1", "quarter", True, id="quarterly-quarter-in-half"),
        pytest.param("2023-S2", "2023", "half", True, id="half-yearly-half-in-year"),
        pytest.param("2023-S1", "2023", "year", False, id="yearly-needs-a-yearly-value"),
        pytest.param("2023-06", "2023-S1", "half", False, id="off-frequency-month-ignored"),
        pytest.param("2023-Q2", "2023", "month", False, id="quarter-of-a-monthly-ignored"),
        pytest.param("2023-Q3", "2023-S1", "quarter", False, id="not-inside"),
        pytest.param("2022-12", "2023", "month", False, id="previous-year"),
        pytest.param("2023-S1", "2023-Q1", "half", False, id="coarser-never-for-finer"),
        pytest.param("2023", "2023", "year", True, id="exact-yearly"),
        pytest.param("2023", "2023", "half", True, id="exact-always-counts"),
        pytest.param("2023-S1", "2023-S1", "year", True, id="exact-off-frequency"),
    ],
)
def test_counts_for(reported: str, asked: str, frequency: str, expected: bool) -> None:
    assert counts_for(p(reported), p(asked), frequency) is expected


def test_counts_for_rejects_an_unknown_frequency() -> None:
    with pytest.raises(ValueError, match="unknown period kind 'weekly'"):
        counts_for(p("2023-06"), p("2023"), "weekly")


def test_latest_month_stands_for_the_half() -> None:
    months = [p(t) for t in ("2023-01", "2023-05", "2023-03", "2023-07", "2022-12")]
    assert latest_counting(months, asked=p("2023-S1"), frequency="month") == p("2023-05")
    assert latest_counting(months, asked=p("2023"), frequency="month") == p("2023-07")


def test_a_value_for_the_period_asked_wins_a_tie() -> None:
    periods = [p("2023-12"), p("2023")]
    assert latest_counting(periods, asked=p("2023"), frequency="month") == p("2023")


def test_nothing_counts() -> None:
    months = [p("2023-05")]
    assert latest_counting(months, asked=p("2023"), frequency="year") is None
    assert latest_counting([], asked=p("2023"), frequency="year") is None


@st.composite
def periods(draw: st.DrawFn) -> ReportingPeriod:
    kind = draw(st.sampled_from(PERIOD_KINDS))
    count = {"year": 1, "half": 2, "quarter": 4, "month": 12}[kind]
    return ReportingPeriod(draw(st.integers(1000, 9998)), kind, draw(st.integers(1, count)))


@given(periods())
def test_any_period_round_trips_and_is_coherent(period: ReportingPeriod) -> None:
    assert parse_period(str(period)) == period
    assert period.start <= period.end
    assert period.contains(period)
    assert period_containing(period.start, period.kind) == period
    assert period_containing(period.end, period.kind) == period
    assert period.next().previous() == period
    assert period.next().start.toordinal() == period.end.toordinal() + 1


@given(periods(), st.sampled_from(PERIOD_KINDS))
def test_a_coarser_period_contains_a_finer_one_of_its_days(
    period: ReportingPeriod, kind: str
) -> None:
    around = period_containing(period.start, kind)
    assert around.contains(period) or period.contains(around)


class _Report(BaseModel):
    period: ReportingPeriod


def test_pydantic_models_hold_periods_as_text() -> None:
    report = _Report.model_validate({"period": "2023-S1"})
    assert report.period == ReportingPeriod(2023, "half", 1)
    assert report.model_dump(mode="json") == {"period": "2023-S1"}
    assert _Report.model_validate_json('{"period": 2022}').period == p("2022")
    assert _Report.model_json_schema()["properties"]["period"]["type"] == "string"


@pytest.mark.parametrize("bad", ["2023-S3", "23", 2023.5, None])
def test_pydantic_reports_a_bad_period(bad: object) -> None:
    with pytest.raises(ValidationError, match="period"):
        _Report.model_validate({"period": bad})


@pytest.mark.parametrize(
    ("period", "within"),
    [
        ("2023-07", ["2023-07"]),
        ("2023-Q3", ["2023-07", "2023-08", "2023-09", "2023-Q3"]),
        (
            "2023-S2",
            [*(f"2023-{month:02d}" for month in range(7, 13)), "2023-Q3", "2023-Q4", "2023-S2"],
        ),
    ],
)
def test_periods_within_lists_the_period_and_every_finer_one_inside(
    period: str, within: list[str]
) -> None:
    assert list(periods_within(parse_period(period))) == within


def test_a_year_holds_two_halves_four_quarters_and_twelve_months() -> None:
    found = [parse_period(text) for text in periods_within(parse_period("2024"))]
    assert [p.kind for p in found].count("half") == 2
    assert [p.kind for p in found].count("quarter") == 4
    assert [p.kind for p in found].count("month") == 12
    assert all(parse_period("2024").contains(p) for p in found)
