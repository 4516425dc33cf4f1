"""ORM models of the scoring service: its replica of the catalogue and figures, and its scores."""

from collections.abc import Mapping
from datetime import date, datetime
from typing import Any

from sqlalchemy import JSON, Boolean, Date, DateTime, Float, Index, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from libs.common.db import ServiceBase, new_metadata
from libs.common.messaging import messaging_tables
from services.scoring.domain.bands import Band
from services.scoring.domain.scorecard import ScoreCard
from services.scoring.domain.targets import Comparator, Target
from services.scoring.domain.trajectory import TrajectoryStatus


class Base(ServiceBase):
    __abstract__ = True
    metadata = new_metadata()


MESSAGING = messaging_tables(Base.metadata)

CODE, PERIOD, SCOPE = String(64), String(10), String(120)


class IndicatorRow(Base):
    """An indicator as the catalogue last published it."""

    __tablename__ = "indicators"

    code: Mapped[str] = mapped_column(CODE, primary_key=True)
    program: Mapped[str] = mapped_column(String(32), nullable=False, index=True)
    goal: Mapped[str] = mapped_column(CODE, nullable=False)
    primary: Mapped[bool] = mapped_column(Boolean, nullable=False)
    pillar: Mapped[str] = mapped_column(String(32), nullable=False)
    name_vi: Mapped[str] = mapped_column(Text, nullable=False)
    name_en: Mapped[str | None] = mapped_column(Text)
    unit: Mapped[str] = mapped_column(String(32), nullable=False)
    direction: Mapped[str] = mapped_column(String(16), nullable=False)
    value_type: Mapped[str] = mapped_column(String(32), nullable=False)
    aggregation: Mapped[str] = mapped_column(String(32), nullable=False)
    population: Mapped[str | None] = mapped_column(String(120))
    targets: Mapped[list[dict[str, Any]]] = mapped_column(JSON, nullable=False)
    frequency: Mapped[str] = mapped_column(String(16), nullable=False)
    due_days: Mapped[int] = mapped_column(Integer, nullable=False)
    weight: Mapped[float] = mapped_column(Float, nullable=False)
    reporters: Mapped[list[dict[str, Any]]] = mapped_column(JSON, nullable=False)
    official_assessment: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    updated_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), nullable=False)


class AgencyRow(Base):
    """An agency as the catalogue last published it: kind, groups and validity."""

    __tablename__ = "agencies"

    code: Mapped[str] = mapped_column(String(32), primary_key=True)
    name_vi: Mapped[str] = mapped_column(String(300), nullable=False)
    name_en: Mapped[str | None] = mapped_column(String(300))
    kind: Mapped[str] = mapped_column(String(32), nullable=False)
    groups: Mapped[list[str]] = mapped_column(JSON, nullable=False)
    valid_from: Mapped[date | None] = mapped_column(Date)
    valid_to: Mapped[date | None] = mapped_column(Date)
    successor: Mapped[str | None] = mapped_column(String(32))
    updated_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), nullable=False)


class AgencyValueRow(Base):
    """An agency's latest value of an indicator for a period, and when it first reported it."""

    __tablename__ = "agency_values"
    __table_args__ = (Index("ix_agency_values_agency", "agency", "period"),)

    indicator: Mapped[str] = mapped_column(CODE, primary_key=True)
    agency: Mapped[str] = mapped_column(String(32), primary_key=True)
    period: Mapped[str] = mapped_column(PERIOD, primary_key=True)
    value_number: Mapped[float | None] = mapped_column(Float)
    value_bool: Mapped[bool | None] = mapped_column(Boolean)
    revision: Mapped[int] = mapped_column(Integer, nullable=False)
    # The first report decides timeliness: a later correction does not make it late.
    reported_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), nullable=False)
    late: Mapped[bool] = mapped_column(Boolean, nullable=False)
    recorded_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), nullable=False)

    @property
    def value(self) -> bool | float | None:
        """The value, whichever column holds it."""
        return self.value_bool if self.value_bool is not None else self.value_number


class AggregateRow(Base):
    """A national figure per scope and period, as the indicators service last computed it."""

    __tablename__ = "aggregates"

    indicator: Mapped[str] = mapped_column(CODE, primary_key=True)
    scope: Mapped[str] = mapped_column(SCOPE, primary_key=True)
    period: Mapped[str] = mapped_column(PERIOD, primary_key=True)
    value: Mapped[float | None] = mapped_column(Float)
    numerator: Mapped[float | None] = mapped_column(Float)
    denominator: Mapped[float | None] = mapped_column(Float)
    reported: Mapped[int | None] = mapped_column(Integer)
    expected: Mapped[int | None] = mapped_column(Integer)
    method: Mapped[str] = mapped_column(String(32), nullable=False)
    # Figures travel keyed by agency, so two may overtake each other: the newer one wins.
    recorded_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), nullable=False)


class AssessmentRow(Base):
    """The standing agency's official assessment of an indicator for a period."""

    __tablename__ = "assessments"

    indicator: Mapped[str] = mapped_column(CODE, primary_key=True)
    period: Mapped[str] = mapped_column(PERIOD, primary_key=True)
    label: Mapped[str] = mapped_column(String(32), nullable=False)
    note: Mapped[str | None] = mapped_column(Text)
    author: Mapped[str] = mapped_column(String(120), nullable=False)
    recorded_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), nullable=False)


# Score fields stored as the card holds them; the target, band and status need converting.
_CARD_FIELDS: tuple[str, ...] = ("indicator", "scope", "period", "value", "progress", "projected")
_CARD_FIELDS += ("explanation_vi", "explanation_en")


class ScoreRow(Base):
    """Snapshot of an indicator's score for a scope and period (one per published figure)."""

    __tablename__ = "scores"
    __table_args__ = (Index("ix_scores_period", "period", "indicator"),)

    indicator: Mapped[str] = mapped_column(CODE, primary_key=True)
    scope: Mapped[str] = mapped_column(SCOPE, primary_key=True)
    period: Mapped[str] = mapped_column(PERIOD, primary_key=True)
    value: Mapped[float | None] = mapped_column(Float)
    target_year: Mapped[int] = mapped_column(Integer, nullable=False)
    target_op: Mapped[str] = mapped_column(String(2), nullable=False)
    target_value: Mapped[float] = mapped_column(Float, nullable=False)
    progress: Mapped[float | None] = mapped_column(Float)
    band: Mapped[str] = mapped_column(String(16), nullable=False)
    status: Mapped[str] = mapped_column(String(16), nullable=False)
    projected: Mapped[float | None] = mapped_column(Float)
    explanation_vi: Mapped[str] = mapped_column(Text, nullable=False)
    explanation_en: Mapped[str] = mapped_column(Text, nullable=False)
    computed_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), nullable=False)


def score_card(fields: Mapping[str, Any]) -> ScoreCard:
    """A stored score from its fields."""
    return ScoreCard(
        **{name: fields[name] for name in _CARD_FIELDS},
        target=Target(
            fields["target_year"], Comparator(fields["target_op"]), fields["target_value"]
        ),
        band=Band(fields["band"]),
        status=TrajectoryStatus(fields["status"]),
    )


def score_fields(card: ScoreCard) -> dict[str, Any]:
    """The fields a score is stored as (when it was computed apart)."""
    return {name: getattr(card, name) for name in _CARD_FIELDS} | {
        "target_year": card.target.year,
        "target_op": card.target.op.value,
        "target_value": card.target.value,
        "band": card.band.value,
        "status": card.status.value,
    }


class AgencyIndexRow(Base):
    """Snapshot of an agency's composite index for a period."""

    __tablename__ = "agency_indices"
    __table_args__ = (Index("ix_agency_indices_period", "period"),)

    agency: Mapped[str] = mapped_column(String(32), primary_key=True)
    period: Mapped[str] = mapped_column(PERIOD, primary_key=True)
    score: Mapped[float] = mapped_column(Float, nullable=False)
    pillar_scores: Mapped[dict[str, float]] = mapped_column(JSON, nullable=False)
    attainments: Mapped[dict[str, float]] = mapped_column(JSON, nullable=False)
    computed_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), nullable=False)


class RankingRow(Base):
    """One agency's rank in its group for a period, by index (pillar '') or by one pillar."""

    __tablename__ = "rankings"

    group: Mapped[str] = mapped_column(String(16), primary_key=True)
    period: Mapped[str] = mapped_column(PERIOD, primary_key=True)
    pillar: Mapped[str] = mapped_column(String(32), primary_key=True)
    agency: Mapped[str] = mapped_column(String(32), primary_key=True)
    rank: Mapped[int] = mapped_column(Integer, nullable=False)
    score: Mapped[float] = mapped_column(Float, nullable=False)


class RescoreMark(Base):
    """Something scoring must score again, recorded with the change that moved it.

    ``kind`` says what: ``indicator`` or ``agency`` (a catalogue row changed: ``subject`` is its
    code), ``series`` (an indicator's figures for scope ``subject``), ``report`` (an agency's
    value for ``period``: ``subject`` is the agency), ``period`` (every index and ranking of the
    period) or ``ranking`` (the period's rankings only). Fields a kind does not use are ''.
    Marking again bumps ``generation``: the rescorer forgets a mark only at the generation it
    scored, in the transaction that stored the new scores.
    """

    __tablename__ = "rescore_marks"

    kind: Mapped[str] = mapped_column(String(16), primary_key=True)
    indicator: Mapped[str] = mapped_column(CODE, primary_key=True)
    subject: Mapped[str] = mapped_column(SCOPE, primary_key=True)
    period: Mapped[str] = mapped_column(PERIOD, primary_key=True)
    generation: Mapped[int] = mapped_column(Integer, nullable=False)
    marked_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), nullable=False)
