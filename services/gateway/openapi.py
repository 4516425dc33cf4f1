"""The public OpenAPI document: the gateway's own paths merged with every service's."""

from __future__ import annotations

from typing import Any

from services.gateway.routing import ROUTES, Upstreams


async def merged_openapi(own: dict[str, Any], upstreams: Upstreams) -> dict[str, Any]:
    """One document for clients: every ``/api/v1`` path, schemas merged, bearer security."""
    document = {**own, "paths": dict(own.get("paths", {}))}
    components = document.setdefault("components", {})
    schemas = components.setdefault("schemas", {})
    for service in sorted(set(ROUTES.values())):
        part = await upstreams.fetch_json(service, "/openapi.json")
        paths: dict[str, Any] = part.get("paths", {})  # type: ignore[assignment]
        document["paths"].update({p: item for p, item in paths.items() if p.startswith("/api/")})
        part_components: dict[str, Any] = part.get("components", {})  # type: ignore[assignment]
        schemas.update(part_components.get("schemas", {}))
    components["securitySchemes"] = {
        "bearer": {"type": "http", "scheme": "bearer", "description": "DX Tracker API key"}
    }
    document["security"] = [{"bearer": []}]
    return document
