"""Notify's settings: read from DX_NOTIFY_*, schedules checked as cron at start-up."""

from __future__ import annotations

import pytest
from pydantic import ValidationError

from services.notify.domain.calendar import ChasePolicy
from services.notify.settings import NotifySettings


def test_defaults() -> None:
    settings = NotifySettings()
    assert settings.schedule == "0 8 * * 1-5"
    assert settings.scheduler_enabled is True
    assert settings.policy() == ChasePolicy(reminder_days=7, escalation_days=14)


def test_read_from_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("DX_NOTIFY_SCHEDULE", "30 7 * * 1")
    monkeypatch.setenv("DX_NOTIFY_REMINDER_DAYS", "3")
    monkeypatch.setenv("DX_NOTIFY_ESCALATION_DAYS", "30")
    monkeypatch.setenv("DX_NOTIFY_MAX_ATTEMPTS", "2")
    monkeypatch.setenv("DX_NOTIFY_RETRY_BASE_SECONDS", "0.5")
    monkeypatch.setenv("DX_NOTIFY_SCHEDULER_ENABLED", "false")
    settings = NotifySettings()
    assert (settings.schedule, settings.max_attempts, settings.retry_base_seconds) == (
        "30 7 * * 1",
        2,
        0.5,
    )
    assert settings.scheduler_enabled is False
    assert (settings.policy().reminder_days, settings.policy().escalation_days) == (3, 30)


@pytest.mark.parametrize(
    ("name", "value"),
    [
        ("DX_NOTIFY_SCHEDULE", "every monday"),
        ("DX_NOTIFY_PROGRESS_SCHEDULE", "61 8 * * *"),
        ("DX_NOTIFY_MAX_ATTEMPTS", "0"),
        ("DX_NOTIFY_REMINDER_DAYS", "-1"),
    ],
)
def test_bad_values_refuse_to_start(monkeypatch: pytest.MonkeyPatch, name: str, value: str) -> None:
    monkeypatch.setenv(name, value)
    with pytest.raises(ValidationError, match=name.removeprefix("DX_NOTIFY_").lower()):
        NotifySettings()
