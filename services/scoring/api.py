"""Scores, summaries, rankings, laggards and official assessments."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Path, Query
from sqlalchemy.ext.asyncio import AsyncSession

from libs.common.auth import AdminDep
from libs.common.errors import InvalidInput, NotFound, ProblemItem, problem_responses
from libs.common.events import utcnow
from libs.common.periods import ReportingPeriod, parse_period
from libs.common.service import ReadSession, WriteSession, api_router
from services.scoring import repository
from services.scoring.domain.catalogue import Indicator
from services.scoring.domain.completeness import local_day
from services.scoring.domain.explain import Language
from services.scoring.domain.laggards import find_laggards
from services.scoring.domain.scorecard import ScoreCard, period_cards
from services.scoring.domain.standing import laggard_standings
from services.scoring.domain.summary import computed_summary, official_summary
from services.scoring.schemas import (
    AssessmentIn,
    AssessmentOut,
    Group,
    LaggardOut,
    RankingOut,
    ScoreOut,
    Source,
    SummaryOut,
)

router = api_router(tags=["scores"])

PERIODS = "2023, 2023-S1, 2023-Q2 or 2023-06"
SCOPES = r"^(national|central|local|population:.+)$"


def _invalid(where: str, name: str, problem: str) -> InvalidInput:
    return InvalidInput(
        f"Bad {name}: {problem}", errors=[ProblemItem(loc=[where, name], msg=problem)]
    )


def _period(text: str, name: str = "period", where: str = "query") -> ReportingPeriod:
    try:
        period = parse_period(text)
    except ValueError as error:
        raise _invalid(where, name, str(error)) from error
    try:
        period.previous(), period.next()  # rankings compare with the period before
    except (ValueError, OverflowError) as error:
        raise _invalid(where, name, f"{text!r} is at the edge of the calendar") from error
    return period


async def period_param(period: Annotated[str, Query(description=PERIODS)]) -> ReportingPeriod:
    """The required `period` query parameter, or 422 naming it."""
    return _period(period)


PeriodDep = Annotated[ReportingPeriod, Depends(period_param)]
LanguageParam = Annotated[Language, Query(description="Language of explanations: vi or en")]


async def _program(session: AsyncSession, program: str | None) -> list[Indicator]:
    indicators = await repository.indicators(session, program=program)
    if program is not None and not indicators:
        raise _invalid("query", "program", f"no programme {program!r} is known")
    return indicators


async def _cards(
    session: AsyncSession, indicators: list[Indicator], period: ReportingPeriod, scope: str | None
) -> list[tuple[Indicator, ScoreCard]]:
    codes = [indicator.code for indicator in indicators]
    stored = await repository.snapshots(session, indicators=codes, period=str(period), scope=scope)
    points = await repository.aggregate_points(session, codes, scope=scope)
    return list(period_cards(indicators, period=period, scope=scope, stored=stored, points=points))


@router.get("/scores", response_model=list[ScoreOut])
async def list_scores(
    session: ReadSession,
    period: PeriodDep,
    program: str | None = None,
    scope: Annotated[str | None, Query(pattern=SCOPES, description="Default: headline")] = None,
    lang: LanguageParam = Language.VI,
) -> list[ScoreOut]:
    """Each indicator's value, target, progress, band and status, explained."""
    scored = await _cards(session, await _program(session, program), period, scope)
    codes = sorted({indicator.code for indicator, _ in scored})
    official = {
        a.indicator: a
        for a in await repository.assessments(session, indicators=codes, period=str(period))
    }
    return [ScoreOut.of(i, card, official.get(i.code), lang) for i, card in scored]


@router.get("/scores/summary", response_model=SummaryOut)
async def score_summary(
    session: ReadSession, period: PeriodDep, program: str, source: Source = "computed"
) -> SummaryOut:
    """A programme's goals counted per band and per status (computed or official)."""
    indicators = await _program(session, program)
    cards = {(c.indicator, c.scope): c for _, c in await _cards(session, indicators, period, None)}
    if source == "official":
        found = await repository.assessments(
            session, indicators=[i.code for i in indicators], period=str(period)
        )
        summary = official_summary(indicators, cards, {a.indicator: a.label for a in found})
    else:
        summary = computed_summary(indicators, cards)
    return SummaryOut.of(summary, program=program, period=str(period), source=source)


@router.get("/rankings", response_model=list[RankingOut])
async def list_rankings(
    session: ReadSession, period: PeriodDep, group: Group, pillar: str | None = None
) -> list[RankingOut]:
    """A group's agencies by composite index (or one pillar), with the previous period's rank."""
    if pillar is not None and not await repository.has_pillar(session, pillar):
        raise _invalid("query", "pillar", f"no indicator is in pillar {pillar!r}")
    rows = await repository.ranking(session, group, str(period), pillar or "")
    before = await repository.ranking(session, group, str(period.previous()), pillar or "")
    codes = [row.agency for row in rows]
    indices = await repository.indices(session, str(period), agencies=codes)
    earlier = await repository.indices(session, str(period.previous()), agencies=codes)
    # An agency silent in the period before had no rank then either (docs/scoring.md §6).
    previous = {
        r.agency: r.rank for r in before if r.agency in earlier and earlier[r.agency].reported
    }
    agencies = await repository.agencies(session, codes=codes)
    return [
        RankingOut.of(
            row,
            agency=agencies.get(row.agency),
            index=indices.get(row.agency),
            previous_rank=previous.get(row.agency),
        )
        for row in rows
    ]


@router.get("/laggards", response_model=list[LaggardOut])
async def list_laggards(
    session: ReadSession,
    period: PeriodDep,
    program: str | None = None,
    lang: LanguageParam = Language.VI,
) -> list[LaggardOut]:
    """Agencies with missing or late reports, or figures off track, and why."""
    indicators = await _program(session, program)
    codes = [indicator.code for indicator in indicators]
    figures = await repository.aggregate_points(session, codes, scope="national")
    standings = laggard_standings(
        indicators,
        period=period,
        reports=await repository.reports(session, indicators=codes),
        national={code: points.get(period) for (code, _), points in figures.items()},
        today=local_day(utcnow()),
    )
    laggards = find_laggards(standings, language=lang)
    agencies = await repository.agencies(session, codes=[laggard.agency for laggard in laggards])
    return [LaggardOut.of(laggard, agencies.get(laggard.agency)) for laggard in laggards]


@router.put(
    "/assessments/{indicator}/{period}",
    response_model=AssessmentOut,
    responses=problem_responses(NotFound),
)
async def put_assessment(
    indicator: str,
    period: Annotated[str, Path(description=PERIODS)],
    body: AssessmentIn,
    session: WriteSession,
    principal: AdminDep,
) -> AssessmentOut:
    """Record the standing agency's official assessment of an indicator for a period (admin)."""
    asked = _period(period, where="path")
    if not await repository.indicators(session, codes=[indicator]):
        raise NotFound(f"No indicator {indicator}")
    row = await repository.record_assessment(
        session,
        indicator=indicator,
        period=str(asked),
        label=body.label,
        note=body.note,
        author=principal.key_id,
        now=utcnow(),
    )
    return AssessmentOut.of(row)


@router.get("/assessments", response_model=list[AssessmentOut])
async def list_assessments(
    session: ReadSession,
    indicator: str | None = None,
    period: Annotated[str | None, Query(description=PERIODS)] = None,
) -> list[AssessmentOut]:
    """Official assessments, optionally of one indicator or one period."""
    asked = None if period is None else str(_period(period))
    rows = await repository.assessments(
        session, indicators=None if indicator is None else [indicator], period=asked
    )
    return [AssessmentOut.of(row) for row in rows]
