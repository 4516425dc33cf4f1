"""Targets and how a value meets them (SCORING.md §1), and progress towards them (§2)."""

from collections.abc import Iterable
from dataclasses import dataclass
from enum import StrEnum


class Direction(StrEnum):
    """Which way an indicator improves."""

    INCREASE = "increase"
    DECREASE = "decrease"


class Comparator(StrEnum):
    """How a value must compare with a target value ('=': the target value itself is the goal)."""

    EQ = "="
    GT = ">"
    GE = ">="
    LT = "<"
    LE = "<="


# The spec defines only these pairs; anything else is a catalogue error, not a rule to guess.
_ALLOWED: dict[Direction, frozenset[Comparator]] = {
    Direction.INCREASE: frozenset({Comparator.EQ, Comparator.GE, Comparator.GT}),
    Direction.DECREASE: frozenset({Comparator.EQ, Comparator.LE, Comparator.LT}),
}

ObservedValue = float | bool


@dataclass(frozen=True, slots=True)
class Target:
    """A target of an indicator: in `year`, the value must compare with `value` as `op` says."""

    year: int
    op: Comparator
    value: float


def meets_target(value: ObservedValue, target: Target, *, direction: Direction) -> bool:
    """Whether a value meets a target (§1); a boolean per-agency value is met when true."""
    if isinstance(value, bool):
        return value
    if target.op not in _ALLOWED[direction]:
        raise ValueError(f"op {target.op!r} makes no sense for a {direction} indicator")
    strict = target.op in (Comparator.GT, Comparator.LT)
    if direction is Direction.INCREASE:
        return value > target.value if strict else value >= target.value
    return value < target.value if strict else value <= target.value


def progress(value: ObservedValue, target: Target, *, direction: Direction) -> float:
    """Value / target (increase) or target / value (decrease), unclamped; booleans give 1 or 0."""
    if isinstance(value, bool):
        return 1.0 if value else 0.0
    if direction is Direction.INCREASE:
        numerator, denominator = value, target.value
    else:
        numerator, denominator = target.value, value
    # A ratio with a zero or negative denominator (or a negative numerator) says nothing about
    # how far along the agency is, so fall back to all-or-nothing on the target itself.
    if denominator <= 0 or numerator < 0:
        return 1.0 if meets_target(value, target, direction=direction) else 0.0
    return numerator / denominator


def target_for_year(targets: Iterable[Target], year: int) -> Target | None:
    """The target for `year`, else the next later one being worked towards; None when all passed."""
    upcoming = [target for target in targets if target.year >= year]
    return min(upcoming, key=lambda target: target.year, default=None)
