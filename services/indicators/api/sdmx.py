"""SDMX REST data queries answered with SDMX-JSON 2.0 data messages.

``GET /sdmx/data/{program}/{key}``: the key is ``INDICATOR.REF_AREA``; an empty part is a
wildcard, ``+`` joins alternatives (``KH2023-01+KH2023-02.P01+P79``), ``all`` means everything.
REF_AREA is the agency code of an agency's value, or ``VN`` / ``VN_CENTRAL`` / ``VN_LOCAL`` for
figures published for the country or a group. TIME_PERIOD keeps the platform's period codes,
which are SDMX reporting periods (``2023``, ``2023-S1``, ``2023-Q2``, ``2023-06``).
"""

from __future__ import annotations

import uuid
from typing import Annotated, Any

from fastapi import Query
from fastapi.responses import JSONResponse

from libs.common.errors import InvalidInput, NotFound, ProblemItem, problem_responses
from libs.common.events import utcnow
from libs.common.periods import parse_period
from libs.common.service import ReadSession, api_router
from services.indicators import repository
from services.indicators.api.deps import CatalogueDep, parse_query_period

router = api_router(tags=["sdmx"])

SDMX_JSON = "application/vnd.sdmx.data+json;version=2.0.0"
SCHEMA = (
    "https://raw.githubusercontent.com/sdmx-twg/sdmx-json/master/data-message/tools/"
    "schemas/2.0.0/sdmx-json-data-schema.json"
)
SCOPE_AREAS = {"national": "VN", "central": "VN_CENTRAL", "local": "VN_LOCAL"}


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
    response_class=JSONResponse,
    responses={200: {"content": {SDMX_JSON: {}}}, **problem_responses(NotFound)},
)
async def sdmx_data(
    program: str,
    key: str,
    session: ReadSession,
    catalogue: CatalogueDep,
    start_period: Annotated[str | None, Query(alias="startPeriod")] = None,
    end_period: Annotated[str | None, Query(alias="endPeriod")] = None,
) -> JSONResponse:
    """Series of a programme's indicators by area and period, as an SDMX-JSON data message."""
    indicators = sorted(i.code for i in catalogue.indicators.values() if i.program == program)
    if not indicators:
        raise NotFound(f"No programme {program}")
    wanted_indicators, wanted_areas = parse_key(key)
    if wanted_indicators is not None:
        indicators = [code for code in indicators if code in wanted_indicators]
    start = parse_query_period(start_period, "startPeriod")
    end = parse_query_period(end_period, "endPeriod")
    rows = await repository.series(session, indicators=indicators) if indicators else []
    series: dict[tuple[str, str], dict[str, float | bool | None]] = {}
    for row in rows:
        area = row.agency if row.scope == "agency" else SCOPE_AREAS.get(row.scope, row.scope)
        if wanted_areas is not None and area not in wanted_areas:
            continue
        period = parse_period(row.period)
        if (start and period.start < start.start) or (end and period.end > end.end):
            continue
        series.setdefault((row.indicator, area), {})[row.period] = row.value
    return JSONResponse(_message(catalogue, series), media_type=SDMX_JSON)


def _message(catalogue: Any, series: dict[tuple[str, str], dict[str, Any]]) -> dict[str, Any]:
    indicator_ids = sorted({k[0] for k in series})
    area_ids = sorted({k[1] for k in series})
    periods = sorted(
        {p for values in series.values() for p in values}, key=lambda p: parse_period(p)
    )
    index = {p: n for n, p in enumerate(periods)}

    def area_name(code: str) -> str:
        agency = catalogue.agencies.get(code)
        return agency.name_vi if agency else code

    data_series = {
        f"{indicator_ids.index(ind)}:{area_ids.index(area)}": {
            "observations": {str(index[p]): [value] for p, value in sorted(values.items())}
        }
        for (ind, area), values in sorted(series.items())
    }
    return {
        "meta": {
            "schema": SCHEMA,
            "id": f"DX-{uuid.uuid4()}",
            "test": False,
            "prepared": utcnow().isoformat(),
            "contentLanguages": ["vi"],
            "sender": {"id": "DX_TRACKER"},
        },
        "data": {
            "structures": [
                {
                    "structure": "urn:sdmx:org.sdmx.infomodel.datastructure.DataStructure="
                    "VN_DX:DX_INDICATORS(1.0)",
                    "dimensions": {
                        "dataSet": [],
                        "series": [
                            {
                                "id": "INDICATOR",
                                "name": "Indicator",
                                "keyPosition": 0,
                                "values": [
                                    {"id": c, "name": catalogue.indicators[c].name_vi}
                                    for c in indicator_ids
                                ],
                            },
                            {
                                "id": "REF_AREA",
                                "name": "Reference area",
                                "keyPosition": 1,
                                "values": [{"id": a, "name": area_name(a)} for a in area_ids],
                            },
                        ],
                        "observation": [
                            {
                                "id": "TIME_PERIOD",
                                "name": "Time period",
                                "keyPosition": 2,
                                "roles": ["TIME_PERIOD"],
                                "values": [{"value": p} for p in periods],
                            },
                        ],
                    },
                    "measures": {"observation": [{"id": "OBS_VALUE", "name": "Observation value"}]},
                    "attributes": {"dataSet": [], "series": [], "observation": []},
                }
            ],
            "dataSets": [{"structure": 0, "action": "Information", "series": data_series}],
        },
    }
