"""The indicators service's work: storing submitted values and publishing the catalogue."""

from __future__ import annotations

import logging
from collections.abc import Iterable

from sqlalchemy.ext.asyncio import AsyncSession

from libs.common.events import (
    AgencyPublished,
    Envelope,
    IndicatorPublished,
    ObservationsStored,
    OfficialAssessmentSpec,
    ReporterSpan,
    StoredObservation,
    SubmissionAccepted,
    SubmissionStatusChanged,
    TargetSpec,
    utcnow,
)
from libs.common.messaging import Outbox
from libs.common.periods import ReportingPeriod, counts_for, parse_period, period_containing
from services.indicators import repository
from services.indicators.catalogue_cache import CatalogueCache, CatalogueView
from services.indicators.domain.aggregation import STANDING_AGENCY, national_reporters
from services.indicators.domain.catalogue import Agency, Indicator
from services.indicators.figures import Figure, compute_figures, scopes_of
from services.indicators.models import ObservationRow

log = logging.getLogger(__name__)

# Where a batch's submissions note the (indicator, period) figures they moved.
MOVED = "dx.indicators.moved"

COARSER = {
    "month": ("quarter", "half", "year"),
    "quarter": ("half", "year"),
    "half": ("year",),
    "year": (),
}


def affected_periods(period: ReportingPeriod, frequency: str) -> list[ReportingPeriod]:
    """The period of a value and the coarser periods it counts for (see libs.common.periods)."""
    found = [period]
    for kind in COARSER[period.kind]:
        coarser = period_containing(period.start, kind)
        if counts_for(period, coarser, frequency):
            found.append(coarser)
    return found


async def figures_for(
    session: AsyncSession,
    catalogue: CatalogueView,
    indicator: Indicator,
    periods: Iterable[ReportingPeriod],
) -> list[Figure]:
    """Every published scope's figure of ``indicator`` for ``periods``."""
    figures: list[Figure] = []
    for period in periods:
        figures += await compute_figures(
            session, catalogue, indicator=indicator, scopes=scopes_of(indicator), period=period
        )
    return figures


class ObservationStore:
    """Turns accepted submissions into observation revisions and the figures they move."""

    def __init__(self, cache: CatalogueCache, outbox: Outbox) -> None:
        self.cache = cache
        self.outbox = outbox

    async def store_submission(self, session: AsyncSession, envelope: Envelope) -> None:
        """Effect for ``dx.submissions.v1``: store new revisions, recompute, tell the others."""
        submission = SubmissionAccepted.model_validate(envelope.payload)
        catalogue = await self.cache.get(session)
        now = utcnow()
        problems = [
            f"unknown indicator {v.indicator}"
            for v in submission.values
            if v.indicator not in catalogue.indicators
        ]
        if submission.agency not in catalogue.agencies:
            problems.append(f"unknown agency {submission.agency}")
        if problems:
            # Ingest validated against its replica; the catalogue changed in between.
            await self.outbox.add(
                session,
                (
                    SubmissionStatusChanged(
                        submission=submission.submission,
                        agency=submission.agency,
                        status="rejected",
                        detail="; ".join(problems),
                        at=now,
                    ),
                    submission.agency,
                ),
            )
            return
        keys = [
            (v.indicator, submission.agency, "agency", submission.period) for v in submission.values
        ]
        latest = await repository.latest_revisions(session, keys)
        new_rows = []
        for value, key in zip(submission.values, keys, strict=True):
            previous = latest.get(key)
            if previous is not None and previous.value == value.value:
                continue  # the same figure again is not a correction
            new_rows.append(
                ObservationRow(
                    indicator=value.indicator,
                    agency=submission.agency,
                    scope="agency",
                    period=submission.period,
                    value_number=None if isinstance(value.value, bool) else value.value,
                    value_bool=value.value if isinstance(value.value, bool) else None,
                    revision=(previous.revision + 1) if previous else 1,
                    recorded_at=now,
                    reported_at=submission.received_at,
                    late=submission.late,
                    submission=submission.submission,
                    source=submission.source,
                    note=value.note,
                )
            )
        repository.add_observations(session, new_rows)
        moved = session.info.setdefault(MOVED, set())
        moved.update((row.indicator, submission.period) for row in new_rows)
        await self.outbox.add(
            session,
            (
                ObservationsStored(
                    submission=submission.submission,
                    agency=submission.agency,
                    period=submission.period,
                    observations=[observed(row) for row in new_rows],
                    recorded_at=now,
                ),
                submission.agency,
            ),
            (
                SubmissionStatusChanged(
                    submission=submission.submission,
                    agency=submission.agency,
                    status="stored",
                    at=now,
                ),
                submission.agency,
            ),
        )

    async def recompute_moved(self, session: AsyncSession) -> None:
        """Finish of a batch: recompute once each figure its submissions moved, and announce it."""
        moved: set[tuple[str, str]] = session.info.pop(MOVED, set())
        if not moved:
            return
        await session.flush()
        catalogue = await self.cache.get(session)
        now = utcnow()
        announcements = []
        for code, period_text in sorted(moved):
            indicator = catalogue.indicators[code]
            periods = affected_periods(parse_period(period_text), indicator.reporting.frequency)
            figures = await figures_for(session, catalogue, indicator, periods)
            announcements.append(
                (
                    ObservationsStored(
                        submission=None,
                        agency=STANDING_AGENCY,
                        period=period_text,
                        observations=[],
                        aggregates=[f.event() for f in figures],
                        recorded_at=now,
                    ),
                    code,
                )
            )
        await self.outbox.add(session, *announcements)


def observed(row: ObservationRow) -> StoredObservation:
    """An observation as carried on the bus."""
    return StoredObservation.model_validate(row, from_attributes=True)


def reporters_of(indicator: Indicator, catalogue: CatalogueView) -> list[ReporterSpan]:
    """Every agency ever expected to report ``indicator``, with the dates it is expected for."""
    if indicator.aggregation == "national":
        codes = set(national_reporters(indicator))
    else:
        # Membership changes only where an agency starts or ends: resolve at each such day.
        population = catalogue.population(indicator.population or "all93")
        days = {utcnow().date()}
        for member in catalogue.agencies.values():
            days.update(d for d in (member.valid_from, member.valid_to) if d is not None)
        codes = set()
        for day in days:
            codes |= set(catalogue.resolve(population, period_containing(day, "month")))
    spans = []
    for code in sorted(codes):
        agency = catalogue.agencies.get(code)
        spans.append(
            ReporterSpan(
                agency=code,
                valid_from=agency.valid_from if agency else None,
                valid_to=agency.valid_to if agency else None,
            )
        )
    return spans


def indicator_event(indicator: Indicator, catalogue: CatalogueView) -> IndicatorPublished:
    """The catalogue event for an indicator."""
    assessment = indicator.official_assessment
    return IndicatorPublished(
        code=indicator.code,
        program=indicator.program,
        goal=indicator.goal_code,
        primary=indicator.primary,
        pillar=indicator.pillar,
        name_vi=indicator.name_vi,
        name_en=indicator.name_en,
        unit=indicator.unit,
        direction=indicator.direction,
        value_type=indicator.value_type,
        aggregation=indicator.aggregation,
        population=indicator.population,
        targets=[TargetSpec(year=t.year, op=t.op, value=t.value) for t in indicator.targets],
        frequency=indicator.reporting.frequency,
        due_days=indicator.reporting.due_days,
        reporters=reporters_of(indicator, catalogue),
        official_assessment=OfficialAssessmentSpec(**assessment.model_dump())
        if assessment
        else None,
    )


def agency_event(agency: Agency) -> AgencyPublished:
    """The catalogue event for an agency."""
    return AgencyPublished.model_validate(agency.model_dump(mode="json", exclude={"parent"}))
