"""§3 trajectory status: completed, unassessable, least-squares projection, r thresholds."""

from dataclasses import KW_ONLY, dataclass

import pytest

from services.scoring.domain.targets import Comparator, Direction, Target
from services.scoring.domain.trajectory import (
    Observation,
    TrajectoryReason,
    TrajectoryStatus,
    assess_trajectory,
)

UP, DOWN = Direction.INCREASE, Direction.DECREASE
S = TrajectoryStatus
R = TrajectoryReason


@pytest.mark.parametrize(
    ("period", "time"),
    [
        pytest.param("2023", 2024.0, id="year-ends-next-january"),
        pytest.param("2023-S1", 2023.5, id="first-half"),
        pytest.param("2023-S2", 2024.0, id="second-half"),
        pytest.param("2023-Q1", 2023.25, id="q1"),
        pytest.param("2023-Q2", 2023.5, id="q2"),
        pytest.param("2023-Q4", 2024.0, id="q4"),
        pytest.param("2023-06", 2023.5, id="june"),
        pytest.param("2023-01", 2023 + 1 / 12, id="january"),
        pytest.param("2023-12", 2024.0, id="december"),
    ],
)
def test_observation_time_is_the_end_of_its_period(period: str, time: float) -> None:
    assert Observation(period, 1.0).time == pytest.approx(time)


@pytest.mark.parametrize(
    "period", ["2023-S3", "2023-Q5", "2023-13", "2023-00", "23", "2023-H1", "", "2023-6"]
)
def test_observation_rejects_unknown_periods(period: str) -> None:
    with pytest.raises(ValueError, match="not a period"):
        Observation(period, 1.0)


@dataclass(frozen=True)
class Case:
    series: list[tuple[str, float]]
    op: str
    goal: float
    status: TrajectoryStatus
    reason: TrajectoryReason
    _: KW_ONLY
    r: float | None = None
    projected: float | None = None
    regressing: bool = False
    year: int = 2025
    direction: Direction = UP
    unit: str = "percent"


TOO_FEW = R.TOO_FEW_OBSERVATIONS
AT_TARGET = R.BASELINE_AT_TARGET


def two(first: float, second: float) -> list[tuple[str, float]]:
    """A yearly pair: 2022 (at 2023.0) and 2023 (at 2024.0)."""
    return [("2022", first), ("2023", second)]


# Periods '2022' and '2023' sit at 2023.0 and 2024.0; a 2025 target is due at 2026.0, so a
# two-point line is projected two years past its last point.
CASES = [
    pytest.param(Case([], ">=", 80, S.NO_DATA, R.NO_DATA), id="no-data"),
    pytest.param(Case([("2023", 60)], ">=", 80, S.UNASSESSABLE, TOO_FEW), id="one-point"),
    pytest.param(
        Case([("2023-S2", 60), ("2023", 70)], ">=", 80, S.UNASSESSABLE, TOO_FEW),
        id="two-points-same-time",
    ),
    pytest.param(Case([("2023", 85)], ">=", 80, S.COMPLETED, R.MET), id="one-point-already-met"),
    pytest.param(Case(two(40, 85), ">=", 80, S.COMPLETED, R.MET), id="latest-meets"),
    # 40 -> 60: slope 20/yr; at 2026: 100, r = (100-40)/(80-40) = 1.5; at 2025: 80 meets -> ahead.
    pytest.param(
        Case(two(40, 60), ">=", 80, S.AHEAD, R.PROJECTED, r=1.5, projected=100),
        id="ahead",
    ),
    # 40 -> 55: at 2026: 85, r = 45/40 = 1.125 but at 2025 only 70 -> likely, not ahead.
    pytest.param(
        Case(two(40, 55), ">=", 80, S.LIKELY, R.PROJECTED, r=1.125, projected=85),
        id="r-over-1-but-late-is-likely",
    ),
    # 40 -> 53: at 2026: 79, r = 39/40 = 0.975.
    pytest.param(
        Case(two(40, 53), ">=", 80, S.LIKELY, R.PROJECTED, r=0.975, projected=79),
        id="likely",
    ),
    # From 0 at 2024.0 and v at 2025.0 the 2026 projection is 2v, so r = 2v / 100.
    pytest.param(
        Case([("2023", 0), ("2024", 47.5)], "=", 100, S.LIKELY, R.PROJECTED, r=0.95, projected=95),
        id="r-exactly-0.95-is-likely",
    ),
    pytest.param(
        Case([("2023", 0), ("2024", 47)], "=", 100, S.LOW, R.PROJECTED, r=0.94, projected=94),
        id="r-just-under-0.95-is-low",
    ),
    pytest.param(
        Case([("2023", 0), ("2024", 30)], "=", 100, S.LOW, R.PROJECTED, r=0.6, projected=60),
        id="r-exactly-0.6-is-low",
    ),
    pytest.param(
        Case([("2023", 0), ("2024", 29.5)], "=", 100, S.HARD, R.PROJECTED, r=0.59, projected=59),
        id="r-just-under-0.6-is-hard",
    ),
    # 60 -> 50: at 2026: 30, r = (30-60)/(80-60) = -1.5.
    pytest.param(
        Case(two(60, 50), ">=", 80, S.HARD, R.PROJECTED, r=-1.5, projected=30, regressing=True),
        id="regressing",
    ),
    # 60 -> 20: at 2026: -60, clamped to 0; r = (0-60)/20 = -3.
    pytest.param(
        Case(two(60, 20), ">=", 80, S.HARD, R.PROJECTED, r=-3, projected=0, regressing=True),
        id="clamped-at-zero",
    ),
    # 40 -> 90: at 2026: 190, clamped to 100; r = 60/60 = 1; at 2025: 140 -> 100 meets.
    pytest.param(
        Case(two(40, 90), "=", 100, S.AHEAD, R.PROJECTED, r=1, projected=100),
        id="clamped-at-hundred",
    ),
    # Same series counted in units: nothing caps 190, r = 150/60 = 2.5.
    pytest.param(
        Case(two(40, 90), "=", 100, S.AHEAD, R.PROJECTED, r=2.5, projected=190, unit="number"),
        id="number-has-no-ceiling",
    ),
    # Decreasing 20 -> 10: at 2026: -10, floored at 0; r = (0-20)/(5-20) = 4/3.
    pytest.param(
        Case(
            two(20, 10),
            "<",
            5,
            S.AHEAD,
            R.PROJECTED,
            r=4 / 3,
            projected=0,
            direction=DOWN,
            unit="number",
        ),
        id="number-has-a-floor",
    ),
    pytest.param(
        Case(
            two(20, 10),
            "<",
            5,
            S.AHEAD,
            R.PROJECTED,
            r=2,
            projected=-10,
            direction=DOWN,
            unit="score",
        ),
        id="unknown-unit-unclamped",
    ),
    # Decreasing 50 -> 40: at 2026: 20, r = (20-50)/(20-50) = 1; at 2025: 30 > 20 -> likely.
    pytest.param(
        Case(two(50, 40), "<=", 20, S.LIKELY, R.PROJECTED, r=1, projected=20, direction=DOWN),
        id="decrease-likely",
    ),
    pytest.param(
        Case(two(50, 48), "<=", 20, S.HARD, R.PROJECTED, r=0.2, projected=44, direction=DOWN),
        id="decrease-hard",
    ),
    pytest.param(
        Case(
            two(50, 55),
            "<=",
            20,
            S.HARD,
            R.PROJECTED,
            r=-0.5,
            projected=65,
            regressing=True,
            direction=DOWN,
        ),
        id="decrease-regressing",
    ),
    pytest.param(
        Case(two(50, 15), "<=", 20, S.COMPLETED, R.MET, direction=DOWN),
        id="decrease-met",
    ),
    pytest.param(
        Case(
            [("2022", 52.3), ("2023-S1", 52.3), ("2023", 52.3)],
            ">=",
            80,
            S.HARD,
            R.FLAT,
            r=0,
            projected=52.3,
        ),
        id="flat-line",
    ),
    # Baseline already at the target: r has no denominator, only the projection counts.
    pytest.param(
        Case(two(100, 90), "=", 100, S.HARD, AT_TARGET, projected=70, regressing=True),
        id="baseline-at-target-slipping",
    ),
    pytest.param(
        Case(two(30, 30), ">", 30, S.HARD, AT_TARGET, projected=30),
        id="baseline-at-strict-target-flat",
    ),
    # 80, 60, 100, 79 at 2023.0..2024.5: slope 7.4, mean 79.75 -> at 2026: 96.4 meets >= 80.
    pytest.param(
        Case(
            [("2022", 80), ("2023-S1", 60), ("2023", 100), ("2024-S1", 79)],
            ">=",
            80,
            S.LIKELY,
            AT_TARGET,
            projected=96.4,
        ),
        id="baseline-past-target-recovering",
    ),
    # A 2023 target is due at 2024.0; a full-year 2023 figure closes it.
    pytest.param(
        Case(two(40, 70), ">=", 80, S.HARD, R.DEADLINE_PASSED, r=0.75, projected=70, year=2023),
        id="deadline-passed",
    ),
    pytest.param(
        Case([("2023", 70)], ">=", 80, S.HARD, R.DEADLINE_PASSED, r=0, projected=70, year=2023),
        id="deadline-passed-one-point",
    ),
    pytest.param(
        Case(two(40, 90), ">=", 80, S.COMPLETED, R.MET, year=2023),
        id="deadline-passed-but-met",
    ),
    # The half-year report's case, 2023-S1 against a 2023 target: 30 -> 52.3 in half a year,
    # slope 44.6/yr, at 2024.0: 74.6; r = (74.6-30)/(100-30) = 0.637.
    pytest.param(
        Case(
            [("2022-S2", 30), ("2023-S1", 52.3)],
            "=",
            100,
            S.LOW,
            R.PROJECTED,
            r=44.6 / 70,
            projected=74.6,
            year=2023,
        ),
        id="half-year-toward-year-end",
    ),
]


@pytest.mark.parametrize("case", CASES)
def test_assess_trajectory(case: Case) -> None:
    target = Target(year=case.year, op=Comparator(case.op), value=case.goal)
    observations = [Observation(period, value) for period, value in case.series]
    result = assess_trajectory(
        observations, target=target, direction=case.direction, unit=case.unit
    )
    assert (result.status, result.reason, result.regressing) == (
        case.status,
        case.reason,
        case.regressing,
    )
    assert result.r == (None if case.r is None else pytest.approx(case.r))
    if case.projected is not None:
        assert result.projected == pytest.approx(case.projected)
    assert result.deadline == case.year + 1.0


def test_order_of_observations_does_not_matter() -> None:
    target = Target(year=2025, op=Comparator.GE, value=80)
    series = [Observation("2023", 60), Observation("2021", 30), Observation("2022", 40)]
    shuffled = assess_trajectory(series, target=target, direction=UP)
    ordered = assess_trajectory(sorted(series, key=lambda o: o.time), target=target, direction=UP)
    assert shuffled == ordered
    assert (shuffled.baseline, shuffled.latest) == (30, 60)


@pytest.mark.parametrize(
    ("values", "status", "reason"),
    [
        pytest.param([False, False], S.UNASSESSABLE, R.BOOLEAN, id="not-yet"),
        pytest.param([False, True], S.COMPLETED, R.MET, id="done"),
    ],
)
def test_boolean_series(
    values: list[bool], status: TrajectoryStatus, reason: TrajectoryReason
) -> None:
    observations = [
        Observation(period, value) for period, value in zip(["2022", "2023"], values, strict=True)
    ]
    target = Target(year=2025, op=Comparator.EQ, value=100)
    result = assess_trajectory(observations, target=target, direction=UP)
    assert (result.status, result.reason, result.r) == (status, reason, None)
