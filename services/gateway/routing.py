"""Which service serves which public path, and the signed forwarding of calls to it."""

from __future__ import annotations

import logging

import httpx
from fastapi import Request, Response

from libs.common.auth import REQUEST_ID_HEADER, Principal, sign_request
from libs.common.errors import NotFound, ServiceUnavailable
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

_FORWARDED_REQUEST_HEADERS = ("content-type", "accept", "accept-language")
_RETURNED_RESPONSE_HEADERS = (
    "content-type",
    "content-disposition",
    "retry-after",
    "location",
    "cache-control",
)


def service_for(path: str) -> str:
    """The service owning a public ``/api/v1/...`` path; 404 for paths nobody serves."""
    segment = path.removeprefix(API_PREFIX).split("/", 1)[0]
    service = ROUTES.get(segment)
    if service is None:
        raise NotFound(f"No such API path: {path}")
    return service


class Upstreams:
    """A pooled HTTP client per service: real sockets in a cluster, ASGI calls when embedded."""

    def __init__(self, clients: dict[str, httpx.AsyncClient], *, secret: str) -> None:
        self.clients = clients
        self.secret = secret

    async def forward(self, request: Request, principal: Principal, body: bytes) -> Response:
        """Send the request on to its service, signed for ``principal``; relay the answer."""
        service = service_for(request.url.path)
        client = self.clients[service]
        target = request.url.path + (f"?{request.url.query}" if request.url.query else "")
        headers = {
            name: value
            for name in _FORWARDED_REQUEST_HEADERS
            if (value := request.headers.get(name)) is not None
        }
        headers.update(
            sign_request(
                self.secret, method=request.method, target=target, principal=principal, body=body
            )
        )
        headers[REQUEST_ID_HEADER] = request_id_var.get() or ""
        try:
            upstream = await client.request(request.method, target, content=body, headers=headers)
        except httpx.TransportError as error:
            log.warning("service %s unreachable: %r", service, error)
            raise ServiceUnavailable(
                f"The {service} service is unavailable; retry later", headers={"Retry-After": "5"}
            ) from error
        return Response(
            content=upstream.content,
            status_code=upstream.status_code,
            headers={
                name: value
                for name in _RETURNED_RESPONSE_HEADERS
                if (value := upstream.headers.get(name)) is not None
            },
        )

    async def fetch_json(self, service: str, path: str) -> dict[str, object]:
        """An unauthenticated JSON document of a service (its OpenAPI schema)."""
        response = await self.clients[service].get(path)
        response.raise_for_status()
        document: dict[str, object] = response.json()
        return document

    async def close(self) -> None:
        for client in self.clients.values():
            await client.aclose()
