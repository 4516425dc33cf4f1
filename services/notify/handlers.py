"""Event consumers: notify's replica of agencies, indicators, reports and progress statuses.

Services never call each other, so notify learns everything it chases from the bus.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable

from sqlalchemy.ext.asyncio import AsyncSession

from libs.common.events import (
    CATALOGUE_TOPIC,
    OBSERVATIONS_TOPIC,
    SCORES_TOPIC,
    AgencyPublished,
    Envelope,
    IndicatorPublished,
    ObservationsStored,
    ScoreChanged,
    utcnow,
)
from libs.common.messaging import dispatch
from libs.common.service import ServiceRuntime
from services.notify import repository


async def _agency(session: AsyncSession, envelope: Envelope) -> None:
    agency = AgencyPublished.model_validate(envelope.payload)
    await repository.upsert_agency(session, agency, utcnow())


async def _indicator(session: AsyncSession, envelope: Envelope) -> None:
    indicator = IndicatorPublished.model_validate(envelope.payload)
    await repository.upsert_indicator(session, indicator, utcnow())


async def _observations(session: AsyncSession, envelope: Envelope) -> None:
    stored = ObservationsStored.model_validate(envelope.payload)
    # Published national figures are not an agency's report; a null value reports nothing.
    reported = [o for o in stored.observations if o.scope == "agency" and o.value is not None]
    await repository.record_reports(session, reported)


async def _score(session: AsyncSession, envelope: Envelope) -> None:
    await repository.upsert_status(session, ScoreChanged.model_validate(envelope.payload))


_EFFECTS: dict[str, Callable[[AsyncSession, Envelope], Awaitable[None]]] = {
    AgencyPublished.event_type: _agency,
    IndicatorPublished.event_type: _indicator,
    ObservationsStored.event_type: _observations,
    ScoreChanged.event_type: _score,
}


def register(runtime: ServiceRuntime) -> None:
    """Consume the catalogue, observations and scores topics."""
    for topic in (CATALOGUE_TOPIC, OBSERVATIONS_TOPIC, SCORES_TOPIC):
        runtime.consume(topic, dispatch(_EFFECTS))
