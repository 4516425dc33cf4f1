"""Freshness: how long from an agency's submission to its value stored, and to its score moved."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Iterator
from typing import Any

import httpx

from bench.workload import Slot, submission

POLL_SECONDS = 0.005
# Scores are read a programme at a time, a heavier call: polled less often not to slow the
# very work being waited for (the figure is then up to this much late).
SCORE_POLL_SECONDS = 0.025


async def _score_value(client: httpx.AsyncClient, *, indicator: str, period: str) -> Any:
    program = indicator.split("-", 1)[0]
    scores = (
        await client.get(
            "/api/v1/scores", params={"program": program, "period": period, "scope": "national"}
        )
    ).json()
    for score in scores:
        if score["indicator"] == indicator:
            return score["value"], score.get("band")
    return None


async def freshness(
    client: httpx.AsyncClient, source: Iterator[Slot], *, samples: int
) -> tuple[list[float], list[float]]:
    """(submit→stored, submit→score updated) in seconds, one submission at a time."""
    stored_after: list[float] = []
    scored_after: list[float] = []
    for n in range(samples):
        slot = next(source)
        body = submission(slot, 1)
        body["values"][0]["value"] = True  # a true answer always moves the share
        indicator = body["values"][0]["indicator"]
        before = await _score_value(client, indicator=indicator, period=slot.period)
        started = time.perf_counter()
        response = await client.post("/api/v1/submissions", json=body)
        if response.status_code != 202:
            raise RuntimeError(f"submission refused: {response.text[:300]}")
        sid = response.json()["id"]
        while True:
            status = (await client.get(f"/api/v1/submissions/{sid}")).json()["status"]
            if status == "stored":
                break
            await asyncio.sleep(POLL_SECONDS)
        stored_after.append(time.perf_counter() - started)
        deadline = started + 30
        while await _score_value(client, indicator=indicator, period=slot.period) == before:
            if time.perf_counter() > deadline:
                raise RuntimeError(f"the score of {indicator} {slot.period} never moved")
            await asyncio.sleep(SCORE_POLL_SECONDS)
        scored_after.append(time.perf_counter() - started)
        print(f"\r  freshness sample {n + 1}/{samples}", end="", flush=True)
    print()
    return stored_after, scored_after
