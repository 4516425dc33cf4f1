"""Instants from clients, in UTC as stored ones are, whatever offset or calendar edge they have."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone

import pytest

from libs.common.events import as_utc

HANOI = timezone(timedelta(hours=7))


@pytest.mark.parametrize(
    ("given", "expected"),
    [
        pytest.param(datetime(2023, 7, 1, 8), datetime(2023, 7, 1, 8, tzinfo=UTC), id="bare"),
        pytest.param(
            datetime(2023, 7, 1, 15, tzinfo=HANOI), datetime(2023, 7, 1, 8, tzinfo=UTC), id="hanoi"
        ),
        pytest.param(
            datetime(1, 1, 1, tzinfo=timezone(timedelta(hours=5))),
            datetime.min.replace(tzinfo=UTC),
            id="before-the-calendar",
        ),
        pytest.param(
            datetime(9999, 12, 31, 23, 59, 59, tzinfo=timezone(-timedelta(hours=5))),
            datetime.max.replace(tzinfo=UTC),
            id="after-the-calendar",
        ),
    ],
)
def test_instants_are_read_in_utc(given: datetime, expected: datetime) -> None:
    assert as_utc(given) == expected
    assert as_utc(given).tzinfo is UTC
