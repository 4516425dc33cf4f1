"""`dx demo` against a running embedded platform: in process, no key, every value labelled."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest

from libs.common.periods import parse_period
from services import platform
from services.demo import NOTE, run_demo
from tests.support.flow import scored, settle
from tests.support.platform import embedded_platform, embedded_settings


async def test_the_demo_fills_the_latest_scored_period_and_says_so_everywhere(
    tmp_path: Path,
) -> None:
    settings = embedded_settings(tmp_path)
    async with embedded_platform(settings) as dx:
        keys_before = (await dx.get("/api/v1/keys")).json()
        await settle(dx)  # the seeded catalogue and published figures reach scoring,
        await scored(dx)  # which scores them: the period the demo fills is then known

        # The running platform's relay publishes what the demo queued in ingest's outbox.
        report = await run_demo(settings, period=None, program=None, wait_seconds=60)
        periods = [parse_period(p) for p in ("2022-S1", "2023-S1")]
        assert report.period == str(max(periods, key=lambda p: p.end))
        assert report.refused == []
        assert report.stored == len(report.submissions) > 0
        assert len(report.agencies) > 60

        rows = (
            await dx.get("/api/v1/observations", params={"scope": "agency", "period": "2023-S1"})
        ).json()
        assert len(rows) == report.rows
        assert {(row["source"], row["note"]) for row in rows} == {("demo", NOTE)}

        ranking = (
            await dx.get("/api/v1/rankings", params={"group": "local", "period": "2023-S1"})
        ).json()
        assert all(entry["reported"] for entry in ranking)
        assert len({entry["score"] for entry in ranking}) > 5

        # Every page of the period says it holds demo data; each demo value is labelled.
        for path in ("/rankings", "/laggards", "/", "/indicators/KH2023-01"):
            page = (await dx.get(path, params={"period": "2023-S1"})).text
            assert "DỮ LIỆU MẪU" in page, path
        breakdown = (
            await dx.get(
                "/indicators/KH2023-01",
                params={"period": "2023-S1", "format": "csv", "table": "agencies"},
            )
        ).text
        assert breakdown.count(",demo\r\n") == len(
            [row for row in rows if row["indicator"] == "KH2023-01"]
        )

        # No key was made for it, so none is left behind; a second run repeats, adds nothing.
        assert (await dx.get("/api/v1/keys")).json() == keys_before
        again = await run_demo(settings, period="2023-S1", program=None, wait_seconds=60)
        assert sorted(again.submissions) == sorted(report.submissions)
        after = await dx.get(
            "/api/v1/observations", params={"scope": "agency", "period": "2023-S1"}
        )
        assert len(after.json()) == len(rows)


async def test_the_demo_refuses_when_nothing_is_scored(tmp_path: Path) -> None:
    settings = embedded_settings(tmp_path)
    await asyncio.to_thread(platform.migrate, settings, ("ingest", "scoring"))
    with pytest.raises(ValueError, match="nothing is scored yet"):
        await run_demo(settings, period=None, program=None)
