"""Seeding the catalogue: the reference data shipped with the service, loaded once."""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from libs.common.events import CATALOGUE_KEY, ObservationsStored, utcnow
from libs.common.messaging import Outbox
from libs.common.periods import parse_period
from services.indicators import repository
from services.indicators.catalogue_cache import load_view
from services.indicators.domain.aggregation import STANDING_AGENCY
from services.indicators.domain.catalogue import load_reference_catalogue
from services.indicators.domain.populations import DEFAULT_POPULATIONS
from services.indicators.figures import compute_figure
from services.indicators.service import agency_event, indicator_event, observed

log = logging.getLogger(__name__)

REFERENCE_DIR = Path(__file__).parent / "reference"


async def seed_reference(
    session: AsyncSession, outbox: Outbox, directory: Path = REFERENCE_DIR
) -> bool:
    """Load the reference catalogue and published figures unless agencies already exist."""
    if await repository.count_agencies(session):
        return False
    catalogue = load_reference_catalogue(directory)
    for program in catalogue.programs:
        await repository.upsert_program(session, program)
    for pillar in catalogue.pillars:
        await repository.upsert_pillar(session, pillar)
    for agency in catalogue.agencies:
        await repository.upsert_agency(session, agency)
    for name, population in DEFAULT_POPULATIONS.items():
        await repository.upsert_population(session, population, catalogue.populations.get(name))
    for indicator in catalogue.indicators:
        await repository.upsert_indicator(session, indicator)
    now = utcnow()
    published: list[dict[str, Any]] = [
        {
            "indicator": indicator.code,
            "agency": STANDING_AGENCY,
            "scope": figure.scope,
            "period": str(figure.period),
            "value_number": figure.value,
            "value_bool": None,
            "revision": 1,
            "recorded_at": now,
            "reported_at": now,
            "late": False,
            "submission": None,
            "source": f"reference:{figure.source}",
            "note": catalogue.sources.get(figure.source),
        }
        for indicator in catalogue.indicators
        for figure in indicator.published
    ]
    await repository.insert_observations(session, published)
    view = await load_view(session)
    await outbox.add(session, *((agency_event(a), CATALOGUE_KEY) for a in catalogue.agencies))
    await outbox.add(
        session, *((indicator_event(i, view), CATALOGUE_KEY) for i in catalogue.indicators)
    )
    for row in published:
        indicator = view.indicators[row["indicator"]]
        figure = await compute_figure(
            session,
            view,
            indicator=indicator,
            scope=row["scope"],
            period=parse_period(row["period"]),
        )
        await outbox.add(
            session,
            (
                ObservationsStored(
                    submission=None,
                    agency=STANDING_AGENCY,
                    period=row["period"],
                    observations=[observed(row)],
                    aggregates=[figure.event()],
                    recorded_at=now,
                ),
                STANDING_AGENCY,
            ),
        )
    log.info(
        "seeded the reference catalogue: %d agencies, %d indicators, %d published figures",
        len(catalogue.agencies),
        len(catalogue.indicators),
        len(published),
    )
    return True
