"""Agencies' own figures: index over owed indicators (§6), rankings, and laggard standings."""

from datetime import UTC, date, datetime

import pytest

from libs.common.periods import parse_period
from services.scoring.domain.laggards import LaggardKind, find_laggards
from services.scoring.domain.standing import (
    AgencyScore,
    Report,
    debtors,
    laggard_standings,
    rank_scores,
    report_for,
    score_agency,
)
from services.scoring.domain.trajectory import TrajectoryStatus
from tests.unit.scoring_service.indicators import create_indicator

S1, S2 = parse_period("2023-S1"), parse_period("2023-S2")
SHARE = create_indicator("D-1", aggregation="share_of_agencies", reporters=["P01", "P02"])
MEAN = create_indicator(
    "G-1", pillar="gov", aggregation="by_group", reporters=["P01"], targets=[(2023, "=", 100)]
)
HEAVY = create_indicator(
    "G-2", pillar="gov", aggregation="mean", reporters=["P01"], targets=[(2023, "=", 100)], weight=3
)
NATIONAL = create_indicator("N-1", reporters=["BTTTT"], targets=[(2023, ">=", 50)])


def test_the_report_for_a_period_is_the_latest_that_counts() -> None:
    reports = {S1: Report(10.0), parse_period("2023-Q3"): Report(20.0), S2: Report(None)}
    assert report_for(reports, parse_period("2023"), "half") == Report(10.0)  # S2 withdrawn
    assert report_for(reports, S2, "half") is None
    assert report_for({}, S1, "half") is None


def test_agency_index_weighs_indicators_then_averages_pillars() -> None:
    reports = {"D-1": {S1: Report(True)}, "G-1": {S1: Report(40.0)}, "G-2": {S1: Report(80.0)}}
    score = score_agency(
        "P01", period=S1, indicators=[SHARE, MEAN, HEAVY, NATIONAL], reports=reports
    )
    assert score is not None
    # gov = (0.4 × 1 + 0.8 × 3) / 4 = 0.7; data = 1; the national figure is not P01's measure.
    assert score.pillar_scores == pytest.approx({"data": 1.0, "gov": 0.7})
    assert score.index == pytest.approx(0.85)
    assert score.attainments == pytest.approx({"D-1": 1.0, "G-1": 0.4, "G-2": 0.8})


def test_an_agency_owing_nothing_has_no_index() -> None:
    assert score_agency("P99", period=S1, indicators=[SHARE], reports={}) is None
    assert score_agency("BTTTT", period=S1, indicators=[NATIONAL], reports={}) is None


def test_an_agency_that_never_reported_scores_zero_and_is_known_silent() -> None:
    score = score_agency("P02", period=S1, indicators=[SHARE, MEAN], reports={})
    assert score == AgencyScore("P02", 0.0, {"data": 0.0}, {})
    assert score is not None
    assert not score.reported


def test_a_reported_zero_is_not_silence() -> None:
    reports = {"D-1": {S1: Report(False)}}
    score = score_agency("P02", period=S1, indicators=[SHARE, MEAN], reports=reports)
    assert score == AgencyScore("P02", 0.0, {"data": 0.0}, {"D-1": 0.0})
    assert score is not None
    assert score.reported


def test_debtors_owe_index_indicators_with_a_target() -> None:
    expired = create_indicator(
        "E-1", aggregation="mean", reporters=["P03"], targets=[(2022, "=", 1)]
    )
    assert debtors([SHARE, MEAN, NATIONAL, expired], S1) == {"P01", "P02"}


def test_rankings_by_index_or_pillar() -> None:
    scores = [
        AgencyScore("P01", 0.5, {"data": 1.0, "gov": 0.0}, {"D-1": 1.0}),
        AgencyScore("P02", 0.5, {"data": 0.0, "gov": 1.0}, {"G-1": 1.0}),
        AgencyScore("P03", 0.2, {"data": 0.2}, {"D-1": 0.2}),
    ]
    assert [(r.rank, r.agency) for r in rank_scores(scores)] == [(1, "P01"), (1, "P02"), (3, "P03")]
    assert [(r.rank, r.agency) for r in rank_scores(scores, pillar="gov")] == [
        (1, "P02"),
        (2, "P01"),
    ]


def test_agencies_that_reported_nothing_rank_after_every_one_that_reported() -> None:
    scores = [
        AgencyScore("P01", 0.0, {"data": 0.0}),  # silent
        AgencyScore("P02", 0.0, {"data": 0.0}),  # silent
        AgencyScore("P48", 0.1, {"data": 0.1}, {"D-1": 0.1}),
        AgencyScore("P79", 0.0, {"data": 0.0}, {"D-1": 0.0}),  # reported a zero
    ]
    for pillar in (None, "data"):
        ranked = rank_scores(scores, pillar=pillar)
        assert [(r.rank, r.agency) for r in ranked] == [
            (1, "P48"),
            (2, "P79"),
            (3, "P01"),
            (3, "P02"),
        ]
    # Stored in that order, the API showing the silent ones unranked.
    only_silent = rank_scores(scores[:2])
    assert [(r.rank, r.agency, r.score) for r in only_silent] == [(1, "P01", 0.0), (1, "P02", 0.0)]


DUE_DAY = date(2023, 7, 15)


def test_laggard_standings() -> None:
    lagging = create_indicator(
        "L-1",
        aggregation="share_of_agencies",
        reporters=["P01", "P02", "P03"],
        targets=[(2023, "=", 100)],
    )
    reports = {
        ("L-1", "P01"): {S1: Report(True, datetime(2023, 7, 20, tzinfo=UTC))},
        ("L-1", "P02"): {S1: Report(False, datetime(2023, 7, 1, tzinfo=UTC))},
    }
    standings = list(
        laggard_standings(
            [lagging], period=S1, reports=reports, national={}, today=date(2023, 9, 1)
        )
    )
    assert [(s.agency, s.value, s.due) for s in standings] == [
        ("P01", True, DUE_DAY),
        ("P02", False, DUE_DAY),
        ("P03", None, DUE_DAY),
    ]
    kinds = {lag.agency: [r.kind for r in lag.reasons] for lag in find_laggards(standings)}
    assert kinds == {
        "P01": [LaggardKind.LATE],
        "P02": [LaggardKind.OFF_TRACK],
        "P03": [LaggardKind.MISSING],
    }


def test_a_report_not_yet_due_is_not_missing() -> None:
    owed = list(laggard_standings([SHARE], period=S1, reports={}, national={}, today=DUE_DAY))
    assert owed == []


def test_a_published_national_figure_stands_for_its_reporter() -> None:
    standings = list(
        laggard_standings(
            [NATIONAL], period=S1, reports={}, national={"N-1": 20.0}, today=date(2023, 9, 1)
        )
    )
    assert [(s.agency, s.value, s.reported_at) for s in standings] == [("BTTTT", 20.0, None)]
    assert [r.kind for r in find_laggards(standings)[0].reasons] == [LaggardKind.OFF_TRACK]


def test_an_agency_trajectory_can_be_hard() -> None:
    falling = create_indicator(
        "F-1", aggregation="mean", reporters=["P01"], targets=[(2023, ">=", 80)]
    )
    reports = {("F-1", "P01"): {parse_period("2022-S2"): Report(60.0), S1: Report(50.0)}}
    (standing,) = laggard_standings(
        [falling], period=S1, reports=reports, national={}, today=date(2023, 9, 1)
    )
    assert standing.trajectory is not None
    assert standing.trajectory.status is TrajectoryStatus.HARD


def test_a_report_due_past_the_end_of_the_calendar_is_not_owed_yet() -> None:
    last = parse_period("9999-S2")
    far = create_indicator("Z-1", aggregation="mean", reporters=["P01"], targets=[(9999, "=", 1)])
    assert list(laggard_standings([far], period=last, reports={}, national={}, today=DUE_DAY)) == []
