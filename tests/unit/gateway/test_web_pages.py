"""The pages against stand-in services: full answers, failures, private fields, CSV, limits."""

from __future__ import annotations

import json
from types import SimpleNamespace
from typing import Any

import httpx
import pytest
from fastapi import FastAPI

from services.gateway.ratelimit import RateLimiter
from services.gateway.routing import Upstreams
from services.gateway.web import dashboard_router

Answers = dict[str, Any]
COUNTS = {
    "expected": 3,
    "reported": 2,
    "on_time": 1,
    "reporting_rate": 2 / 3,
    "on_time_rate": 1 / 3,
}
PAGES = [
    "/",
    "/indicators/KH2023-01",
    "/rankings",
    "/agencies/P01",
    "/laggards",
    "/completeness",
    "/?lang=en",
    "/agencies/P01?lang=en&period=2023-S1",
]
SECRETS = ("truong.phong@hanoi.gov.vn", "ghi chú nội bộ", "internal note", "secret-key")
INDICATOR = {
    "code": "KH2023-01",
    "program": "KH2023",
    "goal": "KH2023-01",
    "pillar": "data",
    "name_vi": "Tỷ lệ bộ, ngành, địa phương ban hành danh mục cơ sở dữ liệu",
    "unit": "percent",
    "direction": "increase",
    "owner": "Bộ, ngành, địa phương",
    "aggregation": "share_of_agencies",
    "targets": [{"year": 2023, "op": "=", "value": 100}],
    "published": [{"period": "2023-S1", "scope": "national", "value": 52.3, "source": "SK2023H1"}],
    "population": "dx86",
    "value_type": "boolean_per_agency",
    "reporting": {"frequency": "half", "due_days": 15},
    "note": "internal note",
}
AGENCY = {
    "code": "P01",
    "name_vi": "Hà Nội",
    "name_en": "Ha Noi",
    "kind": "city",
    "groups": ["local"],
    "contacts": [{"email": "truong.phong@hanoi.gov.vn"}],
    "api_key": "secret-key",
}
OBSERVATION = {
    "indicator": "KH2023-01",
    "agency": "P01",
    "scope": "agency",
    "period": "2023-S1",
    "value": True,
    "reported_at": "2023-07-10T08:00:00",
    "late": False,
    "submission": "0b6c1f",
    "note": "DỮ LIỆU MẪU (make demo) ghi chú nội bộ",
}
FULL: dict[str, Answers] = {
    "indicators": {
        "/api/v1/programs": [{"code": "KH2023", "name_vi": "Kế hoạch 2023", "name_en": "Plan"}],
        "/api/v1/indicators": [INDICATOR],
        "/api/v1/indicators/KH2023-01": INDICATOR,
        "/api/v1/indicators/KH2023-01/aggregate": {
            "value": 52.3,
            "published": 52.3,
            "computed": 100.0,
            "source": "reference:SK2023H1",
            "reported": 1,
            "expected": 86,
            "missing": ["P79"],
            "method": "published",
        },
        "/api/v1/agencies": [AGENCY],
        "/api/v1/agencies/P01": AGENCY,
        "/api/v1/populations": [{"name": "dx86", "resolved": ["P01", "P79"]}],
        "/api/v1/observations": [OBSERVATION],
    },
    "scoring": {
        "/api/v1/scores": [
            {
                "indicator": "KH2023-01",
                "goal": "KH2023-01",
                "scope": "national",
                "period": "2023-S1",
                "value": 52.3,
                "target": {"year": 2023, "op": "=", "value": 100},
                "progress": 0.523,
                "band": "over_half",
                "status": "low",
                "projected": 81.0,
                "explanation": "52,3 so với mục tiêu 100 → 52% → trên 50%",
            }
        ],
        "/api/v1/scores/summary": {
            "bands": {"completed": 3, "over_half": 1, "under_half": 2},
            "statuses": {"low": 1},
        },
        "/api/v1/rankings": [
            {
                "rank": 1,
                "agency": "P01",
                "name_vi": "Hà Nội",
                "score": 0.8123,
                "pillar_scores": {"data": 0.9, "gov": 0.7},
                "previous_rank": 3,
                "change": 2,
            }
        ],
        "/api/v1/completeness": {
            "period": "2023-S1",
            "program": None,
            "total": COUNTS,
            "indicators": [{"indicator": "KH2023-01", "due": "2023-07-15", **COUNTS}],
            "agencies": [
                {"agency": "P01", "name_vi": "Hà Nội", "groups": ["local"], "rank": 1, **COUNTS}
            ],
        },
        "/api/v1/laggards": [
            {
                "agency": "P01",
                "reasons": [{"indicator": "KH2023-01", "kind": "late", "detail": "x"}],
            }
        ],
    },
    "notify": {
        "/api/v1/notifications": [
            {
                "id": 1,
                "agency": "P01",
                "to": "truong.phong@hanoi.gov.vn",
                "subject": "Nhắc báo cáo kỳ 2023-S1",
                "kind": "reminder",
                "status": "sent",
                "sent_at": "2023-07-01T08:00:00",
                "attempts": 1,
            }
        ]
    },
    "ingest": {},
}


def service(answers: Answers, calls: list[str], status: int = 200) -> httpx.AsyncClient:
    def handle(request: httpx.Request) -> httpx.Response:
        calls.append(request.url.path)
        if status != 200:
            return httpx.Response(status, json={"title": "Down"})
        if request.url.path not in answers:
            return httpx.Response(404, json={"title": "Not Found"})
        return httpx.Response(200, content=json.dumps(answers[request.url.path]).encode())

    return httpx.AsyncClient(transport=httpx.MockTransport(handle), base_url="http://svc")


def dashboard(
    answers: dict[str, Answers], *, status: int = 200, limit: int = 0, cache: float = 0
) -> tuple[httpx.AsyncClient, list[str]]:
    """A gateway-shaped app serving only the pages, in front of stand-in services."""
    calls: list[str] = []
    clients = {name: service(a, calls, status) for name, a in answers.items()}
    app = FastAPI()
    app.state.gateway = SimpleNamespace(
        upstreams=Upstreams(clients, secret="s"),
        limiter=RateLimiter(),
        settings=SimpleNamespace(rate_limit_per_minute=limit),
    )
    app.include_router(dashboard_router(cache_seconds=cache))
    transport = httpx.ASGITransport(app=app, raise_app_exceptions=False)
    return httpx.AsyncClient(transport=transport, base_url="http://dx.test"), calls


@pytest.mark.parametrize("path", PAGES)
@pytest.mark.parametrize("status", [500, 404])
async def test_pages_answer_without_services(path: str, status: int) -> None:
    client, _ = dashboard({name: {} for name in FULL}, status=status)
    page = await client.get(path)
    coded = path.startswith(("/indicators/", "/agencies/"))
    # A service that answers "not found" for the code itself makes an honest 404 page.
    assert page.status_code == (404 if coded and status == 404 else 200), page.text
    assert ("Chưa có dữ liệu" in page.text) or ("No data yet" in page.text)
    if status == 500:
        assert "indicators" in page.text  # the page names the service that did not answer


@pytest.mark.parametrize("path", PAGES)
async def test_pages_show_nothing_private(path: str) -> None:
    client, _ = dashboard(FULL)
    page = await client.get(path)
    assert page.status_code == 200
    for secret in SECRETS:
        assert secret not in page.text
    assert "@" not in page.text
    assert "script-src 'self'" in page.headers["content-security-policy"]


CHECKS: list[tuple[str, list[str]]] = [
    ("/", ["52,3%", "Đã thực hiện trên 50%", "Có khả năng hoàn thành thấp", "KH2023-01"]),
    ("/?lang=en", ["52.3%", "More than half done", "Low likelihood"]),
    ("/indicators/KH2023-01", ["52,3 so với mục tiêu 100", "Hà Nội", "86", "Đúng hạn"]),
    ("/rankings", ["0,812", "▲ lên 2", "Dữ liệu số", "Hà Nội"]),
    ("/agencies/P01", ["Hà Nội", "Nhắc báo cáo kỳ 2023-S1", "Báo cáo muộn", "▲ lên 2"]),
    ("/laggards", ["Báo cáo muộn", "Hà Nội", "KH2023-01"]),
    ("/indicators/KH2023-01", ["52,3% (công bố) · 100% từ 1/86 báo cáo"]),
    ("/completeness", ["66,7%", "33,3%", "Hà Nội", "15/07/2023", "Tỷ lệ đúng hạn"]),
    ("/completeness?lang=en", ["66.7%", "On-time rate", "Per agency (ranked)"]),
]


@pytest.mark.parametrize(("path", "expected"), CHECKS)
async def test_pages_show_the_services_figures(path: str, expected: list[str]) -> None:
    client, _ = dashboard(FULL)
    page = await client.get(path)
    for text in expected:
        assert text in page.text, text
    assert "DỮ LIỆU MẪU" in page.text or "SYNTHETIC" in page.text  # demo- submissions


async def test_chart_carries_target_and_projection() -> None:
    client, _ = dashboard(FULL)
    page = await client.get("/indicators/KH2023-01?period=2023-S1")
    raw = page.text.split('id="chart-data">', 1)[1].split("</script>", 1)[0]
    chart = json.loads(raw)
    kinds = [s["kind"] for s in chart["series"]]
    assert kinds == ["value-national", "target", "projection"]
    assert chart["labels"] == ["2023-S1", "2023"]
    assert chart["series"][1]["values"] == [100.0, 100.0]
    assert chart["series"][2]["values"] == [52.3, 81.0]


@pytest.mark.parametrize(
    ("path", "table", "row"),
    [
        ("/", "goals", ["KH2023-01", "KH2023-01"]),
        ("/rankings", "ranking-local", ["1", "P01", "Hà Nội", "0.8123"]),
        ("/agencies/P01", "notifications", ["2023-07-01T08:00:00", "reminder", "sent"]),
    ],
)
async def test_tables_download_as_csv(path: str, table: str, row: list[str]) -> None:
    client, _ = dashboard(FULL)
    answer = await client.get(path, params={"format": "csv", "table": table})
    assert answer.status_code == 200
    assert answer.headers["content-type"].startswith("text/csv")
    lines = answer.content.decode("utf-8-sig").splitlines()
    assert lines[1].split(",")[: len(row)] == row
    assert (await client.get(path, params={"format": "csv", "table": "nope"})).status_code == 404


async def test_unknown_codes_are_404_pages() -> None:
    client, _ = dashboard(FULL)
    answer = await client.get("/indicators/NOPE")
    assert answer.status_code == 404
    assert "Không tìm thấy" in answer.text


async def test_static_files_and_no_way_out() -> None:
    client, _ = dashboard(FULL)
    assert (await client.get("/static/vendor/uPlot.iife.min.js")).status_code == 200
    assert "MIT" in (await client.get("/static/vendor/uPlot.LICENSE")).text
    for path in ("/static/../router.py", "/static/%2e%2e/router.py", "/static/nope.css"):
        assert (await client.get(path)).status_code == 404


async def test_pages_are_cached_and_builds_are_rate_limited() -> None:
    client, calls = dashboard(FULL, cache=30, limit=1)
    assert (await client.get("/rankings")).status_code == 200
    made = len(calls)
    assert (await client.get("/rankings")).status_code == 200
    assert len(calls) == made  # served from the cache
    assert (await client.get("/rankings?format=csv&table=ranking-local")).status_code == 200
    limited = await client.get("/laggards")
    assert limited.status_code == 429
    assert limited.headers["retry-after"]
