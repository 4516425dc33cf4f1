"""The raw limits, measured on the same machine in the same run.

What the platform does per value can be no faster than writing the row straight into the
database (SQLite ``executemany`` in one transaction, PostgreSQL ``COPY``), nor than producing
its event straight to the broker; every end-to-end figure is printed against these.
"""

from __future__ import annotations

import asyncio
import sqlite3
import tempfile
import time
import uuid
from datetime import UTC, datetime
from pathlib import Path

import asyncpg
from aiokafka import AIOKafkaProducer

from libs.common.events import SubmissionAccepted, SubmittedValue

COLUMNS = (
    "indicator",
    "agency",
    "scope",
    "period",
    "value_number",
    "value_bool",
    "revision",
    "recorded_at",
    "reported_at",
    "late",
    "submission",
    "source",
    "note",
)
DDL = """CREATE TABLE observations (
    id INTEGER PRIMARY KEY, indicator VARCHAR(64) NOT NULL, agency VARCHAR(32) NOT NULL,
    scope VARCHAR(80) NOT NULL, period VARCHAR(10) NOT NULL, value_number FLOAT,
    value_bool BOOLEAN, revision INTEGER NOT NULL, recorded_at TIMESTAMP NOT NULL,
    reported_at TIMESTAMP NOT NULL, late BOOLEAN NOT NULL, submission VARCHAR(64),
    source VARCHAR(64) NOT NULL, note TEXT)"""
INDEX = "CREATE UNIQUE INDEX ix_series ON observations (indicator, period, scope, agency, revision)"


def rows(count: int) -> list[tuple[object, ...]]:
    """``count`` distinct observation rows like the ones the platform stores."""
    now = datetime.now(UTC).replace(tzinfo=None)
    return [
        (
            f"KH2023-{n % 97:02d}",
            f"P{n // 97 % 1000:03d}",
            "agency",
            f"{1000 + n // 97000}-S1",
            None,
            n % 3 == 0,
            1,
            now,
            now,
            False,
            uuid.uuid4().hex,
            "api",
            None,
        )
        for n in range(count)
    ]


def sqlite_rows_per_second(count: int) -> float:
    """Rows/s of executemany into a WAL SQLite file in one transaction."""
    data = rows(count)
    with tempfile.TemporaryDirectory() as directory:
        connection = sqlite3.connect(Path(directory) / "raw.db")
        connection.execute("PRAGMA journal_mode=WAL")
        connection.execute("PRAGMA synchronous=NORMAL")
        connection.execute(DDL)
        connection.execute(INDEX)
        started = time.perf_counter()
        with connection:
            connection.executemany(
                f"INSERT INTO observations ({', '.join(COLUMNS)}) "
                f"VALUES ({', '.join('?' * len(COLUMNS))})",
                data,
            )
        elapsed = time.perf_counter() - started
        connection.close()
    return count / elapsed


async def postgres_rows_per_second(dsn: str, count: int) -> float:
    """Rows/s of COPY into a table of the observation store's shape."""
    data = rows(count)
    schema = f"bench_raw_{uuid.uuid4().hex[:8]}"
    connection = await asyncpg.connect(dsn)
    try:
        await connection.execute(f'CREATE SCHEMA "{schema}"')
        await connection.execute(f'SET search_path TO "{schema}"')
        await connection.execute(DDL.replace("id INTEGER PRIMARY KEY", "id SERIAL PRIMARY KEY"))
        await connection.execute(INDEX)
        started = time.perf_counter()
        await connection.copy_records_to_table("observations", records=data, columns=COLUMNS)
        elapsed = time.perf_counter() - started
        await connection.execute(f'DROP SCHEMA "{schema}" CASCADE')
    finally:
        await connection.close()
    return count / elapsed


async def kafka_events_per_second(bootstrap: str, count: int, values_per_event: int) -> float:
    """Events/s of producing submission envelopes straight to the broker (acks=all)."""
    now = datetime.now(UTC)
    events = [
        SubmissionAccepted(
            submission=uuid.uuid4().hex,
            agency=f"P{n % 63:02d}",
            period="2023-S1",
            values=[
                SubmittedValue(indicator=f"KH2023-{i:02d}", value=True)
                for i in range(values_per_event)
            ],
            received_at=now,
        ).envelope(producer="bench", key=f"P{n % 63:02d}")
        for n in range(count)
    ]
    topic = f"bench.raw.{uuid.uuid4().hex[:8]}"
    producer = AIOKafkaProducer(bootstrap_servers=bootstrap, acks="all", linger_ms=2)
    await producer.start()
    try:
        await producer.send_and_wait(topic, b"warm-up")
        started = time.perf_counter()
        sends = [await producer.send(topic, value=e.to_bytes(), key=e.key.encode()) for e in events]
        await asyncio.gather(*sends)
        elapsed = time.perf_counter() - started
    finally:
        await producer.stop()
    return count / elapsed
