"""What the pages read from the services: signed GETs through the gateway's pooled clients.

Every call is signed as the dashboard's own reader principal, so the services apply the same
rules as for any reader key (no contacts, nothing but GETs). A failed or empty answer becomes
``None`` / ``[]`` and the page says "no data" instead of failing: the dashboard is a reader of
services that may be down, starting, or not yet written.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Iterable, Mapping, Sequence
from typing import Any, TypeVar
from urllib.parse import quote, urlencode

import httpx

from libs.common.auth import REQUEST_ID_HEADER, Principal, Role, sign_request
from libs.common.logs import request_id_var
from services.gateway.routing import Upstreams, service_for

log = logging.getLogger(__name__)

T = TypeVar("T")
Params = Mapping[str, str | int | Sequence[str] | None]
Record = dict[str, Any]

READER = Principal(Role.READER, "web-dashboard")
# `dx demo` (services/demo.py) gives its values this source, and notes starting with the marker;
# notes are read only to find the marker, never shown.
DEMO_SOURCE = "demo"
DEMO_MARKER = "DỮ LIỆU MẪU (make demo)"


def query_target(path: str, params: Params | None = None) -> str:
    """The request target exactly as it is signed and sent (``None`` parameters left out)."""
    pairs: list[tuple[str, str]] = []
    for name, value in (params or {}).items():
        if value is None:
            continue
        if isinstance(value, str | int):
            pairs.append((name, str(value)))
        else:
            pairs.extend((name, str(item)) for item in value)
    return f"{path}?{urlencode(pairs)}" if pairs else path


class ServiceReader:
    """Reads JSON from the services for one page; remembers which services did not answer."""

    def __init__(self, upstreams: Upstreams, *, concurrency: int = 8) -> None:
        self.upstreams = upstreams
        self.unavailable: set[str] = set()
        # Bounded so that one page's fan-out cannot take every pooled connection.
        self._slots = asyncio.Semaphore(concurrency)

    async def get(self, path: str, params: Params | None = None) -> Any | None:
        """The decoded JSON answer of a GET, or ``None`` for an error, a timeout or non-JSON."""
        service = service_for(path)
        target = query_target(path, params)
        headers = sign_request(
            self.upstreams.secret, method="GET", target=target, principal=READER, body=b""
        )
        headers[REQUEST_ID_HEADER] = request_id_var.get() or ""
        headers["accept"] = "application/json"
        async with self._slots:
            try:
                response = await self.upstreams.clients[service].get(target, headers=headers)
            except httpx.HTTPError as error:
                log.warning("dashboard: %s unreachable for %s: %r", service, path, error)
                self.unavailable.add(service)
                return None
        if response.status_code >= 500:
            log.warning("dashboard: %s answered %d for %s", service, response.status_code, path)
            self.unavailable.add(service)
            return None
        if response.status_code != 200:
            # 404 and 422 are "nothing to show" (an unknown code, or an endpoint not there yet).
            log.info("dashboard: %s answered %d for %s", service, response.status_code, path)
            return None
        try:
            return response.json()
        except ValueError:
            log.warning("dashboard: %s sent no JSON for %s", service, path)
            return None

    async def records(self, path: str, params: Params | None = None) -> list[Record]:
        """A JSON list of objects; ``[]`` for anything else."""
        found = await self.get(path, params)
        if not isinstance(found, list):
            return []
        return [item for item in found if isinstance(item, dict)]

    async def record(self, path: str, params: Params | None = None) -> Record | None:
        """A JSON object; ``None`` for anything else."""
        found = await self.get(path, params)
        return found if isinstance(found, dict) else None

    async def all(self, calls: Iterable[Awaitable[T]]) -> list[T]:
        """Run calls concurrently (bounded by the reader's slots), answers in order."""
        return list(await asyncio.gather(*calls))


# The calls the pages make, one per public endpoint (shapes in shared/spec/API.md).


async def programs(reader: ServiceReader) -> list[Record]:
    return await reader.records("/api/v1/programs")


async def indicators(reader: ServiceReader, program: str | None = None) -> list[Record]:
    return await reader.records("/api/v1/indicators", {"program": program})


def segment(code: str) -> str:
    """A code from the page's URL as one path segment (a '?' or '/' in it stays inert)."""
    return quote(code, safe="")


async def indicator(reader: ServiceReader, code: str) -> Record | None:
    return await reader.record(f"/api/v1/indicators/{segment(code)}")


async def agencies(reader: ServiceReader) -> list[Record]:
    return await reader.records("/api/v1/agencies")


async def agency(reader: ServiceReader, code: str) -> Record | None:
    return await reader.record(f"/api/v1/agencies/{segment(code)}")


async def populations(reader: ServiceReader, period: str) -> dict[str, set[str]]:
    """Population name -> its members in ``period``."""
    found = await reader.records("/api/v1/populations", {"period": period})
    return {str(p.get("name")): set(p.get("resolved") or []) for p in found}


async def aggregate(reader: ServiceReader, code: str, period: str, scope: str) -> Record | None:
    return await reader.record(
        f"/api/v1/indicators/{segment(code)}/aggregate", {"period": period, "scope": scope}
    )


async def observations(reader: ServiceReader, **params: str | Sequence[str] | None) -> list[Record]:
    return await reader.records("/api/v1/observations", params)


async def scores(
    reader: ServiceReader, *, program: str | None, period: str, lang: str, scope: str | None = None
) -> list[Record]:
    return await reader.records(
        "/api/v1/scores", {"program": program, "period": period, "scope": scope, "lang": lang}
    )


async def score_summary(reader: ServiceReader, *, program: str, period: str) -> Record | None:
    return await reader.record("/api/v1/scores/summary", {"program": program, "period": period})


async def rankings(
    reader: ServiceReader, *, group: str, period: str, pillar: str | None
) -> list[Record]:
    return await reader.records(
        "/api/v1/rankings", {"group": group, "period": period, "pillar": pillar}
    )


async def laggards(
    reader: ServiceReader, *, period: str, program: str | None, lang: str
) -> list[Record]:
    return await reader.records(
        "/api/v1/laggards", {"period": period, "program": program, "lang": lang}
    )


async def notifications(reader: ServiceReader, agency_code: str) -> list[Record]:
    return await reader.records("/api/v1/notifications", {"agency": agency_code})


def is_synthetic(row: Record) -> bool:
    """Whether an observation is one of ``make demo``'s synthetic values."""
    return row.get("source") == DEMO_SOURCE or str(row.get("note") or "").startswith(DEMO_MARKER)


async def holds_synthetic(reader: ServiceReader, period: str) -> bool:
    """Whether agencies' values for ``period`` include ``make demo``'s synthetic ones."""
    rows = await observations(reader, scope="agency", period=period)
    return any(is_synthetic(row) for row in rows)
