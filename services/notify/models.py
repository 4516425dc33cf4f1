"""ORM models of the notify service: its replica of the catalogue and reports, and its mail."""

from datetime import date, datetime
from typing import Any

from sqlalchemy import (
    JSON,
    Boolean,
    Date,
    DateTime,
    ForeignKey,
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


class AgencyRow(Base):
    """An agency as the catalogue last published it: name and contacts."""

    __tablename__ = "agencies"

    code: Mapped[str] = mapped_column(String(32), primary_key=True)
    name_vi: Mapped[str] = mapped_column(String(300), nullable=False)
    kind: Mapped[str] = mapped_column(String(32), nullable=False)
    contacts: Mapped[list[dict[str, Any]]] = mapped_column(JSON, nullable=False)
    valid_from: Mapped[date | None] = mapped_column(Date)
    valid_to: Mapped[date | None] = mapped_column(Date)
    updated_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), nullable=False)


class IndicatorRow(Base):
    """An indicator's reporting regime and expected reporters, as last published."""

    __tablename__ = "indicators"

    code: Mapped[str] = mapped_column(String(64), primary_key=True)
    program: Mapped[str] = mapped_column(String(32), nullable=False, index=True)
    name_vi: Mapped[str] = mapped_column(Text, nullable=False)
    frequency: Mapped[str] = mapped_column(String(16), nullable=False)
    due_days: Mapped[int] = mapped_column(Integer, nullable=False)
    reporters: Mapped[list[dict[str, Any]]] = mapped_column(JSON, nullable=False)
    target_years: Mapped[list[int] | None] = mapped_column(JSON)
    updated_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), nullable=False)


class ReportRow(Base):
    """An agency's first stored value of an indicator for a period (corrections do not move it)."""

    __tablename__ = "reports"

    indicator: Mapped[str] = mapped_column(String(64), primary_key=True)
    period: Mapped[str] = mapped_column(String(10), primary_key=True)
    agency: Mapped[str] = mapped_column(String(32), primary_key=True)
    reported_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), nullable=False)
    late: Mapped[bool] = mapped_column(Boolean, nullable=False)


class StatusRow(Base):
    """An indicator's latest progress status for a scope and period (from scoring)."""

    __tablename__ = "statuses"

    indicator: Mapped[str] = mapped_column(String(64), primary_key=True)
    period: Mapped[str] = mapped_column(String(10), primary_key=True)
    scope: Mapped[str] = mapped_column(String(80), primary_key=True)
    band: Mapped[str] = mapped_column(String(32), nullable=False)
    status: Mapped[str] = mapped_column(String(32), nullable=False)
    computed_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), nullable=False)


class MessageRow(Base):
    """An outgoing e-mail and its delivery: queued, retrying, sent or dead."""

    __tablename__ = "messages"
    __table_args__ = (
        Index("ix_messages_pending", "status", "next_attempt_at"),
        Index("ix_messages_agency", "agency", "created_at"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    agency: Mapped[str] = mapped_column(String(32), nullable=False)
    kind: Mapped[str] = mapped_column(String(16), nullable=False)
    period: Mapped[str] = mapped_column(String(10), nullable=False)
    indicators: Mapped[list[str]] = mapped_column(JSON, nullable=False)
    to_addrs: Mapped[list[dict[str, Any]]] = mapped_column(JSON, nullable=False)
    cc_addrs: Mapped[list[dict[str, Any]]] = mapped_column(JSON, nullable=False)
    subject: Mapped[str] = mapped_column(Text, nullable=False)
    body_text: Mapped[str] = mapped_column(Text, nullable=False)
    body_html: Mapped[str] = mapped_column(Text, nullable=False)
    message_id: Mapped[str] = mapped_column(String(250), nullable=False, unique=True)
    status: Mapped[str] = mapped_column(String(16), nullable=False)
    attempts: Mapped[int] = mapped_column(Integer, nullable=False, default=0)
    next_attempt_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), nullable=False)
    last_error: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), nullable=False)
    sent_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))


class ReminderKeyRow(Base):
    """The idempotency key of one letter item; its unique constraint is what forbids resending."""

    __tablename__ = "reminder_keys"
    __table_args__ = (
        UniqueConstraint("agency", "indicator", "period", "stage", name="uq_reminder_keys_item"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    agency: Mapped[str] = mapped_column(String(32), nullable=False)
    indicator: Mapped[str] = mapped_column(String(64), nullable=False)
    period: Mapped[str] = mapped_column(String(10), nullable=False)
    stage: Mapped[str] = mapped_column(String(16), nullable=False)
    message: Mapped[int] = mapped_column(ForeignKey("messages.id"), nullable=False, index=True)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), nullable=False)


class JobStateRow(Base):
    """A scheduled job's last fire handled and last success, shared by every replica."""

    __tablename__ = "job_state"

    job: Mapped[str] = mapped_column(String(32), primary_key=True)
    last_fire_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), nullable=False)
    last_success_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
