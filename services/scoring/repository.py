"""All SQL of the scoring service.

Scoring reads many rows and a few columns of each: reads are Core selects of the columns
needed, never ORM objects; writes are one set statement per table (an upsert of the rows that
changed, a delete of the keys that went).
"""

from collections.abc import Collection, Iterable, Mapping, Sequence
from datetime import datetime
from typing import Any, TypeVar

from sqlalchemy import Row, Select, delete, func, literal, select, tuple_
from sqlalchemy.ext.asyncio import AsyncSession

from libs.common.db import aware, dialect_insert, upsert
from libs.common.events import AgencyPublished, AggregateValue, IndicatorPublished
from libs.common.events import StoredObservation as Observed
from libs.common.periods import ReportingPeriod, parse_period, periods_within
from services.scoring.domain.catalogue import Agency, Indicator
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
    RescoreMark,
    ScoreRow,
    score_card,
)

REFERENCE_AUTHOR = "reference"
Q = TypeVar("Q", bound=Select[*tuple[Any, ...]])
T = TypeVar("T")
Names = Collection[str] | None

# Keys per statement where a set of composite keys is sent as parameters: well under the
# parameters SQLite (32,766) and asyncpg (32,767) take in one statement.
KEYS_PER_STATEMENT = 2000


def _filtered(query: Q, *pairs: tuple[Any, str | Names]) -> Q:
    """Narrow by each (column, value) given: equal to a text, or one of a collection."""
    for column, value in pairs:
        if value is not None:
            query = query.where(column == value if isinstance(value, str) else column.in_(value))
    return query


async def _rows(
    session: AsyncSession, query: Select[*tuple[Any, ...]]
) -> Sequence[Row[*tuple[Any, ...]]]:
    """Run a select of columns as Core: plain rows, none of the ORM's loading machinery."""
    connection = await session.connection()
    return (await connection.execute(query)).all()


def _chunks(items: Sequence[T]) -> Iterable[Sequence[T]]:
    for start in range(0, len(items), KEYS_PER_STATEMENT):
        yield items[start : start + KEYS_PER_STATEMENT]


# The replica: what the catalogue and the observation store published.

_INDICATOR = IndicatorRow.__table__.c
# What Indicator.from_mapping reads.
_INDICATOR_FIELDS = [
    _INDICATOR[name]
    for name in (
        *("code", "program", "goal", "primary", "pillar", "unit", "direction"),
        *("aggregation", "targets", "frequency", "due_days", "weight", "reporters"),
    )
]


async def upsert_indicator(session: AsyncSession, event: IndicatorPublished, now: datetime) -> None:
    """Replace scoring's copy of an indicator."""
    await upsert(
        session, IndicatorRow, [event.model_dump(mode="json") | {"updated_at": now}], ["code"]
    )


async def indicators(
    session: AsyncSession, *, program: str | None = None, codes: Names = None
) -> list[Indicator]:
    """Indicators by code, optionally of one programme or only those named."""
    query = select(*_INDICATOR_FIELDS).order_by(_INDICATOR.code)
    query = _filtered(query, (_INDICATOR.program, program), (_INDICATOR.code, codes))
    return [Indicator.from_mapping(dict(row._mapping)) for row in await _rows(session, query)]


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
    query = select(
        AgencyRow.code,
        AgencyRow.name_vi,
        AgencyRow.kind,
        AgencyRow.groups,
        AgencyRow.valid_from,
        AgencyRow.valid_to,
    )
    query = _filtered(query, (AgencyRow.code, codes))
    return {
        code: Agency(code, name, kind, tuple(groups), valid_from, valid_to)
        for code, name, kind, groups, valid_from, valid_to in await _rows(session, query)
    }


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
    stored: dict[tuple[str, str, str], tuple[float | None, str, datetime]] = {}
    for chunk in _chunks(list(fresh)):
        query = select(
            AggregateRow.indicator,
            AggregateRow.scope,
            AggregateRow.period,
            AggregateRow.value,
            AggregateRow.method,
            AggregateRow.recorded_at,
        ).where(key.in_(chunk))
        for indicator, scope, period, value, method, recorded_at in await _rows(session, query):
            stored[indicator, scope, period] = (value, method, recorded_at)
    rows, moved = [], set()
    for named, (figure, recorded_at) in fresh.items():
        old = stored.get(named)
        if old is not None and aware(old[2]) > aware(recorded_at):
            continue  # overtaken on the bus by a newer figure
        # The columns scoring keeps; fields an event gains later (optional) are not columns.
        kept = figure.model_dump(include=set(AggregateRow.__table__.columns.keys()))
        rows.append(kept | {"recorded_at": recorded_at})
        if old is None or old[:2] != (figure.value, figure.method):
            moved.add(named[:2])
    await upsert(session, AggregateRow.__table__, rows, ["indicator", "scope", "period"])
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
    query = select(
        AggregateRow.indicator, AggregateRow.scope, AggregateRow.period, AggregateRow.value
    )
    query = _filtered(query, (AggregateRow.indicator, codes), (AggregateRow.scope, scope))
    found: dict[tuple[str, str], dict[ReportingPeriod, float | None]] = {}
    for code, named, period, value in await _rows(session, query):
        found.setdefault((code, named), {})[parse_period(period)] = value
    return found


async def series_points(
    session: AsyncSession, series: Collection[tuple[str, str]]
) -> dict[tuple[str, str], dict[ReportingPeriod, float | None]]:
    """The figures by period of each (indicator, scope) named; a series with none is left out."""
    found: dict[tuple[str, str], dict[ReportingPeriod, float | None]] = {}
    key = tuple_(AggregateRow.indicator, AggregateRow.scope)
    for chunk in _chunks(list(series)):
        query = select(
            AggregateRow.indicator, AggregateRow.scope, AggregateRow.period, AggregateRow.value
        ).where(key.in_(chunk))
        for code, scope, period, value in await _rows(session, query):
            found.setdefault((code, scope), {})[parse_period(period)] = value
    return found


# An agency's kept value: (value_number, value_bool, revision, reported_at, late, recorded_at).
_KEPT = ("value_number", "value_bool", "revision", "reported_at", "late", "recorded_at")


def _merged(kept: dict[str, Any] | None, observed_in_order: Iterable[Observed]) -> dict[str, Any]:
    """The kept value after these revisions: the newest revision's value, the first arrival."""
    row: dict[str, Any] = dict(kept) if kept is not None else {"revision": 0}
    for observed in observed_in_order:
        first = row["reported_at"] if row["revision"] else None  # a new row has not arrived yet
        if first is None or observed.reported_at < first:
            row["reported_at"], row["late"] = observed.reported_at, observed.late
        if observed.revision >= row["revision"]:
            flag = observed.value if isinstance(observed.value, bool) else None
            row["value_bool"] = flag
            row["value_number"] = None if flag is not None else observed.value
            row["revision"], row["recorded_at"] = observed.revision, observed.recorded_at
    return row


async def store_agency_values(
    session: AsyncSession, observations: Iterable[Observed]
) -> list[tuple[str, str, str]]:
    """Keep each agency's newest revision and first report time; return the keys whose value
    moved (or that are new), those an index may depend on.

    Observations of one key are merged in the order given, as if they came one by one.
    """
    seen: dict[tuple[str, str, str], list[Observed]] = {}
    for observed in observations:
        seen.setdefault((observed.indicator, observed.agency, observed.period), []).append(observed)
    if not seen:
        return []
    table = AgencyValueRow.__table__
    key = tuple_(table.c.indicator, table.c.agency, table.c.period)
    stored: dict[tuple[str, str, str], dict[str, Any]] = {}
    for chunk in _chunks(list(seen)):
        query = select(
            table.c.indicator, table.c.agency, table.c.period, *(table.c[n] for n in _KEPT)
        ).where(key.in_(chunk))
        for line in await _rows(session, query):
            kept = dict(zip(_KEPT, line[3:], strict=True))
            kept["reported_at"] = aware(kept["reported_at"])
            kept["recorded_at"] = aware(kept["recorded_at"])
            stored[line[0], line[1], line[2]] = kept
    rows, moved = [], []
    for item, observed_in_order in sorted(seen.items()):
        before = stored.get(item)
        after = _merged(before, observed_in_order)
        if before is not None and all(after[n] == before[n] for n in _KEPT):
            continue  # a redelivered or older revision: nothing to write
        rows.append(dict(zip(("indicator", "agency", "period"), item, strict=True)) | after)
        value = (after["value_number"], after["value_bool"])
        if before is None or value != (before["value_number"], before["value_bool"]):
            moved.append(item)
    await upsert(session, table, rows, ["indicator", "agency", "period"])
    return moved


async def reports(
    session: AsyncSession,
    *,
    agencies: Names = None,
    indicators: Names = None,
    within: ReportingPeriod | None = None,
    arrivals: bool = True,
) -> dict[tuple[str, str], dict[ReportingPeriod, Report]]:
    """(indicator, agency) -> report by period, for the agencies and indicators named.

    ``within``: only reports made for that period or a finer one inside it, the reports that
    can stand for it. ``arrivals`` false: without when each arrived (an index needs only the
    values).
    """
    arrived = AgencyValueRow.reported_at if arrivals else literal(None)
    query = select(
        AgencyValueRow.indicator,
        AgencyValueRow.agency,
        AgencyValueRow.period,
        AgencyValueRow.value_number,
        AgencyValueRow.value_bool,
        arrived,
    )
    query = _filtered(
        query,
        (AgencyValueRow.agency, agencies),
        (AgencyValueRow.indicator, indicators),
        (AgencyValueRow.period, None if within is None else periods_within(within)),
    )
    found: dict[tuple[str, str], dict[ReportingPeriod, Report]] = {}
    for code, agency, period, number, flag, reported_at in await _rows(session, query):
        arrival = None if reported_at is None else aware(reported_at)
        report = Report(flag if flag is not None else number, arrival)
        found.setdefault((code, agency), {})[parse_period(period)] = report
    return found


async def reports_by_period(
    session: AsyncSession,
) -> dict[str, list[tuple[str, str, Report]]]:
    """Every agency's kept value (without its arrival), by the period it was reported for:
    (indicator, agency, report)."""
    query = select(
        AgencyValueRow.indicator,
        AgencyValueRow.agency,
        AgencyValueRow.period,
        AgencyValueRow.value_number,
        AgencyValueRow.value_bool,
    )
    found: dict[str, list[tuple[str, str, Report]]] = {}
    for code, agency, period, number, flag in await _rows(session, query):
        found.setdefault(period, []).append(
            (code, agency, Report(flag if flag is not None else number))
        )
    return found


async def value_periods(session: AsyncSession, *, indicators: Names = None) -> set[tuple[str, str]]:
    """Every (indicator, period) some agency reported, optionally of the indicators named."""
    query = select(AgencyValueRow.indicator, AgencyValueRow.period).distinct()
    query = _filtered(query, (AgencyValueRow.indicator, indicators))
    return {(code, period) for code, period in await _rows(session, query)}


# Snapshots: scores, agency indices, rankings.

_SCORE = ScoreRow.__table__.c
# What a stored score is, compared to decide whether it changed (not when it was computed).
SCORE_FIELDS = tuple(c for c in ScoreRow.__table__.columns if c.key != "computed_at")


async def snapshots(
    session: AsyncSession, *, indicators: Names, period: str | None = None, scope: str | None = None
) -> dict[tuple[str, str, str], ScoreCard]:
    """(indicator, scope, period) -> stored score, for the indicators named."""
    query = _filtered(
        select(*SCORE_FIELDS),
        (_SCORE.indicator, indicators),
        (_SCORE.period, period),
        (_SCORE.scope, scope),
    )
    return {
        (row.indicator, row.scope, row.period): score_card(dict(row._mapping))
        for row in await _rows(session, query)
    }


async def score_rows(
    session: AsyncSession, series: Collection[tuple[str, str]] | None = None
) -> dict[tuple[str, str, str], dict[str, Any]]:
    """(indicator, scope, period) -> the stored score's fields, of the series named (else all)."""
    found: dict[tuple[str, str, str], dict[str, Any]] = {}
    queries = [select(*SCORE_FIELDS)]
    if series is not None:
        key = tuple_(_SCORE.indicator, _SCORE.scope)
        queries = [select(*SCORE_FIELDS).where(key.in_(chunk)) for chunk in _chunks(list(series))]
    for query in queries:
        for row in await _rows(session, query):
            found[row.indicator, row.scope, row.period] = dict(row._mapping)
    return found


async def store_snapshots(
    session: AsyncSession, rows: Iterable[Mapping[str, Any]], now: datetime
) -> None:
    """Write scores (their ``SCORE_FIELDS``), replacing what was stored for their keys."""
    values = [dict(row) | {"computed_at": now} for row in rows]
    await upsert(session, ScoreRow.__table__, values, ["indicator", "scope", "period"])


async def delete_snapshots(
    session: AsyncSession, keys: Collection[tuple[str, str, str]] | None = None
) -> None:
    """Forget the scores of these (indicator, scope, period) keys; None: those without a figure."""
    key = tuple_(ScoreRow.indicator, ScoreRow.scope, ScoreRow.period)
    if keys is None:
        figures = select(AggregateRow.indicator, AggregateRow.scope, AggregateRow.period)
        await session.execute(delete(ScoreRow).where(key.not_in(figures)))
        return
    for chunk in _chunks(list(keys)):
        await session.execute(delete(ScoreRow).where(key.in_(chunk)))


async def indices(
    session: AsyncSession, period: str, *, agencies: Names = None
) -> dict[str, AgencyScore]:
    """Agency -> stored index for the period."""
    query = select(
        AgencyIndexRow.agency,
        AgencyIndexRow.score,
        AgencyIndexRow.pillar_scores,
        AgencyIndexRow.attainments,
    )
    query = _filtered(query, (AgencyIndexRow.period, period), (AgencyIndexRow.agency, agencies))
    return {
        agency: AgencyScore(agency, score, dict(pillars), dict(attained))
        for agency, score, pillars, attained in await _rows(session, query)
    }


async def index_periods(session: AsyncSession) -> set[str]:
    """Every period some agency index is stored for."""
    return set(await session.scalars(select(AgencyIndexRow.period).distinct()))


async def store_indices(
    session: AsyncSession,
    period: str,
    scores: Iterable[AgencyScore],
    gone: Collection[str],
    now: datetime,
) -> None:
    """Write agencies' indices for the period, and forget those of the agencies ``gone``."""
    if gone:
        where = (AgencyIndexRow.period == period, AgencyIndexRow.agency.in_(gone))
        await session.execute(delete(AgencyIndexRow).where(*where))
    rows = [
        {
            "agency": score.agency,
            "period": period,
            "score": score.index,
            "computed_at": now,
            "pillar_scores": score.pillar_scores,
            "attainments": score.attainments,
        }
        for score in scores
    ]
    await upsert(session, AgencyIndexRow.__table__, rows, ["agency", "period"])


# A stored rank: (group, pillar, agency) -> (rank, score), within one period.
Ranks = dict[tuple[str, str, str], tuple[int, float]]


async def ranks(session: AsyncSession, period: str, groups: Collection[str]) -> Ranks:
    """The stored ranks of the period in these groups, by index (pillar '') and by pillar."""
    query = select(
        RankingRow.group, RankingRow.pillar, RankingRow.agency, RankingRow.rank, RankingRow.score
    ).where(RankingRow.period == period, RankingRow.group.in_(groups))
    return {
        (group, pillar, agency): (rank, score)
        for group, pillar, agency, rank, score in await _rows(session, query)
    }


async def store_ranks(
    session: AsyncSession, period: str, changed: Ranks, gone: Collection[tuple[str, str, str]]
) -> None:
    """Write the ranks that changed in the period, and forget the lines no ranking has any more."""
    key = tuple_(RankingRow.group, RankingRow.pillar, RankingRow.agency)
    for chunk in _chunks(list(gone)):
        await session.execute(delete(RankingRow).where(RankingRow.period == period, key.in_(chunk)))
    rows = [
        {"group": group, "period": period, "pillar": pillar, "agency": agency}
        | {"rank": rank, "score": score}
        for (group, pillar, agency), (rank, score) in changed.items()
    ]
    await upsert(session, RankingRow.__table__, rows, ["group", "period", "pillar", "agency"])


async def ranking(session: AsyncSession, group: str, period: str, pillar: str) -> list[RankingRow]:
    """A stored ranking, best first, ties by agency code."""
    where = (RankingRow.group == group, RankingRow.period == period, RankingRow.pillar == pillar)
    query = select(RankingRow).where(*where).order_by(RankingRow.rank, RankingRow.agency)
    return list(await session.scalars(query))


async def prune_periods(session: AsyncSession, keep: Collection[str]) -> None:
    """Forget indices and rankings of periods no report touches any more."""
    await session.execute(delete(AgencyIndexRow).where(AgencyIndexRow.period.not_in(keep)))
    await session.execute(delete(RankingRow).where(RankingRow.period.not_in(keep)))


# What the rescorer has still to score (models.RescoreMark).

# (kind, indicator, subject, period)
Mark = tuple[str, str, str, str]
_MARK = RescoreMark.__table__.c


async def mark(session: AsyncSession, marks: Collection[Mark], now: datetime) -> None:
    """Record that these must be scored again; a mark already pending moves to a new generation."""
    if not marks:
        return
    statement = dialect_insert(session)(RescoreMark)
    names = ("kind", "indicator", "subject", "period")
    rows = [
        dict(zip(names, item, strict=True)) | {"generation": 0, "marked_at": now}
        for item in sorted(marks)
    ]
    await session.execute(
        statement.on_conflict_do_update(
            index_elements=list(names), set_={"generation": _MARK.generation + 1}
        ),
        rows,
    )


async def pending_marks(
    session: AsyncSession, *, kinds: Collection[str], limit: int
) -> list[tuple[Mark, int]]:
    """Up to ``limit`` marks of these kinds, oldest first, each with its generation."""
    query = (
        select(_MARK.kind, _MARK.indicator, _MARK.subject, _MARK.period, _MARK.generation)
        .where(_MARK.kind.in_(kinds))
        .order_by(_MARK.marked_at, _MARK.kind, _MARK.indicator, _MARK.subject, _MARK.period)
        .limit(limit)
    )
    return [((k, i, s, p), generation) for k, i, s, p, generation in await _rows(session, query)]


async def forget_marks(session: AsyncSession, marks: Collection[tuple[Mark, int]]) -> None:
    """Forget these marks, each only at the generation read (a newer marking stays pending)."""
    key = tuple_(_MARK.kind, _MARK.indicator, _MARK.subject, _MARK.period, _MARK.generation)
    for chunk in _chunks([(*item, generation) for item, generation in marks]):
        await session.execute(delete(RescoreMark).where(key.in_(chunk)))


async def backlog(session: AsyncSession) -> tuple[dict[str, int], datetime | None]:
    """How many marks of each kind are pending, and when the oldest was made."""
    query = select(_MARK.kind, func.count(), func.min(_MARK.marked_at)).group_by(_MARK.kind)
    counts, oldest = {}, None
    for kind, count, first in await _rows(session, query):
        counts[kind] = int(count)
        oldest = aware(first) if oldest is None else min(oldest, aware(first))
    return counts, oldest


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
