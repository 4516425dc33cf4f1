"""Event consumers: the catalogue and the stored observations, kept and marked as they arrive.

Scoring never calls another service: everything it scores reaches it on the bus. What an event
moved is marked in its inbox transaction and scored by the rescorer (rescorer.py).
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
from services.scoring.rescorer import Rescorer


def register(runtime: ServiceRuntime, rescorer: Rescorer) -> None:
    """Consume the catalogue and observations topics."""
    mark = rescorer.mark

    async def indicator(session: AsyncSession, envelope: Envelope) -> None:
        published = IndicatorPublished.model_validate(envelope.payload)
        await service.on_indicator(session, published, mark)

    async def agency(session: AsyncSession, envelope: Envelope) -> None:
        await service.on_agency(session, AgencyPublished.model_validate(envelope.payload), mark)

    async def observations(session: AsyncSession, envelope: Envelope) -> None:
        await service.on_observations(session, ObservationsStored.model_validate(envelope.payload))

    async def keep(session: AsyncSession) -> None:
        await service.keep_touched(session, mark)

    apply = dispatch(
        {
            IndicatorPublished.event_type: indicator,
            AgencyPublished.event_type: agency,
            ObservationsStored.event_type: observations,
        }
    )
    runtime.consume(CATALOGUE_TOPIC, apply)
    # Observations are kept event by event and marked once per batch.
    runtime.consume(OBSERVATIONS_TOPIC, apply, finish=keep)
