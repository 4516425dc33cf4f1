"""Trajectory status (SCORING.md §3): will the target be met by its deadline?

Time runs in decimal years, each observation placed at the END of its period (2023-S1 and
2023-Q2 and 2023-06 -> 2023.5, 2023 -> 2024.0), and a target for year Y is due at Y + 1.0.
Observations carry their period string; `Observation.time` does the conversion.
"""

import math
import re
import statistics
from collections.abc import Sequence
from dataclasses import dataclass, replace
from enum import StrEnum

from services.scoring.domain.targets import Direction, Target, meets_target

_PERIOD = re.compile(r"(\d{4})(?:-(?:S([12])|Q([1-4])|(0[1-9]|1[0-2])))?")

# Figures outside these ranges cannot occur, so a projection past them is cut back.
NATURAL_RANGES: dict[str, tuple[float, float]] = {
    "percent": (0.0, 100.0),
    "number": (0.0, math.inf),
}

AHEAD_MARGIN_YEARS = 1.0
LIKELY_FROM = 0.95
LOW_FROM = 0.6


def _end_of_period(period: str) -> float:
    match = _PERIOD.fullmatch(period)
    if match is None:
        raise ValueError(f"not a period: {period!r} (expected 2023, 2023-S1, 2023-Q2 or 2023-06)")
    half, quarter, month = match[2], match[3], match[4]
    if half:
        months = 6 * int(half)
    elif quarter:
        months = 3 * int(quarter)
    elif month:
        months = int(month)
    else:
        months = 12
    return int(match[1]) + months / 12


@dataclass(frozen=True, slots=True)
class Observation:
    """A value of one indicator for one scope in one period (e.g. '2023-S1')."""

    period: str
    value: float

    def __post_init__(self) -> None:
        _end_of_period(self.period)  # reject a bad period when it is made, not when it is fitted

    @property
    def time(self) -> float:
        """The end of the period as a decimal year."""
        return _end_of_period(self.period)


class TrajectoryStatus(StrEnum):
    """The committee's likelihood labels (GLOSSARY.md)."""

    COMPLETED = "completed"
    AHEAD = "ahead"
    LIKELY = "likely"
    LOW = "low"
    HARD = "hard"
    UNASSESSABLE = "unassessable"
    # Not one observation: nothing to assess (not the committee's "hard to assess").
    NO_DATA = "no_data"


class TrajectoryReason(StrEnum):
    """Which rule decided the status, so an explanation can say why."""

    MET = "met"
    NO_DATA = "no_data"
    TOO_FEW_OBSERVATIONS = "too_few_observations"
    BOOLEAN = "boolean"
    DEADLINE_PASSED = "deadline_passed"
    BASELINE_AT_TARGET = "baseline_at_target"
    FLAT = "flat"
    PROJECTED = "projected"


@dataclass(frozen=True, slots=True)
class Trajectory:
    """The outcome of §3: status, r, the projected value and why."""

    status: TrajectoryStatus
    reason: TrajectoryReason
    deadline: float
    r: float | None = None
    projected: float | None = None
    regressing: bool = False
    latest: float | None = None
    baseline: float | None = None


def _clamp(value: float, unit: str) -> float:
    low, high = NATURAL_RANGES.get(unit, (-math.inf, math.inf))
    return min(max(value, low), high)


def _worse(value: float, than: float, direction: Direction) -> bool:
    return value < than if direction is Direction.INCREASE else value > than


def _status_from_r(r: float, *, reaches_early: bool) -> TrajectoryStatus:
    if r >= 1 and reaches_early:
        return TrajectoryStatus.AHEAD
    if r >= LIKELY_FROM:
        return TrajectoryStatus.LIKELY
    if r >= LOW_FROM:
        return TrajectoryStatus.LOW
    return TrajectoryStatus.HARD


def _ratio(reached: float, *, baseline: float, target: Target) -> float:
    # Rounded so that floating-point noise from the fit cannot flip a threshold.
    return round((reached - baseline) / (target.value - baseline), 9)


def assess_trajectory(
    observations: Sequence[Observation],
    *,
    target: Target,
    direction: Direction,
    unit: str = "percent",
) -> Trajectory:
    """Status of one indicator's series against one target (§3)."""
    deadline = target.year + 1.0
    series = sorted(observations, key=lambda observation: observation.time)
    if not series:
        return Trajectory(TrajectoryStatus.NO_DATA, TrajectoryReason.NO_DATA, deadline)
    latest, baseline = series[-1].value, series[0].value
    # Starts as "too few observations"; each rule below replaces what it decides.
    outcome = Trajectory(
        TrajectoryStatus.UNASSESSABLE,
        TrajectoryReason.TOO_FEW_OBSERVATIONS,
        deadline,
        latest=latest,
        baseline=baseline,
    )
    if meets_target(latest, target, direction=direction):
        return replace(outcome, status=TrajectoryStatus.COMPLETED, reason=TrajectoryReason.MET)
    if any(isinstance(observation.value, bool) for observation in series):
        # A yes/no series has no slope; until it says yes nothing can be projected.
        return replace(outcome, reason=TrajectoryReason.BOOLEAN)
    # How far the baseline is from the target, positive when there is ground to cover.
    gap = target.value - baseline if direction is Direction.INCREASE else baseline - target.value
    if series[-1].time >= deadline:
        # The deadline has come and gone unmet: the latest value is final, not a projection.
        return replace(
            outcome,
            status=TrajectoryStatus.HARD,
            reason=TrajectoryReason.DEADLINE_PASSED,
            r=_ratio(latest, baseline=baseline, target=target) if gap > 0 else None,
            projected=latest,
            regressing=_worse(latest, baseline, direction),
        )
    times = [observation.time for observation in series]
    if len(set(times)) < 2:
        return outcome
    values = [observation.value for observation in series]
    slope = statistics.linear_regression(times, values).slope
    mean_time, mean_value = statistics.fmean(times), statistics.fmean(values)

    def line(at: float) -> float:
        # Centred on the mean time (years near 2023 would swamp the intercept), and rounded so
        # that floating-point noise from the fit cannot flip a comparison.
        return _clamp(round(mean_value + slope * (at - mean_time), 9), unit)

    projected = line(deadline)
    if gap <= 0:
        # Baseline at or past the target: r would divide by zero or flip sign, so only ask
        # whether the line still meets the target at the deadline.
        met = meets_target(projected, target, direction=direction)
        return replace(
            outcome,
            status=TrajectoryStatus.LIKELY if met else TrajectoryStatus.HARD,
            reason=TrajectoryReason.BASELINE_AT_TARGET,
            projected=projected,
            regressing=_worse(projected, baseline, direction),
        )
    r = _ratio(projected, baseline=baseline, target=target)
    early = line(deadline - AHEAD_MARGIN_YEARS)
    return replace(
        outcome,
        status=_status_from_r(r, reaches_early=meets_target(early, target, direction=direction)),
        # A flat line still gets its r (0 if it never left the baseline); only the wording differs.
        reason=TrajectoryReason.FLAT if slope == 0 else TrajectoryReason.PROJECTED,
        r=r,
        projected=projected,
        regressing=r < 0,
    )
