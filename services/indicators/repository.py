"""All SQL of the indicators service."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any, cast

from sqlalchemy import ColumnElement, Table, and_, func, insert, select, tuple_
from sqlalchemy.ext.asyncio import AsyncSession

from libs.common.db import aware, key_chunks
from libs.common.events import utcnow
from services.indicators.domain.catalogue import Agency, Indicator, Pillar, Program
from services.indicators.domain.populations import Population
from services.indicators.models import (
    AgencyRow,
    IndicatorRow,
    ObservationRow,
    PillarRow,
    PopulationRow,
    ProgramRow,
)


async def count_agencies(session: AsyncSession) -> int:
    """How many agencies are stored (0 before the catalogue is seeded)."""
    return int(await session.scalar(select(func.count()).select_from(AgencyRow)) or 0)


async def load_agencies(session: AsyncSession) -> list[Agency]:
    """Every agency, as domain objects."""
    rows = (await session.scalars(select(AgencyRow).order_by(AgencyRow.code))).all()
    return [Agency.model_validate(r, from_attributes=True) for r in rows]


async def load_indicators(session: AsyncSession) -> list[Indicator]:
    """Every indicator, as domain objects."""
    rows = (await session.scalars(select(IndicatorRow).order_by(IndicatorRow.code))).all()
    return [Indicator.model_validate(r.definition) for r in rows]


async def load_populations(session: AsyncSession) -> list[Population]:
    """Every stored population definition."""
    rows = (await session.scalars(select(PopulationRow).order_by(PopulationRow.name))).all()
    return [
        Population(
            name=r.name, members=tuple(r.members) if r.members is not None else None, rule=r.rule
        )
        for r in rows
    ]


async def load_programs(session: AsyncSession) -> list[Program]:
    rows = (await session.scalars(select(ProgramRow).order_by(ProgramRow.code))).all()
    return [
        Program(code=r.code, name_vi=r.name_vi, name_en=r.name_en, horizon=r.horizon) for r in rows
    ]


async def load_pillars(session: AsyncSession) -> list[Pillar]:
    rows = (await session.scalars(select(PillarRow).order_by(PillarRow.code))).all()
    return [Pillar(code=r.code, name_vi=r.name_vi, name_en=r.name_en) for r in rows]


async def upsert_agency(session: AsyncSession, agency: Agency) -> None:
    """Insert or replace an agency."""
    await session.merge(AgencyRow(**agency.model_dump(), updated_at=utcnow()))


async def upsert_population(
    session: AsyncSession, population: Population, description: str | None = None
) -> None:
    """Insert or replace a population definition."""
    await session.merge(
        PopulationRow(
            name=population.name,
            members=list(population.members) if population.members is not None else None,
            rule=population.rule,
            description=description,
            updated_at=utcnow(),
        )
    )


async def upsert_program(session: AsyncSession, program: Program) -> None:
    await session.merge(ProgramRow(**program.model_dump()))


async def upsert_pillar(session: AsyncSession, pillar: Pillar) -> None:
    await session.merge(PillarRow(**pillar.model_dump()))


async def upsert_indicator(session: AsyncSession, indicator: Indicator) -> None:
    """Insert or replace an indicator's definition."""
    await session.merge(
        IndicatorRow(
            code=indicator.code,
            program=indicator.program,
            pillar=indicator.pillar,
            definition=indicator.model_dump(mode="json"),
            updated_at=utcnow(),
        )
    )


@dataclass(frozen=True)
class Revision:
    """The newest revision of an agency's value: its number, the value and the note it holds,
    and when the agency reported it."""

    revision: int
    value: bool | float | None
    note: str | None
    reported_at: datetime


OBSERVATIONS = cast(Table, ObservationRow.__table__)


async def latest_agency_revisions(
    session: AsyncSession, keys: Iterable[tuple[str, str, str]]
) -> dict[tuple[str, str, str], Revision]:
    """The newest revision of each agency value (indicator, agency, period) among ``keys``."""
    columns = OBSERVATIONS.c
    latest: dict[tuple[str, str, str], Revision] = {}
    for chunk in key_chunks(keys):
        rows = await session.execute(
            select(
                columns.indicator,
                columns.agency,
                columns.period,
                columns.revision,
                columns.value_number,
                columns.value_bool,
                columns.note,
                columns.reported_at,
            )
            .where(
                columns.scope == "agency",
                tuple_(columns.indicator, columns.agency, columns.period).in_(chunk),
            )
            .order_by(columns.revision)
        )
        for indicator, agency, period, revision, number, flag, note, reported_at in rows:
            value = flag if flag is not None else number
            latest[indicator, agency, period] = Revision(revision, value, note, aware(reported_at))
    return latest


async def agency_values(
    session: AsyncSession,
    wanted: Iterable[tuple[str, str]],
    *,
    as_of: datetime | None = None,
) -> dict[str, list[tuple[str, str, bool | float | None]]]:
    """Per indicator, (agency, period, value) of the newest revision (as of ``as_of``) of each
    agency value for the (indicator, period) pairs ``wanted``: one read for many figures."""
    columns = OBSERVATIONS.c
    newest: dict[tuple[str, str, str], tuple[int, bool | float | None]] = {}
    for chunk in key_chunks(wanted):
        query = select(
            columns.indicator,
            columns.agency,
            columns.period,
            columns.revision,
            columns.value_number,
            columns.value_bool,
        ).where(columns.scope == "agency", tuple_(columns.indicator, columns.period).in_(chunk))
        if as_of is not None:
            query = query.where(columns.recorded_at <= as_of)
        for indicator, agency, period, revision, number, flag in await session.execute(query):
            key = (indicator, agency, period)
            if key not in newest or newest[key][0] < revision:
                newest[key] = (revision, flag if flag is not None else number)
    found: dict[str, list[tuple[str, str, bool | float | None]]] = {}
    for (indicator, agency, period), (_, value) in newest.items():
        found.setdefault(indicator, []).append((agency, period, value))
    return found


async def insert_observations(session: AsyncSession, rows: Sequence[dict[str, Any]]) -> None:
    """Insert new revisions (column dicts) in one statement."""
    if rows:
        await session.execute(insert(OBSERVATIONS), list(rows))


async def series(
    session: AsyncSession,
    *,
    indicators: Sequence[str] | None = None,
    agencies: Sequence[str] | None = None,
    periods: Sequence[str] | None = None,
    scopes: Sequence[str] | None = None,
    as_of: datetime | None = None,
    all_revisions: bool = False,
    limit: int | None = None,
) -> list[ObservationRow]:
    """Observations matching the filters: the latest revision of each as of ``as_of``."""
    conditions: list[ColumnElement[bool]] = []
    if indicators is not None:
        conditions.append(ObservationRow.indicator.in_(indicators))
    if agencies is not None:
        conditions.append(ObservationRow.agency.in_(agencies))
    if periods is not None:
        conditions.append(ObservationRow.period.in_(periods))
    if scopes is not None:
        conditions.append(ObservationRow.scope.in_(scopes))
    if as_of is not None:
        conditions.append(ObservationRow.recorded_at <= as_of)
    query = select(ObservationRow).where(*conditions)
    if not all_revisions:
        newest = (
            select(
                ObservationRow.indicator,
                ObservationRow.agency,
                ObservationRow.scope,
                ObservationRow.period,
                func.max(ObservationRow.revision).label("revision"),
            )
            .where(*conditions)
            .group_by(
                ObservationRow.indicator,
                ObservationRow.agency,
                ObservationRow.scope,
                ObservationRow.period,
            )
            .subquery()
        )
        query = select(ObservationRow).join(
            newest,
            and_(
                ObservationRow.indicator == newest.c.indicator,
                ObservationRow.agency == newest.c.agency,
                ObservationRow.scope == newest.c.scope,
                ObservationRow.period == newest.c.period,
                ObservationRow.revision == newest.c.revision,
            ),
        )
    query = query.order_by(
        ObservationRow.indicator,
        ObservationRow.period,
        ObservationRow.agency,
        ObservationRow.revision,
    )
    if limit is not None:
        query = query.limit(limit)
    return list((await session.scalars(query)).all())
