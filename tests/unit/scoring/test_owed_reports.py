"""What a period owes (one rule), completeness over it, its ranking, and laggards on it."""

from datetime import UTC, date, datetime

from libs.common.periods import parse_period
from services.scoring.domain.completeness import (
    completeness_by_agency,
    completeness_by_indicator,
    overall_completeness,
    rank_by_completeness,
)
from services.scoring.domain.standing import Report, expected_reports, laggard_standings
from tests.unit.scoring_service.indicators import create_indicator

S1 = parse_period("2023-S1")
ON_TIME = datetime(2023, 7, 10, tzinfo=UTC)
LATE = datetime(2023, 8, 1, tzinfo=UTC)


def test_expected_reports_count_by_hand() -> None:
    a = create_indicator("A", aggregation="share_of_agencies", reporters=["P01", "P02", "P03"])
    b = create_indicator("B", aggregation="share_of_agencies", reporters=["P01", "P02"])
    reports = {
        ("A", "P01"): {S1: Report(True, ON_TIME)},
        ("A", "P02"): {S1: Report(True, LATE)},
        ("B", "P01"): {S1: Report(False, ON_TIME)},
    }
    owed = expected_reports([a, b], period=S1, reports=reports)
    assert len(owed) == 5
    by_indicator = completeness_by_indicator(owed)
    assert (by_indicator["A"].expected, by_indicator["A"].reported, by_indicator["A"].on_time) == (
        3,
        2,
        1,
    )
    by_agency = completeness_by_agency(owed)
    assert (by_agency["P01"].reported, by_agency["P01"].on_time) == (2, 2)
    assert (by_agency["P03"].expected, by_agency["P03"].reported) == (1, 0)
    total = overall_completeness(owed)
    assert (total.expected, total.reported, total.on_time) == (5, 3, 2)
    # P01 2/2 on time; P02 1/2 reported, 0 on time; P03 0/1.
    assert rank_by_completeness(by_agency) == [(1, "P01"), (2, "P02"), (3, "P03")]


def test_equal_completeness_shares_a_rank() -> None:
    a = create_indicator("A", aggregation="share_of_agencies", reporters=["P01", "P02", "P03"])
    reports = {("A", "P01"): {S1: Report(1.0, ON_TIME)}, ("A", "P02"): {S1: Report(2.0, ON_TIME)}}
    ranked = rank_by_completeness(
        completeness_by_agency(expected_reports([a], period=S1, reports=reports))
    )
    assert ranked == [(1, "P01"), (1, "P02"), (3, "P03")]


def test_a_programme_past_its_last_target_year_owes_nothing() -> None:
    over = create_indicator("K", reporters=["P01"], targets=((2023, "=", 100),))
    assert len(expected_reports([over], period=S1, reports={})) == 1
    assert expected_reports([over], period=parse_period("2024-S1"), reports={}) == []


def test_laggards_and_completeness_count_the_same_reports() -> None:
    a = create_indicator("A", aggregation="share_of_agencies", reporters=["P01", "P02"])
    reports = {("A", "P01"): {S1: Report(True, ON_TIME)}}
    owed = expected_reports([a], period=S1, reports=reports)
    standings = list(
        laggard_standings([a], period=S1, reports=reports, national={}, today=date(2024, 1, 1))
    )
    assert {(s.agency, s.reported_at) for s in standings} == {
        (r.agency, r.reported_at) for r in owed
    }


def test_a_period_resting_on_a_published_figure_lists_nobody_as_missing() -> None:
    a = create_indicator("A", aggregation="share_of_agencies", reporters=["P01", "P02"])
    reports = {("A", "P01"): {S1: Report(True, ON_TIME)}}
    today = date(2024, 1, 1)
    missing = laggard_standings([a], period=S1, reports=reports, national={}, today=today)
    assert [s.agency for s in missing] == ["P01", "P02"]
    published = laggard_standings(
        [a], period=S1, reports=reports, national={}, today=today, published={"A"}
    )
    assert [s.agency for s in published] == ["P01"]  # its own report still counts
