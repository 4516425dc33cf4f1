"""Reporting completeness and timeliness through the API, checked against a hand count."""

from __future__ import annotations

import asyncio
from datetime import date
from typing import Any

import httpx
import pytest

from libs.common.periods import ReportingPeriod, period_containing
from tests.support.flow import submit, wait_stored

pytestmark = pytest.mark.e2e

TRIO = ["BQP", "P01", "P79"]


def months_back(count: int) -> ReportingPeriod:
    month = period_containing(date.today(), "month")
    for _ in range(count):
        month = month.previous()
    return month


async def completeness(dx: httpx.AsyncClient, period: ReportingPeriod) -> dict[str, Any]:
    response = await dx.get("/api/v1/completeness", params={"period": str(period)})
    assert response.status_code == 200, response.text
    found: dict[str, Any] = response.json()
    return found


async def once_reported(
    dx: httpx.AsyncClient, period: ReportingPeriod, count: int
) -> dict[str, Any]:
    """The completeness of `period` once scoring has learnt of `count` reports of KH2023-01."""
    deadline = asyncio.get_running_loop().time() + 30
    while True:  # scoring learns of the reports over the bus
        found = await completeness(dx, period)
        rows = {row["indicator"]: row for row in found["indicators"]}
        if rows.get("KH2023-01", {}).get("reported") == count:
            return found
        assert asyncio.get_running_loop().time() < deadline, found
        await asyncio.sleep(0.1)


async def until_ingest_takes_monthly(dx: httpx.AsyncClient, month: ReportingPeriod) -> None:
    """Ingest learns the changed reporting calendar over the bus: wait until it does."""
    value = {"indicator": "KH2023-01", "value": True}
    body = {"agency": "P02", "period": str(month), "values": [value]}  # P02 is not in the trio
    deadline = asyncio.get_running_loop().time() + 30
    while True:
        # Refused anyway (P02 does not report it); only the frequency complaint matters here.
        response = await dx.post("/api/v1/submissions", json={**body, "submission_id": "probe"})
        assert response.status_code == 422, response.text
        if "reported per half" not in response.text:
            return
        assert asyncio.get_running_loop().time() < deadline, response.text
        await asyncio.sleep(0.1)


async def test_completeness_matches_a_hand_count(dx: httpx.AsyncClient) -> None:
    # One monthly indicator owed by three agencies, due 40 days after each month: last month is
    # still on time today, the month four months back is long overdue.
    assert (await dx.put("/api/v1/populations/trio", json={"members": TRIO})).status_code == 200
    indicator = (await dx.get("/api/v1/indicators/KH2023-01")).json()
    indicator.update(
        population="trio",
        reporting={"frequency": "month", "due_days": 40},
        targets=[{"year": date.today().year + 1, "op": "=", "value": 100}],
    )
    assert (await dx.put("/api/v1/indicators/KH2023-01", json=indicator)).status_code == 200
    recent, overdue = months_back(1), months_back(4)
    await until_ingest_takes_monthly(dx, recent)
    sent = [("BQP", recent), ("P01", recent), ("P01", overdue)]
    for agency, period in sent:
        receipt = await submit(
            dx,
            agency=agency,
            period=str(period),
            values=[{"indicator": "KH2023-01", "value": True}],
        )
        await wait_stored(dx, receipt["id"])

    found = await once_reported(dx, recent, 2)
    rows = {row["indicator"]: row for row in found["indicators"]}
    # By hand: 3 expected, BQP and P01 reported within the 40 days, P79 did not.
    row = rows["KH2023-01"]
    assert (row["expected"], row["reported"], row["on_time"]) == (3, 2, 2)
    assert row["reporting_rate"] == pytest.approx(2 / 3)
    assert row["on_time_rate"] == pytest.approx(2 / 3)
    assert row["due"] == recent.due_date(40).isoformat()
    # Only that indicator is owed for a month: the programme's others are half-yearly and over.
    assert list(rows) == ["KH2023-01"]
    assert found["total"]["expected"] == 3
    ranked = [(a["rank"], a["agency"], a["reported"]) for a in found["agencies"]]
    assert ranked == [(1, "BQP", 1), (1, "P01", 1), (3, "P79", 0)]

    late = await once_reported(dx, overdue, 1)
    row = {r["indicator"]: r for r in late["indicators"]}["KH2023-01"]
    # P01 reported four months' figure only now, long after its due date: reported, not on time.
    assert (row["expected"], row["reported"], row["on_time"]) == (3, 1, 0)
    assert row["on_time_rate"] == 0


async def test_a_programme_that_is_over_owes_nothing(dx: httpx.AsyncClient) -> None:
    found = await completeness(dx, ReportingPeriod(2024, "half", 1))
    # KH2022's and KH2023's targets are for 2022 and 2023: nothing is owed for them in 2024.
    assert not [r for r in found["indicators"] if r["indicator"].startswith(("KH2022", "KH2023"))]
    before = await completeness(dx, ReportingPeriod(2023, "half", 1))
    kh2023 = [r for r in before["indicators"] if r["indicator"].startswith("KH2023")]
    assert kh2023
    assert all(r["reported"] == 0 for r in kh2023)
