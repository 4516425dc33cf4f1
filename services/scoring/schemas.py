"""Pydantic models of the scoring API."""

from __future__ import annotations

from datetime import datetime
from typing import Literal

from pydantic import BaseModel, Field

from libs.common.db import aware
from services.scoring.domain.catalogue import Agency, Indicator
from services.scoring.domain.explain import Language
from services.scoring.domain.laggards import Laggard
from services.scoring.domain.scorecard import ScoreCard
from services.scoring.domain.standing import AgencyScore
from services.scoring.domain.summary import Summary
from services.scoring.models import AssessmentRow, RankingRow

# The committee's labels (domain/explain.py ASSESSMENT_LABELS): bands and trajectory statuses,
# but for "no_data", which says nothing was reported and is never an assessment one records.
AssessmentLabel = Literal[
    "completed", "ahead", "likely", "low", "hard", "unassessable", "over_half", "under_half"
]
Source = Literal["computed", "official"]
Group = Literal["local", "central"]


class TargetOut(BaseModel):
    """The target in force for the period: in `year`, value `op` `value`."""

    year: int
    op: str
    value: float


class OfficialOut(BaseModel):
    """The standing agency's own assessment, shown next to the computed one."""

    label: str
    note: str | None = None


class ScoreOut(BaseModel):
    """Where an indicator stands for a scope and period."""

    indicator: str
    goal: str
    scope: str
    period: str
    value: float | None = Field(description="The figure for the period; null if none")
    target: TargetOut
    progress: float | None = Field(description="value / target (target / value if decreasing)")
    band: str = Field(
        description="completed, over_half, under_half, or no_data when the period has no value "
        "(docs/scoring.md §2)"
    )
    status: str = Field(
        description="completed, ahead, likely, low, hard, unassessable, or no_data when there "
        "is no value at all (§3)"
    )
    projected: float | None = Field(None, description="The trend line's value at the deadline")
    official: OfficialOut | None = None
    explanation: str

    @classmethod
    def of(
        cls,
        indicator: Indicator,
        card: ScoreCard,
        official: AssessmentRow | None,
        language: Language,
    ) -> ScoreOut:
        """The score of `indicator` as the API shows it."""
        target = card.target
        return cls(
            indicator=card.indicator,
            goal=indicator.goal,
            scope=card.scope,
            period=card.period,
            value=card.value,
            target=TargetOut(year=target.year, op=target.op.value, value=target.value),
            progress=None if card.progress is None else round(card.progress, 4),
            band=card.band.value,
            status=card.status.value,
            projected=card.projected,
            official=None
            if official is None
            else OfficialOut.model_validate(official, from_attributes=True),
            explanation=card.explanation(language),
        )


class SummaryOut(BaseModel):
    """A programme's goals counted per band and per status."""

    program: str
    period: str
    source: Source
    goals: int
    bands: dict[str, int]
    statuses: dict[str, int]
    unassessed: int = Field(0, description="Goals without an official assessment (official)")

    @classmethod
    def of(cls, summary: Summary, *, program: str, period: str, source: Source) -> SummaryOut:
        """The summary as the API shows it."""
        return cls(
            program=program,
            period=period,
            source=source,
            goals=summary.goals,
            bands={band.value: n for band, n in summary.bands.items()},
            statuses={status.value: n for status, n in summary.statuses.items()},
            unassessed=summary.unassessed,
        )


class RankingOut(BaseModel):
    """One line of a group's ranking; `change` > 0 means the agency moved up."""

    rank: int | None = Field(
        description="Competition rank (1, 2, 2, 4); null for an agency that reported nothing "
        "the index counts: it is not ranked, and listed after every ranked agency (scoring.md §6)"
    )
    agency: str
    name_vi: str | None
    score: float
    reported: bool = Field(description="Whether the agency reported a figure the index counts")
    pillar_scores: dict[str, float]
    previous_rank: int | None = None
    change: int | None = None

    @classmethod
    def of(
        cls,
        row: RankingRow,
        *,
        agency: Agency | None,
        index: AgencyScore | None,
        previous_rank: int | None,
    ) -> RankingOut:
        """A stored rank with the agency's name, index and its rank in the period before."""
        reported = index is not None and index.reported
        rank = row.rank if reported else None
        return cls(
            rank=rank,
            agency=row.agency,
            name_vi=None if agency is None else agency.name_vi,
            score=row.score,
            reported=reported,
            pillar_scores={} if index is None else index.pillar_scores,
            previous_rank=previous_rank,
            change=None if previous_rank is None or rank is None else previous_rank - rank,
        )


class LaggardReasonOut(BaseModel):
    """One reason an agency lags, naming the indicator and the figure."""

    indicator: str
    kind: Literal["missing", "late", "off_track"]
    detail: str


class LaggardOut(BaseModel):
    """An agency with every reason it lags."""

    agency: str
    name_vi: str | None
    reasons: list[LaggardReasonOut]

    @classmethod
    def of(cls, laggard: Laggard, agency: Agency | None) -> LaggardOut:
        """A laggard as the API shows it."""
        return cls(
            agency=laggard.agency,
            name_vi=None if agency is None else agency.name_vi,
            reasons=[
                LaggardReasonOut(indicator=r.indicator, kind=r.kind.value, detail=r.detail)
                for r in laggard.reasons
            ],
        )


class AssessmentIn(BaseModel):
    """An official assessment as the standing agency records it."""

    label: AssessmentLabel
    note: str | None = Field(None, max_length=4000)


class AssessmentOut(BaseModel):
    """An official assessment of an indicator for a period."""

    indicator: str
    period: str
    label: str
    note: str | None
    author: str
    recorded_at: datetime

    @classmethod
    def of(cls, row: AssessmentRow) -> AssessmentOut:
        """A stored assessment."""
        return cls(
            indicator=row.indicator,
            period=row.period,
            label=row.label,
            note=row.note,
            author=row.author,
            recorded_at=aware(row.recorded_at),
        )
