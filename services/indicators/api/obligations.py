"""``GET /agencies/{code}/obligations``: what an agency owes for a period (see ``obligations``),
as JSON or as the XLSX template to fill in and upload back (``format=xlsx``)."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

from fastapi import Query
from fastapi.responses import Response

from libs.common.errors import InvalidInput, NotFound, ProblemItem, problem_responses
from libs.common.service import ReadSession, api_router
from services.indicators.api.deps import CatalogueDep, PeriodQuery
from services.indicators.domain.aggregation import VIETNAM_TIME
from services.indicators.obligations import obligations
from services.indicators.schemas import ObligationOut, ObligationsOut
from services.indicators.template import XLSX, obligations_sheet

router = api_router(tags=["catalogue"])


@router.get(
    "/agencies/{code}/obligations",
    response_model=ObligationsOut,
    responses={200: {"content": {XLSX: {}}}, **problem_responses(NotFound, InvalidInput)},
)
async def agency_obligations(
    code: str,
    session: ReadSession,
    catalogue: CatalogueDep,
    period: PeriodQuery = None,
    format: Annotated[
        str, Query(pattern="^(json|xlsx)$", description="xlsx: the template to fill in")
    ] = "json",
) -> Response | ObligationsOut:
    """The indicators an agency reports for a period, when each is due, and what is in."""
    agency = catalogue.agencies.get(code)
    if agency is None:
        raise NotFound(f"No agency {code}")
    if period is None:
        raise InvalidInput(
            "`period` is required", errors=[ProblemItem(loc=["query", "period"], msg="required")]
        )
    today = datetime.now(VIETNAM_TIME).date()
    owed = await obligations(session, catalogue, agency=code, period=period, today=today)
    if format == "xlsx":
        return Response(
            obligations_sheet(agency, str(period), owed),
            media_type=XLSX,
            headers={"Content-Disposition": f'attachment; filename="bao-cao-{code}-{period}.xlsx"'},
        )
    items = [
        ObligationOut(
            indicator=o.indicator.code,
            name_vi=o.indicator.name_vi,
            name_en=o.indicator.name_en,
            program=o.indicator.program,
            unit=o.indicator.unit,
            value_type=o.indicator.value_type,
            period=str(o.period),
            due_date=o.due_date,
            status=o.status,
            value=o.value,
            note=o.note,
            reported_at=o.reported_at,
            late=o.late,
        )
        for o in owed
    ]
    received = sum(1 for item in items if item.status == "received")
    return ObligationsOut(
        agency=code,
        name_vi=agency.name_vi,
        period=str(period),
        today=today,
        due=len(items) - received,
        received=received,
        obligations=items,
    )
