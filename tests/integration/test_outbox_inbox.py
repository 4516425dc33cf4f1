"""Nothing accepted is lost and nothing is applied twice, through broker and consumer failures."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Sequence
from pathlib import Path

import pytest

from deploy.local.cluster import broker, free_port
from libs.common.bus.inprocess import InProcessBus
from libs.common.bus.kafka import KafkaBus
from libs.common.db import Database
from libs.common.events import Envelope
from libs.common.messaging import each
from libs.common.settings import Settings
from tests.support.messaging import TOPIC, Pair
from tests.support.proxy import TcpProxy

pytestmark = [pytest.mark.integration, pytest.mark.fault]


@pytest.fixture
async def proxied_broker(artifacts: Path) -> AsyncIterator[TcpProxy]:
    """A broker clients reach only through a proxy the test can cut (it advertises the proxy)."""
    proxy_port = free_port()
    with broker(artifacts, advertised_port=proxy_port) as address:
        proxy = TcpProxy("127.0.0.1", int(address.rsplit(":", 1)[1]), port=proxy_port)
        await proxy.start()
        yield proxy
        await proxy.close()


@pytest.fixture
async def pg_database(
    postgres_url: str, schema_prefix: str, request: pytest.FixtureRequest
) -> AsyncIterator[Database]:
    schema = f"{schema_prefix}_{request.node.name[:30].lower().replace('[', '_').strip(']')}"
    db = Database(postgres_url, schema=schema)
    async with db.engine.begin() as connection:
        await connection.exec_driver_sql(f'CREATE SCHEMA IF NOT EXISTS "{schema}"')
    yield db
    await db.dispose()


def kafka_settings(address: str) -> Settings:
    return Settings(
        kafka_bootstrap=address,
        kafka_idempotence=False,
        kafka_partitions=3,
        kafka_request_timeout_ms=3000,
    )


async def test_broker_cut_between_commit_and_publish_loses_nothing(
    proxied_broker: TcpProxy, pg_database: Database
) -> None:
    bus = KafkaBus(kafka_settings(proxied_broker.address))
    pair = Pair(pg_database, bus)
    await pair.create_tables()
    pair.subscribe()
    await bus.start()
    pair.relay.start()
    try:
        await pair.produce(range(20))
        await pair.wait_for_effects(20)

        await proxied_broker.cut()
        await pair.produce(range(20, 60))  # committed while the broker is unreachable
        await asyncio.sleep(2)
        assert (await pair.effect_counts())[1] == 20, "events crossed a cut link"

        await proxied_broker.restore()
        await pair.wait_for_effects(60)
        await asyncio.sleep(1)  # let any duplicate delivery land before counting
        total, distinct = await pair.effect_counts()
        assert (total, distinct) == (60, 60)
    finally:
        await pair.relay.stop()
        await bus.stop()


async def test_cuts_during_a_stream_lose_nothing_and_duplicate_nothing(
    proxied_broker: TcpProxy, pg_database: Database
) -> None:
    bus = KafkaBus(kafka_settings(proxied_broker.address))
    pair = Pair(pg_database, bus)
    await pair.create_tables()
    pair.subscribe()
    await bus.start()
    pair.relay.start()
    try:
        producing = asyncio.create_task(pair.produce(range(300)))
        for _ in range(3):
            await asyncio.sleep(0.3)
            await proxied_broker.cut()
            await asyncio.sleep(0.5)
            await proxied_broker.restore()
        await producing
        await pair.wait_for_effects(300)
        await asyncio.sleep(1)
        assert await pair.effect_counts() == (300, 300)
    finally:
        await pair.relay.stop()
        await bus.stop()


async def test_consumer_killed_after_db_commit_before_offset_commit(
    kafka_bootstrap: str, pg_database: Database
) -> None:
    first_bus = KafkaBus(kafka_settings(kafka_bootstrap))
    pair = Pair(pg_database, first_bus)
    await pair.create_tables()
    real_handler = pair.inbox.handler(pg_database, TOPIC, each(pair.effect))
    killed = asyncio.Event()

    async def dies_after_commit(batch: Sequence[Envelope]) -> None:
        await real_handler(batch)  # effect and inbox rows are committed here
        killed.set()
        raise asyncio.CancelledError  # the process dies before the offset commit

    first_bus.subscribe(
        service="consumer", topic=TOPIC, group="dx-test-consumer", handler=dies_after_commit
    )
    await first_bus.start()
    pair.relay.start()
    await pair.produce(range(10))
    await asyncio.wait_for(killed.wait(), 30)
    applied_before_crash = (await pair.effect_counts())[1]
    assert applied_before_crash > 0
    await pair.relay.stop()

    second_bus = KafkaBus(kafka_settings(kafka_bootstrap))
    pair.subscribe(second_bus)
    delivered: list[int] = []
    redelivered = asyncio.Event()
    handler = second_bus.subscriptions[-1].handler

    async def counting(batch: Sequence[Envelope]) -> None:
        delivered.extend(e.payload["n"] for e in batch)
        await handler(batch)
        if len(delivered) >= 10:
            redelivered.set()

    second_bus.subscriptions[-1] = type(second_bus.subscriptions[-1])(
        "consumer", TOPIC, "dx-test-consumer", counting
    )
    await first_bus.stop()
    await second_bus.start()
    try:
        await pair.wait_for_effects(10)
        # The events applied before the crash come again (their offsets were never committed)
        # once the new consumer has joined the group...
        await asyncio.wait_for(redelivered.wait(), 30)
        # ...and the inbox absorbs them: every event applied once.
        assert await pair.effect_counts() == (10, 10)
    finally:
        await second_bus.stop()


async def test_inprocess_restart_after_commit_before_ack_applies_once(tmp_path: Path) -> None:
    db = Database(f"sqlite+aiosqlite:///{tmp_path / 'pair.db'}")
    first_bus = InProcessBus()
    pair = Pair(db, first_bus)
    await pair.create_tables()
    real_handler = pair.inbox.handler(db, TOPIC, each(pair.effect))
    killed = asyncio.Event()

    async def dies_after_commit(batch: Sequence[Envelope]) -> None:
        await real_handler(batch)
        killed.set()
        raise asyncio.CancelledError

    first_bus.subscribe(service="consumer", topic=TOPIC, group="g", handler=dies_after_commit)
    await first_bus.start()
    await pair.produce(range(10))
    pair.relay.start()
    await asyncio.wait_for(killed.wait(), 10)
    await pair.relay.stop()
    await first_bus.stop()
    assert (await pair.effect_counts())[1] == 10  # applied, but never acknowledged

    second_bus = InProcessBus()
    restarted = Pair(db, second_bus)
    restarted.subscribe()
    await second_bus.start()
    restarted.relay.start()
    try:
        for _ in range(50):
            if await restarted.relay.relay_once() == 0:
                break
        assert await pair.effect_counts() == (10, 10)
    finally:
        await restarted.relay.stop()
        await second_bus.stop()
        await db.dispose()
