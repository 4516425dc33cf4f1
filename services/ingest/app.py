"""The ingest service: its runtime (database, outbox, consumers) and its HTTP API."""

from fastapi import FastAPI

from libs.common.bus import EventBus
from libs.common.service import ServiceRuntime, create_service_app
from libs.common.settings import Settings
from services.ingest import handlers, reconcile, service
from services.ingest.api import router
from services.ingest.models import MESSAGING
from services.ingest.settings import IngestSettings
from services.ingest.sheets import SheetReader

NAME = "ingest"


def build(
    settings: Settings,
    bus: EventBus,
    *,
    standalone: bool,
    ingest_settings: IngestSettings | None = None,
) -> FastAPI:
    """The ingest app, with its runtime in app.state.runtime."""
    runtime = ServiceRuntime(name=NAME, settings=settings, bus=bus, tables=MESSAGING)
    handlers.register(runtime)
    app = create_service_app(
        runtime,
        [router],
        standalone=standalone,
        description="Submissions (JSON, batches, CSV and XLSX sheets), validated and kept.",
    )
    app.state.ingest_settings = settings_ = ingest_settings or IngestSettings()
    app.state.committer = committer = service.committer(runtime, settings_)
    runtime.on_stop(committer.stop)
    app.state.sheet_reader = reader = SheetReader(settings_.sheet_workers)
    runtime.on_stop(reader.stop)
    reconcile.register(runtime, settings_)
    return app
