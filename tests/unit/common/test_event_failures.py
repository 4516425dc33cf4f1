"""Permanent or transient, decided by the error: poison events are parked at once, outages wait."""

from __future__ import annotations

import asyncio
from collections.abc import Sequence

import pytest
from prometheus_client import REGISTRY
from pydantic import BaseModel, ValidationError
from sqlalchemy.exc import DBAPIError, IntegrityError, InterfaceError, OperationalError
from sqlalchemy.exc import TimeoutError as PoolTimeout

from libs.common.bus.base import BusUnavailable, PermanentEventError, transient
from libs.common.bus.inprocess import InProcessBus
from libs.common.db import DatabaseUnavailable
from libs.common.events import Envelope
from libs.common.messaging import dispatch


class DriverError(Exception):
    """A driver exception carrying its SQLSTATE, as asyncpg's do."""

    def __init__(self, message: str, sqlstate: str) -> None:
        super().__init__(message)
        self.sqlstate = sqlstate


def pg_error(sqlstate: str, message: str = "server said no") -> DBAPIError:
    return DBAPIError("INSERT", {}, DriverError(message, sqlstate))


class Payload(BaseModel):
    n: int


def validation_error() -> ValidationError:
    try:
        Payload.model_validate({"n": "not a number"})
    except ValidationError as error:
        return error
    raise AssertionError("the payload validated")


def chained(error: Exception, cause: BaseException) -> Exception:
    error.__cause__ = cause
    return error


TRANSIENT: dict[str, BaseException] = {
    "bus unavailable": BusUnavailable("broker away"),
    "connection refused": ConnectionRefusedError(111, "refused"),
    "socket timeout": TimeoutError(),
    "database unreachable": DatabaseUnavailable("cannot connect"),
    "pool exhausted": PoolTimeout("QueuePool limit reached"),
    "connection lost mid-statement": DBAPIError(
        "COMMIT", {}, Exception(), connection_invalidated=True
    ),
    "sqlite locked": OperationalError("INSERT", {}, Exception("database is locked")),
    "interface error": InterfaceError("SELECT", {}, Exception("connection is closed")),
    "admin shutdown": pg_error("57P01"),
    "connection failure": pg_error("08006"),
    "serialization failure": pg_error("40001"),
    "deadlock": pg_error("40P01"),
    "too many connections": pg_error("53300"),
    "wrapped connection reset": chained(RuntimeError("effect failed"), ConnectionResetError()),
}

PERMANENT: dict[str, BaseException] = {
    "NUL in text": pg_error("22021", 'invalid byte sequence for encoding "UTF8": 0x00'),
    "numeric overflow": pg_error("22003"),
    "unique violation": IntegrityError("INSERT", {}, DriverError("duplicate", "23505")),
    "undecodable": UnicodeDecodeError("utf-8", b"\xff", 0, 1, "invalid start byte"),
    "unencodable": UnicodeEncodeError("utf-8", "\ud800", 0, 1, "surrogates not allowed"),
    "payload invalid": validation_error(),
    "value unreadable": ValueError("ratio needs a denominator"),
    "consumer bug on it": KeyError("KH2023-99"),
    "declared permanent": PermanentEventError("poison"),
    "declared permanent over a timeout": chained(PermanentEventError("poison"), TimeoutError()),
}


@pytest.mark.parametrize("name", TRANSIENT)
def test_connectivity_errors_are_transient(name: str) -> None:
    assert transient(TRANSIENT[name])


@pytest.mark.parametrize("name", PERMANENT)
def test_data_errors_are_permanent(name: str) -> None:
    assert not transient(PERMANENT[name])


def envelope(n: int) -> Envelope:
    return Envelope(type="test.counted", producer="unit", key="P01", payload={"n": n})


def sample(name: str, **labels: str) -> float:
    return REGISTRY.get_sample_value(name, labels) or 0.0


class Handler:
    """Stores what it is given; one event fails as poison, and the store may be out of reach."""

    def __init__(self, poison: BaseException | None = None, poisoned: int = -1) -> None:
        self.stored: list[int] = []
        self.calls = 0
        self.poison = poison
        self.poisoned = poisoned
        self.outage = asyncio.Event()

    async def __call__(self, batch: Sequence[Envelope]) -> None:
        self.calls += 1
        if self.outage.is_set():
            raise pg_error("57P01", "terminating connection due to administrator command")
        if self.poison is not None and any(e.payload["n"] == self.poisoned for e in batch):
            raise self.poison
        self.stored.extend(e.payload["n"] for e in batch)


@pytest.mark.parametrize("name", ["NUL in text", "payload invalid", "unique violation"])
async def test_a_poison_event_is_dead_lettered_at_once_and_the_rest_stored(
    name: str, caplog: pytest.LogCaptureFixture
) -> None:
    bus = InProcessBus()
    handler = Handler(poison=PERMANENT[name], poisoned=3)
    topic = f"unit.poison.{name.replace(' ', '-')}"
    bus.subscribe(service="unit", topic=topic, group="g", handler=handler)
    before = sample("dx_events_consumed_total", service="unit", topic=topic, outcome="failed")
    await bus.start()
    try:
        events = [envelope(n) for n in range(6)]
        await asyncio.wait_for(bus.publish(topic, events), 5)
    finally:
        await bus.stop()
    assert handler.stored == [0, 1, 2, 4, 5]
    assert [e.event_id for e in bus.dead_letters] == [events[3].event_id]
    # Once for the batch, once for the event alone: never retried.
    assert handler.calls == 1 + len(events)
    assert sample("dx_events_consumed_total", service="unit", topic=topic, outcome="failed") == (
        before
    )
    assert sample(
        "dx_events_consumed_total", service="unit", topic=topic, outcome="dead_lettered"
    ) == pytest.approx(1)
    assert str(events[3].event_id) in caplog.text
    assert "dead-lettering" in caplog.text


async def test_an_outage_is_retried_while_it_lasts_and_the_stall_shows() -> None:
    bus = InProcessBus()
    handler = Handler()
    topic = "unit.outage"
    bus.subscribe(service="unit", topic=topic, group="g", handler=handler)
    handler.outage.set()
    await bus.start()
    try:
        publishing = asyncio.create_task(bus.publish(topic, [envelope(n) for n in range(3)]))
        deadline = asyncio.get_running_loop().time() + 10
        while sample("dx_consumer_retrying_seconds", service="unit", topic=topic) < 1.0:
            assert asyncio.get_running_loop().time() < deadline, "the stall never showed"
            assert not publishing.done()
            await asyncio.sleep(0.05)
        calls_during_outage = handler.calls
        handler.outage.clear()
        await asyncio.wait_for(publishing, 10)
    finally:
        await bus.stop()
    assert calls_during_outage > 3
    assert handler.stored == [0, 1, 2]  # the batch as a whole once the store is back
    assert not bus.dead_letters
    assert sample("dx_consumer_retrying_seconds", service="unit", topic=topic) == 0


async def test_dispatch_names_the_event_type_and_lets_outages_through() -> None:
    async def unreadable(_session: object, _envelope: Envelope) -> None:
        Payload.model_validate({"n": "x"})

    async def unreachable(_session: object, _envelope: Envelope) -> None:
        raise DatabaseUnavailable("cannot connect")

    effect = dispatch({"bad": unreadable, "away": unreachable})
    bad = Envelope(type="bad", producer="unit", key="k", payload={})
    with pytest.raises(PermanentEventError, match="unusable bad: ValidationError"):
        await effect(None, bad)  # type: ignore[arg-type]
    away = Envelope(type="away", producer="unit", key="k", payload={})
    with pytest.raises(DatabaseUnavailable):
        await effect(None, away)  # type: ignore[arg-type]
    await effect(None, Envelope(type="other", producer="unit", key="k", payload={}))  # type: ignore[arg-type]
