"""What every bus does: publish envelopes and feed them in batches to consumer groups."""

from __future__ import annotations

import asyncio
import logging
import time
from abc import ABC, abstractmethod
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass

from libs.common.events import Envelope
from libs.common.metrics import EVENT_HANDLING, EVENTS_CONSUMED

log = logging.getLogger(__name__)

BatchHandler = Callable[[Sequence[Envelope]], Awaitable[None]]

RETRY_FIRST_DELAY = 0.05
RETRY_MAX_DELAY = 5.0


class BusUnavailable(Exception):
    """The bus could not take the events now; the caller keeps them and retries."""


class PermanentEventError(Exception):
    """An event that can never be handled (it is dead-lettered, not retried)."""


def dead_letter_topic(topic: str) -> str:
    """Where events that can never be handled are parked for people to inspect."""
    return f"{topic}.dlq"


@dataclass(frozen=True)
class Subscription:
    """A consumer group's handler for one topic, in one service."""

    service: str
    topic: str
    group: str
    handler: BatchHandler


class EventBus(ABC):
    """Publishes keyed envelopes; delivers them in order per key to each consumer group."""

    def __init__(self) -> None:
        self.subscriptions: list[Subscription] = []

    def subscribe(self, *, service: str, topic: str, group: str, handler: BatchHandler) -> None:
        """Register a consumer group's handler (before ``start``)."""
        self.subscriptions.append(Subscription(service, topic, group, handler))

    @abstractmethod
    async def start(self) -> None:
        """Connect and begin consuming."""

    @abstractmethod
    async def stop(self) -> None:
        """Stop consuming and release connections."""

    @abstractmethod
    async def publish(self, topic: str, events: Sequence[Envelope]) -> None:
        """Return once the bus holds the events durably; raise ``BusUnavailable`` otherwise."""

    @abstractmethod
    async def ping(self) -> None:
        """Raise unless the bus is reachable."""

    async def dead_letter(self, subscription: Subscription, envelope: Envelope) -> None:
        """Park an event no retry can fix."""
        await self.publish(dead_letter_topic(subscription.topic), [envelope])

    async def deliver(self, subscription: Subscription, batch: Sequence[Envelope]) -> None:
        """Hand a batch to its handler until it succeeds; isolate and park poison events.

        A handler that fails on the batch is retried event by event, so one event the handler
        rejects as permanent does not hold back the others; any other failure (a database
        outage) is retried with backoff for as long as it lasts, because dropping it would lose
        an accepted value.
        """
        started = time.perf_counter()
        try:
            await subscription.handler(batch)
        except PermanentEventError:
            for envelope in batch:
                await self._deliver_one(subscription, envelope)
        except Exception:
            log.warning(
                "batch of %d on %s failed; retrying one by one",
                len(batch),
                subscription.topic,
                exc_info=True,
            )
            for envelope in batch:
                await self._deliver_one(subscription, envelope)
        EVENT_HANDLING.labels(subscription.service, subscription.topic).observe(
            time.perf_counter() - started
        )

    async def _deliver_one(self, subscription: Subscription, envelope: Envelope) -> None:
        delay = RETRY_FIRST_DELAY
        while True:
            try:
                await subscription.handler([envelope])
                return
            except PermanentEventError as error:
                log.error(
                    "dead-lettering event %s of %s: %s",
                    envelope.event_id,
                    subscription.topic,
                    error,
                )
                await self._dead_letter_until_done(subscription, envelope)
                EVENTS_CONSUMED.labels(
                    subscription.service, subscription.topic, "dead_lettered"
                ).inc()
                return
            except Exception:
                EVENTS_CONSUMED.labels(subscription.service, subscription.topic, "failed").inc()
                log.warning(
                    "event %s of %s failed; retrying in %.2fs",
                    envelope.event_id,
                    subscription.topic,
                    delay,
                    exc_info=True,
                )
                await asyncio.sleep(delay)
                delay = min(delay * 2, RETRY_MAX_DELAY)

    async def _dead_letter_until_done(self, subscription: Subscription, envelope: Envelope) -> None:
        delay = RETRY_FIRST_DELAY
        while True:
            try:
                await self.dead_letter(subscription, envelope)
                return
            except BusUnavailable:
                await asyncio.sleep(delay)
                delay = min(delay * 2, RETRY_MAX_DELAY)
