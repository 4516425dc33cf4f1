"""Synthetic but valid submissions: every (agency, period, indicator) used once per run."""

from __future__ import annotations

import itertools
import random
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import httpx

# Ended half-years, all before the 2025 mergers: 248 reporting rounds of 93 agencies, enough
# fresh (agency, period) slots for every stage of a full run.
FIRST_YEAR, LAST_YEAR = 1900, 2023


@dataclass(frozen=True)
class Slot:
    """An agency and period, and the boolean indicators that agency reports."""

    agency: str
    period: str
    indicators: tuple[str, ...]


async def slots(client: httpx.AsyncClient) -> Iterator[Slot]:
    """Every (agency, half-year) with the agencies' boolean indicators, newest period first.

    As in a reporting round, agencies report one period in random order; the next (older)
    period comes only when every agency has reported the current one.
    """
    indicators = (await client.get("/api/v1/indicators")).json()
    by_agency: dict[str, list[str]] = {}
    for indicator in indicators:
        if indicator["value_type"] != "boolean_per_agency" or not indicator.get("population"):
            continue
        population = (
            await client.get(
                f"/api/v1/populations/{indicator['population']}", params={"period": "2023-S1"}
            )
        ).json()
        for agency in population["resolved"]:
            by_agency.setdefault(agency, []).append(indicator["code"])
    periods = [f"{year}-S{half}" for year in range(FIRST_YEAR, LAST_YEAR + 1) for half in (1, 2)]
    chooser = random.Random(7)
    found = []
    for period in reversed(periods):
        reporting = [
            Slot(agency, period, tuple(sorted(codes))) for agency, codes in by_agency.items()
        ]
        chooser.shuffle(reporting)
        found += reporting
    return iter(found)


def submission(slot: Slot, size: int) -> dict[str, Any]:
    """A submission of ``size`` of the slot's indicators (true or false at random)."""
    chooser = random.Random(slot.agency + slot.period)
    return {
        "submission_id": uuid.uuid4().hex,
        "agency": slot.agency,
        "period": slot.period,
        "values": [
            {"indicator": code, "value": chooser.random() < 0.6} for code in slot.indicators[:size]
        ],
    }


def requests(
    source: Iterator[Slot], *, values_per_request: int, per_submission: int = 10
) -> Iterator[tuple[str, Any, int]]:
    """(path, body, values) of requests carrying ``values_per_request`` values each."""
    while True:
        slots = list(itertools.islice(source, max(1, values_per_request // per_submission)))
        if not slots:
            raise RuntimeError("the workload ran out of fresh (agency, period) slots")
        if values_per_request == 1:
            yield "/api/v1/submissions", submission(slots[0], 1), 1
            continue
        items = [submission(slot, per_submission) for slot in slots]
        yield "/api/v1/submissions/batch", items, sum(len(item["values"]) for item in items)
