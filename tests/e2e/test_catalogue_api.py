"""The catalogue as clients see it after the first start: the reference data, in Vietnamese."""

from __future__ import annotations

import httpx
import pytest

pytestmark = pytest.mark.e2e


async def test_reference_catalogue_is_loaded_with_diacritics(dx: httpx.AsyncClient) -> None:
    indicators = (await dx.get("/api/v1/indicators")).json()
    agencies = (await dx.get("/api/v1/agencies")).json()
    assert len(indicators) == 98
    assert len(agencies) == 93
    names = {a["code"]: a["name_vi"] for a in agencies}
    assert names["BTTTT"] == "Bộ Thông tin và Truyền thông"
    assert names["P01"] == "Hà Nội"
    assert names["P46"] == "Thừa Thiên Huế"
    kh = (await dx.get("/api/v1/indicators", params={"program": "KH2023"})).json()
    assert len(kh) == 39
    assert all(i["program"] == "KH2023" for i in kh)


async def test_published_figures_answer_the_aggregate(dx: httpx.AsyncClient) -> None:
    response = await dx.get("/api/v1/indicators/KH2023-01/aggregate", params={"period": "2023-S1"})
    assert response.status_code == 200
    figure = response.json()
    assert (figure["value"], figure["method"], figure["expected"]) == (52.3, "published", 86)
    by_group = await dx.get(
        "/api/v1/indicators/KH2023-11b/aggregate", params={"period": "2023-S1", "scope": "local"}
    )
    assert by_group.json()["value"] == 59.89


async def test_populations_follow_the_2025_mergers(dx: httpx.AsyncClient) -> None:
    before = (await dx.get("/api/v1/populations/local", params={"period": "2025-S1"})).json()
    after = (await dx.get("/api/v1/populations/local", params={"period": "2025-S2"})).json()
    assert (before["size"], after["size"]) == (63, 34)
    absorbed = (await dx.get("/api/v1/agencies/P02")).json()
    assert absorbed["successor"] == "P08"
    assert "P02" in (await dx.get("/api/v1/agencies/P08")).json()["predecessors"]


async def test_admin_upserts_are_validated(dx: httpx.AsyncClient) -> None:
    bad = await dx.put("/api/v1/populations/pilot", json={"members": ["P01", "NOPE"]})
    assert bad.status_code == 422
    assert "NOPE" in bad.text
    good = await dx.put("/api/v1/populations/pilot", json={"members": ["P01", "P79"]})
    assert good.status_code == 200
    assert good.json()["resolved"] == ["P01", "P79"]
    wrong_op = await dx.put(
        "/api/v1/indicators/X-1",
        json={
            "program": "KH2023",
            "pillar": "data",
            "name_vi": "Thử",
            "unit": "percent",
            "direction": "increase",
            "owner": "BTTTT",
            "aggregation": "national",
            "targets": [{"year": 2025, "op": "<", "value": 10}],
        },
    )
    assert wrong_op.status_code == 422
    assert wrong_op.headers["content-type"] == "application/problem+json"


@pytest.mark.parametrize(
    ("path", "params"),
    [
        ("/api/v1/indicators/KH2023-01/aggregate", {"period": "2023-S3"}),
        ("/api/v1/indicators/KH2023-01/aggregate", {"period": "2023-S1", "scope": "moon"}),
        ("/api/v1/observations", {"from": "yesterday"}),
        ("/api/v1/observations", {"as_of": "not-a-date"}),
    ],
)
async def test_bad_queries_are_422_naming_the_parameter(
    dx: httpx.AsyncClient, path: str, params: dict[str, str]
) -> None:
    response = await dx.get(path, params=params)
    assert response.status_code == 422, response.text
    assert response.headers["content-type"] == "application/problem+json"
    named = {str(part) for item in response.json()["errors"] for part in item["loc"]}
    assert named & set(params)


async def test_sdmx_data_message(dx: httpx.AsyncClient) -> None:
    response = await dx.get(
        "/api/v1/sdmx/data/KH2023/KH2023-01+KH2023-11b.VN+VN_LOCAL",
        params={"startPeriod": "2023", "endPeriod": "2023"},
    )
    assert response.status_code == 200
    message = response.json()
    structure = message["data"]["structures"][0]
    areas = [v["id"] for v in structure["dimensions"]["series"][1]["values"]]
    assert areas == ["VN", "VN_LOCAL"]
    series = message["data"]["dataSets"][0]["series"]
    values = sorted(obs[0] for s in series.values() for obs in s["observations"].values())
    assert values == [52.3, 59.89]
