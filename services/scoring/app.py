"""The scoring service: its runtime (database, outbox, consumers) and its HTTP API."""

from fastapi import FastAPI

from libs.common.bus import EventBus
from libs.common.service import ServiceRuntime, create_service_app
from libs.common.settings import Settings
from services.scoring import api, handlers
from services.scoring.models import MESSAGING

NAME = "scoring"


def build(settings: Settings, bus: EventBus, *, standalone: bool) -> FastAPI:
    """The scoring app, with its runtime in app.state.runtime."""
    runtime = ServiceRuntime(name=NAME, settings=settings, bus=bus, tables=MESSAGING)
    handlers.register(runtime)
    return create_service_app(
        runtime,
        [api.router],
        standalone=standalone,
        description="Bands, trajectory statuses, composite indices, rankings and laggards.",
    )
