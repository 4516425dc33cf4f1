"""ASGI plumbing the services and the gateway share: request ids, metrics, access log, bodies
read within their size limit, and the services' check of the gateway's signature."""

from __future__ import annotations

import logging
import time
import uuid
from collections.abc import Callable, Coroutine
from typing import Any
from urllib.parse import parse_qsl

from fastapi.routing import APIRoute
from starlette.requests import ClientDisconnect, Request
from starlette.responses import Response
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from libs.common.auth import (
    PRINCIPAL_STATE,
    REQUEST_ID_HEADER,
    NonceWindow,
    request_target,
    verify_signature,
)
from libs.common.errors import (
    ClientGone,
    InvalidInput,
    NotFound,
    PayloadTooLarge,
    ProblemError,
    ProblemItem,
    problem_response,
)
from libs.common.logs import request_id_var
from libs.common.metrics import HTTP_LATENCY, HTTP_REQUESTS
from libs.common.settings import Settings

log = logging.getLogger("dx.access")

_QUIET_PATHS = frozenset({"/healthz", "/readyz", "/metrics"})
#: What every non-HTML answer (JSON, CSV, metrics) may do in a browser: nothing. The dashboard's
#: pages send their own policy; the interactive API docs (``/docs``) load their scripts.
DATA_CSP = b"default-src 'none'; frame-ancestors 'none'"


def security_headers(headers: list[tuple[bytes, bytes]]) -> list[tuple[bytes, bytes]]:
    """The headers every response gets unless it has them: ``nosniff``, and for anything but a
    page, a policy that lets a browser run nothing from it."""
    names = {name.lower(): value for name, value in headers}
    extra = []
    if b"x-content-type-options" not in names:
        extra.append((b"x-content-type-options", b"nosniff"))
    if b"content-security-policy" not in names and not names.get(b"content-type", b"").startswith(
        b"text/html"
    ):
        extra.append((b"content-security-policy", DATA_CSP))
    return extra


def nul_refusal(scope: Scope) -> ProblemError | None:
    """A 404 for a NUL in the path, a 422 naming the parameter for one in the query; else None.

    PostgreSQL refuses NUL in text, so a NUL reaching a query would be a 500 in the cluster
    (and a silent non-match on SQLite): no resource is named with one, no filter matches one.
    The check is two substring searches on every request; the query is parsed only when one hits.
    Services make it once the gateway's signature is verified (an unsigned call is a 401 first).
    """
    if "\x00" in scope["path"]:
        return NotFound("No resource has a NUL character in its path")
    query: bytes = scope.get("query_string", b"")
    if b"%00" not in query and b"\x00" not in query:
        return None
    names = [
        name
        for name, value in parse_qsl(query.decode("latin-1"), keep_blank_values=True)
        if "\x00" in name or "\x00" in value
    ]
    return InvalidInput(
        "A query parameter holds a NUL character",
        errors=[
            ProblemItem(loc=["query", name.replace("\x00", "\\x00")], msg="NUL is not allowed")
            for name in names
        ],
    )


class RequestContextMiddleware:
    """Gives each request an id (kept from ``X-Request-ID`` if sent), times and counts it.

    ``access_log`` off leaves the access line to whoever logs the request already (the
    gateway, for a service called in its process).
    """

    def __init__(self, app: ASGIApp, *, service: str, access_log: bool = True) -> None:
        self.app = app
        self.service = service
        self.access_log = access_log

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        incoming = dict(scope["headers"]).get(REQUEST_ID_HEADER.encode(), b"").decode("latin-1")
        request_id = incoming[:64] if incoming else uuid.uuid4().hex
        token = request_id_var.set(request_id)
        started = time.perf_counter()
        status = 500

        async def send_with_id(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
                headers = list(message.get("headers", []))
                message["headers"] = [
                    *headers,
                    *security_headers(headers),
                    (REQUEST_ID_HEADER.encode(), request_id.encode()),
                ]
            await send(message)

        try:
            await self.app(scope, receive, send_with_id)
        finally:
            elapsed = time.perf_counter() - started
            route = scope.get("route")
            template = getattr(route, "path", None) or "unmatched"
            method = scope["method"]
            HTTP_REQUESTS.labels(self.service, method, template, str(status)).inc()
            HTTP_LATENCY.labels(self.service, method, template).observe(elapsed)
            if self.access_log and scope["path"] not in _QUIET_PATHS:
                log.info(
                    "%s %s %d %.1fms",
                    method,
                    scope["path"],
                    status,
                    elapsed * 1000,
                    extra={"status": status, "duration_ms": round(elapsed * 1000, 2)},
                )
            request_id_var.reset(token)


async def read_body(request: Request, limit: int) -> bytes:
    """The request body, refused past ``limit`` bytes without reading it all."""
    declared = request.headers.get("content-length")
    if declared and declared.isdigit() and int(declared) > limit:
        raise PayloadTooLarge(f"The body exceeds {limit} bytes")
    chunks, size = [], 0
    try:
        async for chunk in request.stream():
            size += len(chunk)
            if size > limit:
                raise PayloadTooLarge(f"The body exceeds {limit} bytes")
            chunks.append(chunk)
    except ClientDisconnect as error:
        raise ClientGone("The client went away before sending its body") from error
    return b"".join(chunks)


def replay(body: bytes, receive: Receive) -> Receive:
    """A ``receive`` giving the app ``body`` (already read) and then what ``receive`` gives."""
    sent = False

    async def replayed() -> Message:
        nonlocal sent
        if sent:
            return await receive()  # a disconnect, as the app would get after the body
        sent = True
        return {"type": "http.request", "body": body, "more_body": False}

    return replayed


def body_limited_route(limit: int) -> type[APIRoute]:
    """A route class reading the body first, refused past ``limit`` bytes (413): FastAPI would
    read a body of any size, before any dependency (authentication) runs."""

    class BodyLimitedRoute(APIRoute):
        def get_route_handler(self) -> Callable[[Request], Coroutine[Any, Any, Response]]:
            handler = super().get_route_handler()

            async def limited(request: Request) -> Response:
                body = await read_body(request, limit)
                return await handler(Request(request.scope, replay(body, request.receive)))

            return limited

    return BodyLimitedRoute


class GatewaySignatureMiddleware:
    """Lets calls under ``prefix`` through only if the gateway signed them; 401 problem if not.

    The body is read here (413 past ``max_body_bytes``) because the signature covers it, then
    replayed to the app, which parses it as usual: JSON, forms, files. The principal the gateway
    vouched for is left in ``request.state`` for ``signed_principal``. Paths outside ``prefix``
    (health, readiness, metrics, the service's OpenAPI) pass unchecked.
    """

    def __init__(self, app: ASGIApp, *, settings: Settings, prefix: str) -> None:
        self.app = app
        self.settings = settings
        self.prefix = prefix
        self.nonces = NonceWindow()

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or not scope["path"].startswith(self.prefix):
            await self.app(scope, receive, send)
            return
        request = Request(scope, receive)
        body = b""

        async def read() -> bytes:
            nonlocal body
            body = await read_body(request, self.settings.max_body_bytes)
            return body

        try:
            principal = await verify_signature(
                self.settings.internal_secret.get_secret_value(),
                method=request.method,
                target=request_target(request),
                headers=request.headers,
                body=read,
                nonces=self.nonces,
            )
        except ProblemError as error:
            response = problem_response(error.to_problem(request.url.path), error.headers)
            await response(scope, receive, send)
            return
        refusal = nul_refusal(scope)
        if refusal is not None:
            response = problem_response(refusal.to_problem(scope["path"].replace("\x00", "")))
            await response(scope, receive, send)
            return
        scope.setdefault("state", {})[PRINCIPAL_STATE] = principal
        await self.app(scope, replay(body, receive), send)
