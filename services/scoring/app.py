"""The scoring service: its runtime (database, outbox, consumers, rescorer) and its HTTP API."""

from fastapi import FastAPI

from libs.common.bus import EventBus
from libs.common.service import ServiceRuntime, create_service_app
from libs.common.settings import Settings
from services.scoring import api, handlers
from services.scoring.models import MESSAGING
from services.scoring.rescorer import Rescorer
from services.scoring.settings import ScoringSettings

NAME = "scoring"


def build(settings: Settings, bus: EventBus, *, standalone: bool) -> FastAPI:
    """The scoring app, with its runtime in app.state.runtime and its rescorer in
    app.state.rescorer."""
    runtime = ServiceRuntime(name=NAME, settings=settings, bus=bus, tables=MESSAGING)
    rescorer = Rescorer(runtime, ScoringSettings())
    handlers.register(runtime, rescorer)

    async def start_rescorer() -> None:
        rescorer.start()

    runtime.on_start(start_rescorer)
    runtime.on_stop(rescorer.stop)
    app = create_service_app(
        runtime,
        [api.router],
        standalone=standalone,
        description="Bands, trajectory statuses, composite indices, rankings and laggards.",
    )
    app.state.rescorer = rescorer
    return app
