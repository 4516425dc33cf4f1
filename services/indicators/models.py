"""ORM models of the indicators service: master data and the observation store."""

from datetime import date, datetime
from typing import Any

from sqlalchemy import JSON, Boolean, Date, DateTime, Float, Index, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from libs.common.db import ServiceBase, new_metadata
from libs.common.messaging import messaging_tables


class Base(ServiceBase):
    __abstract__ = True
    metadata = new_metadata()


MESSAGING = messaging_tables(Base.metadata)


class AgencyRow(Base):
    """A central agency or province, with its validity and successor."""

    __tablename__ = "agencies"

    code: Mapped[str] = mapped_column(String(32), primary_key=True)
    name_vi: Mapped[str] = mapped_column(String(300), nullable=False)
    name_en: Mapped[str] = mapped_column(String(300), nullable=False)
    kind: Mapped[str] = mapped_column(String(32), nullable=False)
    groups: Mapped[list[str]] = mapped_column(JSON, nullable=False)
    contacts: Mapped[list[dict[str, Any]]] = mapped_column(JSON, nullable=False)
    parent: Mapped[str | None] = mapped_column(String(32))
    valid_from: Mapped[date | None] = mapped_column(Date)
    valid_to: Mapped[date | None] = mapped_column(Date)
    successor: Mapped[str | None] = mapped_column(String(32))
    updated_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), nullable=False)


class PopulationRow(Base):
    """A named set of agencies: explicit members or a group rule."""

    __tablename__ = "populations"

    name: Mapped[str] = mapped_column(String(64), primary_key=True)
    members: Mapped[list[str] | None] = mapped_column(JSON)
    rule: Mapped[str | None] = mapped_column(String(500))
    description: Mapped[str | None] = mapped_column(Text)
    updated_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), nullable=False)


class ProgramRow(Base):
    """A national programme and its pillars' labels."""

    __tablename__ = "programs"

    code: Mapped[str] = mapped_column(String(32), primary_key=True)
    name_vi: Mapped[str] = mapped_column(Text, nullable=False)
    name_en: Mapped[str] = mapped_column(Text, nullable=False)
    horizon: Mapped[int] = mapped_column(Integer, nullable=False)


class PillarRow(Base):
    __tablename__ = "pillars"

    code: Mapped[str] = mapped_column(String(32), primary_key=True)
    name_vi: Mapped[str] = mapped_column(String(200), nullable=False)
    name_en: Mapped[str] = mapped_column(String(200), nullable=False)


class IndicatorRow(Base):
    """An indicator's full definition (validated by the domain model) and its filter columns."""

    __tablename__ = "indicators"

    code: Mapped[str] = mapped_column(String(64), primary_key=True)
    program: Mapped[str] = mapped_column(String(32), nullable=False, index=True)
    pillar: Mapped[str] = mapped_column(String(32), nullable=False, index=True)
    definition: Mapped[dict[str, Any]] = mapped_column(JSON, nullable=False)
    updated_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), nullable=False)


class ObservationRow(Base):
    """One revision of a value: corrections add rows, nothing is overwritten.

    ``scope`` is ``agency`` for an agency's own value, or the scope of a figure published for
    the whole country or a group (``national``, ``central``, ``local``), recorded under the
    agency that published it.
    """

    __tablename__ = "observations"
    __table_args__ = (
        Index(
            "ix_observations_series",
            "indicator",
            "period",
            "scope",
            "agency",
            "revision",
            unique=True,
        ),
        Index("ix_observations_agency", "agency", "period"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    indicator: Mapped[str] = mapped_column(String(64), nullable=False)
    agency: Mapped[str] = mapped_column(String(32), nullable=False)
    scope: Mapped[str] = mapped_column(String(80), nullable=False)
    period: Mapped[str] = mapped_column(String(10), nullable=False)
    value_number: Mapped[float | None] = mapped_column(Float)
    value_bool: Mapped[bool | None] = mapped_column(Boolean)
    #: A ratio_of_sums value's parts (value_number is their ratio).
    numerator: Mapped[float | None] = mapped_column(Float)
    denominator: Mapped[float | None] = mapped_column(Float)
    revision: Mapped[int] = mapped_column(Integer, nullable=False)
    recorded_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), nullable=False)
    reported_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), nullable=False)
    late: Mapped[bool] = mapped_column(Boolean, nullable=False, default=False)
    submission: Mapped[str | None] = mapped_column(String(64))
    source: Mapped[str] = mapped_column(String(64), nullable=False)
    note: Mapped[str | None] = mapped_column(Text)

    @property
    def value(self) -> bool | float | None:
        """The value as submitted: a boolean or a number."""
        return self.value_bool if self.value_bool is not None else self.value_number
