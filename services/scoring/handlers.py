"""Event consumers: the catalogue and the stored observations, scored as they arrive.

Scoring never calls another service: everything it scores reaches it on the bus.
"""

from __future__ import annotations

from sqlalchemy.ext.asyncio import AsyncSession

from libs.common.events import (
    CATALOGUE_TOPIC,
    OBSERVATIONS_TOPIC,
    AgencyPublished,
    Envelope,
    IndicatorPublished,
    ObservationsStored,
)
from libs.common.messaging import Outbox, dispatch
from libs.common.service import ServiceRuntime
from services.scoring import service


async def _indicator(session: AsyncSession, outbox: Outbox, envelope: Envelope) -> None:
    await service.on_indicator(session, outbox, IndicatorPublished.model_validate(envelope.payload))


async def _agency(session: AsyncSession, _outbox: Outbox, envelope: Envelope) -> None:
    await service.on_agency(session, AgencyPublished.model_validate(envelope.payload))


async def _observations(session: AsyncSession, outbox: Outbox, envelope: Envelope) -> None:
    stored = ObservationsStored.model_validate(envelope.payload)
    await service.on_observations(session, outbox, stored)


def register(runtime: ServiceRuntime) -> None:
    """Consume the catalogue and observations topics."""
    outbox = runtime.outbox

    async def indicator(session: AsyncSession, envelope: Envelope) -> None:
        await _indicator(session, outbox, envelope)

    async def agency(session: AsyncSession, envelope: Envelope) -> None:
        await _agency(session, outbox, envelope)

    async def observations(session: AsyncSession, envelope: Envelope) -> None:
        await _observations(session, outbox, envelope)

    apply = dispatch(
        {
            IndicatorPublished.event_type: indicator,
            AgencyPublished.event_type: agency,
            ObservationsStored.event_type: observations,
        }
    )
    for topic in (CATALOGUE_TOPIC, OBSERVATIONS_TOPIC):
        runtime.consume(topic, apply)
