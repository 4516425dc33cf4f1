"""The embedded platform in the test's event loop, reached over ASGI."""

from __future__ import annotations

import asyncio
import socket
import threading
import time
from collections.abc import AsyncIterator, Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import asynccontextmanager, contextmanager
from pathlib import Path

import httpx
import uvicorn
from fastapi import FastAPI
from prometheus_client import REGISTRY

from libs.common.settings import Settings
from services import platform

ADMIN_TOKEN = "test-admin-token"


def embedded_settings(data_dir: Path, **overrides: object) -> Settings:
    """Settings of an embedded platform keeping its files in ``data_dir``."""
    values: dict[str, object] = {
        "data_dir": data_dir,
        "bootstrap_admin_token": ADMIN_TOKEN,
        "internal_secret": "test-internal-secret",
        "outbox_poll_seconds": 0.05,
    }
    values.update(overrides)
    return Settings(**values)  # type: ignore[arg-type]


@asynccontextmanager
async def running(app: FastAPI) -> AsyncIterator[FastAPI]:
    """Run an app's lifespan around the block."""
    async with app.router.lifespan_context(app):
        yield app


@asynccontextmanager
async def embedded_platform(settings: Settings) -> AsyncIterator[httpx.AsyncClient]:
    """Migrate, start the embedded platform, and yield an admin client to its gateway."""
    await asyncio.to_thread(platform.migrate, settings)
    app = platform.embedded_app(settings)
    async with running(app):
        transport = httpx.ASGITransport(app=app, raise_app_exceptions=False)
        async with httpx.AsyncClient(
            transport=transport,
            base_url="http://dx.test",
            headers={"Authorization": f"Bearer {ADMIN_TOKEN}"},
            timeout=30,
        ) as client:
            client.app = app  # type: ignore[attr-defined]
            yield client


def postgres_settings(
    data_dir: Path, *, url: str, schema_prefix: str, **overrides: object
) -> Settings:
    """Embedded settings whose services keep their tables in PostgreSQL schemas."""
    return embedded_settings(
        data_dir, database_url=url, database_schema_prefix=schema_prefix, **overrides
    )


def forwarded_to_services() -> float:
    """How many requests the services have served in this process (the gateway's not counted)."""
    total = 0.0
    for metric in REGISTRY.collect():
        if metric.name == "dx_http_requests":
            total += sum(
                s.value
                for s in metric.samples
                if s.name.endswith("_total") and s.labels["service"] != "gateway"
            )
    return total


def free_port() -> int:
    """A loopback port nothing listens on now."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


@contextmanager
def served_platform(data_dir: Path, *, within: float = 60) -> Iterator[str]:
    """The embedded platform as ``make run`` starts it, served by uvicorn on a loopback port.

    Yields its base URL once ``/readyz`` answers 200 (the reference catalogue seeds itself).
    """
    port = free_port()
    settings = embedded_settings(data_dir, port=port)
    # Alembic runs its own event loop, which a caller's running loop (Playwright's) would block.
    with ThreadPoolExecutor(1) as worker:
        worker.submit(platform.migrate, settings).result()
    app = platform.embedded_app(settings)
    server = uvicorn.Server(
        uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning", lifespan="on")
    )
    thread = threading.Thread(target=server.run, name="platform-uvicorn", daemon=True)
    thread.start()
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + within
        while not _ready(server, base):
            if time.monotonic() > deadline:
                raise AssertionError(f"the embedded platform did not become ready within {within}s")
            time.sleep(0.1)
        yield base
    finally:
        server.should_exit = True
        thread.join(timeout=30)


def _ready(server: uvicorn.Server, base: str) -> bool:
    try:
        return server.started and httpx.get(f"{base}/readyz", timeout=5).status_code == 200
    except httpx.HTTPError:
        return False
