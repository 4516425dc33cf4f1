"""The indicators service's work: storing submitted values and publishing the catalogue."""

from __future__ import annotations

import logging
from collections.abc import Mapping, Sequence
from datetime import datetime
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from libs.common.db import aware
from libs.common.events import (
    AgencyPublished,
    Envelope,
    EventPayload,
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
from services.indicators.figures import Figure, compute_many

log = logging.getLogger(__name__)

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


class ObservationStore:
    """Turns accepted submissions into observation revisions and the figures they move."""

    def __init__(self, cache: CatalogueCache, outbox: Outbox) -> None:
        self.cache = cache
        self.outbox = outbox

    async def store_batch(self, session: AsyncSession, envelopes: Sequence[Envelope]) -> None:
        """Effect for a batch of ``dx.submissions.v1``: new revisions, figures, verdicts.

        Set-wise: one read of the newest revisions for every value of the batch, one insert of
        the new ones, one outbox write; each figure the batch moved is recomputed once.
        """
        submissions = [
            SubmissionAccepted.model_validate(envelope.payload)
            for envelope in envelopes
            if envelope.type == SubmissionAccepted.event_type
        ]
        if not submissions:
            return
        catalogue = await self.cache.get(session)
        now = utcnow()
        events: list[tuple[EventPayload, str]] = []
        accepted = []
        for submission in submissions:
            problems = unknown_codes(submission, catalogue)
            if problems:
                # Ingest validated against its replica; the catalogue changed in between.
                events.append(
                    (verdict(submission, "rejected", now, "; ".join(problems)), submission.agency)
                )
            else:
                accepted.append(submission)
        latest = await repository.latest_agency_revisions(
            session,
            ((v.indicator, s.agency, s.period) for s in accepted for v in s.values),
        )
        rows: list[dict[str, Any]] = []
        moved: set[tuple[str, str]] = set()
        for submission in accepted:
            new_rows = revisions(submission, latest, now)
            rows += new_rows
            moved.update((row["indicator"], submission.period) for row in new_rows)
            stored = ObservationsStored(
                submission=submission.submission,
                agency=submission.agency,
                period=submission.period,
                observations=[observed(row) for row in new_rows],
                recorded_at=now,
            )
            events.append((stored, submission.agency))
            events.append((verdict(submission, "stored", now), submission.agency))
        await repository.insert_observations(session, rows)
        events += await self.announcements(session, catalogue, moved, now)
        await self.outbox.add(session, *events)

    async def announcements(
        self,
        session: AsyncSession,
        catalogue: CatalogueView,
        moved: set[tuple[str, str]],
        now: datetime,
    ) -> list[tuple[EventPayload, str]]:
        """Each figure moved by (indicator, period) values, recomputed once, as events."""
        wanted = {
            (code, period_text): [
                (catalogue.indicators[code], period)
                for period in affected_periods(
                    parse_period(period_text), catalogue.indicators[code].reporting.frequency
                )
            ]
            for code, period_text in sorted(moved)
        }
        unique = list(dict.fromkeys(pair for pairs in wanted.values() for pair in pairs))
        figures: dict[tuple[str, str], list[Figure]] = {}
        for figure in await compute_many(session, catalogue, unique):
            figures.setdefault((figure.indicator, figure.period), []).append(figure)
        announcements: list[tuple[EventPayload, str]] = []
        for (code, period_text), pairs in wanted.items():
            # A figure several moved periods share (their year) is announced once.
            aggregates = [
                f.event() for _, period in pairs for f in figures.pop((code, str(period)), [])
            ]
            if not aggregates:
                continue
            announcement = ObservationsStored(
                submission=None,
                agency=STANDING_AGENCY,
                period=period_text,
                observations=[],
                aggregates=aggregates,
                recorded_at=now,
            )
            announcements.append((announcement, code))
        return announcements


def unknown_codes(submission: SubmissionAccepted, catalogue: CatalogueView) -> list[str]:
    """What the catalogue no longer knows of a submission (it changed after ingest's check)."""
    problems = [
        f"unknown indicator {v.indicator}"
        for v in submission.values
        if v.indicator not in catalogue.indicators
    ]
    if submission.agency not in catalogue.agencies:
        problems.append(f"unknown agency {submission.agency}")
    return problems


def verdict(
    submission: SubmissionAccepted, status: str, at: datetime, detail: str | None = None
) -> SubmissionStatusChanged:
    """The store's verdict on a submission, for ingest."""
    return SubmissionStatusChanged(
        submission=submission.submission,
        agency=submission.agency,
        status=status,
        detail=detail,
        at=at,
    )


def revisions(
    submission: SubmissionAccepted,
    latest: dict[tuple[str, str, str], repository.Revision],
    now: datetime,
) -> list[dict[str, Any]]:
    """The submission's values that change a figure, as new revisions; ``latest`` follows them.

    The same figure with the same note again is not a correction (a corrected note is).
    Updating ``latest`` as rows are made keeps the revision numbers right when one batch
    carries several submissions of one value.
    """
    rows = []
    for value in submission.values:
        key = (value.indicator, submission.agency, submission.period)
        previous = latest.get(key)
        if previous is not None and (previous.value, previous.note) == (value.value, value.note):
            continue
        revision = previous.revision + 1 if previous else 1
        latest[key] = repository.Revision(
            revision, value.value, value.note, aware(submission.received_at)
        )
        flag = value.value if isinstance(value.value, bool) else None
        rows.append(
            {
                "indicator": value.indicator,
                "agency": submission.agency,
                "scope": "agency",
                "period": submission.period,
                "value_number": None if flag is not None else value.value,
                "value_bool": flag,
                "revision": revision,
                "recorded_at": now,
                "reported_at": submission.received_at,
                "late": submission.late,
                "submission": submission.submission,
                "source": submission.source,
                "note": value.note,
            }
        )
    return rows


def observed(row: Mapping[str, Any]) -> StoredObservation:
    """A new revision (its columns) as carried on the bus."""
    flag = row["value_bool"]
    return StoredObservation.model_validate(
        {**row, "value": flag if flag is not None else row["value_number"]}
    )


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
