"""Fixtures shared by the whole suite: the broker, PostgreSQL schemas, settings."""

from __future__ import annotations

import asyncio
import os
import uuid
from collections.abc import Callable, Coroutine, Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any, TypeVar

import asyncpg
import pytest

from deploy.local.cluster import broker

T = TypeVar("T")

ARTIFACTS = Path(__file__).parent / "artifacts"
POSTGRES_URL = os.environ.get(
    "DX_TEST_POSTGRES_URL", "postgresql+asyncpg://postgres@127.0.0.1:5432/test"
)


@pytest.fixture(scope="session")
def artifacts() -> Path:
    """Where tests leave logs and screenshots for people to look at."""
    ARTIFACTS.mkdir(exist_ok=True)
    return ARTIFACTS


@pytest.fixture(scope="session")
def kafka_bootstrap(artifacts: Path) -> Iterator[str]:
    """A real Kafka-protocol broker on loopback for the whole session."""
    with broker(artifacts) as address:
        yield address


def run_apart(work: Callable[[], Coroutine[Any, Any, T]]) -> T:
    """Run a coroutine to completion on its own loop (from sync fixtures inside async tests)."""
    with ThreadPoolExecutor(1) as pool:
        return pool.submit(asyncio.run, work()).result()


@pytest.fixture(scope="session")
def postgres_url() -> str:
    """The machine's PostgreSQL; a test that needs it fails (never skips) when it is down."""

    async def probe() -> None:
        connection = await asyncpg.connect(POSTGRES_URL.replace("+asyncpg", ""), timeout=5)
        await connection.close()

    run_apart(probe)
    return POSTGRES_URL


@pytest.fixture(scope="session")
def schema_prefix(postgres_url: str) -> Iterator[str]:
    """A prefix unique to this test session; its schemas are dropped at the end."""
    prefix = f"t{uuid.uuid4().hex[:8]}"
    yield prefix

    async def drop() -> None:
        connection = await asyncpg.connect(postgres_url.replace("+asyncpg", ""))
        try:
            schemas = await connection.fetch(
                "SELECT nspname FROM pg_namespace WHERE nspname LIKE $1", f"{prefix}%"
            )
            for row in schemas:
                await connection.execute(f'DROP SCHEMA "{row["nspname"]}" CASCADE')
        finally:
            await connection.close()

    run_apart(drop)
