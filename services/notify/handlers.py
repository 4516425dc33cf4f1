"""Event consumers: notify's replica of agencies, indicators, reports and progress statuses.

Services never call each other, so notify learns everything it chases from the bus.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Sequence

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
from libs.common.messaging import dispatch
from libs.common.service import ServiceRuntime
from services.notify import repository


async def _agency(session: AsyncSession, envelope: Envelope) -> None:
    agency = AgencyPublished.model_validate(envelope.payload)
    await repository.upsert_agency(session, agency, utcnow())


async def _indicator(session: AsyncSession, envelope: Envelope) -> None:
    indicator = IndicatorPublished.model_validate(envelope.payload)
    await repository.upsert_indicator(session, indicator, utcnow())


async def _observations(session: AsyncSession, envelopes: Sequence[Envelope]) -> None:
    """Effect for a batch of ``dx.observations.v1``: every agency's report in one write."""
    try:
        batch = [
            ObservationsStored.model_validate(envelope.payload)
            for envelope in envelopes
            if envelope.type == ObservationsStored.event_type
        ]
    except ValueError as error:
        raise PermanentEventError(f"unusable observations: {error}") from error
    # Published national figures are not an agency's report; a null value reports nothing.
    reported = [
        o
        for stored in batch
        for o in stored.observations
        if o.scope == "agency" and o.value is not None
    ]
    await repository.record_reports(session, reported)


async def _score(session: AsyncSession, envelope: Envelope) -> None:
    await repository.upsert_status(session, ScoreChanged.model_validate(envelope.payload))


_EFFECTS: dict[str, Callable[[AsyncSession, Envelope], Awaitable[None]]] = {
    AgencyPublished.event_type: _agency,
    IndicatorPublished.event_type: _indicator,
    ScoreChanged.event_type: _score,
}


def register(runtime: ServiceRuntime) -> None:
    """Consume the catalogue, observations and scores topics."""
    for topic in (CATALOGUE_TOPIC, SCORES_TOPIC):
        runtime.consume(topic, dispatch(_EFFECTS))
    runtime.consume_batches(OBSERVATIONS_TOPIC, _observations)
