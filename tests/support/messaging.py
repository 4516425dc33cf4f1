"""A minimal producer/consumer pair over the real outbox, inbox and bus, for fault tests."""

from __future__ import annotations

import asyncio
from typing import ClassVar

from sqlalchemy import Column, Integer, MetaData, String, Table, func, select
from sqlalchemy.ext.asyncio import AsyncSession

from libs.common.bus import EventBus
from libs.common.db import Database, new_metadata
from libs.common.events import Envelope, EventPayload
from libs.common.messaging import Inbox, Outbox, OutboxRelay, each, messaging_tables

TOPIC = "dx.test-counted.v1"


class Counted(EventPayload):
    event_type: ClassVar[str] = "test.counted"
    topic: ClassVar[str] = TOPIC

    n: int


def effect_tables() -> tuple[MetaData, Table]:
    metadata = new_metadata()
    effects = Table(
        "effects",
        metadata,
        Column("id", Integer, primary_key=True, autoincrement=True),
        Column("event_id", String(36), nullable=False),  # deliberately not unique
        Column("n", Integer, nullable=False),
    )
    return metadata, effects


class Pair:
    """A producer writing ``Counted`` events through its outbox and a consumer counting them."""

    def __init__(self, db: Database, bus: EventBus) -> None:
        self.db = db
        self.bus = bus
        self.metadata, self.effects = effect_tables()
        self.tables = messaging_tables(self.metadata)
        self.outbox = Outbox(self.tables, producer="producer")
        self.inbox = Inbox(self.tables, service="consumer")
        self.relay = OutboxRelay(
            service="producer", db=db, bus=bus, outbox=self.outbox, poll_seconds=0.1
        )

    async def create_tables(self) -> None:
        async with self.db.engine.begin() as connection:
            await connection.run_sync(self.metadata.create_all)

    async def effect(self, session: AsyncSession, envelope: Envelope) -> None:
        await session.execute(
            self.effects.insert().values(event_id=str(envelope.event_id), n=envelope.payload["n"])
        )

    def subscribe(self, bus: EventBus | None = None) -> None:
        (bus or self.bus).subscribe(
            service="consumer",
            topic=TOPIC,
            group="dx-test-consumer",
            handler=self.inbox.handler(self.db, TOPIC, each(self.effect)),
        )

    async def produce(self, numbers: range) -> None:
        """Commit one event per number, each in its own transaction, through the outbox."""
        for n in numbers:
            async with self.db.transaction() as session:
                await self.outbox.add(session, (Counted(n=n), f"agency-{n % 5}"))

    async def effect_counts(self) -> tuple[int, int]:
        """(effect rows, distinct events) — equal when nothing was applied twice."""
        async with self.db.read() as session:
            total = await session.scalar(select(func.count()).select_from(self.effects))
            distinct = await session.scalar(
                select(func.count(func.distinct(self.effects.c.event_id)))
            )
        return int(total or 0), int(distinct or 0)

    async def wait_for_effects(self, expected: int, within: float = 60) -> None:
        deadline = asyncio.get_running_loop().time() + within
        while (await self.effect_counts())[1] < expected:
            if asyncio.get_running_loop().time() > deadline:
                raise AssertionError(
                    f"only {await self.effect_counts()} of {expected} effects after {within}s"
                )
            await asyncio.sleep(0.1)
