"""All SQL of the ingest service."""

from __future__ import annotations

from collections.abc import Collection, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any, cast

from sqlalchemy import Table, bindparam, func, select, tuple_, update
from sqlalchemy.ext.asyncio import AsyncSession

from libs.common.db import aware, dialect_insert, key_chunks, upsert
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


@dataclass(frozen=True)
class KeptSubmission:
    """What a receipt tells of a kept submission, and the digest that names its values."""

    id: str
    status: str
    received_at: datetime
    late: bool
    digest: str


SUBMISSIONS = cast(Table, Submission.__table__)


async def find_submissions(
    session: AsyncSession, keys: Collection[tuple[str, str]]
) -> dict[tuple[str, str], KeptSubmission]:
    """The submissions agencies made under these (agency, client id) pairs, where any."""
    columns = SUBMISSIONS.c
    found: dict[tuple[str, str], KeptSubmission] = {}
    for chunk in key_chunks(keys):
        rows = await session.execute(
            select(
                columns.agency,
                columns.submission_id,
                columns.id,
                columns.status,
                columns.received_at,
                columns.late,
                columns.digest,
            ).where(tuple_(columns.agency, columns.submission_id).in_(chunk))
        )
        for agency, submission_id, id, status, received_at, late, digest in rows:
            found[agency, submission_id] = KeptSubmission(
                id, status, aware(received_at), late, digest
            )
    return found


async def insert_submissions(session: AsyncSession, rows: Sequence[dict[str, Any]]) -> set[str]:
    """Insert submissions (column dicts); the ids of those inserted (a used (agency, client
    id) pair, taken by a concurrent repeat, is skipped)."""
    if not rows:
        return set()
    statement = (
        dialect_insert(session)(SUBMISSIONS)
        .on_conflict_do_nothing(index_elements=["agency", "submission_id"])
        .returning(SUBMISSIONS.c.id)
    )
    return set((await session.execute(statement, list(rows))).scalars())


async def get_submission(session: AsyncSession, id: str) -> Submission | None:
    """A submission by its platform id."""
    return await session.get(Submission, id)


@dataclass(frozen=True)
class Verdict:
    """The store's verdict on a submission: its status, when, and the problems of a rejection."""

    id: str
    status: str
    at: datetime
    errors: list[dict[str, Any]] | None


async def record_verdicts(
    session: AsyncSession, verdicts: Sequence[Verdict]
) -> dict[str, datetime]:
    """Set submissions' statuses from the store's verdicts, in order; a verdict older than the
    one recorded is ignored. Returns when each submission given a verdict was received."""
    columns = SUBMISSIONS.c
    known: dict[str, tuple[datetime, datetime | None]] = {}
    for chunk in key_chunks(v.id for v in verdicts):
        rows = await session.execute(
            select(columns.id, columns.received_at, columns.decided_at).where(columns.id.in_(chunk))
        )
        for id, received_at, decided_at in rows:
            known[id] = (aware(received_at), aware(decided_at) if decided_at else None)
    latest: dict[str, Verdict] = {}
    for verdict in verdicts:
        if verdict.id not in known:
            continue
        decided = latest[verdict.id].at if verdict.id in latest else known[verdict.id][1]
        if decided is None or decided <= verdict.at:
            latest[verdict.id] = verdict
    if latest:
        await session.execute(
            update(SUBMISSIONS)
            .where(columns.id == bindparam("verdict_id"))
            .values(
                status=bindparam("verdict_status"),
                decided_at=bindparam("verdict_at"),
                stored_at=bindparam("verdict_stored_at"),
                errors=bindparam("verdict_errors"),
            ),
            [
                {
                    "verdict_id": v.id,
                    "verdict_status": v.status,
                    "verdict_at": v.at,
                    "verdict_stored_at": v.at if v.status == "stored" else None,
                    "verdict_errors": v.errors,
                }
                for v in latest.values()
            ],
        )
    return {id: known[id][0] for id in latest}


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
