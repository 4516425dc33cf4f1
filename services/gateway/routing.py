"""Which service serves which public path, and the signed forwarding of calls to it."""

from __future__ import annotations

import logging
from urllib.parse import quote

import httpx
from fastapi import Request, Response
from starlette.convertors import PathConvertor, register_url_convertor

from libs.common.auth import REQUEST_ID_HEADER, Principal, request_target, sign_request
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
    "completeness": "scoring",
    "assessments": "scoring",
    "notifications": "notify",
}

# Characters a path segment may carry as they are (RFC 3986 pchar, besides quote's own).
_SEGMENT = "!$&'()*+,;=:@"
_FORWARDED_REQUEST_HEADERS = ("content-type", "accept", "accept-language")
_RETURNED_RESPONSE_HEADERS = (
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
    """A pooled HTTP client per service: real sockets in a cluster, ASGI calls when embedded."""

    def __init__(self, clients: dict[str, httpx.AsyncClient], *, secret: str) -> None:
        self.clients = clients
        self.secret = secret

    async def forward(self, request: Request, principal: Principal, body: bytes) -> Response:
        """Send the request on to its service, signed for ``principal``; relay the answer."""
        service = service_for(request.url.path)
        client = self.clients[service]
        target = request_target(request)
        url = forwarded_path(request.scope["path"]) + (
            f"?{request.url.query}" if request.url.query else ""
        )
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
            upstream = await client.request(request.method, url, content=body, headers=headers)
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
