"""The gateway: the one public entry. Authenticates, limits, and routes to the services."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from typing import Annotated, Any
from urllib.parse import quote

from fastapi import APIRouter, Depends, FastAPI, Request, Response
from fastapi.responses import JSONResponse

from libs.common.auth import Principal, Role, require_admin
from libs.common.db import Database
from libs.common.errors import (
    Forbidden,
    InvalidInput,
    NotFound,
    PayloadTooLarge,
    ProblemItem,
    RateLimited,
    ServiceUnavailable,
    Unauthorized,
    install_problem_handlers,
    problem_responses,
)
from libs.common.http import RequestContextMiddleware, body_limited_route, read_body
from libs.common.metrics import BUILD_INFO, metrics_router
from libs.common.settings import Settings
from services.gateway import keys
from services.gateway.openapi import merged_openapi
from services.gateway.ratelimit import RateLimiter, SharedRateLimiter
from services.gateway.routing import Upstreams
from services.gateway.web.data import ServiceReader

Hook = Callable[[], Awaitable[None]]


class Gateway:
    """The gateway's state: its key store, rate limiter and the services behind it."""

    def __init__(self, settings: Settings, upstreams: Upstreams) -> None:
        self.settings = settings
        self.db = Database(
            settings.database_url_for("gateway"), schema=settings.schema_for("gateway")
        )
        settings.check_production_safety()
        token = settings.bootstrap_admin_token
        self.authenticator = keys.Authenticator(
            self.db,
            bootstrap_token=token.get_secret_value() if token else None,
            default_rate_limit=settings.rate_limit_per_minute,
            lookups_per_minute=settings.unknown_key_limit_per_minute,
        )
        self.limiter = RateLimiter()
        shared = settings.rate_limit_shared
        if shared is None:
            shared = self.db.dialect == "postgresql" and settings.ingest_url is not None
        self.shared_limiter = SharedRateLimiter(self.db) if shared else None
        self.upstreams = upstreams
        self._openapi: dict[str, Any] | None = None
        self._openapi_lock = asyncio.Lock()

    async def admit(self, request: Request) -> Principal:
        """Authenticate the caller and spend one request of its budget."""
        client = request.client.host if request.client else None
        caller = await self.authenticator.authenticate(request.headers.get("authorization"), client)
        key, budget = caller.principal.key_id, caller.rate_limit_per_minute
        if self.shared_limiter is not None:
            wait = await self.shared_limiter.check(f"key:{key}", budget)
        else:
            wait = self.limiter.check(key, budget)
        if wait:
            raise RateLimited(
                "The key's request budget is spent; retry later",
                headers={"Retry-After": RateLimiter.retry_after_header(wait)},
            )
        return caller.principal

    async def openapi(self, own: dict[str, Any]) -> dict[str, Any]:
        """The merged OpenAPI document, built once."""
        async with self._openapi_lock:
            if self._openapi is None:
                self._openapi = await merged_openapi(own, self.upstreams)
            return self._openapi


async def gateway_of(request: Request) -> Gateway:
    gateway: Gateway = request.app.state.gateway
    return gateway


GatewayDep = Annotated[Gateway, Depends(gateway_of)]


async def admitted(request: Request, gateway: GatewayDep) -> Principal:
    """Dependency: the authenticated caller of a gateway-served endpoint."""
    return await gateway.admit(request)


AdmittedDep = Annotated[Principal, Depends(admitted)]


async def admitted_admin(principal: AdmittedDep) -> Principal:
    """Dependency: the caller, if it holds an admin key (so a 403 comes before any 422)."""
    require_admin(principal)
    return principal


async def known_agency(gateway: Gateway, code: str) -> None:
    """422 unless the catalogue (indicators) knows agency ``code``; 503 while it is away."""
    reader = ServiceReader(gateway.upstreams)
    found = await reader.record(f"/api/v1/agencies/{quote(code, safe='')}")
    if found is not None:
        return
    if reader.unavailable:
        raise ServiceUnavailable(
            "The catalogue cannot be read now; retry later", headers={"Retry-After": "5"}
        )
    raise InvalidInput(
        f"unknown agency {code!r}",
        errors=[ProblemItem(loc=["agency"], msg=f"the catalogue has no agency {code!r}")],
    )


def keys_router(max_body_bytes: int) -> APIRouter:
    router = APIRouter(
        prefix="/api/v1/keys",
        tags=["keys"],
        dependencies=[Depends(admitted_admin)],
        responses=problem_responses(Unauthorized, Forbidden, RateLimited),
        route_class=body_limited_route(max_body_bytes),
    )

    @router.post(
        "",
        status_code=201,
        response_model=keys.IssuedKey,
        responses=problem_responses(PayloadTooLarge, InvalidInput, ServiceUnavailable),
    )
    async def create_key(body: keys.KeyRequest, gateway: GatewayDep) -> keys.IssuedKey:
        """Issue an API key (admin); the key is in this response only.

        An agency key is bound to an agency the catalogue knows (422 otherwise).
        """
        if body.agency is not None:
            await known_agency(gateway, body.agency)
        async with gateway.db.transaction() as session:
            return await keys.create_key(session, body)

    @router.get("", response_model=list[keys.KeyInfo])
    async def list_keys(gateway: GatewayDep) -> list[keys.KeyInfo]:
        """Every key's description, without secrets (admin)."""
        async with gateway.db.read() as session:
            return await keys.list_keys(session)

    @router.delete("/{key_id}", status_code=204, responses=problem_responses(NotFound))
    async def revoke_key(key_id: str, gateway: GatewayDep) -> Response:
        """Revoke a key (admin); `bootstrap` revokes the bootstrap admin token for good."""
        async with gateway.db.transaction() as session:
            await keys.revoke_key(session, key_id)
        gateway.authenticator.forget()
        await gateway.authenticator.refresh()
        return Response(status_code=204)

    return router


def operations_router() -> APIRouter:
    router = APIRouter(include_in_schema=False)

    @router.get("/healthz")
    async def healthz() -> dict[str, str]:
        return {"status": "ok", "service": "gateway"}

    @router.get("/readyz")
    async def readyz(gateway: GatewayDep) -> JSONResponse:
        checks: dict[str, str] = {}
        try:
            await gateway.db.ping()
            checks["database"] = "ok"
        except Exception as error:
            checks["database"] = f"{type(error).__name__}: {error}"
        for name, client in gateway.upstreams.clients.items():
            try:
                response = await client.get("/readyz")
                checks[name] = "ok" if response.status_code == 200 else response.text[:200]
            except Exception as error:
                checks[name] = f"{type(error).__name__}: {error}"
        ready = all(state == "ok" for state in checks.values())
        return JSONResponse(
            {"status": "ready" if ready else "unavailable", "checks": checks},
            status_code=200 if ready else 503,
        )

    router.include_router(metrics_router)
    return router


def proxy_router() -> APIRouter:
    router = APIRouter()

    @router.get(
        "/api/v1/openapi.json",
        tags=["meta"],
        response_model=dict[str, Any],
        openapi_extra={"security": []},  # public: no key needed
    )
    async def openapi(request: Request, gateway: GatewayDep) -> JSONResponse:
        """This document: every operation of the API, and which need a key (public)."""
        return JSONResponse(await gateway.openapi(request.app.openapi()))

    @router.api_route(
        "/api/v1/{path:any_path}",
        methods=["GET", "POST", "PUT", "PATCH", "DELETE"],
        include_in_schema=False,
    )
    async def forward(request: Request, principal: AdmittedDep, gateway: GatewayDep) -> Response:
        if principal.role is Role.READER and request.method != "GET":
            raise Forbidden("Reader keys may only read")
        body = await read_body(request, gateway.settings.max_body_bytes)
        return await gateway.upstreams.forward(request, principal, body)

    return router


def create_gateway_app(
    gateway: Gateway,
    *,
    on_start: list[Hook] | None = None,
    on_stop: list[Hook] | None = None,
    extra_routers: list[APIRouter] | None = None,
) -> FastAPI:
    """The gateway app; ``on_start``/``on_stop`` bring up what it fronts (embedded mode)."""

    @asynccontextmanager
    async def lifespan(_app: FastAPI) -> AsyncIterator[None]:
        for hook in on_start or []:
            await hook()
        await gateway.authenticator.start()
        # Like every service (ServiceRuntime): 1 while serving, 0 while shutting down.
        BUILD_INFO.labels("gateway").set(1)
        try:
            yield
        finally:
            BUILD_INFO.labels("gateway").set(0)
            await gateway.authenticator.stop()
            for hook in reversed(on_stop or []):
                await hook()
            await gateway.upstreams.close()
            await gateway.db.dispose()

    app = FastAPI(
        title="DX Tracker API",
        version="1",
        description="National digital-transformation indicators: submissions, catalogue, "
        "observations, scores, rankings and reminders.",
        lifespan=lifespan,
        openapi_url="/openapi.json",
        # The dashboard serves /docs from vendored files on the merged document (no CDN).
        docs_url=None,
        redoc_url=None,
    )
    app.state.gateway = gateway
    install_problem_handlers(app)
    app.add_middleware(RequestContextMiddleware, service="gateway")
    app.include_router(operations_router())
    app.include_router(keys_router(gateway.settings.max_body_bytes))
    for router in extra_routers or []:
        app.include_router(router)
    app.include_router(proxy_router())
    return app
