"""What every bus does: publish envelopes and feed them in batches to consumer groups."""

from __future__ import annotations

import asyncio
import logging
import time
from abc import ABC, abstractmethod
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass

from sqlalchemy.exc import DBAPIError, InterfaceError

from libs.common.db import unavailable
from libs.common.events import Envelope
from libs.common.metrics import CONSUMER_RETRYING, EVENT_HANDLING, EVENTS_CONSUMED

log = logging.getLogger(__name__)

BatchHandler = Callable[[Sequence[Envelope]], Awaitable[None]]

RETRY_FIRST_DELAY = 0.05
RETRY_MAX_DELAY = 5.0


class BusUnavailable(Exception):
    """The bus could not take the events now; the caller keeps them and retries."""


class PermanentEventError(Exception):
    """An event that can never be handled (it is dead-lettered, not retried)."""


#: SQLSTATE classes of a server that cannot serve now: connection exceptions (08), rolled back
#: for concurrency (40: serialisation, deadlock), out of resources (53), shut down or cancelled
#: by an operator (57), system errors (58); and a lock not available in time (55P03).
_TRANSIENT_SQLSTATE_CLASSES = frozenset({"08", "40", "53", "57", "58"})
_TRANSIENT_SQLSTATES = frozenset({"55P03", "55006"})


def transient(error: BaseException) -> bool:
    """Whether retrying could make ``error`` go away: the bus or the database out of reach.

    Connectivity is transient (the bus unavailable, a socket error or timeout, a connection
    lost or refused, the server shutting down or out of resources, a deadlock or serialisation
    failure); a database outage is then retried for as long as it lasts. Anything else is a
    property of the event itself (a constraint it violates, text the store cannot encode, a
    payload that does not validate, a value the consumer cannot read, a consumer's bug on it):
    the same event would fail the same way for ever, so it is dead-lettered at once instead of
    holding back every event behind it. The ``raise ... from`` chain is followed, so a
    connectivity error wrapped by a consumer still counts as one.
    """
    seen: BaseException | None = error
    while seen is not None:
        if isinstance(seen, PermanentEventError):
            return False
        if isinstance(seen, BusUnavailable | OSError | TimeoutError | InterfaceError):
            return True
        if unavailable(seen):
            return True
        if isinstance(seen, DBAPIError):
            code = str(getattr(seen.orig, "sqlstate", None) or getattr(seen.orig, "pgcode", ""))
            if code[:2] in _TRANSIENT_SQLSTATE_CLASSES or code in _TRANSIENT_SQLSTATES:
                return True
        seen = seen.__cause__
    return False


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

        What happens on a failure is decided by the error (see ``transient``). A connectivity
        error (a database outage) retries the batch with backoff for as long as it lasts,
        because dropping it would lose an accepted value. Any other error is the fault of some
        event in the batch: the batch is retried event by event, and the one event that fails
        for a reason of its own is dead-lettered at once, with a metric and a log line naming
        it, so that it does not hold back the others.
        """
        started = time.perf_counter()
        try:
            await self._retry_transient(subscription, batch)
        except Exception as error:
            if len(batch) > 1:
                log.warning(
                    "batch of %d on %s failed (%s); retrying one by one",
                    len(batch),
                    subscription.topic,
                    _describe(error),
                )
                for envelope in batch:
                    await self._deliver_one(subscription, envelope)
            else:
                await self._park(subscription, batch[0], error)
        EVENT_HANDLING.labels(subscription.service, subscription.topic).observe(
            time.perf_counter() - started
        )

    async def _deliver_one(self, subscription: Subscription, envelope: Envelope) -> None:
        try:
            await self._retry_transient(subscription, [envelope])
        except Exception as error:
            await self._park(subscription, envelope, error)

    async def _retry_transient(self, subscription: Subscription, batch: Sequence[Envelope]) -> None:
        """Run the handler until it succeeds or fails for a reason no retry can fix (raised).

        While it is retried, ``dx_consumer_retrying_seconds`` says for how long: a consumer
        stuck on one event shows, even where no lag is measured (the in-process bus).
        """
        retrying = CONSUMER_RETRYING.labels(subscription.service, subscription.topic)
        delay = RETRY_FIRST_DELAY
        first_failure: float | None = None
        try:
            while True:
                try:
                    await subscription.handler(batch)
                    return
                except Exception as error:
                    if not transient(error):
                        raise
                    now = time.monotonic()
                    first_failure = now if first_failure is None else first_failure
                    retrying.set(now - first_failure)
                    EVENTS_CONSUMED.labels(subscription.service, subscription.topic, "failed").inc(
                        len(batch)
                    )
                    log.warning(
                        "%d event(s) of %s (first %s) failed for now (%s); retrying in %.2fs",
                        len(batch),
                        subscription.topic,
                        batch[0].event_id,
                        _describe(error),
                        delay,
                    )
                    await asyncio.sleep(delay)
                    delay = min(delay * 2, RETRY_MAX_DELAY)
        finally:
            if first_failure is not None:
                retrying.set(0)

    async def _park(self, subscription: Subscription, envelope: Envelope, error: Exception) -> None:
        log.error(
            "dead-lettering event %s (%s from %s, key %s) of %s: %s",
            envelope.event_id,
            envelope.type,
            envelope.producer,
            envelope.key,
            subscription.topic,
            _describe(error),
            extra={"event_id": str(envelope.event_id), "topic": subscription.topic},
        )
        await self._dead_letter_until_done(subscription, envelope)
        EVENTS_CONSUMED.labels(subscription.service, subscription.topic, "dead_lettered").inc()

    async def _dead_letter_until_done(self, subscription: Subscription, envelope: Envelope) -> None:
        delay = RETRY_FIRST_DELAY
        while True:
            try:
                await self.dead_letter(subscription, envelope)
                return
            except BusUnavailable:
                await asyncio.sleep(delay)
                delay = min(delay * 2, RETRY_MAX_DELAY)


def _describe(error: BaseException) -> str:
    return f"{type(error).__name__}: {error}"[:500]
