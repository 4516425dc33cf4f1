"""Which service serves which public path, and the signed forwarding of calls to it."""

from __future__ import annotations

import logging
from collections.abc import Mapping
from datetime import datetime
from typing import Any
from urllib.parse import quote

import httpx
from fastapi import Request, Response
from starlette.convertors import PathConvertor, register_url_convertor
from starlette.types import ASGIApp, Message

from libs.common.auth import REQUEST_ID_HEADER, Principal, request_target, sign_request
from libs.common.errors import NotFound, ServiceUnavailable
from libs.common.events import (
    CATALOGUE_VERSION_HEADER,
    catalogue_version,
    parse_catalogue_version,
)
from libs.common.logs import request_id_var

log = logging.getLogger(__name__)

API_PREFIX = "/api/v1/"

# First path segment under /api/v1 -> the service that owns it.
ROUTES: dict[str, str] = {
    "submissions": "ingest",
    "agencies": "indicators",
    "populations": "indicators",
    "programs": "indicators",
    "indicators": "indicators",
    "observations": "indicators",
    "sdmx": "indicators",
    "scores": "scoring",
    "rankings": "scoring",
    "laggards": "scoring",
    "assessments": "scoring",
    "notifications": "notify",
}

# Characters a path segment may carry as they are (RFC 3986 pchar, besides quote's own).
_SEGMENT = "!$&'()*+,;=:@"
_FORWARDED_REQUEST_HEADERS = (
    "content-type",
    "accept",
    "accept-language",
    CATALOGUE_VERSION_HEADER,
)
_RETURNED_RESPONSE_HEADERS = (
    CATALOGUE_VERSION_HEADER,
    "content-type",
    "content-disposition",
    "retry-after",
    "location",
    "cache-control",
)


class AnyPath(PathConvertor):
    """Starlette's ``path`` that also matches across newlines: every API path is forwarded, and
    its service answers for it (``path`` stops at a decoded ``%0A``, leaving the gateway's 404)."""

    regex = "(?s:.*)"


register_url_convertor("any_path", AnyPath())


def forwarded_path(path: str) -> str:
    """A decoded path percent-encoded so that the service decodes exactly it again.

    Sent as it was decoded, a path with a control character would be refused by the HTTP client,
    and ``.``/``..`` segments would be resolved on the way: the service would not see the path
    the gateway signed.
    """
    return "/".join(
        segment.replace(".", "%2E") if segment in (".", "..") else quote(segment, safe=_SEGMENT)
        for segment in path.split("/")
    )


def service_for(path: str) -> str:
    """The service owning a public ``/api/v1/...`` path; 404 for paths nobody serves."""
    segment = path.removeprefix(API_PREFIX).split("/", 1)[0]
    service = ROUTES.get(segment)
    if service is None:
        raise NotFound(f"No such API path: {path}")
    return service


class Upstreams:
    """Where each service is reached: pooled HTTP clients in a cluster; in the embedded mode
    the service's ASGI app itself, called in this process with the same signed request."""

    def __init__(
        self,
        clients: dict[str, httpx.AsyncClient],
        *,
        secret: str,
        apps: Mapping[str, ASGIApp] | None = None,
    ) -> None:
        self.clients = clients
        self.secret = secret
        self.apps = dict(apps or {})
        #: The newest catalogue version an edit through this gateway answered with: calls to
        #: ingest carry it, so a submission after an edit is validated against that edit.
        self.catalogue_seen: datetime | None = None

    async def forward(self, request: Request, principal: Principal, body: bytes) -> Response:
        """Send the request on to its service, signed for ``principal``; relay the answer."""
        service = service_for(request.url.path)
        headers = {
            name: value
            for name in _FORWARDED_REQUEST_HEADERS
            if (value := request.headers.get(name)) is not None
        }
        headers.update(
            sign_request(
                self.secret,
                method=request.method,
                target=request_target(request),
                principal=principal,
                body=body,
            )
        )
        headers[REQUEST_ID_HEADER] = request_id_var.get() or ""
        if service == "ingest":
            self._add_catalogue_seen(headers)
        app = self.apps.get(service)
        if app is not None:
            status, answer, content = await call_app(app, request, headers, body)
        else:
            status, answer, content = await self._send(service, request, headers, body)
        if service == "indicators":
            edited = parse_catalogue_version(answer.get(CATALOGUE_VERSION_HEADER))
            if edited is not None and (self.catalogue_seen is None or edited > self.catalogue_seen):
                self.catalogue_seen = edited
        return Response(
            content=content,
            status_code=status,
            headers={
                name: value
                for name in _RETURNED_RESPONSE_HEADERS
                if (value := answer.get(name)) is not None
            },
        )

    def _add_catalogue_seen(self, headers: dict[str, str]) -> None:
        """The newer of the caller's catalogue version and this gateway's, for ingest."""
        sent = parse_catalogue_version(headers.get(CATALOGUE_VERSION_HEADER))
        newest = max(
            (seen for seen in (sent, self.catalogue_seen) if seen is not None), default=None
        )
        if newest is not None:
            headers[CATALOGUE_VERSION_HEADER] = catalogue_version(newest)

    async def _send(
        self, service: str, request: Request, headers: dict[str, str], body: bytes
    ) -> tuple[int, Mapping[str, str], bytes]:
        url = forwarded_path(request.scope["path"]) + (
            f"?{request.url.query}" if request.url.query else ""
        )
        try:
            upstream = await self.clients[service].request(
                request.method, url, content=body, headers=headers
            )
        except httpx.TransportError as error:
            log.warning("service %s unreachable: %r", service, error)
            raise ServiceUnavailable(
                f"The {service} service is unavailable; retry later", headers={"Retry-After": "5"}
            ) from error
        return upstream.status_code, upstream.headers, upstream.content

    async def fetch_json(self, service: str, path: str) -> dict[str, object]:
        """An unauthenticated JSON document of a service (its OpenAPI schema)."""
        response = await self.clients[service].get(path)
        response.raise_for_status()
        document: dict[str, object] = response.json()
        return document

    async def close(self) -> None:
        for client in self.clients.values():
            await client.aclose()


async def call_app(
    app: ASGIApp, request: Request, headers: Mapping[str, str], body: bytes
) -> tuple[int, Mapping[str, str], bytes]:
    """One request to an ASGI app in this process: the gateway's own request, re-headed.

    The app sees the path and query the gateway signed, exactly as a service behind a socket
    would; only the HTTP client and the serialisation are skipped. An exception the app lets
    out after it answered (Starlette's error middleware re-raises past its 500) is logged.
    """
    scope = {
        "type": "http",
        "asgi": {"version": "3.0"},
        "http_version": "1.1",
        "method": request.method,
        "scheme": request.scope.get("scheme", "http"),
        "path": request.scope["path"],
        "raw_path": request.scope.get("raw_path"),
        "root_path": "",
        "query_string": request.scope.get("query_string", b""),
        "headers": [
            (name.encode("latin-1"), value.encode("latin-1")) for name, value in headers.items()
        ],
        "client": request.scope.get("client"),
        "server": request.scope.get("server"),
        "state": {},
    }
    answered: dict[str, Any] = {"status": 500, "headers": {}}
    chunks: list[bytes] = []
    delivered = False

    async def receive() -> Message:
        nonlocal delivered
        if not delivered:
            delivered = True
            return {"type": "http.request", "body": body, "more_body": False}
        return {"type": "http.disconnect"}

    async def send(message: Message) -> None:
        if message["type"] == "http.response.start":
            answered["status"] = message["status"]
            answered["headers"] = {
                name.decode("latin-1").lower(): value.decode("latin-1")
                for name, value in message.get("headers", [])
            }
        elif message["type"] == "http.response.body":
            chunks.append(message.get("body", b""))

    try:
        await app(scope, receive, send)
    except Exception:
        log.exception("%s %s failed in its service", request.method, request.url.path)
        if not chunks:
            raise
    return answered["status"], answered["headers"], b"".join(chunks)
