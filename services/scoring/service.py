"""Scoring's work: keep the replica, mark what moved, score the marks set-wise, rescore all.

Consumers only keep what the bus brought and mark, in their inbox transaction, what must be
scored again (models.RescoreMark). The rescorer (rescorer.py) scores the marks in passes, with
the catalogue held in memory; each pass reads the figures and values it needs as plain columns
and writes only the scores, indices and ranks that changed. A full ``rescore`` does the same
for everything at once.
"""

from __future__ import annotations

import gc
from collections.abc import Awaitable, Callable, Collection, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from prometheus_client import Counter, Histogram
from sqlalchemy.ext.asyncio import AsyncSession

from libs.common.events import (
    AgencyPublished,
    AggregateValue,
    IndicatorPublished,
    ObservationsStored,
    ScoreChanged,
    StoredObservation,
    utcnow,
)
from libs.common.messaging import Outbox
from libs.common.metrics import LATENCY_BUCKETS
from libs.common.periods import ReportingPeriod, parse_period
from libs.common.service import ServiceRuntime
from services.scoring import repository
from services.scoring.domain.calendar import affected_periods, assessment_period
from services.scoring.domain.catalogue import RANKING_GROUPS, Agency, Indicator
from services.scoring.domain.scorecard import score_card
from services.scoring.domain.standing import (
    AgencyScore,
    Report,
    Reports,
    debtors,
    rank_scores,
    score_agencies,
)
from services.scoring.models import score_fields
from services.scoring.repository import Mark

RECOMPUTES = Counter("dx_scoring_recomputes_total", "Score recomputations, by trigger", ["trigger"])
RECOMPUTE_SECONDS = Histogram(
    "dx_scoring_recompute_seconds",
    "Time to recompute one transaction's share of a rescorer pass (or a whole rescore)",
    ["trigger"],
    buckets=(*LATENCY_BUCKETS, 30, 60, 300),
)
SCORE_CHANGES = Counter("dx_scoring_score_changes_total", "Band or status changes published")

# Marks of each kind scored in one transaction: small transactions, so that the rescorer gives
# the event loop (requests, consumers) and the database's writer back often.
SERIES_PER_TRANSACTION = 50
REPORTS_PER_TRANSACTION = 500
CATALOGUE_PER_TRANSACTION = 500


@contextmanager
def _no_cycle_collection() -> Iterator[None]:
    """Hold the cyclic garbage collector off: a full rescore holds some 100,000 live objects
    (every agency's value), which each collection would walk again — half the rescore's time.
    Nothing it builds is a cycle; the collector runs again afterwards."""
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if enabled:
            gc.enable()


@contextmanager
def _timed(trigger: str) -> Iterator[None]:
    RECOMPUTES.labels(trigger).inc()
    with RECOMPUTE_SECONDS.labels(trigger).time():
        yield


@dataclass
class Catalogue:
    """The indicators and agencies scoring knows, as the replica tables hold them."""

    indicators: dict[str, Indicator]
    agencies: dict[str, Agency]
    _ordered: list[Indicator] | None = field(default=None, repr=False)

    @classmethod
    async def load(cls, session: AsyncSession) -> Catalogue:
        """The whole catalogue, read from the replica."""
        indicators = {i.code: i for i in await repository.indicators(session)}
        return cls(indicators, await repository.agencies(session))

    async def refresh(
        self, session: AsyncSession, *, indicators: Collection[str], agencies: Collection[str]
    ) -> None:
        """Read again the rows named (their catalogue events changed them)."""
        if indicators:
            for indicator in await repository.indicators(session, codes=indicators):
                self.indicators[indicator.code] = indicator
            self._ordered = None
        if agencies:
            self.agencies.update(await repository.agencies(session, codes=agencies))

    @property
    def ordered(self) -> list[Indicator]:
        """The indicators by code."""
        if self._ordered is None:
            self._ordered = [self.indicators[code] for code in sorted(self.indicators)]
        return self._ordered


def _touched(
    indicators: Mapping[str, Indicator], reported: Collection[tuple[str, str]]
) -> list[ReportingPeriod]:
    """The periods (indicator, period) reports stand for, for the indicators known."""
    return sorted(
        {
            touched
            for code, period in reported
            if code in indicators
            for touched in affected_periods(parse_period(period), indicators[code].frequency)
        }
    )


# Scoring a set: series of national figures, then agencies' indices and rankings of a period.

Points = Mapping[tuple[str, str], Mapping[ReportingPeriod, float | None]]


async def _score_series(
    session: AsyncSession,
    outbox: Outbox,
    catalogue: Catalogue,
    points: Points,
    stored: Mapping[tuple[str, str, str], Mapping[str, Any]],
    now: datetime,
) -> int:
    """Score each period of these series; store what changed, publish band and status changes.

    ``stored``: the scores kept for (at least) these series. Returns how many changes were
    published.
    """
    rows, gone, changes = [], [], []
    for (code, scope), series in sorted(points.items()):
        indicator = catalogue.indicators.get(code)
        if indicator is None:
            continue  # not in the catalogue (yet): its event will mark the series
        for period in sorted(series):
            key = (code, scope, str(period))
            old = stored.get(key)
            card = score_card(indicator, scope=scope, period=period, points=series)
            if card is None:
                if old is not None:
                    gone.append(key)  # no target in force any more
                continue
            fields = score_fields(card)
            if old is None or any(old[name] != value for name, value in fields.items()):
                rows.append(fields)
            if old is None or (old["band"], old["status"]) != (fields["band"], fields["status"]):
                changed = ScoreChanged(
                    indicator=code,
                    scope=scope,
                    period=card.period,
                    band=card.band.value,
                    status=card.status.value,
                    previous_band=None if old is None else old["band"],
                    previous_status=None if old is None else old["status"],
                    computed_at=now,
                )
                changes.append((changed, code))
    await repository.store_snapshots(session, rows, now)
    await repository.delete_snapshots(session, gone)
    await outbox.add(session, *changes)
    SCORE_CHANGES.inc(len(changes))
    return len(changes)


def _by_agency(
    found: Mapping[tuple[str, str], Mapping[ReportingPeriod, Report]],
) -> dict[str, dict[str, Reports]]:
    """(indicator, agency) -> reports, regrouped by agency then indicator."""
    by_agency: dict[str, dict[str, Reports]] = {}
    for (code, agency), reports in found.items():
        by_agency.setdefault(agency, {})[code] = reports
    return by_agency


async def _score_period(
    session: AsyncSession,
    catalogue: Catalogue,
    period: ReportingPeriod,
    *,
    agencies: Collection[str] | None,
    groups: Sequence[str],
    now: datetime,
    reports: Mapping[str, Mapping[str, Reports]] | None = None,
) -> None:
    """Score these agencies' indices for the period (None: every one owing it or scored for
    it), then rank the groups named; write only what changed.

    ``reports``: by agency then indicator, at least those that can stand for the period (read
    here when not given).
    """
    key, indicators = str(period), catalogue.ordered
    stored = await repository.indices(session, key)  # every agency's: the rankings need them
    if agencies is None:
        agencies = debtors(indicators, period) | set(stored)
    if reports is None:
        found = await repository.reports(session, agencies=agencies, within=period, arrivals=False)
        reports = _by_agency(found)
    scores = score_agencies(sorted(agencies), period=period, indicators=indicators, reports=reports)
    changed = [s for a, s in scores.items() if s is not None and stored.get(a) != s]
    gone = [a for a, s in scores.items() if s is None and a in stored]
    await repository.store_indices(session, key, changed, gone, now)
    current = {a: s for a, s in stored.items() if a not in gone} | {s.agency: s for s in changed}
    await _rank(session, catalogue, period, groups, current)


async def _rank(
    session: AsyncSession,
    catalogue: Catalogue,
    period: ReportingPeriod,
    groups: Sequence[str],
    indices: Mapping[str, AgencyScore],
) -> None:
    """Rank each group's scored agencies for the period, by index and by each pillar."""
    if not groups:
        return
    wanted: repository.Ranks = {}
    for group in groups:
        members = [
            indices[code]
            for code, agency in catalogue.agencies.items()
            if code in indices and group in agency.ranking_groups() and agency.exists_on(period.end)
        ]
        pillars = sorted({pillar for score in members for pillar in score.pillar_scores})
        for pillar in ("", *pillars):
            for ranked in rank_scores(members, pillar=pillar or None):
                wanted[group, pillar, ranked.agency] = (ranked.rank, ranked.score)
    stored = await repository.ranks(session, str(period), groups)
    changed = {line: rank for line, rank in wanted.items() if stored.get(line) != rank}
    gone = [line for line in stored if line not in wanted]
    await repository.store_ranks(session, str(period), changed, gone)


# Consumers: keep what the bus brought, mark what must be scored again.

# Records marks in the session's transaction (and wakes the rescorer once it commits).
Marker = Callable[[AsyncSession, Collection[Mark]], Awaitable[None]]


async def on_indicator(session: AsyncSession, event: IndicatorPublished, mark: Marker) -> None:
    """Keep an indicator; if what scoring uses changed, mark it to be scored again."""
    # ValueError when scoring cannot read it (an op against the direction, a bad frequency).
    indicator, now = Indicator.from_mapping(event.model_dump(mode="json")), utcnow()
    before = await repository.indicators(session, codes=[event.code])
    await repository.upsert_indicator(session, event, now)
    if event.official_assessment is not None:
        spec = event.official_assessment
        await repository.record_assessment(
            session,
            indicator=event.code,
            period=str(assessment_period(spec.as_of)),
            label=spec.label,
            note=spec.note or spec.source,
            author=repository.REFERENCE_AUTHOR,
            now=now,
        )
    if before != [indicator]:  # not republished unchanged (every start-up of a seeded catalogue)
        await mark(session, [("indicator", event.code, "", "")])


async def on_agency(session: AsyncSession, event: AgencyPublished, mark: Marker) -> None:
    """Keep an agency; if its groups or dates changed, mark it so that its groups rank again."""
    before = (await repository.agencies(session, codes=[event.code])).get(event.code)
    await repository.upsert_agency(session, event, utcnow())
    after = Agency(
        event.code, event.name_vi, event.kind, tuple(event.groups), event.valid_from, event.valid_to
    )
    if before != after:
        await mark(session, [("agency", "", event.code, "")])


@dataclass
class Touched:
    """What a batch of observation events brought: figures and agencies' values, in order."""

    figures: list[tuple[AggregateValue, datetime]] = field(default_factory=list)
    observations: list[StoredObservation] = field(default_factory=list)


TOUCHED = "scoring.touched"


async def on_observations(session: AsyncSession, event: ObservationsStored) -> None:
    """Gather the figures and values; the batch's ``keep_touched`` keeps and marks them."""
    touched: Touched = session.info.setdefault(TOUCHED, Touched())
    touched.figures += [(figure, event.recorded_at) for figure in event.aggregates]
    # Figures the committee published (scope national, central…) are not an agency's report.
    touched.observations += [o for o in event.observations if o.scope == "agency"]


async def keep_touched(session: AsyncSession, mark: Marker) -> None:
    """Finish of a batch: keep its figures and values, and mark what they moved."""
    touched: Touched | None = session.info.pop(TOUCHED, None)
    if touched is None:
        return
    series = await repository.store_aggregates(session, touched.figures)
    values = await repository.store_agency_values(session, touched.observations)
    marks = {("series", code, scope, "") for code, scope in series}
    marks |= {("report", code, agency, period) for code, agency, period in values}
    if marks:
        await mark(session, marks)


# The rescorer's pass over the marks.


async def _expand_catalogue(
    session: AsyncSession, catalogue: Catalogue, marks: Sequence[tuple[Mark, int]], now: datetime
) -> None:
    """Read the changed rows again, and mark what depends on them."""
    indicators = sorted({item[1] for item, _ in marks if item[0] == "indicator"})
    agencies = sorted({item[2] for item, _ in marks if item[0] == "agency"})
    await catalogue.refresh(session, indicators=indicators, agencies=agencies)
    periods = await repository.index_periods(session)
    expanded: set[Mark] = set()
    if indicators:
        series = await repository.aggregate_points(session, indicators)
        expanded |= {("series", code, scope, "") for code, scope in series}
        reported = await repository.value_periods(session, indicators=indicators)
        touched = {str(p) for p in _touched(catalogue.indicators, reported)}
        # An indicator's targets, weight or reporters enter every agency's index.
        expanded |= {("period", "", "", p) for p in touched | periods}
    if agencies:
        expanded |= {("ranking", "", "", p) for p in periods}
    await repository.mark(session, expanded, now)


async def _score_marked_periods(
    session: AsyncSession, catalogue: Catalogue, marks: Sequence[tuple[Mark, int]], now: datetime
) -> None:
    """Score what report, ranking and period marks name: agencies' indices, groups' ranks."""
    reporters: dict[ReportingPeriod, set[str]] = {}
    rerank: set[ReportingPeriod] = set()
    whole: set[ReportingPeriod] = set()
    for (kind, code, subject, named), _ in marks:
        if kind == "period":
            whole.add(parse_period(named))
        elif kind == "ranking":
            rerank.add(parse_period(named))
        else:
            for touched in _touched(catalogue.indicators, [(code, named)]):
                reporters.setdefault(touched, set()).add(subject)
    known = await repository.index_periods(session)
    for period in sorted(reporters.keys() | rerank | whole):
        if period in whole or str(period) not in known:
            # A period's first report: every agency owing it a figure ranks, with zeros.
            await _score_period(
                session, catalogue, period, agencies=None, groups=RANKING_GROUPS, now=now
            )
            continue
        agencies = reporters.get(period, set())
        groups = (
            RANKING_GROUPS
            if period in rerank
            else tuple(
                group
                for group in RANKING_GROUPS
                if any(
                    group in catalogue.agencies[a].ranking_groups()
                    for a in agencies
                    if a in catalogue.agencies
                )
            )
        )
        await _score_period(session, catalogue, period, agencies=agencies, groups=groups, now=now)


async def _score_marked_series(
    session: AsyncSession,
    outbox: Outbox,
    catalogue: Catalogue,
    marks: Sequence[tuple[Mark, int]],
    now: datetime,
) -> None:
    series = {(item[1], item[2]) for item, _ in marks}
    points = await repository.series_points(session, series)
    stored = await repository.score_rows(session, series)
    await _score_series(session, outbox, catalogue, points, stored, now)


# Each step of a pass: the kinds of marks it takes, how many per transaction, its trigger.
_STEPS: tuple[tuple[tuple[str, ...], int, str], ...] = (
    (("indicator", "agency"), CATALOGUE_PER_TRANSACTION, "catalogue"),
    # A whole period (every agency) per transaction: the heaviest unit of work.
    (("period",), 1, "catalogue"),
    (("series",), SERIES_PER_TRANSACTION, "observations"),
    (("report", "ranking"), REPORTS_PER_TRANSACTION, "observations"),
)


async def score_marks(
    runtime: ServiceRuntime,
    catalogue: Catalogue,
    *,
    kinds: Collection[str],
    between: Callable[[], Awaitable[bool]],
) -> int:
    """Score every pending mark of these kinds (or that a catalogue mark brings), a small
    transaction at a time; ``between`` is awaited after each (to give the event loop back),
    and the pass ends early when it says so. Each transaction forgets the marks it scored.
    Returns how many marks were scored."""
    scored, wanted = 0, set(kinds)
    for step, per_transaction, trigger in _STEPS:
        if wanted.isdisjoint(step):
            continue
        while True:
            now = utcnow()
            async with runtime.db.transaction() as session:
                marks = await repository.pending_marks(session, kinds=step, limit=per_transaction)
                if not marks:
                    break
                with _timed(trigger):
                    if step == ("indicator", "agency"):
                        # What depends on the catalogue: series, periods, rankings.
                        wanted |= {"series", "period", "ranking"}
                        await _expand_catalogue(session, catalogue, marks, now)
                    elif step == ("series",):
                        await _score_marked_series(session, runtime.outbox, catalogue, marks, now)
                    else:
                        await _score_marked_periods(session, catalogue, marks, now)
                    await repository.forget_marks(session, marks)
            scored += len(marks)
            if not await between():
                return scored
            if len(marks) < per_transaction:
                break
    return scored


# The full recompute.


@dataclass(frozen=True)
class Rescored:
    """What a full rescore went through."""

    series: int
    periods: int
    changes: int


def _reports_by_agency(
    by_period: Mapping[str, Sequence[tuple[str, str, Report]]],
) -> dict[str, dict[str, dict[ReportingPeriod, Report]]]:
    """Every report, by agency then indicator then period (each period's index picks those
    that stand for it: a few periods per indicator, cheaper than regrouping per period)."""
    found: dict[str, dict[str, dict[ReportingPeriod, Report]]] = {}
    for period, rows in by_period.items():
        made_for = parse_period(period)
        for code, agency, report in rows:
            found.setdefault(agency, {}).setdefault(code, {})[made_for] = report
    return found


async def rescore(
    runtime: ServiceRuntime, *, progress: Callable[[int, int], None] | None = None
) -> Rescored:
    """Recompute every score, index and ranking from the replica, as the events would have."""
    # Everything is read once; then a transaction per few series and per period, so that
    # consumers keep running alongside (what they store meanwhile is marked, and scored next).
    now = utcnow()
    with _timed("rescore"), _no_cycle_collection():
        async with runtime.db.read() as session:
            catalogue = await Catalogue.load(session)
            points = await repository.aggregate_points(session)
            stored = await repository.score_rows(session)
            by_period = await repository.reports_by_period(session)
        series = sorted(points)
        reports = _reports_by_agency(by_period)
        reported = {(code, p) for p, rows in by_period.items() for code, _, _ in rows}
        periods = _touched(catalogue.indicators, reported)
        total, done, changes = len(series) + len(periods) + 1, 0, 0

        def advance(steps: int = 1) -> None:
            nonlocal done
            for _ in range(steps):
                done += 1
                if progress is not None:
                    progress(done, total)

        for start in range(0, len(series), SERIES_PER_TRANSACTION):
            chunk = {key: points[key] for key in series[start : start + SERIES_PER_TRANSACTION]}
            async with runtime.db.transaction() as session:
                changes += await _score_series(
                    session, runtime.outbox, catalogue, chunk, stored, now
                )
            advance(len(chunk))
        for period in periods:
            async with runtime.db.transaction() as session:
                await _score_period(
                    session,
                    catalogue,
                    period,
                    agencies=None,
                    groups=RANKING_GROUPS,
                    now=now,
                    reports=reports,
                )
            advance()
        async with runtime.db.transaction() as session:
            await repository.delete_snapshots(session)
            await repository.prune_periods(session, {str(period) for period in periods})
        advance()
    return Rescored(series=len(series), periods=len(periods), changes=changes)
