"""The platform under measurement: the embedded default as a process, or the local cluster."""

from __future__ import annotations

import asyncio
import os
import subprocess
import sys
import tempfile
import time
from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager, contextmanager
from dataclasses import dataclass
from pathlib import Path

import asyncpg
import httpx

from deploy.local.cluster import answers_ok, cluster, free_port, stop, wait_until

TOKEN = "bench-admin-token"
QUIET = {
    "DX_LOG_LEVEL": "WARNING",
    "DX_RATE_LIMIT_PER_MINUTE": "0",
    "DX_BOOTSTRAP_ADMIN_TOKEN": TOKEN,
    "DX_OUTBOX_POLL_SECONDS": "0.2",
}


@dataclass(frozen=True)
class Platform:
    """A running platform: where to call it, and every /metrics it exports."""

    url: str
    metrics: tuple[str, ...]


# Gauges that are zero once every event written has been published and handled (and every
# score it moved computed).
BACKLOG_GAUGES = ("dx_outbox_backlog{", "dx_consumer_lag{", "dx_scoring_dirty_backlog ")


async def settle(platform: Platform, *, within: float = 300) -> None:
    """Wait until no event is waiting anywhere: the previous stage's tail must not be measured.

    Quiet means every outbox backlog and consumer lag reads zero on two reads 0.5 s apart.
    """
    deadline = time.monotonic() + within
    quiet_reads = 0
    async with httpx.AsyncClient(timeout=10) as client:
        while quiet_reads < 2:
            if time.monotonic() > deadline:
                raise RuntimeError(f"the platform still had events pending after {within:.0f} s")
            waiting = 0.0
            for url in platform.metrics:
                text = (await client.get(url)).text
                waiting += sum(
                    float(line.rsplit(" ", 1)[1])
                    for line in text.splitlines()
                    if line.startswith(BACKLOG_GAUGES)
                )
            quiet_reads = quiet_reads + 1 if waiting == 0 else 0
            await asyncio.sleep(0.5)


@contextmanager
def embedded() -> Iterator[Platform]:
    """``dx run`` on a free port with its own data directory (one /metrics for everything)."""
    with tempfile.TemporaryDirectory(prefix="dx-bench-") as data:
        port = free_port()
        env = {**os.environ, **QUIET, "DX_PORT": str(port), "DX_DATA_DIR": data}
        log = (Path(data) / "dx.log").open("wb")
        process = subprocess.Popen(
            [str(Path(sys.executable).parent / "dx"), "run"],
            env=env,
            stdout=log,
            stderr=subprocess.STDOUT,
        )
        url = f"http://127.0.0.1:{port}"
        try:
            wait_until(lambda: answers_ok(f"{url}/readyz"), timeout=120, what="embedded platform")
            yield Platform(url, (f"{url}/metrics",))
        finally:
            stop(process, timeout=30)
            log.close()


@asynccontextmanager
async def schemas(database_url: str, purpose: str) -> AsyncIterator[str]:
    """A PostgreSQL schema prefix of the run's own; its schemas are dropped afterwards."""
    prefix = f"bench_{purpose}{int(time.time())}_"
    try:
        yield prefix
    finally:
        connection = await asyncpg.connect(database_url.replace("+asyncpg", ""))
        try:
            names = await connection.fetch(
                "SELECT nspname FROM pg_namespace WHERE starts_with(nspname, $1)", prefix
            )
            for row in names:
                await connection.execute(f'DROP SCHEMA "{row["nspname"]}" CASCADE')
        finally:
            await connection.close()


@contextmanager
def local_cluster(database_url: str, prefix: str) -> Iterator[Platform]:
    """Every service as a process on PostgreSQL (schemas ``prefix*``) and the broker."""
    for name, value in QUIET.items():
        os.environ.setdefault(name, value)
    with (
        tempfile.TemporaryDirectory(prefix="dx-bench-cluster-") as logs,
        cluster(
            database_url=database_url, schema_prefix=prefix, logs=Path(logs), admin_token=TOKEN
        ) as running,
    ):
        metrics = tuple(f"{url}/metrics" for url in running.services.values())
        yield Platform(running.gateway, metrics)
