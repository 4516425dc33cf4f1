"""From an agency's submission to the national figure, through the gateway, on both databases."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta, timezone

import httpx
import pytest

from tests.support.flow import submit, wait_stored

pytestmark = pytest.mark.e2e

HANOI = timezone(timedelta(hours=7))

PILOT = [
    f"P{n:02d}"
    for n in (
        1,
        2,
        4,
        6,
        8,
        10,
        11,
        12,
        14,
        15,
        17,
        19,
        20,
        22,
        24,
        25,
        26,
        27,
        30,
        31,
        33,
        34,
        35,
        36,
        37,
        38,
        40,
        42,
        44,
        45,
        46,
        48,
        49,
        51,
        52,
        54,
        56,
        58,
        60,
        62,
    )
]


async def test_forty_agencies_of_which_26_report_true_give_65(dx: httpx.AsyncClient) -> None:
    assert len(PILOT) == 40
    response = await dx.put("/api/v1/populations/pilot40", json={"members": PILOT})
    assert response.status_code == 200, response.text
    indicator = (await dx.get("/api/v1/indicators/KH2023-01")).json()
    indicator["population"] = "pilot40"
    assert (await dx.put("/api/v1/indicators/KH2023-01", json=indicator)).status_code == 200
    # 26 say yes, 8 say no, 6 do not report at all.
    answers = {code: n < 26 for n, code in enumerate(PILOT[:34])}
    receipts = [
        await submit(
            dx, agency=code, period="2023-S1", values=[{"indicator": "KH2023-01", "value": value}]
        )
        for code, value in answers.items()
    ]
    for receipt in receipts:
        await wait_stored(dx, receipt["id"])

    figure = (
        await dx.get(
            "/api/v1/indicators/KH2023-01/aggregate",
            params={"period": "2023-S1", "scope": "population:pilot40"},
        )
    ).json()
    assert (figure["value"], figure["numerator"], figure["denominator"]) == (65.0, 26, 40)
    assert (figure["reported"], figure["expected"]) == (34, 40)
    assert figure["missing"] == sorted(PILOT[34:])
    assert figure["method"] == "computed"

    stored = (
        await dx.get(
            "/api/v1/observations",
            params={"indicator": "KH2023-01", "period": "2023-S1", "scope": "agency"},
        )
    ).json()
    assert len(stored) == 34
    assert {o["agency"]: o["value"] for o in stored} == answers


async def test_a_correction_changes_the_figure_and_as_of_reads_the_past(
    dx: httpx.AsyncClient,
) -> None:
    response = await dx.put("/api/v1/populations/pair", json={"members": ["P01", "P79"]})
    assert response.status_code == 200
    indicator = (await dx.get("/api/v1/indicators/KH2023-02")).json()
    indicator["population"] = "pair"
    assert (await dx.put("/api/v1/indicators/KH2023-02", json=indicator)).status_code == 200
    for code, value in (("P01", True), ("P79", False)):
        receipt = await submit(
            dx, agency=code, period="2023-S1", values=[{"indicator": "KH2023-02", "value": value}]
        )
        await wait_stored(dx, receipt["id"])
    await asyncio.sleep(0.01)
    before_correction = datetime.now(UTC).isoformat()
    await asyncio.sleep(0.01)
    correction = await submit(
        dx,
        agency="P79",
        period="2023-S1",
        values=[
            {"indicator": "KH2023-02", "value": True, "note": "Đã ban hành kế hoạch dữ liệu mở"}
        ],
    )
    await wait_stored(dx, correction["id"])

    params = {"period": "2023-S1", "scope": "population:pair"}
    now = (await dx.get("/api/v1/indicators/KH2023-02/aggregate", params=params)).json()
    then = (
        await dx.get(
            "/api/v1/indicators/KH2023-02/aggregate", params={**params, "as_of": before_correction}
        )
    ).json()
    assert (now["value"], then["value"]) == (100.0, 50.0)
    # The same instant in Hanoi's time, or without an offset (read as UTC), reads the same past:
    # SQLite once compared wall times, so +07:00 read seven hours later.
    instant = datetime.fromisoformat(before_correction)
    for as_of in (instant.astimezone(HANOI).isoformat(), instant.replace(tzinfo=None).isoformat()):
        same = await dx.get(
            "/api/v1/indicators/KH2023-02/aggregate", params={**params, "as_of": as_of}
        )
        assert same.json()["value"] == 50.0, as_of
        assert datetime.fromisoformat(same.json()["as_of"]) == instant

    history = (
        await dx.get(
            "/api/v1/observations",
            params={"indicator": "KH2023-02", "agency": "P79", "revisions": "true"},
        )
    ).json()
    assert [(o["revision"], o["value"]) for o in history] == [(1, False), (2, True)]
    assert history[1]["note"] == "Đã ban hành kế hoạch dữ liệu mở"
    csv_text = (
        await dx.get(
            "/api/v1/observations",
            params={"indicator": "KH2023-02", "agency": "P79", "format": "csv"},
        )
    ).text
    assert "Đã ban hành kế hoạch dữ liệu mở" in csv_text
