"""All SQL of the ingest service."""

from __future__ import annotations

from collections.abc import Collection
from datetime import datetime
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from libs.common.db import aware, upsert
from libs.common.events import AgencyPublished, IndicatorPublished, ReporterSpan
from services.ingest.models import AgencyRef, IndicatorRef, Submission
from services.ingest.validation import AgencySpec, Catalogue, IndicatorSpec


async def load_catalogue(
    session: AsyncSession,
    *,
    indicators: Collection[str] | None = None,
    agencies: Collection[str] | None = None,
) -> Catalogue:
    """The replica's entries for the named indicators and agencies (None: all of them)."""
    indicator_query = select(IndicatorRef)
    if indicators is not None:
        indicator_query = indicator_query.where(IndicatorRef.code.in_(set(indicators)))
    agency_query = select(AgencyRef)
    if agencies is not None:
        agency_query = agency_query.where(AgencyRef.code.in_(set(agencies)))
    indicator_rows = (await session.scalars(indicator_query)).all()
    agency_rows = (await session.scalars(agency_query)).all()
    return Catalogue(
        indicators={
            row.code: IndicatorSpec(
                code=row.code,
                value_type=row.value_type,
                frequency=row.frequency,
                due_days=row.due_days,
                reporters=tuple(ReporterSpan.model_validate(span) for span in row.reporters),
            )
            for row in indicator_rows
        },
        agencies={
            row.code: AgencySpec(
                code=row.code,
                valid_from=row.valid_from,
                valid_to=row.valid_to,
                successor=row.successor,
            )
            for row in agency_rows
        },
    )


async def catalogue_changed_at(session: AsyncSession) -> datetime | None:
    """When the replica last changed; None while it holds no indicator or no agency."""
    indicators = await session.scalar(select(func.max(IndicatorRef.updated_at)))
    agencies = await session.scalar(select(func.max(AgencyRef.updated_at)))
    if indicators is None or agencies is None:
        return None
    return max(aware(indicators), aware(agencies))


async def agency_names(session: AsyncSession) -> dict[str, str]:
    """Vietnamese agency name -> code, for names that belong to one agency only."""
    rows = (await session.execute(select(AgencyRef.name_vi, AgencyRef.code))).all()
    codes: dict[str, set[str]] = {}
    for name, code in rows:
        codes.setdefault(name, set()).add(code)
    return {name: next(iter(found)) for name, found in codes.items() if len(found) == 1}


async def find_submission(
    session: AsyncSession, *, agency: str, submission_id: str
) -> Submission | None:
    """The submission an agency made under a client id, if any."""
    found: Submission | None = await session.scalar(
        select(Submission).where(
            Submission.agency == agency, Submission.submission_id == submission_id
        )
    )
    return found


async def get_submission(session: AsyncSession, id: str) -> Submission | None:
    """A submission by its platform id."""
    return await session.get(Submission, id)


async def add_submission(session: AsyncSession, submission: Submission) -> bool:
    """Insert a submission; False when a concurrent repeat took its (agency, id) first."""
    try:
        async with session.begin_nested():
            session.add(submission)
    except IntegrityError:
        return False
    return True


async def record_verdict(
    session: AsyncSession,
    *,
    id: str,
    status: str,
    at: datetime,
    errors: list[dict[str, Any]] | None,
) -> Submission | None:
    """Set a submission's status from the store's verdict; a verdict older than ours is ignored."""
    submission = await session.get(Submission, id, with_for_update=True)
    if submission is None:
        return None
    if submission.decided_at is not None and aware(submission.decided_at) > at:
        return None
    submission.status = status
    submission.decided_at = at
    submission.stored_at = at if status == "stored" else None
    submission.errors = errors
    return submission


async def upsert_indicator(
    session: AsyncSession, indicator: IndicatorPublished, now: datetime
) -> None:
    """Replace the replica's copy of an indicator."""
    values = {
        "code": indicator.code,
        "program": indicator.program,
        "name_vi": indicator.name_vi,
        "unit": indicator.unit,
        "value_type": indicator.value_type,
        "frequency": indicator.frequency,
        "due_days": indicator.due_days,
        "reporters": [span.model_dump(mode="json") for span in indicator.reporters],
        "updated_at": now,
    }
    await upsert(session, IndicatorRef, [values], ["code"])


async def upsert_agency(session: AsyncSession, agency: AgencyPublished, now: datetime) -> None:
    """Replace the replica's copy of an agency."""
    values = {
        "code": agency.code,
        "name_vi": agency.name_vi,
        "valid_from": agency.valid_from,
        "valid_to": agency.valid_to,
        "successor": agency.successor,
        "updated_at": now,
    }
    await upsert(session, AgencyRef, [values], ["code"])
