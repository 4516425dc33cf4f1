"""Pydantic models of the notify API."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from pydantic import BaseModel, Field

from libs.common.db import aware
from services.notify.domain.reminders import Letter, Skipped
from services.notify.models import MessageRow


class SentLetter(BaseModel):
    """A letter queued (or, in a dry run, that would be) for one agency."""

    id: int | None = Field(None, description="Delivery-log id; null in a dry run")
    agency: str
    to: list[str]
    cc: list[str] = Field(default_factory=list)
    indicators: list[str]
    stage: str = Field(description="reminder, overdue, escalation or progress")

    @classmethod
    def of(cls, letter: Letter, message_id: int | None) -> SentLetter:
        """The summary of a planned letter."""
        return cls(
            id=message_id,
            agency=letter.agency.code,
            to=[c.email for c in letter.to],
            cc=[c.email for c in letter.cc],
            indicators=letter.indicators,
            stage=letter.stage.value,
        )


class SkippedItem(BaseModel):
    """An item considered and not sent."""

    agency: str
    indicator: str
    stage: str
    reason: str = Field(description="already_sent, not_yet_due or no_contacts")

    @classmethod
    def of(cls, skipped: Skipped) -> SkippedItem:
        """The summary of a skipped item."""
        return cls(
            agency=skipped.agency,
            indicator=skipped.indicator,
            stage=skipped.stage.value,
            reason=skipped.reason.value,
        )


class ReminderRun(BaseModel):
    """What a job run sent (or would send) and what it left out."""

    period: str
    dry_run: bool
    sent: list[SentLetter]
    skipped: list[SkippedItem]


class DueReminders(BaseModel):
    """A scheduled run of the reminder job: one run per period due on its day."""

    day: date = Field(description="The Vietnamese calendar day the run chased reports for")
    runs: list[ReminderRun] = Field(description="One per period chased, in period order")


class Notification(BaseModel):
    """One entry of the delivery log."""

    id: int
    agency: str
    to: list[str] | None = Field(description="Recipients' addresses (admin keys only)")
    cc: list[str] | None = Field(description="Copied addresses (admin keys only)")
    subject: str
    kind: str = Field(description="reminder, overdue, escalation or progress")
    period: str
    indicators: list[str]
    status: str = Field(description="queued, retrying, sent or dead")
    attempts: int
    created_at: datetime
    sent_at: datetime | None
    next_attempt_at: datetime | None
    last_error: str | None = Field(
        description="The relay's last refusal (admin keys only: it may quote an address)"
    )

    @classmethod
    def of(cls, row: MessageRow, *, with_contacts: bool) -> Notification:
        """A log entry from a stored message; addresses only ``with_contacts`` (admins)."""
        pending = row.status in ("queued", "retrying")
        return cls(
            id=row.id,
            agency=row.agency,
            to=[_email(a) for a in row.to_addrs] if with_contacts else None,
            cc=[_email(a) for a in row.cc_addrs] if with_contacts else None,
            subject=row.subject,
            kind=row.kind,
            period=row.period,
            indicators=list(row.indicators),
            status=row.status,
            attempts=row.attempts,
            created_at=aware(row.created_at),
            sent_at=aware(row.sent_at) if row.sent_at else None,
            next_attempt_at=aware(row.next_attempt_at) if pending else None,
            last_error=row.last_error if with_contacts else None,
        )


def _email(address: dict[str, Any]) -> str:
    return str(address["email"])
