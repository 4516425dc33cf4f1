"""Composition root: the embedded platform (one process) and cluster processes (one service)."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager

import httpx
import typer
from fastapi import FastAPI

from libs.common.bus import EventBus, create_bus
from libs.common.events import utcnow
from libs.common.migrations import upgrade
from libs.common.service import ServiceRuntime
from libs.common.settings import SERVICES, BusKind, Settings
from services.gateway.app import Gateway, create_gateway_app
from services.gateway.routing import Upstreams
from services.gateway.web import dashboard_router
from services.indicators import app as indicators
from services.indicators.reference import seed_reference
from services.ingest import app as ingest
from services.ingest.files import read_sheet
from services.ingest.schemas import UploadReport
from services.ingest.service import import_rows, sheet_limits
from services.ingest.settings import IngestSettings
from services.notify import app as notify
from services.notify.api.deps import NotifyParts
from services.notify.domain.calendar import local_day
from services.notify.schemas import DueReminders, ReminderRun
from services.notify.service import run_due_reminders, run_reminders
from services.scoring import app as scoring
from services.scoring.service import Rescored, rescore

ServiceBuilder = Callable[..., FastAPI]

BUILDERS: dict[str, ServiceBuilder] = {
    "ingest": ingest.build,
    "indicators": indicators.build,
    "scoring": scoring.build,
    "notify": notify.build,
}
MIGRATED = ("gateway", *SERVICES)


def migrate(settings: Settings, services: tuple[str, ...] = MIGRATED) -> None:
    """Apply every named service's migrations to its database (blocking)."""
    for name in services:
        upgrade(name, settings.database_url_for(name), settings.schema_for(name))


def runtime(app: FastAPI) -> ServiceRuntime:
    """The runtime a service app carries."""
    found: ServiceRuntime = app.state.runtime
    return found


def embedded_app(settings: Settings, *, bus: EventBus | None = None) -> FastAPI:
    """Every service in this process behind the gateway, on the in-process bus by default."""
    bus = bus or create_bus(settings, default=BusKind.INPROCESS)
    apps = {name: build(settings, bus, standalone=False) for name, build in BUILDERS.items()}
    clients = {
        name: httpx.AsyncClient(
            transport=httpx.ASGITransport(app=app, raise_app_exceptions=False),
            base_url=f"http://{name}",
            timeout=settings.service_timeout_seconds,
        )
        for name, app in apps.items()
    }
    # Calls go straight to each service's app; the clients serve readiness and OpenAPI.
    gateway = Gateway(
        settings,
        Upstreams(clients, secret=settings.internal_secret.get_secret_value(), apps=apps),
    )
    runtimes = [runtime(app) for app in apps.values()]

    async def start() -> None:
        await bus.start()
        for service in runtimes:
            await service.start()

    async def stop() -> None:
        for service in reversed(runtimes):
            await service.stop()
        await bus.stop()

    gateway_app = create_gateway_app(
        gateway, on_start=[start], on_stop=[stop], extra_routers=[dashboard_router()]
    )
    gateway_app.state.services = apps
    return gateway_app


async def seed_indicators(settings: Settings) -> bool:
    """Seed the reference catalogue through the indicators outbox (published by its relay)."""
    service = runtime(
        indicators.build(settings, create_bus(settings, default=BusKind.KAFKA), standalone=True)
    )
    try:
        async with service.db.transaction() as session:
            return await seed_reference(session, service.outbox)
    finally:
        await service.db.dispose()


async def rescore_all(settings: Settings) -> Rescored:
    """Recompute every score, index and ranking of the scoring service, with a progress bar."""
    service = runtime(
        scoring.build(settings, create_bus(settings, default=BusKind.KAFKA), standalone=True)
    )
    try:
        with typer.progressbar(length=1, label="rescoring") as bar:
            done = 0

            def advance(step: int, total: int) -> None:
                nonlocal done
                bar.length = total
                bar.update(step - done)
                done = step

            return await rescore(service, progress=advance)
    finally:
        await service.db.dispose()


@asynccontextmanager
async def _notify_parts(settings: Settings) -> AsyncIterator[NotifyParts]:
    """Notify's parts for one command (its worker not started); its database closed after."""
    app = notify.build(settings, create_bus(settings, default=BusKind.KAFKA), standalone=True)
    try:
        yield app.state.notify
    finally:
        await runtime(app).db.dispose()


async def remind(
    settings: Settings,
    *,
    period: str,
    program: str | None,
    indicator: str | None,
    dry_run: bool,
    deliver: bool,
) -> ReminderRun:
    """Run the reminder job once for ``period``; ``deliver`` sends what it queued now."""
    async with _notify_parts(settings) as parts:
        run = await run_reminders(
            parts.worker.runtime,
            period=period,
            program=program,
            indicator=indicator,
            dry_run=dry_run,
            settings=parts.settings,
        )
        if deliver and not dry_run:
            await parts.worker.sender.deliver_due()
        return run


async def remind_due(settings: Settings, *, dry_run: bool, deliver: bool) -> DueReminders:
    """Run the reminder job once as its schedule would: every period due on today's date.

    A real run holds the scheduler's lease (SchedulerBusy when another run holds it) and
    records its success for the job's metric; a dry run does neither. ``deliver`` sends what
    was queued now (when no notify service runs).
    """
    now = utcnow()
    async with _notify_parts(settings) as parts:
        if dry_run:
            runs = await run_due_reminders(
                parts.worker.runtime, today=local_day(now), settings=parts.settings, dry_run=True
            )
        else:
            runs = await parts.worker.scheduler.run_reminders_now(now)
            if deliver:
                await parts.worker.sender.deliver_due()
        return DueReminders(day=local_day(now), runs=runs)


async def import_sheet(settings: Settings, data: bytes, *, atomic: bool) -> UploadReport:
    """Import a CSV/XLSX through ingest's outbox, with a progress bar on the terminal."""
    ingest_settings = IngestSettings()
    sheet = read_sheet(data, sheet_limits(ingest_settings))
    service = runtime(
        ingest.build(settings, create_bus(settings, default=BusKind.KAFKA), standalone=True)
    )
    try:
        with typer.progressbar(length=len(sheet.rows), label="importing") as bar:
            done = 0

            def advance(rows_done: int, _total: int) -> None:
                nonlocal done
                bar.update(rows_done - done)
                done = rows_done

            return await import_rows(
                service,
                sheet.rows,
                skipped=sheet.skipped,
                source="import",
                progress=advance,
                atomic=atomic,
                settings=ingest_settings,
            )
    finally:
        await service.db.dispose()


def cluster_app(name: str, settings: Settings) -> FastAPI:
    """One service as its own process (``dx serve <name>``), on Kafka by default."""
    settings.check_production_safety()
    if name == "gateway":
        clients = {}
        for service in SERVICES:
            url = settings.service_url(service)
            if not url:
                raise RuntimeError(f"DX_{service.upper()}_URL is not set")
            clients[service] = httpx.AsyncClient(
                base_url=url,
                timeout=settings.service_timeout_seconds,
                limits=httpx.Limits(max_connections=200, max_keepalive_connections=50),
            )
        upstreams = Upstreams(clients, secret=settings.internal_secret.get_secret_value())
        return create_gateway_app(Gateway(settings, upstreams), extra_routers=[dashboard_router()])
    bus = create_bus(settings, default=BusKind.KAFKA)
    return BUILDERS[name](settings, bus, standalone=True)
