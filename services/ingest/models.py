"""ORM models of the ingest service: the raw submissions and its replica of the catalogue."""

from datetime import date, datetime
from typing import Any

from sqlalchemy import (
    JSON,
    Boolean,
    Date,
    DateTime,
    Index,
    Integer,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column

from libs.common.db import ServiceBase, new_metadata
from libs.common.messaging import messaging_tables


class Base(ServiceBase):
    __abstract__ = True
    metadata = new_metadata()


MESSAGING = messaging_tables(Base.metadata)


class Submission(Base):
    """An agency's submission as received, with the verdict of the observation store."""

    __tablename__ = "submissions"
    __table_args__ = (
        UniqueConstraint("agency", "submission_id"),
        # Reconciliation's look for submissions still without a verdict (services.ingest.reconcile).
        Index("ix_submissions_status_received_at", "status", "received_at"),
    )

    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    agency: Mapped[str] = mapped_column(String(32), nullable=False)
    submission_id: Mapped[str] = mapped_column(String(200), nullable=False)
    digest: Mapped[str] = mapped_column(String(64), nullable=False)
    payload: Mapped[str] = mapped_column(Text, nullable=False)
    period: Mapped[str] = mapped_column(String(16), nullable=False)
    status: Mapped[str] = mapped_column(String(16), nullable=False)
    errors: Mapped[list[dict[str, Any]] | None] = mapped_column(JSON)
    received_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), nullable=False)
    stored_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    decided_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    late: Mapped[bool] = mapped_column(Boolean, nullable=False)
    source: Mapped[str] = mapped_column(String(16), nullable=False)


class IndicatorRef(Base):
    """What ingest needs of an indicator to validate values (from ``dx.catalogue.v1``)."""

    __tablename__ = "indicator_refs"

    code: Mapped[str] = mapped_column(String(64), primary_key=True)
    program: Mapped[str] = mapped_column(String(32), nullable=False)
    name_vi: Mapped[str] = mapped_column(Text, nullable=False)
    unit: Mapped[str] = mapped_column(String(32), nullable=False)
    value_type: Mapped[str] = mapped_column(String(32), nullable=False)
    frequency: Mapped[str] = mapped_column(String(16), nullable=False)
    due_days: Mapped[int] = mapped_column(Integer, nullable=False)
    reporters: Mapped[list[dict[str, Any]]] = mapped_column(JSON, nullable=False)
    updated_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), nullable=False)


class AgencyRef(Base):
    """What ingest needs of an agency: its name (files), validity and successor."""

    __tablename__ = "agency_refs"

    code: Mapped[str] = mapped_column(String(32), primary_key=True)
    name_vi: Mapped[str] = mapped_column(String(300), nullable=False)
    valid_from: Mapped[date | None] = mapped_column(Date)
    valid_to: Mapped[date | None] = mapped_column(Date)
    successor: Mapped[str | None] = mapped_column(String(32))
    updated_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), nullable=False)
