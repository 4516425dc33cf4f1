"""§1 meeting a target, progress and the target in force for a year."""

import pytest

from services.scoring.domain.targets import (
    Comparator,
    Direction,
    ObservedValue,
    Target,
    meets_target,
    progress,
    target_for_year,
)

UP, DOWN = Direction.INCREASE, Direction.DECREASE


def target(op: str, value: float, year: int = 2023) -> Target:
    return Target(year=year, op=Comparator(op), value=value)


@pytest.mark.parametrize(
    ("value", "op", "goal", "direction", "met"),
    [
        pytest.param(100.0, "=", 100, UP, True, id="increase-eq-at-target"),
        pytest.param(101.0, "=", 100, UP, True, id="increase-eq-above-target"),
        pytest.param(99.9, "=", 100, UP, False, id="increase-eq-below-target"),
        pytest.param(80.0, ">=", 80, UP, True, id="increase-ge-at-target"),
        pytest.param(79.0, ">=", 80, UP, False, id="increase-ge-below"),
        pytest.param(30.0, ">", 30, UP, False, id="increase-gt-at-target-is-not-met"),
        pytest.param(30.1, ">", 30, UP, True, id="increase-gt-above"),
        pytest.param(20.0, "=", 20, DOWN, True, id="decrease-eq-at-target"),
        pytest.param(19.0, "=", 20, DOWN, True, id="decrease-eq-below-target"),
        pytest.param(21.0, "=", 20, DOWN, False, id="decrease-eq-above-target"),
        pytest.param(20.0, "<=", 20, DOWN, True, id="decrease-le-at-target"),
        pytest.param(20.0, "<", 20, DOWN, False, id="decrease-lt-at-target-is-not-met"),
        pytest.param(19.9, "<", 20, DOWN, True, id="decrease-lt-below"),
        pytest.param(0.0, "=", 0, UP, True, id="zero-target-zero-value"),
        pytest.param(True, "=", 100, UP, True, id="boolean-true-is-met"),
        pytest.param(False, "=", 100, UP, False, id="boolean-false-is-not-met"),
        pytest.param(True, "<", 5, DOWN, True, id="boolean-ignores-target"),
    ],
)
def test_meets_target(
    value: ObservedValue, op: str, goal: float, direction: Direction, met: bool
) -> None:
    assert meets_target(value, target(op, goal), direction=direction) is met


@pytest.mark.parametrize(
    ("op", "direction"),
    [
        pytest.param("<", UP, id="lt-on-increase"),
        pytest.param("<=", UP, id="le-on-increase"),
        pytest.param(">", DOWN, id="gt-on-decrease"),
        pytest.param(">=", DOWN, id="ge-on-decrease"),
    ],
)
def test_meets_target_rejects_op_against_direction(op: str, direction: Direction) -> None:
    with pytest.raises(ValueError, match="makes no sense"):
        meets_target(10.0, target(op, 20), direction=direction)


@pytest.mark.parametrize(
    ("value", "op", "goal", "direction", "expected"),
    [
        pytest.param(52.3, "=", 100, UP, 0.523, id="increase-value-over-target"),
        pytest.param(120.0, "=", 100, UP, 1.2, id="increase-exceeding-is-unclamped"),
        pytest.param(0.0, "=", 100, UP, 0.0, id="increase-zero-value"),
        pytest.param(40.0, "<=", 20, DOWN, 0.5, id="decrease-target-over-value"),
        pytest.param(10.0, "<=", 20, DOWN, 2.0, id="decrease-beating-target"),
        pytest.param(5.0, "<=", 0, DOWN, 0.0, id="decrease-zero-target"),
        pytest.param(0.0, "<=", 20, DOWN, 1.0, id="decrease-zero-value-meets"),
        pytest.param(0.0, "<", 0, DOWN, 0.0, id="decrease-zero-value-strict-unmet"),
        pytest.param(5.0, "=", 0, UP, 1.0, id="increase-zero-target-met"),
        pytest.param(0.0, ">", 0, UP, 0.0, id="increase-zero-target-unmet"),
        pytest.param(-5.0, "=", 100, UP, 0.0, id="increase-negative-value"),
        pytest.param(5.0, ">=", -10, UP, 1.0, id="increase-negative-target"),
        pytest.param(-1.0, "<=", 20, DOWN, 1.0, id="decrease-negative-value"),
        pytest.param(True, "=", 100, UP, 1.0, id="boolean-true"),
        pytest.param(False, "=", 100, UP, 0.0, id="boolean-false"),
    ],
)
def test_progress(
    value: ObservedValue, op: str, goal: float, direction: Direction, expected: float
) -> None:
    assert progress(value, target(op, goal), direction=direction) == pytest.approx(expected)


TARGETS = [target("=", 50, 2023), target("=", 100, 2025)]


@pytest.mark.parametrize(
    ("year", "expected"),
    [
        pytest.param(2023, TARGETS[0], id="exact-year"),
        pytest.param(2022, TARGETS[0], id="before-first-target-takes-next"),
        pytest.param(2024, TARGETS[1], id="between-takes-next-later"),
        pytest.param(2025, TARGETS[1], id="last-target"),
        pytest.param(2026, None, id="all-targets-passed"),
    ],
)
def test_target_for_year(year: int, expected: Target | None) -> None:
    assert target_for_year(reversed(TARGETS), year) == expected
