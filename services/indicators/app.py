"""The indicators service: catalogue, observation store and national figures."""

from fastapi import FastAPI

from libs.common.bus import EventBus
from libs.common.service import ServiceRuntime, create_service_app
from libs.common.settings import Settings
from services.indicators import handlers
from services.indicators.admin import CatalogueAdmin
from services.indicators.api import catalogue, obligations, observations, sdmx
from services.indicators.api.deps import IndicatorsParts
from services.indicators.catalogue_cache import CatalogueCache
from services.indicators.models import MESSAGING
from services.indicators.reference import seed_reference
from services.indicators.service import ObservationStore

NAME = "indicators"


def build(settings: Settings, bus: EventBus, *, standalone: bool) -> FastAPI:
    """The indicators app; embedded, it seeds the reference catalogue on first start."""
    runtime = ServiceRuntime(name=NAME, settings=settings, bus=bus, tables=MESSAGING)
    cache = CatalogueCache()
    parts = IndicatorsParts(
        cache=cache,
        admin=CatalogueAdmin(cache, runtime.outbox),
        store=ObservationStore(cache, runtime.outbox),
    )
    handlers.register(runtime, parts.store)
    if not standalone:

        async def seed() -> None:
            async with runtime.db.transaction() as session:
                seeded = await seed_reference(session, runtime.outbox)
            # Serve only once every replica of the catalogue has it (first start only).
            while seeded and await runtime.relay.relay_once():
                pass

        runtime.on_start(seed)
    app = create_service_app(
        runtime,
        [catalogue.router, obligations.router, observations.router, sdmx.router],
        standalone=standalone,
        description="Agencies, populations, indicators, observations and national figures.",
    )
    app.state.indicators = parts
    return app
