"""The cluster: every service its own process, PostgreSQL schemas, Kafka through a proxy."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import httpx
import pytest

from deploy.local.cluster import Cluster, broker, cluster, free_port
from tests.support.flow import submit, wait_stored
from tests.support.proxy import TcpProxy

pytestmark = [pytest.mark.e2e, pytest.mark.integration]

TOKEN = "cluster-admin-token"


@pytest.fixture(scope="module")
def proxied_broker(artifacts: Path) -> Iterator[tuple[str, int]]:
    """A broker that tells clients to connect to a proxy port (the proxy is started later)."""
    proxy_port = free_port()
    with broker(artifacts / "cluster", advertised_port=proxy_port) as address:
        yield address, proxy_port


@pytest.fixture(scope="module")
async def link(proxied_broker: tuple[str, int]) -> AsyncIterator[TcpProxy]:
    """The services' only way to the broker; tests cut and restore it."""
    address, proxy_port = proxied_broker
    proxy = TcpProxy("127.0.0.1", int(address.rsplit(":", 1)[1]), port=proxy_port)
    await proxy.start()
    yield proxy
    await proxy.close()


@pytest.fixture(scope="module")
async def running(
    link: TcpProxy, postgres_url: str, schema_prefix: str, artifacts: Path
) -> AsyncIterator[Cluster]:
    context = cluster(
        database_url=postgres_url,
        schema_prefix=f"{schema_prefix}_cl_",
        logs=artifacts / "cluster",
        admin_token=TOKEN,
        kafka=link.address,
    )
    # Starting processes blocks; run it beside the loop that serves the proxy.
    started = await asyncio.to_thread(context.__enter__)
    yield started
    await asyncio.to_thread(context.__exit__, None, None, None)


@pytest.fixture
async def gateway(running: Cluster) -> AsyncIterator[httpx.AsyncClient]:
    async with httpx.AsyncClient(
        base_url=running.gateway, timeout=30, headers={"Authorization": f"Bearer {TOKEN}"}
    ) as client:
        yield client


async def wait_for_catalogue(client: httpx.AsyncClient) -> None:
    for _ in range(200):
        indicators = await client.get("/api/v1/indicators")
        if indicators.status_code == 200 and len(indicators.json()) == 98:
            return
        await asyncio.sleep(0.1)
    raise AssertionError("the catalogue never appeared")


async def test_round_trip_across_processes(gateway: httpx.AsyncClient) -> None:
    await wait_for_catalogue(gateway)
    receipt = await submit(
        gateway,
        agency="P01",
        period="2023-S1",
        values=[
            {"indicator": "KH2023-01", "value": True},
            {"indicator": "KH2023-03", "value": False},
        ],
    )
    await wait_stored(gateway, receipt["id"], within=60)
    stored = (
        await gateway.get("/api/v1/observations", params={"agency": "P01", "period": "2023-S1"})
    ).json()
    assert {(o["indicator"], o["value"]) for o in stored} == {
        ("KH2023-01", True),
        ("KH2023-03", False),
    }
    figure = (
        await gateway.get(
            "/api/v1/indicators/KH2023-01/aggregate", params={"period": "2023-S1", "scope": "local"}
        )
    ).json()
    assert (figure["numerator"], figure["reported"], figure["expected"]) == (1, 1, 63)


@pytest.mark.fault
async def test_broker_cut_while_agencies_submit(gateway: httpx.AsyncClient, link: TcpProxy) -> None:
    await wait_for_catalogue(gateway)
    agencies = [f"P{n:02d}" for n in (2, 4, 6, 8, 10, 11, 12, 14, 15, 17)]
    await link.cut()
    receipts = [
        await submit(
            gateway,
            agency=code,
            period="2023-S1",
            submission_id=uuid.uuid4().hex,
            values=[{"indicator": "KH2023-05", "value": True}],
        )
        for code in agencies
    ]
    await asyncio.sleep(2)
    pending = [
        (await gateway.get(f"/api/v1/submissions/{r['id']}")).json()["status"] for r in receipts
    ]
    assert pending == ["accepted"] * len(agencies), "stored across a cut link?"
    await link.restore()
    for receipt in receipts:
        await wait_stored(gateway, receipt["id"], within=90)
    stored = (
        await gateway.get(
            "/api/v1/observations",
            params={
                "indicator": "KH2023-05",
                "period": "2023-S1",
                "scope": "agency",
                "revisions": "true",
            },
        )
    ).json()
    assert sorted(o["agency"] for o in stored) == sorted(agencies)  # each once, revision 1
    assert {o["revision"] for o in stored} == {1}
