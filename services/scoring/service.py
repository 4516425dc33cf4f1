"""Scoring's work: keep the replica, re-score what an event touches, rescore everything."""

from __future__ import annotations

from collections.abc import Callable, Collection, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import datetime

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
from services.scoring.domain.standing import Reports, debtors, rank_scores, score_agencies

RECOMPUTES = Counter("dx_scoring_recomputes_total", "Score recomputations, by trigger", ["trigger"])
RECOMPUTE_SECONDS = Histogram(
    "dx_scoring_recompute_seconds",
    "Time to recompute what one event (or a whole rescore) touched",
    ["trigger"],
    buckets=(*LATENCY_BUCKETS, 30, 60, 300),
)
SCORE_CHANGES = Counter("dx_scoring_score_changes_total", "Band or status changes published")


@contextmanager
def _timed(trigger: str) -> Iterator[None]:
    RECOMPUTES.labels(trigger).inc()
    with RECOMPUTE_SECONDS.labels(trigger).time():
        yield


async def _refresh_series(
    session: AsyncSession,
    outbox: Outbox,
    indicator: Indicator,
    scope: str,
    points: Mapping[ReportingPeriod, float | None],
    now: datetime,
) -> int:
    """Re-score each period the series has a figure for; publish band and status changes."""
    code = indicator.code
    stored = await repository.snapshots(session, indicators=[code], scope=scope)
    cards, gone, changes = [], [], []
    for period in sorted(points):
        card = score_card(indicator, scope=scope, period=period, points=points)
        key = (code, scope, str(period))
        if card is None:
            gone.append(key)  # no target in force any more
            continue
        cards.append(card)
        old = stored.get(key)
        if old is None or (old.band, old.status) != (card.band, card.status):
            changed = ScoreChanged(
                indicator=code,
                scope=scope,
                period=card.period,
                band=card.band.value,
                status=card.status.value,
                previous_band=None if old is None else old.band.value,
                previous_status=None if old is None else old.status.value,
                computed_at=now,
            )
            changes.append((changed, code))
    await repository.store_snapshots(session, cards, now)
    await repository.delete_snapshots(session, gone)
    await outbox.add(session, *changes)
    SCORE_CHANGES.inc(len(changes))
    return len(changes)


async def _refresh_indicator_series(
    session: AsyncSession, outbox: Outbox, indicators: Sequence[Indicator], now: datetime
) -> int:
    """Re-score every series of these indicators; return how many scores changed."""
    points = await repository.aggregate_points(session, [i.code for i in indicators])
    by_code = {indicator.code: indicator for indicator in indicators}
    changes = 0
    for (code, scope), series in sorted(points.items()):
        changes += await _refresh_series(session, outbox, by_code[code], scope, series, now)
    return changes


async def _refresh_agencies(
    session: AsyncSession,
    indicators: Sequence[Indicator],
    period: ReportingPeriod,
    agencies: Collection[str],
    now: datetime,
) -> None:
    """Recompute and store these agencies' indices for the period."""
    by_agency: dict[str, dict[str, Reports]] = {}
    found = await repository.reports(session, agencies=agencies, within=period)
    for (code, agency), reports in found.items():
        by_agency.setdefault(agency, {})[code] = reports
    scores = score_agencies(agencies, period=period, indicators=indicators, reports=by_agency)
    await repository.store_indices(session, str(period), scores, now)


async def _rerank(
    session: AsyncSession,
    agencies: Mapping[str, Agency],
    group: str,
    period: ReportingPeriod,
) -> None:
    """Rank the group's scored agencies for the period, by index and by each pillar."""
    members = [
        code
        for code, agency in sorted(agencies.items())
        if group in agency.ranking_groups() and agency.exists_on(period.end)
    ]
    stored = await repository.indices(session, str(period), agencies=members)
    scores = list(stored.values())
    pillars = sorted({pillar for score in scores for pillar in score.pillar_scores})
    ranked = {"": rank_scores(scores)} | {p: rank_scores(scores, pillar=p) for p in pillars}
    await repository.store_ranking(session, group, str(period), ranked)


async def _refresh_period(
    session: AsyncSession, indicators: Sequence[Indicator], period: ReportingPeriod, now: datetime
) -> None:
    """Recompute every agency's index for the period and both groups' rankings."""
    stored = await repository.indices(session, str(period))
    await _refresh_agencies(
        session, indicators, period, debtors(indicators, period) | set(stored), now
    )
    agencies = await repository.agencies(session)
    for group in RANKING_GROUPS:
        await _rerank(session, agencies, group, period)


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


async def on_indicator(session: AsyncSession, outbox: Outbox, event: IndicatorPublished) -> None:
    """Keep an indicator; if what scoring uses changed, re-score what it touches."""
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
    if before == [indicator]:
        return  # republished unchanged (every start-up of a seeded catalogue)
    with _timed("catalogue"):
        await _refresh_indicator_series(session, outbox, [indicator], now)
        reported = await repository.value_periods(session, indicator=event.code)
        periods = {parse_period(p) for p in await repository.index_periods(session)}
        if not reported and not periods:
            return  # no agency's index depends on it yet
        indicators = await repository.indicators(session)
        periods.update(_touched({i.code: i for i in indicators}, reported))
        for period in sorted(periods):
            await _refresh_period(session, indicators, period, now)


async def on_agency(session: AsyncSession, event: AgencyPublished) -> None:
    """Keep an agency; if its groups or dates changed, rank its groups again."""
    before = (await repository.agencies(session, codes=[event.code])).get(event.code)
    now = utcnow()
    await repository.upsert_agency(session, event, now)
    periods = await repository.index_periods(session)
    after = Agency(
        event.code, event.name_vi, event.kind, tuple(event.groups), event.valid_from, event.valid_to
    )
    if before == after or not periods:
        return
    with _timed("catalogue"):
        agencies = await repository.agencies(session)
        for period in sorted(parse_period(p) for p in periods):
            for group in RANKING_GROUPS:
                await _rerank(session, agencies, group, period)


@dataclass
class Touched:
    """What a batch of observation events brought: figures and agencies' values, in order."""

    figures: list[tuple[AggregateValue, datetime]] = field(default_factory=list)
    observations: list[StoredObservation] = field(default_factory=list)


TOUCHED = "scoring.touched"


async def on_observations(session: AsyncSession, event: ObservationsStored) -> None:
    """Gather the figures and values; the batch's ``rescore_touched`` keeps and scores them."""
    touched: Touched = session.info.setdefault(TOUCHED, Touched())
    touched.figures += [(figure, event.recorded_at) for figure in event.aggregates]
    # Figures the committee published (scope national, central…) are not an agency's report.
    touched.observations += [o for o in event.observations if o.scope == "agency"]


async def rescore_touched(session: AsyncSession, outbox: Outbox) -> None:
    """Finish of a batch: keep its figures and values, then re-score once what they moved."""
    touched: Touched | None = session.info.pop(TOUCHED, None)
    if touched is None:
        return
    series = await repository.store_aggregates(session, touched.figures)
    values = await repository.store_agency_values(session, touched.observations)
    if not series and not values:
        return
    now = utcnow()
    with _timed("observations"):
        # The whole catalogue only when an agency's index must be recomputed.
        codes = None if values else {code for code, _ in series}
        indicators = await repository.indicators(session, codes=codes)
        by_code = {i.code: i for i in indicators}
        moved = sorted({code for code, _ in series} & by_code.keys())
        await _refresh_indicator_series(session, outbox, [by_code[c] for c in moved], now)
        by_period: dict[ReportingPeriod, set[str]] = {}
        for code, agency, when in values:
            for period in _touched(by_code, [(code, when)]):
                by_period.setdefault(period, set()).add(agency)
        if not by_period:
            return
        known_periods = await repository.index_periods(session)
        agencies = await repository.agencies(session)
        for period, reporters in sorted(by_period.items()):
            if str(period) not in known_periods:
                # A period's first report: every agency owing it a figure ranks, with zeros.
                await _refresh_period(session, indicators, period, now)
                continue
            await _refresh_agencies(session, indicators, period, reporters, now)
            groups = {
                group
                for agency in reporters
                if agency in agencies
                for group in agencies[agency].ranking_groups()
            }
            for group in sorted(groups):
                await _rerank(session, agencies, group, period)


@dataclass(frozen=True)
class Rescored:
    """What a full rescore went through."""

    series: int
    periods: int
    changes: int


async def rescore(
    runtime: ServiceRuntime, *, progress: Callable[[int, int], None] | None = None
) -> Rescored:
    """Recompute every score, index and ranking from the replica, as the events would have."""
    # A transaction per series and per period, so that consumers keep running alongside.
    now = utcnow()
    with _timed("rescore"):
        async with runtime.db.read() as session:
            indicators = await repository.indicators(session)
            series = sorted(await repository.aggregate_points(session))
            reported = await repository.value_periods(session)
        by_code = {i.code: i for i in indicators}
        periods = _touched(by_code, reported)
        total, done, changes = len(series) + len(periods) + 1, 0, 0

        def advance() -> None:
            nonlocal done
            done += 1
            if progress is not None:
                progress(done, total)

        for code, scope in series:
            if code in by_code:
                async with runtime.db.transaction() as session:
                    points = await repository.aggregate_points(session, [code], scope=scope)
                    changes += await _refresh_series(
                        session, runtime.outbox, by_code[code], scope, points[code, scope], now
                    )
            advance()
        for period in periods:
            async with runtime.db.transaction() as session:
                await _refresh_period(session, indicators, period, now)
            advance()
        async with runtime.db.transaction() as session:
            await repository.delete_snapshots(session)
            await repository.prune_periods(session, {str(period) for period in periods})
        advance()
    return Rescored(series=len(series), periods=len(periods), changes=changes)
