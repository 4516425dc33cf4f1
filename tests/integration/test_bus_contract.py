"""One contract, two buses: the in-process bus and Kafka (a real broker) behave the same."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator, Sequence

import pytest
from aiokafka import AIOKafkaConsumer, AIOKafkaProducer
from prometheus_client import REGISTRY

from libs.common.bus import EventBus, PermanentEventError
from libs.common.bus.inprocess import InProcessBus
from libs.common.bus.kafka import KafkaBus
from libs.common.events import Envelope
from libs.common.settings import Settings

pytestmark = pytest.mark.integration


def envelope(key: str, n: int) -> Envelope:
    return Envelope(type="test.counted", producer="contract", key=key, payload={"n": n})


class Recorder:
    """A handler that keeps what it was given, and can be told to fail."""

    def __init__(self) -> None:
        self.seen: list[Envelope] = []
        self.arrived = asyncio.Event()
        self.expected = 0
        self.failures_left = 0
        self.poison: set[int] = set()

    async def __call__(self, batch: Sequence[Envelope]) -> None:
        if any(e.payload["n"] in self.poison for e in batch):
            raise PermanentEventError("poison")
        if self.failures_left:
            self.failures_left -= 1
            raise ConnectionError("database went away")
        self.seen.extend(batch)
        if len(self.seen) >= self.expected:
            self.arrived.set()

    async def wait_for(self, count: int) -> None:
        self.expected = count
        if len(self.seen) < count:
            self.arrived.clear()
            await asyncio.wait_for(self.arrived.wait(), 30)


@pytest.fixture(params=["inprocess", "kafka"])
async def bus_factory(request: pytest.FixtureRequest) -> AsyncIterator[type[EventBus] | object]:
    started: list[EventBus] = []

    def make() -> EventBus:
        if request.param == "inprocess":
            bus: EventBus = InProcessBus()
        else:
            bootstrap = request.getfixturevalue("kafka_bootstrap")
            bus = KafkaBus(
                Settings(kafka_bootstrap=bootstrap, kafka_idempotence=False, kafka_partitions=3)
            )
        started.append(bus)
        return bus

    yield make
    for bus in started:
        await bus.stop()


def topic() -> str:
    return f"contract.{uuid.uuid4().hex[:10]}"


async def publish_soon(bus: EventBus, name: str, events: list[Envelope]) -> asyncio.Task[None]:
    # The in-process bus returns from publish only after delivery, so publish concurrently.
    return asyncio.create_task(bus.publish(name, events))


async def test_every_group_gets_every_event_in_key_order(bus_factory) -> None:  # type: ignore[no-untyped-def]
    bus = bus_factory()
    name = topic()
    first, second = Recorder(), Recorder()
    bus.subscribe(service="a", topic=name, group=f"g1-{name}", handler=first)
    bus.subscribe(service="b", topic=name, group=f"g2-{name}", handler=second)
    await bus.start()
    events = [envelope(f"agency-{n % 4}", n) for n in range(200)]
    publishing = await publish_soon(bus, name, events)
    await first.wait_for(200)
    await second.wait_for(200)
    await publishing
    for recorder in (first, second):
        assert sorted(e.event_id for e in recorder.seen) == sorted(e.event_id for e in events)
        for key in {e.key for e in events}:
            got = [e.payload["n"] for e in recorder.seen if e.key == key]
            assert got == sorted(got), f"order broken for {key}"


async def test_transient_failures_are_retried_until_they_pass(bus_factory) -> None:  # type: ignore[no-untyped-def]
    bus = bus_factory()
    name = topic()
    recorder = Recorder()
    recorder.failures_left = 3
    bus.subscribe(service="a", topic=name, group=f"g-{name}", handler=recorder)
    await bus.start()
    publishing = await publish_soon(bus, name, [envelope("k", n) for n in range(5)])
    await recorder.wait_for(5)
    await publishing
    assert sorted(e.payload["n"] for e in recorder.seen) == [0, 1, 2, 3, 4]


async def test_a_poison_event_is_parked_and_the_rest_flow(bus_factory) -> None:  # type: ignore[no-untyped-def]
    bus = bus_factory()
    name = topic()
    recorder = Recorder()
    recorder.poison = {2}
    parked = Recorder()
    bus.subscribe(service="a", topic=name, group=f"g-{name}", handler=recorder)
    if isinstance(bus, KafkaBus):
        bus.subscribe(service="ops", topic=f"{name}.dlq", group=f"dlq-{name}", handler=parked)
    await bus.start()
    publishing = await publish_soon(bus, name, [envelope("k", n) for n in range(5)])
    await recorder.wait_for(4)
    await publishing
    assert sorted(e.payload["n"] for e in recorder.seen) == [0, 1, 3, 4]
    if isinstance(bus, KafkaBus):
        await parked.wait_for(1)
        assert [e.payload["n"] for e in parked.seen] == [2]
    else:
        assert isinstance(bus, InProcessBus)
        assert [e.payload["n"] for e in bus.dead_letters] == [2]


async def test_an_unreadable_message_is_parked_raw_and_the_rest_flow(kafka_bootstrap: str) -> None:
    bus = KafkaBus(Settings(kafka_bootstrap=kafka_bootstrap, kafka_idempotence=False))
    name = topic()
    recorder = Recorder()
    bus.subscribe(service="garbage", topic=name, group=f"g-{name}", handler=recorder)
    producer = AIOKafkaProducer(bootstrap_servers=kafka_bootstrap, enable_idempotence=False)
    await producer.start()
    dlq = AIOKafkaConsumer(
        f"{name}.dlq", bootstrap_servers=kafka_bootstrap, auto_offset_reset="earliest"
    )
    try:
        await producer.send_and_wait(name, b"\xff not an envelope", key=b"k")
        await bus.start()
        publishing = await publish_soon(bus, name, [envelope("k", n) for n in range(3)])
        await recorder.wait_for(3)
        await publishing
        await dlq.start()
        parked = await asyncio.wait_for(dlq.getone(), 30)
    finally:
        await bus.stop()
        await producer.stop()
        await dlq.stop()
    assert sorted(e.payload["n"] for e in recorder.seen) == [0, 1, 2]
    assert parked.value == b"\xff not an envelope"
    labels = {"service": "garbage", "topic": name, "outcome": "dead_lettered"}
    assert REGISTRY.get_sample_value("dx_events_consumed_total", labels) == 1
