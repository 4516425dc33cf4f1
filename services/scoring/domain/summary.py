"""Programme summaries (§2): goals counted per band and per status, computed or official."""

from collections import Counter
from collections.abc import Iterable, Mapping
from dataclasses import dataclass

from services.scoring.domain.bands import (
    Band,
    GoalMember,
    count_by_band,
    primary_indicators,
    worse_band,
)
from services.scoring.domain.catalogue import Indicator
from services.scoring.domain.scorecard import ScoreCard
from services.scoring.domain.trajectory import TrajectoryStatus

# Best first, so the worse of two statuses has the larger index. No evidence at all ranks
# last, as a missing value makes the worst band (docs/scoring.md §7).
STATUS_ORDER: tuple[TrajectoryStatus, ...] = (
    TrajectoryStatus.COMPLETED,
    TrajectoryStatus.AHEAD,
    TrajectoryStatus.LIKELY,
    TrajectoryStatus.LOW,
    TrajectoryStatus.HARD,
    TrajectoryStatus.UNASSESSABLE,
    TrajectoryStatus.NO_DATA,
)


def worse_status(statuses: Iterable[TrajectoryStatus]) -> TrajectoryStatus:
    """The worst of some statuses; none at all is no data."""
    return max(statuses, key=STATUS_ORDER.index, default=TrajectoryStatus.NO_DATA)


def goal_primaries(indicators: Iterable[Indicator]) -> dict[str, Indicator]:
    """Goal -> the indicator that speaks for it; a goal without exactly one primary is left out."""
    by_code = {indicator.code: indicator for indicator in indicators}
    by_goal: dict[str, list[Indicator]] = {}
    for indicator in by_code.values():
        by_goal.setdefault(indicator.goal, []).append(indicator)
    # The replica may hold half a goal while the catalogue is still arriving: skip, never fail.
    members = [
        GoalMember(indicator.code, goal, indicator.primary)
        for goal, group in by_goal.items()
        if len(group) == 1 or sum(i.primary for i in group) == 1
        for indicator in group
    ]
    return {goal: by_code[code] for goal, code in sorted(primary_indicators(members).items())}


@dataclass(frozen=True, slots=True)
class Summary:
    """Goals counted per band and per status; `unassessed` goals have no official label."""

    goals: int
    bands: dict[Band, int]
    statuses: dict[TrajectoryStatus, int]
    unassessed: int = 0


def _count_statuses(statuses: Iterable[TrajectoryStatus]) -> dict[TrajectoryStatus, int]:
    counts = Counter(statuses)
    return {status: counts[status] for status in STATUS_ORDER}


def _scored_goals(
    indicators: Iterable[Indicator], cards: Mapping[tuple[str, str], ScoreCard]
) -> dict[str, tuple[Indicator, list[ScoreCard]]]:
    scored = {}
    for goal, indicator in goal_primaries(indicators).items():
        found = [
            cards[key]
            for scope in indicator.headline_scopes
            if (key := (indicator.code, scope)) in cards
        ]
        if found:  # no card: no target in force for the period, so not a goal of it
            scored[goal] = (indicator, found)
    return scored


def computed_summary(
    indicators: Iterable[Indicator], cards: Mapping[tuple[str, str], ScoreCard]
) -> Summary:
    """Goals by the band and status of their primary indicator, the worse of its groups."""
    scored = _scored_goals(indicators, cards)
    bands = {goal: worse_band(card.band for card in found) for goal, (_, found) in scored.items()}
    statuses = [worse_status(card.status for card in found) for _, found in scored.values()]
    return Summary(
        goals=len(scored), bands=count_by_band(bands), statuses=_count_statuses(statuses)
    )


def official_summary(
    indicators: Iterable[Indicator],
    cards: Mapping[tuple[str, str], ScoreCard],
    labels: Mapping[str, str],
) -> Summary:
    """The same goals by the official label of their primary indicator (indicator -> label).

    A label is a band or a status (`completed` is both) and is counted where it belongs.
    """
    scored = _scored_goals(indicators, cards)
    bands: dict[str, Band] = {}
    statuses: list[TrajectoryStatus] = []
    unassessed = 0
    for goal, (indicator, _) in scored.items():
        label = labels.get(indicator.code)
        known = False
        if label in set(Band):
            bands[goal] = Band(label)
            known = True
        if label in set(TrajectoryStatus):
            statuses.append(TrajectoryStatus(label))
            known = True
        unassessed += not known
    return Summary(
        goals=len(scored),
        bands=count_by_band(bands),
        statuses=_count_statuses(statuses),
        unassessed=unassessed,
    )
