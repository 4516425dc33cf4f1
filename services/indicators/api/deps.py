"""Dependencies of the indicators API: the service's parts and parsed query parameters."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import Annotated

from fastapi import Depends, Query, Request, Response

from libs.common.errors import InvalidInput, ProblemItem
from libs.common.events import CATALOGUE_VERSION_HEADER, catalogue_version, utcnow
from libs.common.periods import ReportingPeriod, parse_period, period_containing
from libs.common.service import ReadSession
from services.indicators.admin import CatalogueAdmin
from services.indicators.catalogue_cache import CatalogueCache, CatalogueView
from services.indicators.service import ObservationStore


@dataclass(frozen=True)
class IndicatorsParts:
    """What the indicators API works with, built once per app."""

    cache: CatalogueCache
    admin: CatalogueAdmin
    store: ObservationStore


async def parts_of(request: Request) -> IndicatorsParts:
    parts: IndicatorsParts = request.app.state.indicators
    return parts


PartsDep = Annotated[IndicatorsParts, Depends(parts_of)]


async def catalogue_view(session: ReadSession, parts: PartsDep) -> CatalogueView:
    """The current catalogue."""
    return await parts.cache.get(session)


CatalogueDep = Annotated[CatalogueView, Depends(catalogue_view)]


async def catalogue_change(response: Response) -> None:
    """Dependency of a catalogue edit: answer with the catalogue version it makes.

    Taken before the edit, so every event the edit publishes occurred at or after it (see
    ``libs.common.events.CATALOGUE_VERSION_HEADER``).
    """
    response.headers[CATALOGUE_VERSION_HEADER] = catalogue_version(utcnow())


def parse_query_period(value: str | None, name: str) -> ReportingPeriod | None:
    """A period query parameter, or 422 naming the parameter."""
    if value is None or value == "":
        return None
    try:
        return parse_period(value)
    except (ValueError, TypeError) as error:
        raise InvalidInput(
            f"Bad {name}: {error}", errors=[ProblemItem(loc=["query", name], msg=str(error))]
        ) from error


async def period_param(
    period: Annotated[str | None, Query(description="2023, 2023-S1, 2023-Q2 or 2023-06")] = None,
) -> ReportingPeriod | None:
    return parse_query_period(period, "period")


PeriodQuery = Annotated[ReportingPeriod | None, Depends(period_param)]


def current_half() -> ReportingPeriod:
    """The half-year we are in."""
    return period_containing(date.today(), "half")
