"""The embedded bus: asyncio queues, one worker per consumer group, delivery awaited."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Sequence

from libs.common.bus.base import BusUnavailable, EventBus, Subscription
from libs.common.events import Envelope
from libs.common.metrics import EVENTS_CONSUMED

log = logging.getLogger(__name__)

MAX_BATCH = 500

_Delivery = tuple[list[Envelope], asyncio.Future[None]]


class InProcessBus(EventBus):
    """Delivers in publication order to every group subscribed to a topic.

    ``publish`` returns only when every group has handled the events (its inbox transaction
    committed), so the outbox row is marked published only once the effect is durable: a crash
    in between republishes, and the inbox drops the duplicate.
    """

    def __init__(self) -> None:
        super().__init__()
        self._queues: dict[Subscription, asyncio.Queue[_Delivery]] = {}
        self._workers: list[asyncio.Task[None]] = []
        self.dead_letters: list[Envelope] = []

    async def start(self) -> None:
        for subscription in self.subscriptions:
            queue: asyncio.Queue[_Delivery] = asyncio.Queue()
            self._queues[subscription] = queue
            self._workers.append(
                asyncio.create_task(
                    self._work(subscription, queue),
                    name=f"consume:{subscription.group}:{subscription.topic}",
                )
            )

    async def stop(self) -> None:
        for worker in self._workers:
            worker.cancel()
        for worker in self._workers:
            with contextlib.suppress(asyncio.CancelledError):
                await worker
        self._workers.clear()
        for queue in self._queues.values():
            while not queue.empty():
                _, done = queue.get_nowait()
                done.set_exception(BusUnavailable("the bus stopped before delivery"))
        self._queues.clear()

    async def ping(self) -> None:
        if self.subscriptions and not self._workers:
            raise BusUnavailable("the in-process bus is not running")

    async def publish(self, topic: str, events: Sequence[Envelope]) -> None:
        if not events:
            return
        waiting = []
        loop = asyncio.get_running_loop()
        for subscription, queue in self._queues.items():
            if subscription.topic == topic:
                done: asyncio.Future[None] = loop.create_future()
                queue.put_nowait((list(events), done))
                waiting.append(done)
        await asyncio.gather(*waiting)

    async def dead_letter(self, subscription: Subscription, envelope: Envelope) -> None:
        # No broker keeps a dead-letter topic here: log the whole event so it can be replayed.
        log.error("dead letter on %s: %s", subscription.topic, envelope.model_dump_json())
        self.dead_letters.append(envelope)

    async def _work(self, subscription: Subscription, queue: asyncio.Queue[_Delivery]) -> None:
        while True:
            events, done = await queue.get()
            batch, futures = list(events), [done]
            while not queue.empty() and len(batch) < MAX_BATCH:
                more, more_done = queue.get_nowait()
                batch.extend(more)
                futures.append(more_done)
            try:
                await self.deliver(subscription, batch)
            except asyncio.CancelledError:
                for future in futures:
                    if not future.done():
                        future.set_exception(BusUnavailable("the bus stopped mid-delivery"))
                raise
            EVENTS_CONSUMED.labels(subscription.service, subscription.topic, "delivered").inc(
                len(batch)
            )
            for future in futures:
                if not future.done():
                    future.set_result(None)
