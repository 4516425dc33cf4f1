"""Event consumers: notify's replica of agencies, indicators, reports and progress statuses.

Services never call each other, so notify learns everything it chases from the bus.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable

from pydantic import ValidationError
from sqlalchemy.ext.asyncio import AsyncSession

from libs.common.bus.base import PermanentEventError
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


async def apply_event(session: AsyncSession, envelope: Envelope) -> None:
    """Update the replica from one event; types notify does not use are ignored."""
    effect = _EFFECTS.get(envelope.type)
    if effect is None:
        return
    try:
        await effect(session, envelope)
    except ValidationError as error:
        raise PermanentEventError(f"malformed {envelope.type}: {error}") from error


def register(runtime: ServiceRuntime) -> None:
    """Consume the catalogue, observations and scores topics."""
    for topic in (CATALOGUE_TOPIC, OBSERVATIONS_TOPIC, SCORES_TOPIC):
        runtime.consume(topic, apply_event)
