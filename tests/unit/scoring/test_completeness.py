"""§5 reporting completeness and timeliness."""

from datetime import UTC, date, datetime

import pytest

from services.scoring.domain.completeness import (
    Completeness,
    ExpectedReport,
    completeness,
    completeness_by_agency,
    completeness_by_indicator,
    due_date,
    reported_on_time,
)

DUE = date(2023, 7, 15)  # 2023-S1 ends 2023-06-30, plus 15 days


def test_due_date_is_period_end_plus_due_days() -> None:
    assert due_date(date(2023, 6, 30), 15) == DUE


@pytest.mark.parametrize(
    ("reported_at", "on_time"),
    [
        pytest.param(datetime(2023, 7, 1, 9), True, id="naive-early"),
        pytest.param(datetime(2023, 7, 15, 23, 59), True, id="naive-on-the-due-day"),
        pytest.param(datetime(2023, 7, 16, 0, 1), False, id="naive-next-day"),
        pytest.param(datetime(2023, 7, 15, 16, 59, tzinfo=UTC), True, id="utc-23h59-in-hanoi"),
        pytest.param(datetime(2023, 7, 15, 17, 0, tzinfo=UTC), False, id="utc-midnight-in-hanoi"),
    ],
)
def test_reported_on_time_counts_the_whole_due_day_in_vietnam(
    reported_at: datetime, on_time: bool
) -> None:
    assert reported_on_time(reported_at, DUE) is on_time


@pytest.mark.parametrize(
    ("members", "reported_at", "expected"),
    [
        pytest.param(
            ["P01", "P02", "P04", "P06", "P08"],
            {
                "P01": datetime(2023, 7, 10),
                "P02": datetime(2023, 7, 15, 12),
                "P04": datetime(2023, 7, 20),  # late
                "BTTTT": datetime(2023, 7, 1),  # not a member: not an expected report
            },
            Completeness(expected=5, reported=3, on_time=2),
            id="some-missing-one-late",
        ),
        pytest.param(["P01"], {}, Completeness(expected=1, reported=0, on_time=0), id="none"),
        pytest.param([], {}, Completeness(expected=0, reported=0, on_time=0), id="nobody-due"),
        pytest.param(
            ["P01", "P01"],
            {"P01": datetime(2023, 7, 1)},
            Completeness(expected=1, reported=1, on_time=1),
            id="duplicate-members-count-once",
        ),
    ],
)
def test_completeness_of_one_indicator(
    members: list[str], reported_at: dict[str, datetime], expected: Completeness
) -> None:
    assert completeness(members=members, reported_at=reported_at, due=DUE) == expected


@pytest.mark.parametrize(
    ("tally", "reporting_rate", "on_time_rate"),
    [
        pytest.param(Completeness(5, 3, 2), 0.6, 0.4, id="partial"),
        pytest.param(Completeness(4, 4, 4), 1.0, 1.0, id="complete"),
        pytest.param(Completeness(0, 0, 0), None, None, id="nothing-expected"),
    ],
)
def test_rates(
    tally: Completeness, reporting_rate: float | None, on_time_rate: float | None
) -> None:
    assert (tally.reporting_rate, tally.on_time_rate) == (reporting_rate, on_time_rate)


REPORTS = [
    ExpectedReport("P01", "KH2023-01", DUE, datetime(2023, 7, 1)),
    ExpectedReport("P01", "KH2023-04", DUE, datetime(2023, 7, 30)),
    ExpectedReport("P01", "KH2023-05", DUE),
    ExpectedReport("BTTTT", "KH2023-01", DUE),
    ExpectedReport("BTTTT", "KH2023-04", date(2023, 8, 1), datetime(2023, 7, 30)),
]


def test_completeness_per_agency_over_all_its_indicators() -> None:
    assert completeness_by_agency(REPORTS) == {
        "BTTTT": Completeness(expected=2, reported=1, on_time=1),
        "P01": Completeness(expected=3, reported=2, on_time=1),
    }


def test_completeness_per_indicator_over_its_agencies() -> None:
    assert completeness_by_indicator(REPORTS) == {
        "KH2023-01": Completeness(expected=2, reported=1, on_time=1),
        "KH2023-04": Completeness(expected=2, reported=2, on_time=1),
        "KH2023-05": Completeness(expected=1, reported=0, on_time=0),
    }
