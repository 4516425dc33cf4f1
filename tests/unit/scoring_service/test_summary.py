"""Summaries (§2): goals by the band and status of their primary indicator, or official labels."""

from collections.abc import Mapping

from libs.common.periods import parse_period
from services.scoring.domain.bands import Band
from services.scoring.domain.catalogue import Indicator
from services.scoring.domain.scorecard import ScoreCard, score_card
from services.scoring.domain.summary import (
    computed_summary,
    goal_primaries,
    official_summary,
    worse_status,
)
from services.scoring.domain.trajectory import TrajectoryStatus as Status
from tests.unit.scoring_service.indicators import create_indicator

S1 = parse_period("2023-S1")
GOALS = [
    create_indicator("G-01"),  # a goal of its own
    create_indicator("G-02a", goal="G-02", primary=True),
    create_indicator("G-02b", goal="G-02", primary=False),
    create_indicator("G-03a", goal="G-03", aggregation="by_group"),
]


def cards(
    indicators: list[Indicator], figures: Mapping[tuple[str, str], float]
) -> dict[tuple[str, str], ScoreCard]:
    found = {}
    for indicator in indicators:
        for scope in indicator.headline_scopes:
            value = figures.get((indicator.code, scope))
            card = score_card(
                indicator, scope=scope, period=S1, points={} if value is None else {S1: value}
            )
            assert card is not None
            found[(indicator.code, scope)] = card
    return found


def test_worse_status_puts_no_evidence_last() -> None:
    assert worse_status([Status.LIKELY, Status.HARD]) is Status.HARD
    assert worse_status([Status.COMPLETED, Status.UNASSESSABLE]) is Status.UNASSESSABLE
    assert worse_status([Status.UNASSESSABLE, Status.NO_DATA]) is Status.NO_DATA
    assert worse_status([]) is Status.NO_DATA


def test_goal_primaries_skip_goals_still_arriving() -> None:
    half_a_goal = [create_indicator("H-1b", goal="H-1", primary=False), *GOALS[1:2]]
    assert list(
        goal_primaries([*half_a_goal, create_indicator("H-1c", goal="H-1", primary=False)])
    ) == ["G-02"]
    assert {goal: i.code for goal, i in goal_primaries(GOALS).items()} == {
        "G-01": "G-01",
        "G-02": "G-02a",
        "G-03": "G-03a",
    }


def test_computed_summary_counts_goals_by_primary_and_worse_group() -> None:
    figures = {
        ("G-01", "national"): 85,  # completed against >= 80
        ("G-02a", "national"): 50,  # over half; the sub-indicator b does not count
        ("G-02b", "national"): 90,
        ("G-03a", "central"): 85,  # completed centrally, nothing locally: no data
    }
    summary = computed_summary(GOALS, cards(GOALS, figures))
    assert summary.goals == 3
    assert summary.bands == {
        Band.COMPLETED: 1,
        Band.OVER_HALF: 1,
        Band.UNDER_HALF: 0,
        Band.NO_DATA: 1,
    }
    assert summary.statuses[Status.COMPLETED] == 1
    assert summary.statuses[Status.UNASSESSABLE] == 1
    assert summary.statuses[Status.NO_DATA] == 1


def test_official_summary_counts_labels_where_they_belong() -> None:
    labels = {"G-01": "completed", "G-02a": "likely", "G-02b": "hard"}
    summary = official_summary(GOALS, cards(GOALS, {}), labels)
    assert summary.goals == 3
    assert summary.bands[Band.COMPLETED] == 1
    assert summary.statuses == {
        Status.COMPLETED: 1,
        Status.AHEAD: 0,
        Status.LIKELY: 1,
        Status.LOW: 0,
        Status.HARD: 0,
        Status.UNASSESSABLE: 0,
        Status.NO_DATA: 0,
    }
    assert summary.unassessed == 1  # G-03 has no official label


def test_a_goal_without_a_target_in_force_is_not_counted() -> None:
    passed = create_indicator("P-1", targets=[(2022, "=", 100)])
    assert computed_summary([passed], {}).goals == 0
