"""§6 attainment, pillar scores, agency index and rankings."""

import math

import pytest

from services.scoring.domain.index import (
    RankedAgency,
    agency_index,
    attainment,
    pillar_score,
    rank_agencies,
)
from services.scoring.domain.targets import Comparator, Direction, ObservedValue, Target

UP, DOWN = Direction.INCREASE, Direction.DECREASE


@pytest.mark.parametrize(
    ("value", "op", "goal", "direction", "expected"),
    [
        pytest.param(None, "=", 100, UP, 0.0, id="not-reported"),
        pytest.param(True, "=", 100, UP, 1.0, id="boolean-true"),
        pytest.param(False, "=", 100, UP, 0.0, id="boolean-false"),
        pytest.param(52.3, "=", 100, UP, 0.523, id="progress"),
        pytest.param(120.0, "=", 100, UP, 1.0, id="clamped-at-one"),
        pytest.param(-5.0, "=", 100, UP, 0.0, id="clamped-at-zero"),
        pytest.param(40.0, "<=", 20, DOWN, 0.5, id="decrease"),
        pytest.param(0.0, "<=", 20, DOWN, 1.0, id="decrease-zero-value"),
        pytest.param(3.0, ">", 0, UP, 1.0, id="zero-target-met"),
        pytest.param(0.0, ">", 0, UP, 0.0, id="zero-target-unmet"),
    ],
)
def test_attainment(
    value: ObservedValue | None, op: str, goal: float, direction: Direction, expected: float
) -> None:
    target = Target(year=2023, op=Comparator(op), value=goal)
    assert attainment(value, target, direction=direction) == pytest.approx(expected)


@pytest.mark.parametrize(
    ("attainments", "weights", "expected"),
    [
        pytest.param({"a": 1.0, "b": 0.5, "c": 0.0}, None, 0.5, id="equal-weights"),
        pytest.param({"a": 1.0, "b": 0.0}, {"a": 3, "b": 1}, 0.75, id="weighted"),
        pytest.param({"a": 1.0}, {"a": 2, "unused": 5}, 1.0, id="extra-weights-ignored"),
        pytest.param({}, None, None, id="nothing-to-score"),
    ],
)
def test_pillar_score(
    attainments: dict[str, float], weights: dict[str, float] | None, expected: float | None
) -> None:
    assert pillar_score(attainments, weights=weights) == expected


@pytest.mark.parametrize(
    ("weights", "message"),
    [
        pytest.param({"a": 1}, "no weight for b", id="missing-weight"),
        pytest.param({"a": 1, "b": -1}, "negative", id="negative-weight"),
        pytest.param({"a": 0, "b": 0}, "sum to zero", id="zero-weights"),
    ],
)
def test_pillar_score_refuses_bad_weights(weights: dict[str, float], message: str) -> None:
    with pytest.raises(ValueError, match=message):
        pillar_score({"a": 1.0, "b": 0.5}, weights=weights)


SIX_PILLARS = dict.fromkeys(
    ["data", "gov", "economy", "society", "security", "institutions"], 1 / 6
)


@pytest.mark.parametrize(
    ("pillars", "weights", "expected"),
    [
        pytest.param({"data": 0.8, "gov": 0.4}, None, 0.6, id="equal-over-reported-pillars"),
        pytest.param({"data": 0.8, "gov": 0.4}, {"data": 3, "gov": 1}, 0.7, id="weighted"),
        # 1/6 each over the two reported pillars rescales to 1/2 each: still in [0, 1].
        pytest.param({"data": 1.0, "gov": 1.0}, SIX_PILLARS, 1.0, id="rescaled-to-reported"),
        pytest.param({}, None, None, id="no-pillars"),
    ],
)
def test_agency_index(
    pillars: dict[str, float], weights: dict[str, float] | None, expected: float | None
) -> None:
    result = agency_index(pillars, weights=weights)
    assert result == (None if expected is None else pytest.approx(expected))


@pytest.mark.parametrize(
    ("scores", "ranks"),
    [
        pytest.param({"P01": 0.9, "P02": 0.8, "P04": 0.8, "P06": 0.5}, [1, 2, 2, 4], id="1-2-2-4"),
        pytest.param({"P01": 0.7, "P02": 0.7, "P04": 0.7}, [1, 1, 1], id="all-tied"),
        pytest.param({"P06": 0.1, "P01": 0.2}, [1, 2], id="no-ties"),
        pytest.param({}, [], id="empty-group"),
    ],
)
def test_competition_ranking(scores: dict[str, float], ranks: list[int]) -> None:
    assert [entry.rank for entry in rank_agencies(scores)] == ranks


def test_ties_are_listed_by_agency_code() -> None:
    ranking = rank_agencies({"P04": 0.8, "P02": 0.8, "P01": 0.9, "BTTTT": 0.8})
    assert [entry.agency for entry in ranking] == ["P01", "BTTTT", "P02", "P04"]


def test_floating_point_noise_does_not_split_a_tie() -> None:
    ranking = rank_agencies({"P01": 0.1 + 0.2, "P02": 0.3})
    assert [entry.rank for entry in ranking] == [1, 1]


def test_ranking_carries_previous_rank_and_change() -> None:
    ranking = rank_agencies(
        {"P01": 0.9, "P02": 0.8, "P04": 0.7}, previous_ranks={"P01": 3, "P02": 2}
    )
    assert ranking == [
        RankedAgency(rank=1, agency="P01", score=0.9, previous_rank=3, change=2),
        RankedAgency(rank=2, agency="P02", score=0.8, previous_rank=2, change=0),
        RankedAgency(rank=3, agency="P04", score=0.7, previous_rank=None, change=None),
    ]


@pytest.mark.parametrize("bad", [math.nan, math.inf], ids=["nan", "inf"])
def test_ranking_refuses_non_finite_scores(bad: float) -> None:
    with pytest.raises(ValueError, match="finite"):
        rank_agencies({"P01": bad})
