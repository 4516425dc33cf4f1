"""Notify's own configuration (environment, prefix ``DX_NOTIFY_``); SMTP stays in the common one."""

from __future__ import annotations

from croniter import croniter
from pydantic import Field, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from services.notify.domain.calendar import ChasePolicy


class NotifySettings(BaseSettings):
    """The reminder calendar, the schedules and the delivery policy."""

    model_config = SettingsConfigDict(env_prefix="DX_NOTIFY_", extra="ignore")

    schedule: str = Field(
        "0 8 * * 1-5", description="Cron (Vietnam time) of the reminder job: 08:00 on workdays"
    )
    progress_schedule: str = Field(
        "0 8 1 * *", description="Cron (Vietnam time) of the progress letter: the 1st, 08:00"
    )
    scheduler_enabled: bool = Field(
        True, description="Run the schedules here; off when a CronJob runs `dx reminders run`"
    )
    reminder_days: int = Field(7, ge=0, description="Remind this many days before the due date")
    escalation_days: int = Field(
        14, ge=1, description="Escalate to the head and the standing agency this long after due"
    )
    lookback_days: int = Field(
        60, ge=0, description="Scheduled runs stop chasing a period this long after escalation"
    )
    standing_agency: str = Field("BTTTT", description="Agency copied on escalations")
    max_attempts: int = Field(5, ge=1, description="Delivery attempts before a message is dead")
    retry_base_seconds: float = Field(30.0, gt=0, description="First retry delay; doubles")
    retry_max_seconds: float = Field(3600.0, gt=0, description="Longest delay between attempts")
    sender_poll_seconds: float = Field(2.0, gt=0, description="How often queued mail is looked at")
    sender_batch_size: int = Field(50, ge=1, description="Messages delivered per pass")
    smtp_timeout_seconds: float = Field(30.0, gt=0, description="One SMTP conversation's limit")

    @field_validator("schedule", "progress_schedule")
    @classmethod
    def _cron(cls, value: str) -> str:
        if not croniter.is_valid(value):
            raise ValueError(f"not a cron expression: {value!r}")
        return value

    def policy(self) -> ChasePolicy:
        """The calendar rules the pure domain works with."""
        return ChasePolicy(
            reminder_days=self.reminder_days,
            escalation_days=self.escalation_days,
            lookback_days=self.lookback_days,
            standing_agency=self.standing_agency,
        )
