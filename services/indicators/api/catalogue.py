"""Master data: agencies, populations, programmes, indicators."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import Body, Depends, Query

from libs.common.auth import AdminDep, PrincipalDep, Role
from libs.common.errors import NotFound, problem_responses
from libs.common.periods import ReportingPeriod
from libs.common.service import ReadSession, WriteSession, api_router
from services.indicators import repository
from services.indicators.api.deps import (
    CatalogueDep,
    PartsDep,
    PeriodQuery,
    catalogue_change,
    current_half,
)
from services.indicators.catalogue_cache import CatalogueView, load_view
from services.indicators.domain.catalogue import Indicator
from services.indicators.domain.populations import predecessors
from services.indicators.schemas import (
    AgencyIn,
    AgencyOut,
    PopulationIn,
    PopulationOut,
    ProgramOut,
)

router = api_router(tags=["catalogue"])


@router.get("/agencies", response_model=list[AgencyOut], response_model_exclude_none=True)
async def list_agencies(
    catalogue: CatalogueDep,
    principal: PrincipalDep,
    kind: str | None = None,
    group: str | None = None,
    period: PeriodQuery = None,
) -> list[AgencyOut]:
    """Agencies, optionally of one kind or group, or only those existing in a period."""
    agencies = list(catalogue.agencies.values())
    chosen = [
        a
        for a in agencies
        if (kind is None or a.kind == kind)
        and (group is None or group in a.groups)
        and (period is None or a.is_valid_on(period.end))
    ]
    admin = principal.role is Role.ADMIN
    return [
        AgencyOut.of(a, predecessors=predecessors(a.code, agencies), with_contacts=admin)
        for a in chosen
    ]


@router.get(
    "/agencies/{code}",
    response_model=AgencyOut,
    response_model_exclude_none=True,
    responses=problem_responses(NotFound),
)
async def get_agency(code: str, catalogue: CatalogueDep, principal: PrincipalDep) -> AgencyOut:
    """One agency, with the agencies it absorbed."""
    agency = catalogue.agencies.get(code)
    if agency is None:
        raise NotFound(f"No agency {code}")
    return AgencyOut.of(
        agency,
        predecessors=predecessors(code, catalogue.agencies.values()),
        with_contacts=principal.role is Role.ADMIN,
    )


@router.put("/agencies/{code}", response_model=AgencyOut, dependencies=[Depends(catalogue_change)])
async def put_agency(
    code: str, body: AgencyIn, principal: AdminDep, session: WriteSession, parts: PartsDep
) -> AgencyOut:
    """Create or replace an agency (admin)."""
    agency = await parts.admin.save_agency(session, code, body)
    return AgencyOut.of(agency, predecessors=[], with_contacts=True)


@router.get("/populations", response_model=list[PopulationOut])
async def list_populations(
    catalogue: CatalogueDep, period: PeriodQuery = None
) -> list[PopulationOut]:
    """Every population, resolved for a period (default: the current half-year)."""
    asked = period or current_half()
    return [_population_out(catalogue, name, asked) for name in sorted(catalogue.populations)]


@router.get(
    "/populations/{name}", response_model=PopulationOut, responses=problem_responses(NotFound)
)
async def get_population(
    name: str, catalogue: CatalogueDep, period: PeriodQuery = None
) -> PopulationOut:
    """A population and its members for a period (default: the current half-year)."""
    return _population_out(catalogue, name, period or current_half())


@router.put(
    "/populations/{name}", response_model=PopulationOut, dependencies=[Depends(catalogue_change)]
)
async def put_population(
    name: str, body: PopulationIn, principal: AdminDep, session: WriteSession, parts: PartsDep
) -> PopulationOut:
    """Create or replace a population (admin); the resolved member list is returned."""
    await parts.admin.save_population(session, name, body)
    view = await load_view(session)
    return _population_out(view, name, current_half())


def _population_out(catalogue: CatalogueView, name: str, period: ReportingPeriod) -> PopulationOut:
    population = catalogue.population(name)
    resolved = catalogue.resolve(population, period)
    return PopulationOut(
        name=name,
        members=list(population.members) if population.members is not None else None,
        rule=population.rule,
        period=str(period),
        resolved=resolved,
        size=len(resolved),
    )


@router.get("/programs", response_model=list[ProgramOut])
async def list_programs(session: ReadSession, catalogue: CatalogueDep) -> list[ProgramOut]:
    """The programmes and how many indicators each has."""
    programs = await repository.load_programs(session)
    counts = {p.code: 0 for p in programs}
    for indicator in catalogue.indicators.values():
        counts[indicator.program] = counts.get(indicator.program, 0) + 1
    return [ProgramOut(**p.model_dump(), indicators=counts.get(p.code, 0)) for p in programs]


@router.get("/indicators", response_model=list[Indicator])
async def list_indicators(
    catalogue: CatalogueDep,
    program: Annotated[str | None, Query(description="e.g. KH2023")] = None,
    pillar: Annotated[str | None, Query(description="data, gov, economy, …")] = None,
) -> list[Indicator]:
    """Indicators with their targets, population and reporting regime."""
    return [
        i
        for i in sorted(catalogue.indicators.values(), key=lambda i: i.code)
        if (program is None or i.program == program) and (pillar is None or i.pillar == pillar)
    ]


@router.get("/indicators/{code}", response_model=Indicator, responses=problem_responses(NotFound))
async def get_indicator(code: str, catalogue: CatalogueDep) -> Indicator:
    """One indicator's definition."""
    return catalogue.indicator(code)


@router.put(
    "/indicators/{code}", response_model=Indicator, dependencies=[Depends(catalogue_change)]
)
async def put_indicator(
    code: str,
    principal: AdminDep,
    session: WriteSession,
    parts: PartsDep,
    body: Annotated[dict[str, Any], Body()],
) -> Indicator:
    """Create or replace an indicator (admin), with the fields of the reference catalogue."""
    return await parts.admin.save_indicator(session, code, body)
