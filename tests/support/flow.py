"""Helpers for end-to-end flows: submit through the gateway and wait until stored."""

from __future__ import annotations

import asyncio
import uuid
from typing import Any

import httpx
from sqlalchemy import func, select

from libs.common.service import ServiceRuntime
from services.indicators import models as indicators_models
from services.scoring import models


async def submit(
    client: httpx.AsyncClient,
    *,
    agency: str,
    period: str,
    values: list[dict[str, Any]],
    submission_id: str | None = None,
    headers: dict[str, str] | None = None,
) -> dict[str, Any]:
    """POST a submission (retrying while a service says 503); assert 202; return the receipt."""
    body = {
        "submission_id": submission_id or uuid.uuid4().hex,
        "agency": agency,
        "period": period,
        "values": values,
    }
    for _ in range(100):
        response = await client.post("/api/v1/submissions", headers=headers, json=body)
        if response.status_code != 503:
            break
        await asyncio.sleep(0.1)
    assert response.status_code == 202, response.text
    receipt: dict[str, Any] = response.json()
    return receipt


async def wait_stored(
    client: httpx.AsyncClient, submission: str, *, within: float = 30
) -> dict[str, Any]:
    """Poll the submission's status until it is stored (fail on rejected or timeout)."""
    deadline = asyncio.get_running_loop().time() + within
    while True:
        status: dict[str, Any] = (await client.get(f"/api/v1/submissions/{submission}")).json()
        if status.get("status") == "stored":
            return status
        assert status.get("status") != "rejected", status
        if asyncio.get_running_loop().time() > deadline:
            raise AssertionError(f"submission {submission} not stored after {within}s: {status}")
        await asyncio.sleep(0.05)


def runtime(client: httpx.AsyncClient, name: str = "scoring") -> ServiceRuntime:
    found: ServiceRuntime = client.app.state.services[name].state.runtime  # type: ignore[attr-defined]
    return found


async def settle(client: httpx.AsyncClient, *, within: float = 60) -> None:
    """Wait until the reference catalogue the platform seeds at start has reached scoring."""
    outbox = indicators_models.MESSAGING.outbox
    pending = select(func.count()).select_from(outbox).where(outbox.c.published_at.is_(None))
    deadline = asyncio.get_running_loop().time() + within
    while True:
        async with runtime(client, "indicators").db.read() as session:
            if not await session.scalar(pending):
                return
        assert asyncio.get_running_loop().time() < deadline, "the seed never reached scoring"
        await asyncio.sleep(0.05)


async def scored(client: httpx.AsyncClient, *, within: float = 30) -> None:
    """Wait until the rescorer has scored every mark: what the events moved is then stored."""
    marks = select(func.count()).select_from(models.RescoreMark)
    deadline = asyncio.get_running_loop().time() + within
    while True:
        async with runtime(client).db.read() as session:
            if not await session.scalar(marks):
                return
        assert asyncio.get_running_loop().time() < deadline, "marks left unscored"
        await asyncio.sleep(0.02)
