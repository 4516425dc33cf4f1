"""All SQL of the scoring service."""

from collections.abc import Collection, Iterable, Mapping, Sequence
from datetime import datetime
from typing import Any, TypeVar

from sqlalchemy import Select, delete, insert, select, tuple_
from sqlalchemy.ext.asyncio import AsyncSession

from libs.common.db import aware, upsert
from libs.common.events import AgencyPublished, AggregateValue, IndicatorPublished
from libs.common.events import StoredObservation as Observed
from libs.common.periods import ReportingPeriod, parse_period, periods_within
from services.scoring.domain.catalogue import Agency, Indicator
from services.scoring.domain.index import RankedAgency
from services.scoring.domain.scorecard import ScoreCard
from services.scoring.domain.standing import AgencyScore, Report
from services.scoring.models import (
    AgencyIndexRow,
    AgencyRow,
    AgencyValueRow,
    AggregateRow,
    AssessmentRow,
    IndicatorRow,
    RankingRow,
    ScoreRow,
)

REFERENCE_AUTHOR = "reference"
Q = TypeVar("Q", bound=Select[*tuple[Any, ...]])
Names = Collection[str] | None


def _filtered(query: Q, *pairs: tuple[Any, str | Names]) -> Q:
    """Narrow by each (column, value) given: equal to a text, or one of a collection."""
    for column, value in pairs:
        if value is not None:
            query = query.where(column == value if isinstance(value, str) else column.in_(value))
    return query


# The replica: what the catalogue and the observation store published.


async def upsert_indicator(session: AsyncSession, event: IndicatorPublished, now: datetime) -> None:
    """Replace scoring's copy of an indicator."""
    await upsert(
        session, IndicatorRow, [event.model_dump(mode="json") | {"updated_at": now}], ["code"]
    )


async def indicators(
    session: AsyncSession, *, program: str | None = None, codes: Names = None
) -> list[Indicator]:
    """Indicators by code, optionally of one programme or only those named."""
    query = select(IndicatorRow).order_by(IndicatorRow.code)
    query = _filtered(query, (IndicatorRow.program, program), (IndicatorRow.code, codes))
    return [row.indicator() for row in await session.scalars(query)]


async def has_pillar(session: AsyncSession, pillar: str) -> bool:
    """Whether some indicator is in the pillar."""
    query = select(IndicatorRow.code).where(IndicatorRow.pillar == pillar).limit(1)
    return (await session.scalar(query)) is not None


async def upsert_agency(session: AsyncSession, event: AgencyPublished, now: datetime) -> None:
    """Replace scoring's copy of an agency."""
    values = event.model_dump(exclude={"contacts"}) | {"updated_at": now}
    await upsert(session, AgencyRow, [values], ["code"])


async def agencies(session: AsyncSession, *, codes: Names = None) -> dict[str, Agency]:
    """Agencies scoring knows (or those named), by code."""
    query = _filtered(select(AgencyRow), (AgencyRow.code, codes))
    return {row.code: row.agency() for row in await session.scalars(query)}


async def store_aggregates(
    session: AsyncSession, figures: Sequence[tuple[AggregateValue, datetime]]
) -> set[tuple[str, str]]:
    """Keep the newest figure per key (by when it was recorded); return the series it moved."""
    fresh: dict[tuple[str, str, str], tuple[AggregateValue, datetime]] = {}
    for figure, recorded_at in figures:
        named = (figure.indicator, figure.scope, figure.period)
        if named not in fresh or aware(fresh[named][1]) <= aware(recorded_at):
            fresh[named] = (figure, recorded_at)
    if not fresh:
        return set()
    key = tuple_(AggregateRow.indicator, AggregateRow.scope, AggregateRow.period)
    query = select(AggregateRow).where(key.in_(list(fresh)))
    stored = {(r.indicator, r.scope, r.period): r for r in await session.scalars(query)}
    rows, moved = [], set()
    for (indicator, scope, period), (figure, recorded_at) in fresh.items():
        old = stored.get((indicator, scope, period))
        if old is not None and aware(old.recorded_at) > aware(recorded_at):
            continue  # overtaken on the bus by a newer figure
        # The columns scoring keeps; fields an event gains later (optional) are not columns.
        kept = figure.model_dump(include=set(AggregateRow.__table__.columns.keys()))
        rows.append(kept | {"recorded_at": recorded_at})
        if old is None or (old.value, old.method) != (figure.value, figure.method):
            moved.add((indicator, scope))
    await upsert(session, AggregateRow, rows, ["indicator", "scope", "period"])
    return moved


async def published_headlines(session: AsyncSession, codes: Names, period: str) -> set[str]:
    """The indicators whose headline figure for `period` is the committee's published one."""
    query = _filtered(
        select(AggregateRow.indicator).where(
            AggregateRow.period == period, AggregateRow.method == "published"
        ),
        (AggregateRow.indicator, codes),
    )
    return set(await session.scalars(query))


async def aggregate_points(
    session: AsyncSession, codes: Names = None, *, scope: str | None = None
) -> dict[tuple[str, str], dict[ReportingPeriod, float | None]]:
    """(indicator, scope) -> figure by period, of the indicators named (else all)."""
    query = _filtered(
        select(AggregateRow), (AggregateRow.indicator, codes), (AggregateRow.scope, scope)
    )
    found: dict[tuple[str, str], dict[ReportingPeriod, float | None]] = {}
    for row in await session.scalars(query):
        found.setdefault((row.indicator, row.scope), {})[parse_period(row.period)] = row.value
    return found


async def store_agency_values(
    session: AsyncSession, observations: Iterable[Observed]
) -> list[tuple[str, str, str]]:
    """Keep each agency's newest revision and first report time; return the keys stored.

    Observations of one key are merged in the order given, as if they came one by one.
    """
    seen: dict[tuple[str, str, str], list[Observed]] = {}
    for observed in observations:
        seen.setdefault((observed.indicator, observed.agency, observed.period), []).append(observed)
    if not seen:
        return []
    key = tuple_(AgencyValueRow.indicator, AgencyValueRow.agency, AgencyValueRow.period)
    query = select(AgencyValueRow).where(key.in_(list(seen)))
    stored = {(r.indicator, r.agency, r.period): r for r in await session.scalars(query)}
    for item, observed_in_order in sorted(seen.items()):
        row = stored.get(item)
        if row is None:
            row = AgencyValueRow(indicator=item[0], agency=item[1], period=item[2], revision=0)
            session.add(row)
        for observed in observed_in_order:
            row.merge(observed)
    await session.flush()
    return sorted(seen)


async def reports(
    session: AsyncSession,
    *,
    agencies: Names = None,
    indicators: Names = None,
    within: ReportingPeriod | None = None,
) -> dict[tuple[str, str], dict[ReportingPeriod, Report]]:
    """(indicator, agency) -> report by period, for the agencies and indicators named.

    ``within``: only reports made for that period or a finer one inside it, the reports that
    can stand for it.
    """
    query = _filtered(
        select(AgencyValueRow),
        (AgencyValueRow.agency, agencies),
        (AgencyValueRow.indicator, indicators),
        (AgencyValueRow.period, None if within is None else periods_within(within)),
    )
    found: dict[tuple[str, str], dict[ReportingPeriod, Report]] = {}
    for row in await session.scalars(query):
        report = Report(row.value, aware(row.reported_at))
        found.setdefault((row.indicator, row.agency), {})[parse_period(row.period)] = report
    return found


async def value_periods(
    session: AsyncSession, *, indicator: str | None = None
) -> set[tuple[str, str]]:
    """Every (indicator, period) some agency reported, optionally of one indicator."""
    query = select(AgencyValueRow.indicator, AgencyValueRow.period).distinct()
    query = _filtered(query, (AgencyValueRow.indicator, indicator))
    return {(row.indicator, row.period) for row in await session.execute(query)}


# Snapshots: scores, agency indices, rankings.


async def snapshots(
    session: AsyncSession, *, indicators: Names, period: str | None = None, scope: str | None = None
) -> dict[tuple[str, str, str], ScoreCard]:
    """(indicator, scope, period) -> stored score, for the indicators named."""
    query = _filtered(
        select(ScoreRow),
        (ScoreRow.indicator, indicators),
        (ScoreRow.period, period),
        (ScoreRow.scope, scope),
    )
    return {(r.indicator, r.scope, r.period): r.card() for r in await session.scalars(query)}


async def store_snapshots(session: AsyncSession, cards: Iterable[ScoreCard], now: datetime) -> None:
    """Write the scores, replacing what was stored for their keys."""
    rows = [ScoreRow.columns_of(card, now) for card in cards]
    await upsert(session, ScoreRow, rows, ["indicator", "scope", "period"])


async def delete_snapshots(
    session: AsyncSession, keys: Collection[tuple[str, str, str]] | None = None
) -> None:
    """Forget the scores of these (indicator, scope, period) keys; None: those without a figure."""
    key = tuple_(ScoreRow.indicator, ScoreRow.scope, ScoreRow.period)
    if keys is None:
        figures = select(AggregateRow.indicator, AggregateRow.scope, AggregateRow.period)
        await session.execute(delete(ScoreRow).where(key.not_in(figures)))
    elif keys:
        await session.execute(delete(ScoreRow).where(key.in_(list(keys))))


async def indices(
    session: AsyncSession, period: str, *, agencies: Names = None
) -> dict[str, AgencyScore]:
    """Agency -> stored index for the period."""
    query = _filtered(
        select(AgencyIndexRow), (AgencyIndexRow.period, period), (AgencyIndexRow.agency, agencies)
    )
    return {
        r.agency: AgencyScore(r.agency, r.score, dict(r.pillar_scores), dict(r.attainments))
        for r in await session.scalars(query)
    }


async def index_periods(session: AsyncSession) -> set[str]:
    """Every period some agency index is stored for."""
    return set(await session.scalars(select(AgencyIndexRow.period).distinct()))


async def store_indices(
    session: AsyncSession, period: str, scores: Mapping[str, AgencyScore | None], now: datetime
) -> None:
    """Write agencies' indices for the period, forgetting those scored None (they owe nothing)."""
    owing_nothing = [agency for agency, score in scores.items() if score is None]
    if owing_nothing:
        where = (AgencyIndexRow.period == period, AgencyIndexRow.agency.in_(owing_nothing))
        await session.execute(delete(AgencyIndexRow).where(*where))
    rows = [
        {
            "agency": agency,
            "period": period,
            "score": score.index,
            "computed_at": now,
            "pillar_scores": score.pillar_scores,
            "attainments": score.attainments,
        }
        for agency, score in sorted(scores.items())
        if score is not None
    ]
    await upsert(session, AgencyIndexRow, rows, ["agency", "period"])


async def store_ranking(
    session: AsyncSession, group: str, period: str, ranked: Mapping[str, Sequence[RankedAgency]]
) -> None:
    """Replace a group's rankings for the period (pillar -> ranking; '' ranks the index)."""
    await session.execute(
        delete(RankingRow).where(RankingRow.group == group, RankingRow.period == period)
    )
    rows = [
        {"group": group, "period": period, "pillar": pillar}
        | {"agency": r.agency, "rank": r.rank, "score": r.score}
        for pillar, ranking in ranked.items()
        for r in ranking
    ]
    if rows:
        await session.execute(insert(RankingRow), rows)


async def ranking(session: AsyncSession, group: str, period: str, pillar: str) -> list[RankingRow]:
    """A stored ranking, best first, ties by agency code."""
    where = (RankingRow.group == group, RankingRow.period == period, RankingRow.pillar == pillar)
    query = select(RankingRow).where(*where).order_by(RankingRow.rank, RankingRow.agency)
    return list(await session.scalars(query))


async def prune_periods(session: AsyncSession, keep: Collection[str]) -> None:
    """Forget indices and rankings of periods no report touches any more."""
    await session.execute(delete(AgencyIndexRow).where(AgencyIndexRow.period.not_in(keep)))
    await session.execute(delete(RankingRow).where(RankingRow.period.not_in(keep)))


# Official assessments.


async def record_assessment(
    session: AsyncSession,
    *,
    indicator: str,
    period: str,
    label: str,
    note: str | None,
    author: str,
    now: datetime,
) -> AssessmentRow:
    """Record an assessment; the reference one never replaces a person's."""
    row = await session.get(AssessmentRow, (indicator, period))
    if row is None:
        row = AssessmentRow(indicator=indicator, period=period)
        session.add(row)
    elif author == REFERENCE_AUTHOR and row.author != REFERENCE_AUTHOR:
        return row
    row.label, row.note, row.author, row.recorded_at = label, note, author, now
    await session.flush()
    return row


async def assessments(
    session: AsyncSession, *, indicators: Names = None, period: str | None = None
) -> list[AssessmentRow]:
    """Assessments by indicator and period, optionally of some indicators or one period."""
    query = select(AssessmentRow).order_by(AssessmentRow.indicator, AssessmentRow.period)
    query = _filtered(query, (AssessmentRow.indicator, indicators), (AssessmentRow.period, period))
    return list(await session.scalars(query))
