"""Ratio-of-sums figures: agencies send numerator and denominator; the nation is Σ/Σ."""

from __future__ import annotations

import uuid
from typing import Any

import httpx
import pytest

from tests.support.flow import wait_stored

pytestmark = pytest.mark.e2e

RATIO = {
    "program": "KH2023",
    "pillar": "data",
    "name_vi": "Tỷ lệ hệ thống thông tin được phê duyệt cấp độ",
    "unit": "percent",
    "direction": "increase",
    "owner": "Bộ, ngành, địa phương",
    "aggregation": "ratio_of_sums",
    "population": "ratio-pilot",
    "value_type": "percent",
    "targets": [{"year": 2023, "op": ">=", "value": 100}],
}


def body(agency: str, value: Any) -> dict[str, Any]:
    return {
        "submission_id": uuid.uuid4().hex,
        "agency": agency,
        "period": "2023-S1",
        "values": [{"indicator": "RATIO-1", "value": value}],
    }


async def test_numerator_and_denominator_are_summed_apart(dx: httpx.AsyncClient) -> None:
    members = {"members": ["P01", "P79"]}
    assert (await dx.put("/api/v1/populations/ratio-pilot", json=members)).status_code == 200
    assert (await dx.put("/api/v1/indicators/RATIO-1", json=RATIO)).status_code == 200
    first = await dx.post(
        "/api/v1/submissions", json=body("P01", {"numerator": 1, "denominator": 4})
    )
    second = await dx.post(
        "/api/v1/submissions", json=body("P79", {"numerator": 9, "denominator": 16})
    )
    assert (first.status_code, second.status_code) == (202, 202), second.text
    for answer in (first, second):
        await wait_stored(dx, answer.json()["id"])
    figure = (
        await dx.get("/api/v1/indicators/RATIO-1/aggregate", params={"period": "2023-S1"})
    ).json()
    # (1 + 9) / (4 + 16) = 50%, not the mean of the two ratios (25% and 56.25%).
    assert (figure["numerator"], figure["denominator"]) == (10, 20)
    assert figure["computed"] == pytest.approx(50.0)
    rows = (
        await dx.get("/api/v1/observations", params={"indicator": "RATIO-1", "agency": "P79"})
    ).json()
    assert rows[-1]["value"] == pytest.approx(56.25)


@pytest.mark.parametrize(
    "value",
    [
        42.0,  # a bare number: the parts are what the nation sums
        {"numerator": 5, "denominator": 4},  # a share cannot exceed its whole
        {"numerator": 1, "denominator": 0},
        {"numerator": -1, "denominator": 3},
        {"numerator": 1},
    ],
)
async def test_a_ratio_without_usable_parts_is_refused_at_the_door(
    dx: httpx.AsyncClient, value: Any
) -> None:
    members = {"members": ["P01", "P79"]}
    assert (await dx.put("/api/v1/populations/ratio-pilot", json=members)).status_code == 200
    assert (await dx.put("/api/v1/indicators/RATIO-1", json=RATIO)).status_code == 200
    refused = await dx.post("/api/v1/submissions", json=body("P01", value))
    assert refused.status_code == 422, refused.text
    assert refused.headers["content-type"] == "application/problem+json"
    assert ["values", 0, "value"] in [item["loc"] for item in refused.json()["errors"]]


async def test_parts_are_only_for_ratios(dx: httpx.AsyncClient) -> None:
    both = {
        "submission_id": uuid.uuid4().hex,
        "agency": "P01",
        "period": "2023-S1",
        "values": [{"indicator": "KH2023-01", "value": {"numerator": 1, "denominator": 2}}],
    }
    refused = await dx.post("/api/v1/submissions", json=both)
    assert refused.status_code == 422, refused.text
    assert ["values", 0, "value"] in [item["loc"] for item in refused.json()["errors"]]
