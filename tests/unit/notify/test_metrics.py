"""Notify's metrics: exported from the start, and a job's last success only moves forward."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from prometheus_client import REGISTRY

from services.notify.domain.calendar import Stage
from services.notify.metrics import record_last_success


def test_every_kind_of_letter_is_counted_from_zero() -> None:
    for kind in Stage:
        for name in ("sent", "failed", "retried"):
            value = REGISTRY.get_sample_value(f"dx_notify_emails_{name}_total", {"kind": kind})
            assert value is not None, f"dx_notify_emails_{name}_total{{kind={kind!r}}}"
        assert REGISTRY.get_sample_value("dx_notify_dead_letters_total", {"kind": kind}) is not None


def test_last_success_never_moves_back() -> None:
    def exported() -> float | None:
        return REGISTRY.get_sample_value(
            "dx_notify_last_successful_run_timestamp_seconds", {"job": "unit-test-job"}
        )

    latest = datetime(2025, 3, 4, 1, tzinfo=UTC)
    record_last_success("unit-test-job", latest)
    assert exported() == latest.timestamp()
    record_last_success("unit-test-job", latest - timedelta(hours=1))  # an older run read later
    assert exported() == latest.timestamp()
    record_last_success("unit-test-job", latest + timedelta(days=1))
    assert exported() == (latest + timedelta(days=1)).timestamp()
