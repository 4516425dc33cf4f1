"""The public OpenAPI document: the gateway's own paths merged with every service's."""

from __future__ import annotations

from typing import Any

from libs.common.errors import (
    Forbidden,
    PayloadTooLarge,
    ProblemError,
    RateLimited,
    ServiceUnavailable,
    Unauthorized,
    document_problems,
    problem_responses,
)
from services.gateway.routing import ROUTES, Upstreams


def add_gateway_errors(method: str, operation: dict[str, Any]) -> None:
    """Document what the gateway itself may answer a forwarded operation with."""
    errors: list[type[ProblemError]] = [Unauthorized, RateLimited, ServiceUnavailable]
    if method != "get":
        errors.append(Forbidden)  # reader keys only read
    if "requestBody" in operation:
        errors.append(PayloadTooLarge)
    responses = operation.setdefault("responses", {})
    for status, response in problem_responses(*errors).items():
        responses.setdefault(str(status), response)


async def merged_openapi(own: dict[str, Any], upstreams: Upstreams) -> dict[str, Any]:
    """One document for clients: every ``/api/v1`` path, schemas merged, bearer security."""
    document = {**own, "paths": dict(own.get("paths", {}))}
    components = document.setdefault("components", {})
    schemas = components.setdefault("schemas", {})
    for service in sorted(set(ROUTES.values())):
        part = await upstreams.fetch_json(service, "/openapi.json")
        paths: dict[str, Any] = part.get("paths", {})  # type: ignore[assignment]
        for path, item in paths.items():
            if path.startswith("/api/"):
                for method, operation in item.items():
                    add_gateway_errors(method, operation)
                document["paths"][path] = item
        part_components: dict[str, Any] = part.get("components", {})  # type: ignore[assignment]
        schemas.update(part_components.get("schemas", {}))
    components["securitySchemes"] = {
        "bearer": {"type": "http", "scheme": "bearer", "description": "DX Tracker API key"}
    }
    document["security"] = [{"bearer": []}]
    return document_problems(document)
