"""The public contract of every PUT: what a client GETs it can PUT back, and keys agree with paths.

The test walks the PUT operations of the merged OpenAPI document; each must have a sample below
(a new PUT without one fails), answer 200 to its own GET sent back unchanged (read-only fields
and all) without changing the resource, and 422 naming the field when a key in the body
contradicts the path.
"""

from __future__ import annotations

import asyncio
from typing import Any

import httpx
import pytest

pytestmark = pytest.mark.e2e

# A resource of each PUT path, and what its keys may not be changed to.
SAMPLES: dict[str, dict[str, str]] = {
    "/api/v1/agencies/{code}": {"code": "BQP"},
    "/api/v1/populations/{name}": {"name": "dx86"},
    "/api/v1/indicators/{code}": {"code": "KH2023-01"},
    "/api/v1/assessments/{indicator}/{period}": {"indicator": "CL942-A1.1", "period": "2023-S1"},
}
OTHER_KEYS = {"code": "ZZZ9", "name": "elsewhere", "indicator": "KH2023-02", "period": "2022-S2"}


async def put_paths(dx: httpx.AsyncClient) -> list[str]:
    document = (await dx.get("/api/v1/openapi.json")).json()
    return sorted(path for path, item in document["paths"].items() if "put" in item)


async def get_ok(dx: httpx.AsyncClient, url: str) -> dict[str, Any]:
    """GET a resource, waiting while it is not there yet (scoring learns the catalogue late)."""
    deadline = asyncio.get_running_loop().time() + 30
    while (response := await dx.get(url)).status_code != 200:
        assert asyncio.get_running_loop().time() < deadline, (url, response.text)
        await asyncio.sleep(0.1)
    found: dict[str, Any] = response.json()
    return found


async def prepare(dx: httpx.AsyncClient, path: str) -> None:
    """Resources the reference data does not hold: an official assessment."""
    if path.startswith("/api/v1/assessments/"):
        url = path.format(**SAMPLES[path])
        deadline = asyncio.get_running_loop().time() + 30
        while (created := await dx.put(url, json={"label": "likely"})).status_code == 404:
            assert asyncio.get_running_loop().time() < deadline, created.text
            await asyncio.sleep(0.1)
        assert created.status_code == 200, created.text


async def test_every_put_has_a_sample(dx: httpx.AsyncClient) -> None:
    assert await put_paths(dx) == sorted(SAMPLES)


@pytest.mark.parametrize("path", sorted(SAMPLES))
async def test_get_then_put_unchanged_is_accepted(dx: httpx.AsyncClient, path: str) -> None:
    await prepare(dx, path)
    url = path.format(**SAMPLES[path])
    before = await get_ok(dx, url)
    response = await dx.put(url, json=before)
    assert response.status_code == 200, response.text
    assert await get_ok(dx, url) == before


@pytest.mark.parametrize("path", sorted(SAMPLES))
async def test_a_key_that_contradicts_the_path_is_refused(dx: httpx.AsyncClient, path: str) -> None:
    await prepare(dx, path)
    url = path.format(**SAMPLES[path])
    before = await get_ok(dx, url)
    for key in SAMPLES[path]:
        response = await dx.put(url, json={**before, key: OTHER_KEYS[key]})
        assert response.status_code == 422, (key, response.text)
        assert ["body", key] in [e["loc"] for e in response.json()["errors"]], response.text
    assert await get_ok(dx, url) == before


async def test_a_changed_read_only_field_is_refused(dx: httpx.AsyncClient) -> None:
    agency = await get_ok(dx, "/api/v1/agencies/P01")
    response = await dx.put("/api/v1/agencies/P01", json={**agency, "predecessors": ["P99"]})
    assert response.status_code == 422
    assert response.json()["errors"][0]["loc"] == ["body", "predecessors"]
    population = await get_ok(dx, "/api/v1/populations/dx86")
    response = await dx.put(
        "/api/v1/populations/dx86", json={**population, "size": population["size"] + 1}
    )
    assert response.status_code == 422
    assert response.json()["errors"][0]["loc"] == ["body", "size"]


async def test_the_specs_own_population_body_is_accepted(dx: httpx.AsyncClient) -> None:
    response = await dx.put(
        "/api/v1/populations/pilot3", json={"name": "pilot3", "members": ["P01", "P79", "BQP"]}
    )
    assert response.status_code == 200, response.text
    assert (response.json()["resolved"], response.json()["size"]) == (["BQP", "P01", "P79"], 3)
    absorbed = await get_ok(dx, "/api/v1/agencies/P08")  # Tuyên Quang absorbed Hà Giang (P02)
    assert absorbed["predecessors"] == ["P02"]
    again = await dx.put("/api/v1/agencies/P08", json=absorbed)
    assert again.json()["predecessors"] == ["P02"]


async def test_an_admin_sees_who_cannot_be_reminded(dx: httpx.AsyncClient) -> None:
    bare = await dx.get("/api/v1/agencies", params={"without_contacts": "true"})
    assert bare.status_code == 200
    assert "P01" in {a["code"] for a in bare.json()}  # the reference data ships no contacts
    agency = await get_ok(dx, "/api/v1/agencies/P01")
    agency["contacts"] = [{"email": "vp@hanoi.gov.vn", "name": "Văn phòng Sở"}]
    assert (await dx.put("/api/v1/agencies/P01", json=agency)).status_code == 200
    deadline = asyncio.get_running_loop().time() + 30
    while "P01" in {
        a["code"]
        for a in (await dx.get("/api/v1/agencies", params={"without_contacts": "true"})).json()
    }:
        assert asyncio.get_running_loop().time() < deadline
        await asyncio.sleep(0.1)
