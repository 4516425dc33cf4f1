"""The cluster: every service its own process, PostgreSQL schemas, Kafka through a proxy.

A real Prometheus (the Debian package's server) scrapes it and evaluates the alert rules of
deploy/prometheus/alerts.yml; without it installed that test fails, it never skips.
"""

from __future__ import annotations

import asyncio
import time
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from contextlib import asynccontextmanager
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, TypeVar

import httpx
import pytest
import yaml

from deploy.local import prometheus
from deploy.local.cluster import Cluster, broker, cluster, free_port
from tests.support.flow import submit, wait_stored
from tests.support.promql import metric_names
from tests.support.proxy import TcpProxy

T = TypeVar("T")

pytestmark = [pytest.mark.e2e, pytest.mark.integration]

TOKEN = "cluster-admin-token"
GATEWAY_PORT = free_port()


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
        gateway_port=GATEWAY_PORT,
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


async def test_round_trip_across_processes(gateway: httpx.AsyncClient, running: Cluster) -> None:
    assert running.gateway == f"http://127.0.0.1:{GATEWAY_PORT}"  # the port it was asked for
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


# ------------------------------------------------------------------------------------------
# Prometheus on the cluster
# ------------------------------------------------------------------------------------------


def alert_rules() -> list[dict[str, Any]]:
    """Every rule of deploy/prometheus/alerts.yml, in file order."""
    groups = yaml.safe_load(prometheus.ALERTS.read_text(encoding="utf-8"))["groups"]
    return [rule for group in groups for rule in group["rules"]]


@asynccontextmanager
async def prometheus_on(running: Cluster, workdir: Path) -> AsyncIterator[httpx.AsyncClient]:
    """A client of a Prometheus scraping ``running``; fails the test when none is installed."""
    try:
        prometheus.binary()
    except FileNotFoundError as error:
        pytest.fail(str(error), pytrace=False)
    server = prometheus.prometheus(running.services, workdir=workdir)
    # Starting and stopping block; the loop meanwhile serves the proxy to the broker.
    url = await asyncio.to_thread(server.__enter__)
    try:
        async with httpx.AsyncClient(base_url=url, timeout=10) as client:
            yield client
    finally:
        await asyncio.to_thread(server.__exit__, None, None, None)


async def api(client: httpx.AsyncClient, path: str) -> Any:
    """The ``data`` of a Prometheus HTTP API answer."""
    body = (await client.get(f"/api/v1/{path}")).json()
    assert body["status"] == "success", f"/api/v1/{path}: {body}"
    return body["data"]


async def poll(probe: Callable[[], Awaitable[T]], done: Callable[[T], bool], within: float) -> T:
    """``probe()`` until ``done`` holds of it or ``within`` seconds pass; its last result."""
    deadline = time.monotonic() + within
    while True:
        result = await probe()
        if done(result) or time.monotonic() > deadline:
            return result
        await asyncio.sleep(0.5)


def evaluated_at(rule: dict[str, Any]) -> datetime:
    """When Prometheus last evaluated ``rule`` (year 1 when it never did)."""
    return datetime.fromisoformat(rule["lastEvaluation"])


async def test_prometheus_scrapes_every_service_and_evaluates_every_alert(
    running: Cluster, tmp_path: Path
) -> None:
    rules = alert_rules()
    async with prometheus_on(running, tmp_path) as client:

        async def target_health() -> dict[str, str]:
            targets = (await api(client, "targets"))["activeTargets"]
            return {
                t["labels"]["job"]: t["health"] + (f": {t['lastError']}" if t["lastError"] else "")
                for t in targets
            }

        health = await poll(
            target_health,
            lambda found: (
                set(found) == set(running.services)
                and all(state == "up" for state in found.values())
            ),
            within=90,
        )
        assert set(health) == set(running.services), f"scrape jobs {sorted(health)}"
        down = {job: state for job, state in health.items() if state != "up"}
        assert not down, f"targets not up after 90 s: {down} (log: {tmp_path})"

        read = {rule["alert"]: metric_names(str(rule["expr"])) for rule in rules}

        async def unscraped() -> dict[str, list[str]]:
            present = set(await api(client, "label/__name__/values"))
            return {
                alert: sorted(names - present) for alert, names in read.items() if names - present
            }

        missing = await poll(unscraped, lambda found: not found, within=60)
        assert not missing, f"alerts read metrics no service exports: {missing}"

        failures = {}
        for rule in rules:
            response = await client.get("/api/v1/query", params={"query": str(rule["expr"])})
            body = response.json()
            if body.get("status") != "success":
                failures[rule["alert"]] = f"{body.get('errorType')}: {body.get('error')}"
        assert not failures, f"alert expressions Prometheus cannot evaluate: {failures}"

        since = datetime.now(UTC)

        async def loaded_rules() -> list[dict[str, Any]]:
            groups = (await api(client, "rules"))["groups"]
            return [rule for group in groups for rule in group["rules"]]

        loaded = await poll(
            loaded_rules,
            lambda found: (
                len(found) == len(rules) and all(evaluated_at(rule) > since for rule in found)
            ),
            within=60,
        )
        assert sorted(rule["name"] for rule in loaded) == sorted(r["alert"] for r in rules)
        stale = sorted(rule["name"] for rule in loaded if evaluated_at(rule) <= since)
        assert not stale, f"rules not evaluated within 60 s: {stale}"
        broken = {
            rule["name"]: rule.get("lastError") or rule["health"]
            for rule in loaded
            if rule["health"] != "ok" or rule.get("lastError")
        }
        assert not broken, f"rules failing to evaluate: {broken}"
        # A healthy cluster raises nothing, not even a pending alert.
        active = [
            f"{rule['name']} {alert['state']} {alert['labels']}"
            for rule in loaded
            for alert in rule.get("alerts", [])
        ]
        assert not active, f"alerts on a healthy cluster: {active}"
