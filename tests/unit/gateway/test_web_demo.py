"""`make demo`'s synthetic dataset: labelled, deterministic, submitted through the public API."""

from __future__ import annotations

import json
from datetime import date
from typing import Any

import httpx
import pytest

from services.gateway.web.demo import (
    NOTE,
    demo_period,
    expected_indicators,
    load_demo,
    main,
    synthetic_values,
)

YES_NO = {"code": "KH2023-01", "value_type": "boolean_per_agency", "population": "dx86"}
PERCENT = {"code": "KH2023-14a", "value_type": "percent", "population": None}
OTHER = {"code": "KH2023-09", "value_type": "boolean_per_agency", "population": "dvc83"}


def test_demo_goes_to_the_last_finished_half_year() -> None:
    assert demo_period(date(2026, 11, 23)) == "2026-S1"
    assert demo_period(date(2026, 3, 1)) == "2025-S2"


def test_only_yes_no_indicators_of_the_agencys_populations() -> None:
    members = {"dx86": {"P01", "BTTTT"}, "dvc83": {"BTTTT"}}
    assert expected_indicators("P01", [YES_NO, PERCENT, OTHER], members) == [YES_NO]
    assert expected_indicators("BTTTT", [YES_NO, PERCENT, OTHER], members) == [YES_NO, OTHER]
    assert expected_indicators("P99", [YES_NO], members) == []


def test_values_are_labelled_and_the_same_on_every_run() -> None:
    first = synthetic_values("P01", [OTHER, YES_NO])
    assert first == synthetic_values("P01", [YES_NO, OTHER])
    assert [v["indicator"] for v in first] == ["KH2023-01", "KH2023-09"]
    assert all(isinstance(v["value"], bool) and v["note"] == NOTE for v in first)
    assert "synthetic" in NOTE
    assert "DỮ LIỆU MẪU" in NOTE
    spread = {
        sum(v["value"] for v in synthetic_values(f"P{n:02d}", [YES_NO] * 20)) for n in range(30)
    }
    assert len(spread) > 5  # agencies differ, so a ranking has something to rank


def fake_platform(posted: list[dict[str, Any]]) -> httpx.AsyncClient:
    answers: dict[str, Any] = {
        "/api/v1/agencies": [{"code": "P01"}, {"code": "BTTTT"}, {"code": "P79"}, {"code": "VTV"}],
        "/api/v1/indicators": [YES_NO, PERCENT],
        "/api/v1/populations": [{"name": "dx86", "resolved": ["P01", "BTTTT", "P79"]}],
    }

    def handle(request: httpx.Request) -> httpx.Response:
        assert request.headers["authorization"] == "Bearer k"
        if request.method == "POST":
            body = json.loads(request.content)
            posted.append(body)
            if body["agency"] == "P79":
                return httpx.Response(422, json={"title": "Unprocessable"})
            return httpx.Response(202, json={"id": body["submission_id"], "status": "accepted"})
        if request.url.path.startswith("/api/v1/submissions/"):
            return httpx.Response(200, json={"status": "stored"})
        return httpx.Response(200, json=answers[request.url.path])

    transport = httpx.MockTransport(handle)
    return httpx.AsyncClient(
        transport=transport, base_url="http://dx", headers={"Authorization": "Bearer k"}
    )


async def test_load_demo_submits_each_expected_agency_once() -> None:
    posted: list[dict[str, Any]] = []
    report = await load_demo(fake_platform(posted), period="2026-S2", wait_seconds=5)
    assert sorted(b["agency"] for b in posted) == ["BTTTT", "P01", "P79"]  # VTV reports nothing
    assert all(b["submission_id"] == f"demo-2026-S2-{b['agency']}" for b in posted)
    assert all(b["period"] == "2026-S2" for b in posted)
    assert all(v["note"] == NOTE for b in posted for v in b["values"])
    assert (report.accepted, report.stored) == (["BTTTT", "P01"], 2)
    assert list(report.refused) == ["P79"]


def test_the_command_needs_an_admin_key(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("DX_DEMO_TOKEN", raising=False)
    with pytest.raises(SystemExit) as stopped:
        main(["--url", "http://127.0.0.1:9"])
    assert stopped.value.code == 2
