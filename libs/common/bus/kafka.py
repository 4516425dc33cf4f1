"""The cluster bus on Apache Kafka (aiokafka): keyed by agency, committed after the effect."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Sequence

from aiokafka import AIOKafkaConsumer, AIOKafkaProducer, TopicPartition
from aiokafka.admin import AIOKafkaAdminClient, NewTopic
from aiokafka.errors import KafkaError, TopicAlreadyExistsError
from pydantic import ValidationError

from libs.common.bus.base import (
    RETRY_FIRST_DELAY,
    RETRY_MAX_DELAY,
    BusUnavailable,
    EventBus,
    Subscription,
    dead_letter_topic,
)
from libs.common.events import TOPICS, Envelope
from libs.common.metrics import CONSUMER_LAG, EVENTS_CONSUMED
from libs.common.settings import Settings

log = logging.getLogger(__name__)

FETCH_MAX_RECORDS = 500


class KafkaBus(EventBus):
    """Producer with acks=all (idempotent where the broker allows); one consumer per group.

    Offsets are committed only after the handler returned, i.e. after the consumer's database
    transaction (effect + inbox row) committed: a crash in between redelivers, and the inbox
    makes the redelivery a no-op.
    """

    def __init__(self, settings: Settings) -> None:
        super().__init__()
        self.settings = settings
        self._producer: AIOKafkaProducer | None = None
        self._producer_lock = asyncio.Lock()
        self._consumers: list[asyncio.Task[None]] = []
        self._topics_ready = False

    async def start(self) -> None:
        for subscription in self.subscriptions:
            self._consumers.append(
                asyncio.create_task(
                    self._consume(subscription),
                    name=f"consume:{subscription.group}:{subscription.topic}",
                )
            )

    async def stop(self) -> None:
        for task in self._consumers:
            task.cancel()
        for task in self._consumers:
            with contextlib.suppress(asyncio.CancelledError):
                await task
        self._consumers.clear()
        if self._producer is not None:
            with contextlib.suppress(KafkaError, OSError):
                await self._producer.stop()
            self._producer = None

    async def ping(self) -> None:
        producer = await self._ready_producer()
        try:
            await asyncio.wait_for(producer.client.fetch_all_metadata(), self._timeout)
        except (KafkaError, OSError, TimeoutError) as error:
            raise BusUnavailable(f"broker unreachable: {error}") from error

    @property
    def _timeout(self) -> float:
        return self.settings.kafka_request_timeout_ms / 1000

    async def ensure_topics(self) -> None:
        """Create the platform's topics (and their dead-letter topics) if they are missing."""
        admin = AIOKafkaAdminClient(
            bootstrap_servers=self.settings.kafka_bootstrap,
            request_timeout_ms=self.settings.kafka_request_timeout_ms,
        )
        await admin.start()
        try:
            wanted = [*TOPICS, *(dead_letter_topic(t) for t in TOPICS)]
            existing = set(await admin.list_topics())
            missing = [
                NewTopic(name, num_partitions=self.settings.kafka_partitions, replication_factor=1)
                for name in wanted
                if name not in existing
            ]
            if missing:
                with contextlib.suppress(TopicAlreadyExistsError):
                    await admin.create_topics(missing)
        finally:
            await admin.close()

    async def _ready_producer(self) -> AIOKafkaProducer:
        async with self._producer_lock:
            if self._producer is not None:
                return self._producer
            producer = AIOKafkaProducer(
                bootstrap_servers=self.settings.kafka_bootstrap,
                acks="all",
                enable_idempotence=self.settings.kafka_idempotence,
                linger_ms=2,
                request_timeout_ms=self.settings.kafka_request_timeout_ms,
                retry_backoff_ms=100,
            )
            try:
                await asyncio.wait_for(producer.start(), self._timeout)
                if not self._topics_ready:
                    await asyncio.wait_for(self.ensure_topics(), self._timeout)
                    self._topics_ready = True
            except (KafkaError, OSError, TimeoutError) as error:
                with contextlib.suppress(Exception):
                    await producer.stop()
                raise BusUnavailable(
                    f"cannot reach Kafka at {self.settings.kafka_bootstrap}: {error!r}"
                ) from error
            self._producer = producer
            return producer

    async def publish(self, topic: str, events: Sequence[Envelope]) -> None:
        if not events:
            return
        producer = await self._ready_producer()
        try:
            sends = [
                await producer.send(topic, value=event.to_bytes(), key=event.key.encode())
                for event in events
            ]
            await asyncio.wait_for(asyncio.gather(*sends), self._timeout)
        except (KafkaError, OSError, TimeoutError) as error:
            # A producer that lost its broker mid-send may hold half-sent batches: start afresh.
            async with self._producer_lock:
                if self._producer is producer:
                    self._producer = None
            with contextlib.suppress(Exception):
                await producer.stop()
            raise BusUnavailable(f"publish to {topic} failed: {error!r}") from error

    async def _consume(self, subscription: Subscription) -> None:
        delay = RETRY_FIRST_DELAY
        while True:
            consumer = AIOKafkaConsumer(
                subscription.topic,
                bootstrap_servers=self.settings.kafka_bootstrap,
                group_id=subscription.group,
                enable_auto_commit=False,
                auto_offset_reset="earliest",
                metadata_max_age_ms=5_000,
            )
            try:
                await consumer.start()
                delay = RETRY_FIRST_DELAY
                await self._consume_with(consumer, subscription)
            except (KafkaError, OSError) as error:
                log.warning(
                    "consumer %s on %s lost the broker (%r); reconnecting in %.2fs",
                    subscription.group,
                    subscription.topic,
                    error,
                    delay,
                )
                await asyncio.sleep(delay)
                delay = min(delay * 2, RETRY_MAX_DELAY)
            finally:
                with contextlib.suppress(Exception):
                    await consumer.stop()

    async def _consume_with(self, consumer: AIOKafkaConsumer, subscription: Subscription) -> None:
        while True:
            fetched = await consumer.getmany(timeout_ms=1000, max_records=FETCH_MAX_RECORDS)
            if not fetched:
                continue
            # One batch across partitions (each partition's records stay in order): the
            # handler's per-batch work (one transaction, one recompute) is shared by all.
            batch = []
            for partition, records in fetched.items():
                for record in records:
                    try:
                        batch.append(Envelope.from_bytes(record.value))
                    except ValidationError:
                        log.error(
                            "unreadable message at %s:%d offset %d dead-lettered",
                            partition.topic,
                            partition.partition,
                            record.offset,
                        )
                        await self._park_raw(subscription, record.value)
                        EVENTS_CONSUMED.labels(
                            subscription.service, subscription.topic, "dead_lettered"
                        ).inc()
            if batch:
                await self.deliver(subscription, batch)
                EVENTS_CONSUMED.labels(subscription.service, subscription.topic, "delivered").inc(
                    len(batch)
                )
            await consumer.commit(
                {partition: records[-1].offset + 1 for partition, records in fetched.items()}
            )
            for partition, records in fetched.items():
                self._record_lag(consumer, subscription, partition, records[-1].offset)

    async def _park_raw(self, subscription: Subscription, raw: bytes) -> None:
        producer = await self._ready_producer()
        await producer.send_and_wait(dead_letter_topic(subscription.topic), value=raw)

    @staticmethod
    def _record_lag(
        consumer: AIOKafkaConsumer,
        subscription: Subscription,
        partition: TopicPartition,
        last_offset: int,
    ) -> None:
        highwater = consumer.highwater(partition)
        if highwater is not None:
            CONSUMER_LAG.labels(
                subscription.service, subscription.topic, str(partition.partition)
            ).set(max(highwater - last_offset - 1, 0))
