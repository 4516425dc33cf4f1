"""What every service is made of: its database, outbox relay, consumers and HTTP plumbing."""

from __future__ import annotations

import logging
import shutil
from collections.abc import AsyncIterator, Awaitable, Callable, Sequence
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Annotated, Any

from fastapi import APIRouter, Depends, FastAPI, Request
from fastapi.responses import JSONResponse
from sqlalchemy.ext.asyncio import AsyncSession

from libs.common.auth import signed_principal
from libs.common.bus import EventBus
from libs.common.db import Database
from libs.common.errors import Unauthorized, install_problem_handlers, problem_responses
from libs.common.http import GatewaySignatureMiddleware, RequestContextMiddleware
from libs.common.messaging import (
    BatchEffect,
    Effect,
    Finish,
    Inbox,
    MessagingTables,
    Outbox,
    OutboxRelay,
    each,
    guarded,
)
from libs.common.metrics import BUILD_INFO, metrics_router
from libs.common.settings import Settings

log = logging.getLogger(__name__)

Hook = Callable[[], Awaitable[None]]

#: Where a service's API lives; only the gateway's signed calls get in.
API_PREFIX = "/api/v1"


class ServiceRuntime:
    """A running service's resources, started and stopped together."""

    def __init__(
        self, *, name: str, settings: Settings, bus: EventBus, tables: MessagingTables
    ) -> None:
        self.name = name
        self.settings = settings
        self.bus = bus
        self.db = Database(
            settings.database_url_for(name),
            schema=settings.schema_for(name),
            pool_size=settings.database_pool_size,
        )
        self.outbox = Outbox(tables, producer=name)
        self.inbox = Inbox(tables, service=name)
        self.relay = OutboxRelay(
            service=name,
            db=self.db,
            bus=bus,
            outbox=self.outbox,
            poll_seconds=settings.outbox_poll_seconds,
            batch_size=settings.outbox_batch_size,
        )
        self._on_start: list[Hook] = []
        self._on_stop: list[Hook] = []

    def consume(self, topic: str, effect: Effect, finish: Finish | None = None) -> None:
        """Apply ``effect`` once per event of ``topic`` (consumer group = this service)."""
        self.consume_batches(topic, each(effect, finish))

    def consume_batches(self, topic: str, effect: BatchEffect) -> None:
        """Apply ``effect`` to each batch of ``topic``'s events, each event once."""
        self.bus.subscribe(
            service=self.name,
            topic=topic,
            group=f"dx-{self.name}",
            handler=self.inbox.handler(self.db, topic, guarded(effect)),
        )

    def on_start(self, hook: Hook) -> None:
        """Run ``hook`` after the database and relay are up."""
        self._on_start.append(hook)

    def on_stop(self, hook: Hook) -> None:
        """Run ``hook`` before the relay and database go down."""
        self._on_stop.append(hook)

    async def start(self) -> None:
        """Start relaying and the service's own background work."""
        self.relay.start()
        for hook in self._on_start:
            await hook()
        BUILD_INFO.labels(self.name).set(1)

    async def stop(self) -> None:
        """Stop background work and close connections."""
        BUILD_INFO.labels(self.name).set(0)
        for hook in reversed(self._on_stop):
            await hook()
        await self.relay.stop()
        await self.db.dispose()

    async def check_ready(self) -> dict[str, str]:
        """Each dependency's state; ``ok`` or the error."""
        checks: dict[str, str] = {}
        for dependency, probe in (("database", self.db.ping), ("bus", self.bus.ping)):
            try:
                await probe()
                checks[dependency] = "ok"
            except Exception as error:
                checks[dependency] = f"{type(error).__name__}: {error}"
        checks["disk"] = self.check_disk()
        return checks

    def check_disk(self) -> str:
        """``ok`` unless the disk of the service's files (SQLite, mail) is nearly full.

        A full disk fails every write (SQLite's, the mail spool's): not ready, so that traffic
        goes elsewhere and the operator is told, rather than accepting and failing.
        """
        folders = {self.settings.data_dir}
        if self.db.dialect == "sqlite" and self.db.url.database:
            folders.add(Path(self.db.url.database).parent)
        for folder in sorted(folders):
            if not folder.exists():
                continue
            free = shutil.disk_usage(folder).free
            if free < self.settings.min_free_disk_bytes:
                return f"only {free} bytes free on the disk of {folder}"
        return "ok"


async def runtime_of(request: Request) -> ServiceRuntime:
    """The runtime of the service serving the request."""
    runtime: ServiceRuntime = request.app.state.runtime
    return runtime


RuntimeDep = Annotated[ServiceRuntime, Depends(runtime_of)]


async def read_session(runtime: RuntimeDep) -> AsyncIterator[AsyncSession]:
    """A read-only session for a query endpoint."""
    async with runtime.db.read() as session:
        yield session


async def write_session(runtime: RuntimeDep) -> AsyncIterator[AsyncSession]:
    """A session committed when the endpoint returns, rolled back if it raises."""
    async with runtime.db.transaction() as session:
        yield session


ReadSession = Annotated[AsyncSession, Depends(read_session)]
WriteSession = Annotated[AsyncSession, Depends(write_session)]


def api_router(**kwargs: Any) -> APIRouter:
    """A router under ``/api/v1`` reachable only through the gateway (signed calls)."""
    return APIRouter(
        prefix=API_PREFIX,
        dependencies=[Depends(signed_principal)],
        responses=problem_responses(Unauthorized),
        **kwargs,
    )


def operations_router() -> APIRouter:
    """``/healthz``, ``/readyz`` and ``/metrics``."""
    router = APIRouter(include_in_schema=False)

    @router.get("/healthz")
    async def healthz(runtime: RuntimeDep) -> dict[str, str]:
        return {"status": "ok", "service": runtime.name}

    @router.get("/readyz")
    async def readyz(runtime: RuntimeDep) -> JSONResponse:
        checks = await runtime.check_ready()
        ready = all(state == "ok" for state in checks.values())
        return JSONResponse(
            {"status": "ready" if ready else "unavailable", "checks": checks},
            status_code=200 if ready else 503,
        )

    router.include_router(metrics_router)
    return router


def create_service_app(
    runtime: ServiceRuntime,
    routers: Sequence[APIRouter],
    *,
    standalone: bool,
    description: str = "",
) -> FastAPI:
    """A service's FastAPI app; ``standalone`` owns the bus and runtime lifecycle (cluster)."""

    @asynccontextmanager
    async def lifespan(_app: FastAPI) -> AsyncIterator[None]:
        await runtime.bus.start()
        await runtime.start()
        try:
            yield
        finally:
            await runtime.stop()
            await runtime.bus.stop()

    app = FastAPI(
        title=f"DX Tracker — {runtime.name}",
        description=description,
        version="1",
        lifespan=lifespan if standalone else None,
    )
    app.state.runtime = runtime
    install_problem_handlers(app)
    # Added first, so it runs inside the request context: refusals are counted and logged too.
    app.add_middleware(
        GatewaySignatureMiddleware, settings=runtime.settings, prefix=f"{API_PREFIX}/"
    )
    # In one process with the gateway (not standalone), the gateway's access line is the one.
    app.add_middleware(RequestContextMiddleware, service=runtime.name, access_log=standalone)
    app.include_router(operations_router())
    for router in routers:
        app.include_router(router)
    return app
