"""Transactional outbox and inbox: the same in both run modes, over any bus.

A producer writes its events to ``outbox`` in the transaction of its own change; the relay
publishes them afterwards, so nothing is published for rolled-back state and nothing
committed is lost while the bus is away. A consumer records each ``event_id`` in ``inbox`` in
the transaction of its effect, so a redelivered event changes nothing twice.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Awaitable, Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import timedelta

from sqlalchemy import (
    BigInteger,
    Column,
    DateTime,
    Index,
    Integer,
    LargeBinary,
    MetaData,
    String,
    Table,
    Uuid,
    delete,
    event,
    func,
    insert,
    select,
    update,
)
from sqlalchemy.ext.asyncio import AsyncSession

from libs.common.bus.base import (
    BatchHandler,
    BusUnavailable,
    EventBus,
    PermanentEventError,
    transient,
)
from libs.common.db import Database, aware, dialect_insert
from libs.common.events import Envelope, EventPayload, utcnow
from libs.common.lease import LeaderLease
from libs.common.metrics import (
    EVENTS_CONSUMED,
    EVENTS_PUBLISHED,
    OUTBOX_BACKLOG,
    OUTBOX_OLDEST_AGE,
    OUTBOX_PUBLISH_FAILURES,
)

log = logging.getLogger(__name__)

Effect = Callable[[AsyncSession, Envelope], Awaitable[None]]
Finish = Callable[[AsyncSession], Awaitable[None]]
#: The effect of a whole batch of fresh events, in one transaction: set-wise consumers read and
#: write once per batch instead of once per event.
BatchEffect = Callable[[AsyncSession, Sequence[Envelope]], Awaitable[None]]

PUBLISHED_RETENTION = timedelta(hours=24)
#: How often the relay deletes rows published longer than ``PUBLISHED_RETENTION`` ago (the
#: delete reads the whole table: once per pass it would cost more than the publishing).
PRUNE_EVERY = timedelta(minutes=1)


@dataclass(frozen=True)
class MessagingTables:
    outbox: Table
    inbox: Table


def messaging_tables(metadata: MetaData) -> MessagingTables:
    """Declare ``outbox`` and ``inbox`` in a service's metadata."""
    outbox = Table(
        "outbox",
        metadata,
        Column(
            "id", BigInteger().with_variant(Integer, "sqlite"), primary_key=True, autoincrement=True
        ),
        Column("event_id", Uuid, nullable=False, unique=True),
        Column("topic", String(200), nullable=False),
        Column("key", String(200), nullable=False),
        Column("envelope", LargeBinary, nullable=False),
        Column("created_at", DateTime(timezone=True), nullable=False),
        Column("published_at", DateTime(timezone=True)),
    )
    Index(
        "ix_outbox_pending",
        outbox.c.id,
        postgresql_where=outbox.c.published_at.is_(None),
        sqlite_where=outbox.c.published_at.is_(None),
    )
    inbox = Table(
        "inbox",
        metadata,
        Column("event_id", Uuid, primary_key=True),
        Column("topic", String(200), nullable=False),
        Column("received_at", DateTime(timezone=True), nullable=False),
    )
    return MessagingTables(outbox, inbox)


class Outbox:
    """Writes events in the caller's transaction; the relay publishes them after commit."""

    def __init__(self, tables: MessagingTables, *, producer: str) -> None:
        self.table = tables.outbox
        self.producer = producer
        self.written = asyncio.Event()

    async def add(self, session: AsyncSession, *payloads: tuple[EventPayload, str]) -> None:
        """Queue ``(payload, key)`` pairs for publication with the session's transaction."""
        now = utcnow()
        rows = []
        for payload, key in payloads:
            envelope = payload.envelope(producer=self.producer, key=key)
            rows.append(
                {
                    "event_id": envelope.event_id,
                    "topic": payload.topic,
                    "key": key,
                    "envelope": envelope.to_bytes(),
                    "created_at": now,
                }
            )
        if rows:
            await session.execute(insert(self.table), rows)
            # Wake the relay at once (it would otherwise find the rows on its next poll).
            event.listen(session.sync_session, "after_commit", self._wake, once=True)

    def _wake(self, _session: object) -> None:
        self.written.set()


class OutboxRelay:
    """Publishes committed outbox rows in order and keeps trying while the bus is away."""

    def __init__(
        self,
        *,
        service: str,
        db: Database,
        bus: EventBus,
        outbox: Outbox,
        poll_seconds: float = 0.5,
        batch_size: int = 500,
    ) -> None:
        self.service = service
        self.db = db
        self.bus = bus
        self.outbox = outbox
        self.poll_seconds = poll_seconds
        self.batch_size = batch_size
        # Several platforms may share one database in separate schemas: one leader per schema.
        self.lease = LeaderLease(db, f"outbox-relay:{db.schema or ''}:{service}")
        OUTBOX_PUBLISH_FAILURES.labels(service)  # exported from the start, at zero
        self._task: asyncio.Task[None] | None = None
        self._pruned_at = utcnow()

    def start(self) -> None:
        """Run the relay in the background."""
        self._task = asyncio.create_task(self._run(), name=f"outbox-relay:{self.service}")

    async def stop(self) -> None:
        """Stop relaying (unpublished rows stay for the next start)."""
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
            self._task = None
        await self.lease.release()

    async def _run(self) -> None:
        delay = self.poll_seconds
        while True:
            try:
                published = await self.relay_once() if await self.lease.held() else 0
                delay = self.poll_seconds
            except BusUnavailable as error:
                OUTBOX_PUBLISH_FAILURES.labels(self.service).inc()
                log.warning("outbox of %s waits for the bus: %s", self.service, error)
                published, delay = 0, min(max(delay * 2, 0.1), 5.0)
            except Exception:
                log.exception("outbox relay of %s failed; retrying", self.service)
                published, delay = 0, min(max(delay * 2, 0.1), 5.0)
            if published:
                continue
            self.outbox.written.clear()
            with contextlib.suppress(TimeoutError):
                # asyncio.timeout, unlike 3.11's wait_for, never swallows a cancellation that
                # arrives just as the event is set (stop() would then wait forever).
                async with asyncio.timeout(delay):
                    await self.outbox.written.wait()

    async def relay_once(self) -> int:
        """Publish one batch of pending events; return how many were published."""
        table = self.outbox.table
        async with self.db.read() as session:
            rows = (
                await session.execute(
                    select(table.c.id, table.c.topic, table.c.envelope, table.c.created_at)
                    .where(table.c.published_at.is_(None))
                    .order_by(table.c.id)
                    .limit(self.batch_size)
                )
            ).all()
            backlog = await session.scalar(
                select(func.count()).select_from(table).where(table.c.published_at.is_(None))
            )
        OUTBOX_BACKLOG.labels(self.service).set(backlog or 0)
        if not rows:
            OUTBOX_OLDEST_AGE.labels(self.service).set(0)
            return 0
        oldest = aware(rows[0].created_at)
        OUTBOX_OLDEST_AGE.labels(self.service).set((utcnow() - oldest).total_seconds())
        by_topic: dict[str, list[Envelope]] = {}
        for row in rows:
            by_topic.setdefault(row.topic, []).append(Envelope.from_bytes(row.envelope))
        # Topics go out side by side: a slow consumer of one topic does not hold up the others.
        await asyncio.gather(*(self.bus.publish(t, events) for t, events in by_topic.items()))
        for topic, envelopes in by_topic.items():
            EVENTS_PUBLISHED.labels(self.service, topic).inc(len(envelopes))
        now = utcnow()
        async with self.db.transaction() as session:
            await session.execute(
                update(table)
                .where(table.c.id.in_([row.id for row in rows]))
                .values(published_at=now)
            )
            if now - self._pruned_at >= PRUNE_EVERY:
                await session.execute(
                    delete(table).where(table.c.published_at < now - PUBLISHED_RETENTION)
                )
                self._pruned_at = now
        return len(rows)


class Inbox:
    """Remembers handled event ids so that a redelivery is a no-op."""

    def __init__(self, tables: MessagingTables, *, service: str) -> None:
        self.table = tables.inbox
        self.service = service

    async def claim(
        self, session: AsyncSession, envelopes: Sequence[Envelope], topic: str
    ) -> list[Envelope]:
        """Record the events in the session's transaction; return those not seen before."""
        unique = list({e.event_id: e for e in envelopes}.values())
        if not unique:
            return []
        insert_ = dialect_insert(session)
        now = utcnow()
        statement = (
            insert_(self.table)
            .values([{"event_id": e.event_id, "topic": topic, "received_at": now} for e in unique])
            .on_conflict_do_nothing(index_elements=["event_id"])
            .returning(self.table.c.event_id)
        )
        new_ids = set((await session.execute(statement)).scalars())
        return [e for e in unique if e.event_id in new_ids]

    def handler(self, db: Database, topic: str, effect: BatchEffect) -> BatchHandler:
        """A bus handler applying ``effect`` to the events not seen before, in one transaction."""

        async def handle(batch: Sequence[Envelope]) -> None:
            async with db.transaction() as session:
                fresh = await self.claim(session, batch, topic)
                if fresh:
                    await effect(session, fresh)
            EVENTS_CONSUMED.labels(self.service, topic, "processed").inc(len(fresh))
            if len(fresh) < len(batch):
                EVENTS_CONSUMED.labels(self.service, topic, "duplicate").inc(
                    len(batch) - len(fresh)
                )

        return handle


def guarded(effect: BatchEffect) -> BatchEffect:
    """A batch effect whose failures are judged as ``dispatch`` judges an event's: one not
    ``transient`` is the batch's own fault, and the bus then retries the batch event by event,
    dead-lettering only the event that fails alone."""

    async def apply(session: AsyncSession, batch: Sequence[Envelope]) -> None:
        try:
            await effect(session, batch)
        except Exception as error:
            if transient(error):
                raise
            kinds = ", ".join(sorted({envelope.type for envelope in batch}))
            raise PermanentEventError(
                f"unusable {kinds}: {type(error).__name__}: {error}"
            ) from error

    return apply


def each(effect: Effect, finish: Finish | None = None) -> BatchEffect:
    """A batch effect applying ``effect`` event by event, then ``finish`` once for the batch.

    ``finish`` is for work that many events share (recomputing a figure they all moved): it is
    then done once, not per event.
    """

    async def apply(session: AsyncSession, batch: Sequence[Envelope]) -> None:
        for envelope in batch:
            await effect(session, envelope)
        if finish is not None:
            await finish(session)

    return apply


def dispatch(effects: Mapping[str, Effect]) -> Effect:
    """One effect per event type: other types are ignored, unusable events parked.

    An effect failing for a reason of the event's own (a payload that does not validate, a
    value the consumer cannot read or the store cannot keep) raises ``PermanentEventError``
    naming the event type, so the bus dead-letters that event at once; connectivity errors
    pass through unchanged and are retried (see ``libs.common.bus.base.transient``).
    """

    async def apply(session: AsyncSession, envelope: Envelope) -> None:
        effect = effects.get(envelope.type)
        if effect is None:
            return
        try:
            await effect(session, envelope)
        except Exception as error:
            if transient(error):
                raise
            raise PermanentEventError(
                f"unusable {envelope.type}: {type(error).__name__}: {error}"
            ) from error

    return apply
