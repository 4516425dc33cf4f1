"""The committee's half-year band (docs/scoring.md §2): completed, more or less than half done,
or no data at all (a band of its own, so that silence never reads as a weak figure)."""

from collections import Counter
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from enum import StrEnum

from services.scoring.domain.targets import (
    Direction,
    ObservedValue,
    Target,
    meets_target,
    progress,
)


class Band(StrEnum):
    """How far a goal is along in the committee's half-year rubric."""

    COMPLETED = "completed"
    OVER_HALF = "over_half"
    UNDER_HALF = "under_half"
    NO_DATA = "no_data"


# Best first, so the worse of two bands is the one with the larger index: a missing figure is
# at least as bad as the weakest one (a goal is never better off for not being reported).
_ORDER: tuple[Band, ...] = (Band.COMPLETED, Band.OVER_HALF, Band.UNDER_HALF, Band.NO_DATA)


def band_for(value: ObservedValue | None, target: Target, *, direction: Direction) -> Band:
    """The band of the latest value in the period; no value at all is its own band, no data."""
    if value is None:
        return Band.NO_DATA
    if meets_target(value, target, direction=direction):
        return Band.COMPLETED
    if progress(value, target, direction=direction) > 0.5:
        return Band.OVER_HALF
    return Band.UNDER_HALF


def worse_band(bands: Iterable[Band]) -> Band:
    """The worst of some bands; none at all is no data (nothing was published)."""
    return max(bands, key=_ORDER.index, default=Band.NO_DATA)


def group_band(
    values_by_group: Mapping[str, ObservedValue | None], *, target: Target, direction: Direction
) -> Band:
    """Band of a `by_group` indicator: the worse of its groups' bands (e.g. central, local)."""
    return worse_band(
        band_for(value, target, direction=direction) for value in values_by_group.values()
    )


@dataclass(frozen=True, slots=True)
class GoalMember:
    """An indicator as part of a goal; a goal without sub-indicators has one member, itself."""

    indicator: str
    goal: str
    primary: bool


def primary_indicators(members: Iterable[GoalMember]) -> dict[str, str]:
    """Goal code -> the indicator code that speaks for the goal."""
    by_goal: dict[str, list[GoalMember]] = {}
    for member in members:
        by_goal.setdefault(member.goal, []).append(member)
    chosen: dict[str, str] = {}
    for goal, goal_members in by_goal.items():
        if len(goal_members) == 1:
            # Catalogue entries without sub-indicators need not carry the flag.
            chosen[goal] = goal_members[0].indicator
            continue
        primaries = [member.indicator for member in goal_members if member.primary]
        if len(primaries) != 1:
            raise ValueError(f"goal {goal} needs one primary sub-indicator, has {primaries}")
        chosen[goal] = primaries[0]
    return chosen


def goal_bands(
    members: Iterable[GoalMember], indicator_bands: Mapping[str, Band]
) -> dict[str, Band]:
    """Goal code -> band, each goal taking the band of its primary sub-indicator."""
    bands: dict[str, Band] = {}
    for goal, indicator in primary_indicators(members).items():
        if indicator not in indicator_bands:
            raise ValueError(f"no band for {indicator}, the primary indicator of goal {goal}")
        bands[goal] = indicator_bands[indicator]
    return bands


def count_by_band(bands_by_goal: Mapping[str, Band]) -> dict[Band, int]:
    """How many goals are in each band (every band present, zero included)."""
    counts = Counter(bands_by_goal.values())
    return {band: counts[band] for band in Band}
