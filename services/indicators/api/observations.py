"""The observation store: series with every revision, and national figures."""

from __future__ import annotations

from typing import Annotated

from fastapi import Query
from fastapi.responses import Response

from libs.common.csvfile import csv_document
from libs.common.errors import InvalidInput, NotFound, ProblemItem, problem_responses
from libs.common.events import UtcInstant
from libs.common.periods import ReportingPeriod, parse_period
from libs.common.service import ReadSession, api_router
from services.indicators import repository
from services.indicators.api.deps import CatalogueDep, PeriodQuery, parse_query_period
from services.indicators.figures import compute_figure
from services.indicators.models import ObservationRow
from services.indicators.schemas import AggregateOut, ObservationOut

router = api_router(tags=["observations"])

MAX_ROWS = 50_000
CSV_COLUMNS = list(ObservationOut.model_fields)


def _out(row: ObservationRow) -> ObservationOut:
    return ObservationOut.model_validate(row, from_attributes=True)


def _within(period: str, start: ReportingPeriod | None, end: ReportingPeriod | None) -> bool:
    parsed = parse_period(period)
    return (start is None or parsed.start >= start.start) and (end is None or parsed.end <= end.end)


@router.get(
    "/observations",
    response_model=list[ObservationOut],
    responses={200: {"content": {"text/csv": {}}}},
)
async def list_observations(
    session: ReadSession,
    indicator: Annotated[list[str] | None, Query()] = None,
    agency: Annotated[list[str] | None, Query()] = None,
    scope: Annotated[
        list[str] | None, Query(description="agency, national, central, local")
    ] = None,
    period: PeriodQuery = None,
    from_: Annotated[str | None, Query(alias="from", description="first period")] = None,
    to: Annotated[str | None, Query(description="last period")] = None,
    as_of: Annotated[UtcInstant | None, Query(description="read the store as it was then")] = None,
    revisions: Annotated[bool, Query(description="every revision, not only the latest")] = False,
    format: Annotated[str, Query(pattern="^(json|csv)$")] = "json",
    limit: Annotated[int, Query(ge=1, le=MAX_ROWS)] = 10_000,
) -> Response | list[ObservationOut]:
    """Stored values (latest revision as of ``as_of``), as JSON or CSV."""
    start, end = parse_query_period(from_, "from"), parse_query_period(to, "to")
    if start and end and start.start > end.end:
        raise InvalidInput(
            "`from` is after `to`", errors=[ProblemItem(loc=["query", "from"], msg="after `to`")]
        )
    rows = await repository.series(
        session,
        indicators=indicator,
        agencies=agency,
        scopes=scope,
        periods=[str(period)] if period else None,
        as_of=as_of,
        all_revisions=revisions,
    )
    chosen = [_out(r) for r in rows if _within(r.period, start, end)][:limit]
    if format == "csv":
        cells = (item.model_dump(mode="json") for item in chosen)
        return Response(
            csv_document(CSV_COLUMNS, ([row.get(c) for c in CSV_COLUMNS] for row in cells)),
            media_type="text/csv; charset=utf-8",
            headers={"Content-Disposition": 'attachment; filename="observations.csv"'},
        )
    return chosen


@router.get(
    "/indicators/{code}/aggregate",
    response_model=AggregateOut,
    responses=problem_responses(NotFound),
)
async def aggregate_indicator(
    code: str,
    session: ReadSession,
    catalogue: CatalogueDep,
    period: PeriodQuery = None,
    scope: Annotated[
        str, Query(description="national, central, local or population:<name>")
    ] = "national",
    as_of: Annotated[UtcInstant | None, Query()] = None,
) -> AggregateOut:
    """The national figure: published and computed, coverage, who is missing."""
    indicator = catalogue.indicator(code)
    if period is None:
        raise InvalidInput(
            "`period` is required", errors=[ProblemItem(loc=["query", "period"], msg="required")]
        )
    figure = await compute_figure(
        session, catalogue, indicator=indicator, scope=scope, period=period, as_of=as_of
    )
    return AggregateOut(
        indicator=code,
        period=str(period),
        scope=scope,
        value=figure.value,
        method=figure.method,
        computed=figure.computed,
        published=figure.published,
        source=figure.source,
        published_note=figure.published_note,
        numerator=figure.numerator,
        denominator=figure.denominator,
        reported=figure.reported,
        expected=figure.expected,
        coverage=figure.reported / figure.expected if figure.expected else None,
        missing=list(figure.missing),
        as_of=as_of,
    )
