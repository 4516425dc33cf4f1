"""Event consumers: the catalogue and the stored observations, scored as they arrive.

Scoring never calls another service: everything it scores reaches it on the bus.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable

from sqlalchemy.ext.asyncio import AsyncSession

from libs.common.bus import PermanentEventError
from libs.common.events import (
    CATALOGUE_TOPIC,
    OBSERVATIONS_TOPIC,
    AgencyPublished,
    Envelope,
    IndicatorPublished,
    ObservationsStored,
)
from libs.common.messaging import Effect, Outbox
from libs.common.service import ServiceRuntime
from services.scoring import service

_Apply = Callable[[AsyncSession, Outbox, Envelope], Awaitable[None]]


async def _indicator(session: AsyncSession, outbox: Outbox, envelope: Envelope) -> None:
    await service.on_indicator(session, outbox, IndicatorPublished.model_validate(envelope.payload))


async def _agency(session: AsyncSession, _outbox: Outbox, envelope: Envelope) -> None:
    await service.on_agency(session, AgencyPublished.model_validate(envelope.payload))


async def _observations(session: AsyncSession, outbox: Outbox, envelope: Envelope) -> None:
    stored = ObservationsStored.model_validate(envelope.payload)
    await service.on_observations(session, outbox, stored)


_EFFECTS: dict[str, _Apply] = {
    IndicatorPublished.event_type: _indicator,
    AgencyPublished.event_type: _agency,
    ObservationsStored.event_type: _observations,
}


def effect(outbox: Outbox) -> Effect:
    """Apply one event to the replica and the scores; types scoring does not use are ignored."""

    async def apply(session: AsyncSession, envelope: Envelope) -> None:
        chosen = _EFFECTS.get(envelope.type)
        if chosen is None:
            return
        try:
            await chosen(session, outbox, envelope)
        except ValueError as error:
            # A malformed payload (pydantic's ValidationError is a ValueError), or a target,
            # period or frequency scoring cannot read: no retry can fix it, so park it.
            raise PermanentEventError(f"unusable {envelope.type}: {error}") from error

    return apply


def register(runtime: ServiceRuntime) -> None:
    """Consume the catalogue and observations topics."""
    apply = effect(runtime.outbox)
    for topic in (CATALOGUE_TOPIC, OBSERVATIONS_TOPIC):
        runtime.consume(topic, apply)
