"""A bus that loses events delays, never loses: reconciliation settles every accepted submission.

The embedded platform's bus is made to lose, for a while, the submissions' events and the
store's verdicts, as a broker that lost its log would: the outboxes mark them published, nobody
receives them. Every accepted value is then stored exactly once within the reconciliation age,
a correction sent after a lost figure is not undone by it, and the age of the oldest unsettled
submission showed the backlog. (tests/e2e/test_broker_loss.py restarts a real broker.)
"""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from typing import Any

import httpx
import pytest
from prometheus_client import REGISTRY

from libs.common.events import SUBMISSION_STATUS_TOPIC, SUBMISSIONS_TOPIC, Envelope
from tests.support.flow import submit, wait_stored
from tests.support.ingest import runtime_of

pytestmark = [pytest.mark.e2e, pytest.mark.fault]

RECONCILE_AFTER = 5.0  # long enough for the correction to come first
INDICATOR = "KH2023-01"
LOST = [f"P{n:02d}" for n in (1, 2, 4, 6, 8, 10, 11, 12)]


@pytest.fixture(autouse=True)
def quick_reconciliation(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("DX_INGEST_RECONCILE_AFTER_SECONDS", str(RECONCILE_AFTER))
    monkeypatch.setenv("DX_INGEST_RECONCILE_INTERVAL_SECONDS", "0.2")


class Losses:
    """Makes the bus drop what is published on some topics, while ``on``."""

    def __init__(self, dx: httpx.AsyncClient, topics: set[str]) -> None:
        self.bus = runtime_of(dx).bus
        self.topics = topics
        self.on = True
        self.lost: list[Envelope] = []
        self._publish = self.bus.publish

    async def publish(self, topic: str, events: Sequence[Envelope]) -> None:
        if self.on and topic in self.topics:
            self.lost.extend(events)
            return
        await self._publish(topic, events)

    def __enter__(self) -> Losses:
        self.bus.publish = self.publish  # type: ignore[method-assign]
        return self

    def __exit__(self, *_: object) -> None:
        self.bus.publish = self._publish  # type: ignore[method-assign]


def unsettled_age() -> float:
    return REGISTRY.get_sample_value("dx_ingest_unsettled_oldest_age_seconds") or 0.0


async def revisions(dx: httpx.AsyncClient, agency: str, period: str) -> list[dict[str, Any]]:
    params = {"indicator": INDICATOR, "agency": agency, "period": period, "revisions": "true"}
    response = await dx.get("/api/v1/observations", params=params)
    assert response.status_code == 200
    found: list[dict[str, Any]] = response.json()
    return found


@pytest.mark.parametrize("lose", ["submissions", "verdicts"])
async def test_lost_events_are_settled_once_within_the_reconciliation_age(
    dx: httpx.AsyncClient, lose: str
) -> None:
    topic = SUBMISSIONS_TOPIC if lose == "submissions" else SUBMISSION_STATUS_TOPIC
    with Losses(dx, {topic}) as losses:
        receipts = [
            await submit(
                dx,
                agency=code,
                period="2023-S1",
                values=[{"indicator": INDICATOR, "value": n % 2 == 0}],
            )
            for n, code in enumerate(LOST)
        ]
        deadline = asyncio.get_running_loop().time() + 10
        while len(losses.lost) < len(LOST):
            assert asyncio.get_running_loop().time() < deadline, "the events were never sent"
            await asyncio.sleep(0.05)
        statuses = [(await dx.get(r["status_url"])).json()["status"] for r in receipts]
        assert statuses == ["accepted"] * len(LOST)
        # The backlog shows while nothing comes back.
        while unsettled_age() < 1.0:
            assert asyncio.get_running_loop().time() < deadline, "the backlog never showed"
            await asyncio.sleep(0.05)
        losses.on = False
        # A correction after the lost figure: the late figure must not undo it.
        correction = await submit(
            dx, agency=LOST[0], period="2023-S1", values=[{"indicator": INDICATOR, "value": False}]
        )
        await wait_stored(dx, correction["id"])
    settled_by = asyncio.get_running_loop().time() + RECONCILE_AFTER + 10
    for receipt in receipts:  # one poller: eight would spend the key's request budget
        await wait_stored(dx, receipt["id"], within=settled_by - asyncio.get_running_loop().time())
    for n, code in enumerate(LOST):
        stored = [(o["revision"], o["value"]) for o in await revisions(dx, code, "2023-S1")]
        if code == LOST[0] and lose == "submissions":
            assert stored == [(1, False)]  # only the correction: the lost figure came too late
        elif code == LOST[0]:
            assert stored == [(1, True), (2, False)]
        else:
            assert stored == [(1, n % 2 == 0)]
    deadline = asyncio.get_running_loop().time() + 5
    while unsettled_age() != 0:
        assert asyncio.get_running_loop().time() < deadline, "the backlog never cleared"
        await asyncio.sleep(0.05)
