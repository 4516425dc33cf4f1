"""The notify service: its runtime, replica consumers, scheduled jobs, sender and HTTP API."""

from fastapi import FastAPI

from libs.common.bus import EventBus
from libs.common.service import ServiceRuntime, create_service_app
from libs.common.settings import Settings
from services.notify import handlers
from services.notify.api import notifications
from services.notify.api.deps import NotifyParts
from services.notify.delivery import transport_for
from services.notify.models import MESSAGING
from services.notify.scheduler import NotifyWorker
from services.notify.settings import NotifySettings

NAME = "notify"


def build(settings: Settings, bus: EventBus, *, standalone: bool) -> FastAPI:
    """The notify app, with its runtime in app.state.runtime and its parts in app.state.notify."""
    runtime = ServiceRuntime(name=NAME, settings=settings, bus=bus, tables=MESSAGING)
    notify_settings = NotifySettings()
    handlers.register(runtime)
    worker = NotifyWorker(runtime, notify_settings, transport_for(settings, notify_settings))

    async def start_worker() -> None:
        worker.start()

    runtime.on_start(start_worker)
    runtime.on_stop(worker.stop)
    app = create_service_app(
        runtime,
        [notifications.router],
        standalone=standalone,
        description="Reminders, escalations and progress letters by e-mail; the delivery log.",
    )
    app.state.notify = NotifyParts(settings=notify_settings, worker=worker)
    return app
