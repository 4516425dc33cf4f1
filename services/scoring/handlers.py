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
from libs.common.messaging import dispatch
from libs.common.service import ServiceRuntime
from services.scoring import service


def register(runtime: ServiceRuntime) -> None:
    """Consume the catalogue and observations topics."""
    outbox = runtime.outbox

    async def indicator(session: AsyncSession, envelope: Envelope) -> None:
        published = IndicatorPublished.model_validate(envelope.payload)
        await service.on_indicator(session, outbox, published)

    async def agency(session: AsyncSession, envelope: Envelope) -> None:
        await service.on_agency(session, AgencyPublished.model_validate(envelope.payload))

    async def observations(session: AsyncSession, envelope: Envelope) -> None:
        await service.on_observations(session, ObservationsStored.model_validate(envelope.payload))

    async def rescore(session: AsyncSession) -> None:
        await service.rescore_touched(session, outbox)

    apply = dispatch(
        {
            IndicatorPublished.event_type: indicator,
            AgencyPublished.event_type: agency,
            ObservationsStored.event_type: observations,
        }
    )
    runtime.consume(CATALOGUE_TOPIC, apply)
    # Observations are kept event by event and scored once per batch.
    runtime.consume(OBSERVATIONS_TOPIC, apply, finish=rescore)
