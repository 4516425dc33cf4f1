"""The platform under measurement: the embedded default as a process, or the local cluster."""

from __future__ import annotations

import os
import subprocess
import sys
import tempfile
import time
import urllib.request
from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager, contextmanager
from pathlib import Path

import asyncpg

from deploy.local.cluster import cluster, free_port, wait_until

TOKEN = "bench-admin-token"
QUIET = {
    "DX_LOG_LEVEL": "WARNING",
    "DX_RATE_LIMIT_PER_MINUTE": "0",
    "DX_BOOTSTRAP_ADMIN_TOKEN": TOKEN,
    "DX_OUTBOX_POLL_SECONDS": "0.2",
}


def _ready(url: str) -> bool:
    try:
        with urllib.request.urlopen(f"{url}/readyz", timeout=2) as response:
            return bool(response.status == 200)
    except OSError:
        return False


@contextmanager
def embedded() -> Iterator[str]:
    """``dx run`` on a free port with its own data directory; yields the base URL."""
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
            wait_until(lambda: _ready(url), timeout=120, what="embedded platform")
            yield url
        finally:
            process.terminate()
            process.wait(timeout=30)
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
def local_cluster(database_url: str, prefix: str) -> Iterator[str]:
    """Every service as a process on PostgreSQL (schemas ``prefix*``) and the broker."""
    for name, value in QUIET.items():
        os.environ.setdefault(name, value)
    with (
        tempfile.TemporaryDirectory(prefix="dx-bench-cluster-") as logs,
        cluster(
            database_url=database_url, schema_prefix=prefix, logs=Path(logs), admin_token=TOKEN
        ) as running,
    ):
        yield running.gateway
