"""The observations API shows instants with their offset, as its OpenAPI promises."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone

from services.indicators.schemas import ObservationOut


def observation(moment: datetime) -> ObservationOut:
    return ObservationOut(
        indicator="KH2023-01",
        agency="P01",
        period="2023-S1",
        value=True,
        revision=1,
        recorded_at=moment,
        reported_at=moment,
        source="api",
    )


def test_instants_read_back_without_an_offset_are_utc() -> None:
    # SQLite gives them back so; RFC 3339 date-times (the schema's format) need the offset.
    out = observation(datetime(2023, 7, 1, 8, 30))
    assert out.recorded_at == out.reported_at == datetime(2023, 7, 1, 8, 30, tzinfo=UTC)
    assert out.model_dump(mode="json")["recorded_at"] == "2023-07-01T08:30:00Z"


def test_instants_with_an_offset_keep_it() -> None:
    hanoi = datetime(2023, 7, 1, 15, 30, tzinfo=timezone(timedelta(hours=7)))
    assert observation(hanoi).recorded_at.utcoffset() == timedelta(hours=7)
