"""§2 the committee's half-year band, by_group indicators, primary sub-indicators, summaries."""

import pytest

from services.scoring.domain.bands import (
    Band,
    GoalMember,
    band_for,
    count_by_band,
    goal_bands,
    group_band,
    primary_indicators,
    worse_band,
)
from services.scoring.domain.targets import Comparator, Direction, ObservedValue, Target

UP, DOWN = Direction.INCREASE, Direction.DECREASE


def target(op: str, value: float) -> Target:
    return Target(year=2023, op=Comparator(op), value=value)


# Hand check against the committee's 2023-S1 report (SK2023H1), all increasing indicators:
# KH2023-01: 52.3 vs '=' 100 -> 52.3 >= 100 is false, not met; progress 52.3/100 = 0.523 > 0.5
#            -> over_half.
# KH2023-04: 12 vs '>' 30 -> 12 > 30 is false, not met; progress 12/30 = 0.4 <= 0.5 -> under_half.
# KH2023-05: 60.5 vs '>' 80 -> 60.5 > 80 is false, not met; progress 60.5/80 = 0.75625 > 0.5
#            -> over_half.
@pytest.mark.parametrize(
    ("value", "op", "goal", "expected"),
    [
        pytest.param(52.3, "=", 100, Band.OVER_HALF, id="KH2023-01"),
        pytest.param(12.0, ">", 30, Band.UNDER_HALF, id="KH2023-04"),
        pytest.param(60.5, ">", 80, Band.OVER_HALF, id="KH2023-05"),
    ],
)
def test_hand_checked_bands_of_the_2023_half_year_report(
    value: float, op: str, goal: float, expected: Band
) -> None:
    assert band_for(value, target(op, goal), direction=UP) is expected


@pytest.mark.parametrize(
    ("value", "op", "goal", "direction", "expected"),
    [
        pytest.param(None, "=", 100, UP, Band.NO_DATA, id="no-value-is-no-data"),
        pytest.param(100.0, "=", 100, UP, Band.COMPLETED, id="met-exactly"),
        pytest.param(130.0, ">", 100, UP, Band.COMPLETED, id="exceeded"),
        pytest.param(30.0, ">", 30, UP, Band.OVER_HALF, id="at-strict-target-not-met"),
        pytest.param(50.0, "=", 100, UP, Band.UNDER_HALF, id="exactly-half-is-under"),
        pytest.param(50.1, "=", 100, UP, Band.OVER_HALF, id="just-over-half"),
        pytest.param(0.0, "=", 100, UP, Band.UNDER_HALF, id="zero-value"),
        pytest.param(15.0, "<=", 20, DOWN, Band.COMPLETED, id="decrease-met"),
        pytest.param(30.0, "<=", 20, DOWN, Band.OVER_HALF, id="decrease-two-thirds"),
        pytest.param(40.0, "<=", 20, DOWN, Band.UNDER_HALF, id="decrease-exactly-half"),
        pytest.param(0.0, "<=", 20, DOWN, Band.COMPLETED, id="decrease-zero-value"),
        pytest.param(5.0, "<", 0, DOWN, Band.UNDER_HALF, id="decrease-zero-target"),
        pytest.param(0.0, ">", 0, UP, Band.UNDER_HALF, id="zero-target-strict-unmet"),
        pytest.param(True, "=", 100, UP, Band.COMPLETED, id="boolean-true"),
        pytest.param(False, "=", 100, UP, Band.UNDER_HALF, id="boolean-false"),
    ],
)
def test_band_for(
    value: ObservedValue | None, op: str, goal: float, direction: Direction, expected: Band
) -> None:
    assert band_for(value, target(op, goal), direction=direction) is expected


@pytest.mark.parametrize(
    ("bands", "expected"),
    [
        pytest.param([Band.COMPLETED, Band.OVER_HALF], Band.OVER_HALF, id="over-beats-completed"),
        pytest.param([Band.UNDER_HALF, Band.COMPLETED], Band.UNDER_HALF, id="under-is-worse"),
        pytest.param([Band.UNDER_HALF, Band.NO_DATA], Band.NO_DATA, id="no-data-is-worst"),
        pytest.param([Band.COMPLETED], Band.COMPLETED, id="single"),
        pytest.param([], Band.NO_DATA, id="nothing-published"),
    ],
)
def test_worse_band(bands: list[Band], expected: Band) -> None:
    assert worse_band(bands) is expected


@pytest.mark.parametrize(
    ("values", "goal", "expected"),
    [
        # KH2023-11b '=' 40: central 28/40 = 0.7 over_half; local 59.89 met -> over_half.
        pytest.param({"central": 28, "local": 59.89}, 40, Band.OVER_HALF, id="KH2023-11b"),
        # KH2023-12a '=' 30: central 58.93 met; local 17.29/30 = 0.576 over_half -> over_half.
        pytest.param({"central": 58.93, "local": 17.29}, 30, Band.OVER_HALF, id="KH2023-12a"),
        # KH2023-12b '=' 60: central 23.7/60 = 0.395 under_half; local 0.929 -> under_half.
        pytest.param({"central": 23.7, "local": 55.72}, 60, Band.UNDER_HALF, id="KH2023-12b"),
        pytest.param({"central": 45, "local": 41}, 40, Band.COMPLETED, id="both-met"),
        pytest.param({"central": 45, "local": None}, 40, Band.NO_DATA, id="group-missing"),
        pytest.param({}, 40, Band.NO_DATA, id="no-groups"),
    ],
)
def test_group_band_takes_the_worse_group(
    values: dict[str, float | None], goal: float, expected: Band
) -> None:
    assert group_band(values, target=target("=", goal), direction=UP) is expected


MEMBERS = [
    GoalMember("KH2023-01", "KH2023-01", primary=True),
    GoalMember("KH2023-04", "KH2023-04", primary=True),
    GoalMember("KH2023-05", "KH2023-05", primary=True),
    GoalMember("KH2023-11a", "KH2023-11", primary=True),
    GoalMember("KH2023-11b", "KH2023-11", primary=False),
    GoalMember("KH2023-12a", "KH2023-12", primary=True),
    GoalMember("KH2023-12b", "KH2023-12", primary=False),
    GoalMember("CL942-A1.1", "CL942-A1.1", primary=False),  # no sub-indicators, no flag
]
BANDS = {
    "KH2023-01": Band.OVER_HALF,
    "KH2023-04": Band.UNDER_HALF,
    "KH2023-05": Band.OVER_HALF,
    "KH2023-11a": Band.OVER_HALF,  # 90.66 of 100
    "KH2023-11b": Band.OVER_HALF,
    "KH2023-12a": Band.OVER_HALF,
    "KH2023-12b": Band.UNDER_HALF,  # ignored: not primary
    "CL942-A1.1": Band.COMPLETED,
}


def test_primary_indicators_speak_for_their_goals() -> None:
    assert primary_indicators(MEMBERS) == {
        "KH2023-01": "KH2023-01",
        "KH2023-04": "KH2023-04",
        "KH2023-05": "KH2023-05",
        "KH2023-11": "KH2023-11a",
        "KH2023-12": "KH2023-12a",
        "CL942-A1.1": "CL942-A1.1",
    }


def test_goal_takes_the_band_of_its_primary_sub_indicator() -> None:
    assert goal_bands(MEMBERS, BANDS)["KH2023-12"] is Band.OVER_HALF


def test_summary_counts_goals_not_sub_indicators() -> None:
    counts = count_by_band(goal_bands(MEMBERS, BANDS))
    assert counts == {Band.COMPLETED: 1, Band.OVER_HALF: 4, Band.UNDER_HALF: 1, Band.NO_DATA: 0}
    assert sum(counts.values()) == 6  # 8 indicators, 6 goals


def test_summary_lists_every_band_even_when_empty() -> None:
    assert count_by_band({}) == dict.fromkeys(Band, 0)
    assert list(count_by_band({})) == [
        Band.COMPLETED,
        Band.OVER_HALF,
        Band.UNDER_HALF,
        Band.NO_DATA,
    ]


@pytest.mark.parametrize(
    ("members", "bands", "message"),
    [
        pytest.param(
            [GoalMember("G-a", "G", primary=False), GoalMember("G-b", "G", primary=False)],
            {"G-a": Band.COMPLETED, "G-b": Band.COMPLETED},
            "one primary",
            id="no-primary",
        ),
        pytest.param(
            [GoalMember("G-a", "G", primary=True), GoalMember("G-b", "G", primary=True)],
            {"G-a": Band.COMPLETED, "G-b": Band.COMPLETED},
            "one primary",
            id="two-primaries",
        ),
        pytest.param(
            [GoalMember("G-a", "G", primary=True), GoalMember("G-b", "G", primary=False)],
            {"G-b": Band.COMPLETED},
            "no band for G-a",
            id="primary-not-scored",
        ),
    ],
)
def test_goal_bands_refuse_ambiguous_goals(
    members: list[GoalMember], bands: dict[str, Band], message: str
) -> None:
    with pytest.raises(ValueError, match=message):
        goal_bands(members, bands)
