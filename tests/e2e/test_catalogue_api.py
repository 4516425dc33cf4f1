"""The catalogue as clients see it after the first start: the reference data, in Vietnamese."""

from __future__ import annotations

import uuid

import httpx
import pytest
from sqlalchemy import select

from libs.common.events import Envelope
from tests.support.ingest import runtime_of

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


PILOT_INDICATOR = {
    "program": "KH2023",
    "pillar": "data",
    "name_vi": "Chỉ tiêu thí điểm",
    "unit": "percent",
    "direction": "increase",
    "owner": "BTTTT",
    "aggregation": "share_of_agencies",
    "targets": [{"year": 2023, "op": "=", "value": 100}],
    "population": "pilot-ryw",
    "value_type": "boolean_per_agency",
}


def pilot_submission(agency: str) -> dict[str, object]:
    return {
        "submission_id": f"ryw-{agency}-{uuid.uuid4().hex[:8]}",
        "agency": agency,
        "period": "2023-S1",
        "values": [{"indicator": "PILOT-RYW", "value": True}],
    }


async def test_a_submission_right_after_a_catalogue_edit_is_validated_against_it(
    dx: httpx.AsyncClient,
) -> None:
    """Read your writes: once a catalogue PUT has answered, ingest validates against it."""
    created = await dx.put("/api/v1/populations/pilot-ryw", json={"members": ["P01"]})
    assert created.status_code == 200, created.text
    assert (await dx.put("/api/v1/indicators/PILOT-RYW", json=PILOT_INDICATOR)).status_code == 200
    assert (await dx.post("/api/v1/submissions", json=pilot_submission("P01"))).status_code == 202
    outsider = await dx.post("/api/v1/submissions", json=pilot_submission("P79"))
    assert outsider.status_code == 422, outsider.text
    widened = await dx.put("/api/v1/populations/pilot-ryw", json={"members": ["P01", "P79"]})
    assert widened.status_code == 200
    assert widened.headers["x-dx-catalogue-version"].isdigit()
    # The very next submission, with no pause: the replica caught up before it was judged.
    member = await dx.post("/api/v1/submissions", json=pilot_submission("P79"))
    assert member.status_code == 202, member.text
    narrowed = await dx.put("/api/v1/populations/pilot-ryw", json={"members": ["P01"]})
    assert narrowed.status_code == 200
    again = await dx.post("/api/v1/submissions", json=pilot_submission("P79"))
    assert again.status_code == 422, again.text


async def test_editing_agencies_announces_no_unchanged_indicator(dx: httpx.AsyncClient) -> None:
    """A storm of agency edits (contacts) moves no indicator: each edit is one event."""
    agency = (await dx.get("/api/v1/agencies/P01")).json()
    editable = {k: v for k, v in agency.items() if k not in ("code", "predecessors")}
    for n in range(5):
        edited = {**editable, "contacts": [{"email": f"so{n}@hanoi.gov.vn", "name": "Sở"}]}
        assert (await dx.put("/api/v1/agencies/P01", json=edited)).status_code == 200
    runtime = runtime_of(dx, "indicators")
    table = runtime.outbox.table
    async with runtime.db.read() as session:
        newest = await session.scalars(
            select(table.c.envelope).order_by(table.c.id.desc()).limit(6)
        )
        recent = [Envelope.from_bytes(raw) for raw in newest]
    assert [e.type for e in recent[:5]] == ["catalogue.agency"] * 5
    assert recent[5].type != "catalogue.agency" or recent[5].payload["code"] != "P01"
