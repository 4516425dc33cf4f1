"""SDMX REST data queries: SDMX-JSON 1.0 and 2.0, SDMX-CSV 1.0 and 2.0, SDMX-ML 2.1.

``GET /sdmx/data/{program}/{key}``: the key is ``INDICATOR.REF_AREA``; an empty part is a
wildcard, ``+`` joins alternatives (``KH2023-01+KH2023-02.P01+P79``), ``all`` means everything.
REF_AREA is the agency code of an agency's value, or ``VN`` / ``VN_CENTRAL`` / ``VN_LOCAL`` for
the country's or a group's figure. TIME_PERIOD keeps the platform's period codes, which are
SDMX reporting periods (``2023``, ``2023-S1``, ``2023-Q2``, ``2023-06``).

The figures are the API's: an agency's latest value (``FIGURE_METHOD=reported``) and, for the
country and the groups, the figure ``figures.compute_figures`` gives ``/aggregate`` —
``computed`` from agencies' values, or ``published`` (the committee's) while none reported —
for every period some value of the indicator is stored for, and the coarser periods such a
value counts for. A computed figure no agency reported for is no figure and is left out.

The format is chosen by ``format`` (``json``, ``json-1.0``, ``csv``, ``csv-1.0``, ``xml``, or
SDMX REST's ``jsondata``, ``csvdata``, ``genericdata``), else by ``Accept`` (the SDMX media
types, ``application/json``, ``text/csv``, ``application/xml``); SDMX-JSON 2.0 by default.
See ``sdmx_messages`` for the structure, its attributes and code lists.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Annotated

from fastapi import Header, Query
from fastapi.responses import JSONResponse, Response
from sqlalchemy.ext.asyncio import AsyncSession

from libs.common.errors import InvalidInput, NotFound, ProblemError, ProblemItem, problem_responses
from libs.common.events import utcnow
from libs.common.periods import ReportingPeriod, parse_period
from libs.common.service import ReadSession, api_router
from services.indicators import repository, sdmx_messages
from services.indicators.api.deps import CatalogueDep, parse_query_period
from services.indicators.catalogue_cache import CatalogueView
from services.indicators.domain.catalogue import Indicator
from services.indicators.figures import compute_figures, scopes_of
from services.indicators.sdmx_messages import DataMessage, Obs
from services.indicators.service import affected_periods

router = api_router(tags=["sdmx"])

SCOPE_AREAS = {"national": "VN", "central": "VN_CENTRAL", "local": "VN_LOCAL"}
UNITS = {"percent": "PC", "number": "NUM", "boolean_per_agency": "BOOL"}


@dataclass(frozen=True)
class Format:
    """One way of writing the data message."""

    name: str
    media_type: str


FORMATS = {
    f.name: f
    for f in (
        Format("json", "application/vnd.sdmx.data+json;version=2.0.0"),
        Format("json-1.0", "application/vnd.sdmx.data+json;version=1.0.0"),
        Format("csv", "application/vnd.sdmx.data+csv;version=2.0.0"),
        Format("csv-1.0", "application/vnd.sdmx.data+csv;version=1.0.0"),
        Format("xml", "application/vnd.sdmx.genericdata+xml;version=2.1"),
    )
}
#: SDMX REST's names of the formats.
ALIASES = {"jsondata": "json", "csvdata": "csv", "genericdata": "xml"}
#: Accept media types (without parameters) and, by ``version``, the format each asks for.
MEDIA_TYPES: dict[str, dict[str | None, str]] = {
    "application/vnd.sdmx.data+json": {None: "json", "2": "json", "1": "json-1.0"},
    "application/json": {None: "json"},
    "application/vnd.sdmx.data+csv": {None: "csv", "2": "csv", "1": "csv-1.0"},
    "text/csv": {None: "csv"},
    "application/vnd.sdmx.genericdata+xml": {None: "xml", "2": "xml"},
    "application/xml": {None: "xml"},
    "text/xml": {None: "xml"},
    "*/*": {None: "json"},
    "application/*": {None: "json"},
}
FORMAT_NAMES = ", ".join([*FORMATS, *ALIASES])


class NotAcceptable(ProblemError):
    status, slug, title = 406, "not-acceptable", "No representation the client accepts"


def choose_format(format: str | None, accept: str | None) -> Format:
    """The format asked for by ``format``, else the first of ``Accept`` served; 406 or 422."""
    if format:
        name = ALIASES.get(format, format)
        if name not in FORMATS:
            raise InvalidInput(
                f"Unknown format {format!r}",
                errors=[ProblemItem(loc=["query", "format"], msg=f"use one of {FORMAT_NAMES}")],
            )
        return FORMATS[name]
    if not accept:
        return FORMATS["json"]
    for media_type, version in _accepted(accept):
        by_version = MEDIA_TYPES.get(media_type, {})
        served = by_version.get(version.split(".")[0] if version else None)
        if served is not None:
            return FORMATS[served]
    raise NotAcceptable(
        f"None of {accept!r} is served; ask for one of "
        + ", ".join(f.media_type for f in FORMATS.values()),
        errors=[ProblemItem(loc=["header", "accept"], msg=f"or use ?format={FORMAT_NAMES}")],
    )


def _accepted(accept: str) -> list[tuple[str, str | None]]:
    """The media types of an ``Accept`` header with their ``version``, by preference."""
    found: list[tuple[float, int, str, str | None]] = []
    for position, item in enumerate(accept.split(",")):
        media_type, *parameters = (part.strip() for part in item.split(";"))
        values = dict(p.partition("=")[::2] for p in parameters if "=" in p)
        try:
            quality = float(values.get("q", "1"))
        except ValueError:
            quality = 0.0
        if quality > 0 and media_type:
            found.append((-quality, position, media_type.lower(), values.get("version")))
    return [(media_type, version) for _, _, media_type, version in sorted(found)]


def parse_key(key: str) -> tuple[set[str] | None, set[str] | None]:
    """The indicator and area selections of an SDMX key; ``None`` is a wildcard."""
    if key in ("all", "*", ""):
        return None, None
    parts = key.split(".")
    if len(parts) > 2:
        raise InvalidInput(
            "The key has two dimensions: INDICATOR.REF_AREA",
            errors=[ProblemItem(loc=["path", "key"], msg="too many dimensions")],
        )
    parts += [""] * (2 - len(parts))
    return tuple({v for v in part.split("+") if v} or None for part in parts)  # type: ignore[return-value]


@router.get(
    "/sdmx/data/{program}/{key}",
    response_class=Response,
    responses={
        200: {"content": {f.media_type: {} for f in FORMATS.values()}},
        **problem_responses(NotFound, NotAcceptable, InvalidInput),
    },
)
async def sdmx_data(
    program: str,
    key: str,
    session: ReadSession,
    catalogue: CatalogueDep,
    start_period: Annotated[str | None, Query(alias="startPeriod")] = None,
    end_period: Annotated[str | None, Query(alias="endPeriod")] = None,
    format: Annotated[str | None, Query(description=f"one of {FORMAT_NAMES}")] = None,
    accept: Annotated[str | None, Header()] = None,
) -> Response:
    """Series of a programme's indicators by area and period, as an SDMX data message."""
    chosen = choose_format(format, accept)
    indicators = sorted(i.code for i in catalogue.indicators.values() if i.program == program)
    if not indicators:
        raise NotFound(f"No programme {program}")
    wanted_indicators, wanted_areas = parse_key(key)
    if wanted_indicators is not None:
        indicators = [code for code in indicators if code in wanted_indicators]
    start = parse_query_period(start_period, "startPeriod")
    end = parse_query_period(end_period, "endPeriod")

    def wanted(area: str, period: ReportingPeriod) -> bool:
        in_time = (start is None or period.start >= start.start) and (
            end is None or period.end <= end.end
        )
        return in_time and (wanted_areas is None or area in wanted_areas)

    series = await _series(session, catalogue, indicators, wanted)
    message = DataMessage(
        id=f"DX-{uuid.uuid4()}",
        prepared=utcnow(),
        indicator_names={code: catalogue.indicators[code].name_vi for code in indicators},
        area_names={
            **{code: agency.name_vi for code, agency in catalogue.agencies.items()},
            "VN": "Việt Nam",
            "VN_CENTRAL": "Bộ, ngành trung ương",
            "VN_LOCAL": "Địa phương",
        },
        series=series,
        period_order=sorted(
            {p for values in series.values() for p in values}, key=lambda p: parse_period(p)
        ),
    )
    return _response(message, chosen)


async def _series(
    session: AsyncSession,
    catalogue: CatalogueView,
    indicators: list[str],
    wanted: Callable[[str, ReportingPeriod], bool],
) -> dict[tuple[str, str], dict[str, Obs]]:
    """Agencies' latest values and the national and group figures, by (indicator, area)."""
    rows = await repository.series(session, indicators=indicators) if indicators else []
    series: dict[tuple[str, str], dict[str, Obs]] = {}
    stored_periods: dict[str, set[ReportingPeriod]] = {}
    for row in rows:
        period = parse_period(row.period)
        stored_periods.setdefault(row.indicator, set()).add(period)
        value = row.value
        if row.scope == "agency" and value is not None and wanted(row.agency, period):
            indicator = catalogue.indicators[row.indicator]
            obs = Obs(_number(value), "reported", UNITS[indicator.value_type])
            series.setdefault((row.indicator, row.agency), {})[row.period] = obs
    for code, periods in sorted(stored_periods.items()):
        indicator = catalogue.indicators[code]
        areas = [SCOPE_AREAS[scope] for scope in scopes_of(indicator)]
        for period in _figure_periods(indicator, periods):
            if not any(wanted(area, period) for area in areas):
                continue
            figures = await compute_figures(
                session, catalogue, indicator=indicator, scopes=scopes_of(indicator), period=period
            )
            for figure in figures:
                area = SCOPE_AREAS[figure.scope]
                if figure.value is None or not wanted(area, period):
                    continue
                if figure.method == "computed" and figure.reported == 0:
                    continue  # nobody reported: no figure, not a zero
                obs = Obs(_number(figure.value), figure.method, UNITS[indicator.value_type])
                series.setdefault((code, area), {})[figure.period] = obs
    return series


def _figure_periods(
    indicator: Indicator, periods: Iterable[ReportingPeriod]
) -> list[ReportingPeriod]:
    """The periods with a stored value, and the coarser periods such a value counts for."""
    found = set()
    for period in periods:
        found.update(affected_periods(period, indicator.reporting.frequency))
    return sorted(found)


def _number(value: bool | float) -> float | int:
    """A value as SDMX carries it: a yes/no as 1 or 0, a number as is."""
    if isinstance(value, bool):
        return int(value)
    return value


def _response(message: DataMessage, chosen: Format) -> Response:
    if chosen.name == "json":
        return JSONResponse(sdmx_messages.json_2_0(message), media_type=chosen.media_type)
    if chosen.name == "json-1.0":
        return JSONResponse(sdmx_messages.json_1_0(message), media_type=chosen.media_type)
    if chosen.name in ("csv", "csv-1.0"):
        version = "2.0" if chosen.name == "csv" else "1.0"
        return Response(
            sdmx_messages.sdmx_csv(message, version=version),
            media_type=f"{chosen.media_type}; charset=utf-8",
        )
    return Response(sdmx_messages.generic_2_1(message), media_type=chosen.media_type)
