"""Composite index and rankings (SCORING.md §6, in the spirit of the ministry's DTI)."""

import math
from collections.abc import Mapping
from dataclasses import dataclass

from services.scoring.domain.targets import Direction, ObservedValue, Target, progress

# Scores equal to this many decimals share a rank: sums taken in a different order must not
# split a tie that the published table would show.
TIE_DECIMALS = 9


def attainment(value: ObservedValue | None, target: Target, *, direction: Direction) -> float:
    """One agency on one indicator: boolean 1/0, else clamp(progress, 0, 1); unreported 0."""
    if value is None:
        return 0.0
    if isinstance(value, bool):
        return 1.0 if value else 0.0
    return min(max(progress(value, target, direction=direction), 0.0), 1.0)


def _weighted_mean(
    scores: Mapping[str, float], weights: Mapping[str, float] | None
) -> float | None:
    if not scores:
        return None
    if weights is None:
        return math.fsum(scores.values()) / len(scores)
    unweighted = sorted(set(scores) - set(weights))
    if unweighted:
        raise ValueError(f"no weight for {', '.join(unweighted)}")
    if any(weights[name] < 0 for name in scores):
        raise ValueError("weights cannot be negative")
    total = math.fsum(weights[name] for name in scores)
    if total == 0:
        raise ValueError("weights of the scored items sum to zero")
    return math.fsum(weights[name] * score for name, score in scores.items()) / total


def pillar_score(
    attainments: Mapping[str, float], *, weights: Mapping[str, float] | None = None
) -> float | None:
    """Weighted mean of indicator attainments in one pillar (equal weights by default)."""
    return _weighted_mean(attainments, weights)


def agency_index(
    pillar_scores: Mapping[str, float], *, weights: Mapping[str, float] | None = None
) -> float | None:
    """Σ pillar weight × pillar score over the pillars the agency reports, weights rescaled to 1."""
    # Rescaling keeps the index in [0, 1] when an agency reports only some pillars.
    return _weighted_mean(pillar_scores, weights)


@dataclass(frozen=True, slots=True)
class RankedAgency:
    """One line of a ranking; `change` > 0 means the agency moved up."""

    rank: int
    agency: str
    score: float
    previous_rank: int | None = None
    change: int | None = None


def rank_agencies(
    scores: Mapping[str, float], *, previous_ranks: Mapping[str, int] | None = None
) -> list[RankedAgency]:
    """Competition ranking (1, 2, 2, 4) of one group's agencies, ties listed by agency code."""
    if any(not math.isfinite(score) for score in scores.values()):
        raise ValueError("scores must be finite numbers")
    previous = previous_ranks or {}
    ordered = sorted(scores.items(), key=lambda item: (-round(item[1], TIE_DECIMALS), item[0]))
    ranking: list[RankedAgency] = []
    for position, (agency, score) in enumerate(ordered, start=1):
        tied = ranking and round(ranking[-1].score, TIE_DECIMALS) == round(score, TIE_DECIMALS)
        rank = ranking[-1].rank if tied else position
        before = previous.get(agency)
        ranking.append(
            RankedAgency(
                rank=rank,
                agency=agency,
                score=score,
                previous_rank=before,
                change=None if before is None else before - rank,
            )
        )
    return ranking
