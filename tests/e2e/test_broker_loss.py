"""The cluster's broker loses its log while the store lags: every accepted value is still stored.

The issue's reproduction: the indicators service is paused (its consumer lags), agencies
submit, ingest publishes their events, and the broker (topics in memory only) is restarted on
the same port, losing every event it held. Ingest's reconciliation finds the submissions still
without a verdict after ``DX_INGEST_RECONCILE_AFTER_SECONDS`` and announces them again; each
value is stored exactly once, and ``dx_ingest_unsettled_oldest_age_seconds`` showed the backlog.
"""

from __future__ import annotations

import asyncio
import os
import signal
from collections.abc import AsyncIterator, Iterator
from contextlib import ExitStack
from pathlib import Path

import httpx
import pytest

from deploy.local.cluster import Cluster, broker, cluster, free_port
from libs.common.settings import SERVICES
from tests.support.flow import submit, wait_stored

pytestmark = [pytest.mark.e2e, pytest.mark.integration, pytest.mark.fault]

TOKEN = "broker-loss-admin-token"
RECONCILE_AFTER = 8.0
INDICATOR = "KH2023-01"
AGENCIES = [f"P{n:02d}" for n in (1, 2, 4, 6, 8, 10, 11, 12, 14, 15, 17, 19, 20, 22, 24)]
PERIODS = ("2023-S1", "2023-S2")


@pytest.fixture(scope="module")
def broker_port() -> int:
    return free_port()


@pytest.fixture(scope="module")
def lossy(
    broker_port: int, postgres_url: str, schema_prefix: str, artifacts: Path
) -> Iterator[tuple[Cluster, ExitStack]]:
    """A cluster on a broker the test may restart; yields it and the broker's stack."""
    logs = artifacts / "broker-loss"
    brokers = ExitStack()
    address = brokers.enter_context(broker(logs, port=broker_port))
    reconcile = {
        "DX_INGEST_RECONCILE_AFTER_SECONDS": str(RECONCILE_AFTER),
        "DX_INGEST_RECONCILE_INTERVAL_SECONDS": "0.5",
    }
    saved = {name: os.environ.get(name) for name in reconcile}
    os.environ.update(reconcile)
    try:
        with cluster(
            database_url=postgres_url,
            schema_prefix=f"{schema_prefix}_loss_",
            logs=logs,
            admin_token=TOKEN,
            kafka=address,
        ) as running:
            yield running, brokers
    finally:
        brokers.close()
        for name, value in saved.items():
            if value is None:
                os.environ.pop(name, None)
            else:
                os.environ[name] = value


@pytest.fixture
async def gateway(lossy: tuple[Cluster, ExitStack]) -> AsyncIterator[httpx.AsyncClient]:
    async with httpx.AsyncClient(
        base_url=lossy[0].gateway, timeout=30, headers={"Authorization": f"Bearer {TOKEN}"}
    ) as client:
        yield client


async def metric(url: str, name: str) -> float:
    """A sample of the service's /metrics, by its name with labels as exposed (0 if absent)."""
    async with httpx.AsyncClient(timeout=10) as client:
        text = (await client.get(f"{url}/metrics")).text
    for line in text.splitlines():
        if line.startswith(f"{name} "):
            return float(line.rsplit(" ", 1)[1])
    return 0.0


async def wait_until(check: object, what: str, within: float) -> None:
    deadline = asyncio.get_running_loop().time() + within
    while not await check():  # type: ignore[operator]
        assert asyncio.get_running_loop().time() < deadline, f"{what} within {within}s"
        await asyncio.sleep(0.2)


async def test_a_broker_losing_its_log_delays_and_never_loses(
    gateway: httpx.AsyncClient,
    lossy: tuple[Cluster, ExitStack],
    broker_port: int,
    artifacts: Path,
) -> None:
    running, brokers = lossy
    ingest = running.services["ingest"]
    store = running.processes[SERVICES.index("indicators")]
    for _ in range(300):
        if len((await gateway.get("/api/v1/indicators")).json()) == 98:
            break
        await asyncio.sleep(0.1)
    store.send_signal(signal.SIGSTOP)  # the store's consumer lags from here
    try:
        receipts = [
            await submit(
                gateway,
                agency=code,
                period=period,
                values=[{"indicator": INDICATOR, "value": (n + len(period)) % 2 == 0}],
            )
            for period in PERIODS
            for n, code in enumerate(AGENCIES)
        ]

        async def published() -> bool:
            return await metric(ingest, 'dx_outbox_backlog{service="ingest"}') == 0

        await wait_until(published, "ingest published its events", 30)
        brokers.close()  # the broker and everything it held are gone
        brokers.enter_context(broker(artifacts / "broker-loss", port=broker_port))
    finally:
        store.send_signal(signal.SIGCONT)

    async def backlog_showed() -> bool:
        age = await metric(ingest, "dx_ingest_unsettled_oldest_age_seconds")
        return age > 1.0

    await wait_until(backlog_showed, "the unsettled age showed the backlog", 30)
    settled_by = asyncio.get_running_loop().time() + RECONCILE_AFTER + 60
    for receipt in receipts:  # one poller: thirty would spend the key's request budget
        await wait_stored(
            gateway, receipt["id"], within=settled_by - asyncio.get_running_loop().time()
        )
    for period in PERIODS:
        params = {"indicator": INDICATOR, "period": period, "scope": "agency"}
        stored = (
            await gateway.get("/api/v1/observations", params={**params, "revisions": "true"})
        ).json()
        assert sorted((o["agency"], o["revision"]) for o in stored) == [
            (code, 1) for code in sorted(AGENCIES)
        ]
    reconciled = await metric(ingest, "dx_ingest_reconciled_total")
    assert reconciled >= len(receipts)
