"""The scenarios of a reporting season: a bulk load, and a storm of catalogue edits.

Bulk: every province reports 24 months of 100 monthly indicators (151,200 values) in
submissions of 100 values, from 4 clients at once, until every value is stored.

Storm: an administrator updates the contacts of 80 agencies, then each of those agencies
submits at once; every submission must be judged against the catalogue as edited and stored
soon after the last 202.
"""

from __future__ import annotations

import asyncio
import random
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import httpx

from bench.ingest import post_retrying, receipts_of, wait_all_stored
from bench.workload import Slot

BULK_INDICATORS = 100
BULK_MONTHS = [f"{year}-{month:02d}" for year in (2021, 2022) for month in range(1, 13)]
BULK_CLIENTS = 4
STORM_AGENCIES = 80


def bulk_indicator(n: int) -> tuple[str, dict[str, Any]]:
    """A monthly numeric indicator every province reports (defined for the benchmark)."""
    return f"BENCH-M{n:03d}", {
        "program": "KH2023",
        "pillar": "data",
        "name_vi": f"Chỉ tiêu đo tải {n:03d}",
        "name_en": f"Load-test indicator {n:03d}",
        "unit": "number",
        "direction": "increase",
        "owner": "Địa phương",
        "aggregation": "mean",
        "population": "local",
        "value_type": "number",
        "reporting": {"frequency": "month", "due_days": 15},
        "targets": [{"year": 2025, "op": ">=", "value": 50}],
    }


@dataclass(frozen=True)
class Bulk:
    values: int
    submissions: int
    seconds: float

    @property
    def values_per_second(self) -> float:
        return self.values / self.seconds


async def define_bulk_indicators(client: httpx.AsyncClient) -> list[str]:
    """Define the bulk load's indicators (not measured)."""
    codes = []
    for n in range(1, BULK_INDICATORS + 1):
        code, body = bulk_indicator(n)
        response = await client.put(f"/api/v1/indicators/{code}", json=body)
        if response.status_code != 200:
            raise RuntimeError(f"{code}: {response.status_code} {response.text[:300]}")
        codes.append(code)
    return codes


async def bulk_load(
    client: httpx.AsyncClient, codes: list[str], *, months: int = len(BULK_MONTHS)
) -> Bulk:
    """Load provinces × months × the indicators ``codes``, 100 values a submission."""
    provinces = (await client.get("/api/v1/populations/local", params={"period": "2022"})).json()
    chooser = random.Random(11)
    bodies = [
        {
            "submission_id": uuid.uuid4().hex,
            "agency": agency,
            "period": period,
            "values": [
                {"indicator": code, "value": round(chooser.uniform(0, 100), 2)} for code in codes
            ],
        }
        for period in BULK_MONTHS[:months]
        for agency in provinces["resolved"]
    ]
    queue = iter(bodies)
    ids: list[str] = []

    async def worker() -> None:
        for body in queue:
            response, _ = await post_retrying(client, "/api/v1/submissions", body)
            if response.status_code != 202:
                raise RuntimeError(f"bulk: {response.status_code} {response.text[:300]}")
            ids.extend(receipts_of(response))

    started = time.perf_counter()
    await asyncio.gather(*(worker() for _ in range(BULK_CLIENTS)))
    await wait_all_stored(client, ids)
    elapsed = time.perf_counter() - started
    return Bulk(sum(len(b["values"]) for b in bodies), len(bodies), elapsed)


@dataclass(frozen=True)
class Storm:
    edits: int
    edit_seconds: float
    stored_after_last_202: float


async def catalogue_storm(client: httpx.AsyncClient, source: Iterator[Slot]) -> Storm:
    """80 agency edits, then one submission from each edited agency, all at once."""
    slots: list[Slot] = []
    seen: set[str] = set()
    for slot in source:
        if slot.agency not in seen:
            seen.add(slot.agency)
            slots.append(slot)
        if len(slots) == STORM_AGENCIES:
            break
    started = time.perf_counter()
    for slot in slots:
        agency = (await client.get(f"/api/v1/agencies/{slot.agency}")).json()
        body = {k: v for k, v in agency.items() if k not in ("code", "predecessors")}
        body["contacts"] = [
            {"email": f"cds.{slot.agency.lower()}@example.gov.vn", "name": "Đầu mối"}
        ]
        response = await client.put(f"/api/v1/agencies/{slot.agency}", json=body)
        if response.status_code != 200:
            raise RuntimeError(f"{slot.agency}: {response.status_code} {response.text[:300]}")
    edited = time.perf_counter() - started
    bodies = [
        {
            "submission_id": uuid.uuid4().hex,
            "agency": slot.agency,
            "period": slot.period,
            "values": [{"indicator": slot.indicators[0], "value": True}],
        }
        for slot in slots
    ]
    answers = await asyncio.gather(*(client.post("/api/v1/submissions", json=b) for b in bodies))
    last_202 = time.perf_counter()
    refused = [a for a in answers if a.status_code != 202]
    if refused:
        raise RuntimeError(f"storm: {refused[0].status_code} {refused[0].text[:300]}")
    await wait_all_stored(client, [a.json()["id"] for a in answers], progress=False)
    return Storm(len(slots), edited, time.perf_counter() - last_202)
