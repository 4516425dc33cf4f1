"""Helpers for end-to-end flows: submit through the gateway and wait until stored."""

from __future__ import annotations

import asyncio
import uuid
from typing import Any

import httpx


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
