"""All SQL of the notify service."""

from __future__ import annotations

from collections.abc import Collection, Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession

from libs.common.db import aware, dialect_insert, upsert
from libs.common.events import (
    AgencyPublished,
    IndicatorPublished,
    ReporterSpan,
    ScoreChanged,
    StoredObservation,
)
from services.notify.domain.calendar import Stage
from services.notify.domain.reminders import Letter, ReminderKey
from services.notify.domain.replica import AgencyCard, Contact, IndicatorCard, Report, ScopeStatus
from services.notify.models import (
    AgencyRow,
    IndicatorRow,
    JobStateRow,
    MessageRow,
    ReminderKeyRow,
    ReportRow,
    StatusRow,
)


async def upsert_agency(session: AsyncSession, agency: AgencyPublished, now: datetime) -> None:
    """Replace notify's copy of an agency."""
    values = {
        "code": agency.code,
        "name_vi": agency.name_vi,
        "kind": agency.kind,
        "contacts": [dict(c) for c in agency.contacts],
        "valid_from": agency.valid_from,
        "valid_to": agency.valid_to,
        "updated_at": now,
    }
    await upsert(session, AgencyRow, [values], ["code"])


async def upsert_indicator(
    session: AsyncSession, indicator: IndicatorPublished, now: datetime
) -> None:
    """Replace notify's copy of an indicator's regime and reporters."""
    values = {
        "code": indicator.code,
        "program": indicator.program,
        "name_vi": indicator.name_vi,
        "frequency": indicator.frequency,
        "due_days": indicator.due_days,
        "reporters": [r.model_dump(mode="json") for r in indicator.reporters],
        "updated_at": now,
    }
    await upsert(session, IndicatorRow, [values], ["code"])


async def record_reports(session: AsyncSession, observations: Sequence[StoredObservation]) -> None:
    """Remember that agencies reported; the earliest report of a key stands (one statement)."""
    wanted: dict[tuple[str, str, str], StoredObservation] = {}
    for o in observations:
        key = (o.indicator, o.period, o.agency)
        if key not in wanted or o.reported_at < wanted[key].reported_at:
            wanted[key] = o
    if not wanted:
        return
    table = ReportRow.__table__
    statement = dialect_insert(session)(table)
    await session.execute(
        statement.on_conflict_do_update(
            index_elements=["indicator", "period", "agency"],
            set_={"reported_at": statement.excluded.reported_at, "late": statement.excluded.late},
            where=statement.excluded.reported_at < table.c.reported_at,
        ),
        [
            {
                "indicator": o.indicator,
                "period": o.period,
                "agency": o.agency,
                "reported_at": o.reported_at,
                "late": o.late,
            }
            for o in wanted.values()
        ],
    )


async def upsert_status(session: AsyncSession, score: ScoreChanged) -> None:
    """Keep an indicator's latest status for a scope and period."""
    fields = ("indicator", "period", "scope", "band", "status", "computed_at")
    values = {name: getattr(score, name) for name in fields}
    keys = ["indicator", "period", "scope"]
    await upsert(session, StatusRow, [values], keys)


def _contacts(raw: list[dict[str, Any]]) -> tuple[Contact, ...]:
    return tuple(
        Contact(email=str(c["email"]), name=c.get("name") or None, role=c.get("role") or None)
        for c in raw
        if c.get("email")
    )


async def load_agencies(session: AsyncSession) -> dict[str, AgencyCard]:
    """Every agency notify knows, by code."""
    rows = await session.scalars(select(AgencyRow))
    return {r.code: AgencyCard(r.code, r.name_vi, _contacts(r.contacts)) for r in rows}


async def load_indicators(
    session: AsyncSession, *, program: str | None = None, code: str | None = None
) -> list[IndicatorCard]:
    """Indicators notify knows, optionally of one programme or just one."""
    query = select(IndicatorRow).order_by(IndicatorRow.code)
    if program is not None:
        query = query.where(IndicatorRow.program == program)
    if code is not None:
        query = query.where(IndicatorRow.code == code)
    return [
        IndicatorCard(
            code=r.code,
            program=r.program,
            name_vi=r.name_vi,
            frequency=r.frequency,
            due_days=r.due_days,
            reporters=tuple(ReporterSpan.model_validate(s) for s in r.reporters),
        )
        for r in await session.scalars(query)
    ]


async def load_reports(
    session: AsyncSession, *, indicators: Collection[str], period: str
) -> dict[tuple[str, str], Report]:
    """Reports of the indicators for the period, by (indicator, agency)."""
    rows = await session.scalars(
        select(ReportRow).where(ReportRow.period == period, ReportRow.indicator.in_(indicators))
    )
    return {(r.indicator, r.agency): Report(aware(r.reported_at), r.late) for r in rows}


async def load_statuses(
    session: AsyncSession, *, indicators: Collection[str], period: str
) -> dict[str, list[ScopeStatus]]:
    """Statuses of the indicators for the period, by indicator."""
    rows = await session.scalars(
        select(StatusRow).where(StatusRow.period == period, StatusRow.indicator.in_(indicators))
    )
    found: dict[str, list[ScopeStatus]] = {}
    for r in rows:
        found.setdefault(r.indicator, []).append(ScopeStatus(r.scope, r.status, r.band))
    return found


async def status_periods(session: AsyncSession) -> list[str]:
    """Every period some status was received for."""
    return list(await session.scalars(select(StatusRow.period).distinct()))


async def sent_keys(
    session: AsyncSession, *, indicators: Collection[str], period: str
) -> set[ReminderKey]:
    """Idempotency keys already taken for the indicators and period."""
    rows = await session.execute(
        select(ReminderKeyRow.agency, ReminderKeyRow.indicator, ReminderKeyRow.stage).where(
            ReminderKeyRow.period == period, ReminderKeyRow.indicator.in_(indicators)
        )
    )
    return {ReminderKey(r.agency, r.indicator, period, Stage(r.stage)) for r in rows}


async def queue_letter(
    session: AsyncSession,
    letter: Letter,
    *,
    subject: str,
    text: str,
    html: str,
    message_id: str,
    now: datetime,
) -> int:
    """Queue a letter and take its items' keys in one transaction; return the message's id.

    A key taken meanwhile by another run violates the unique constraint and rolls it all back.
    """
    message = MessageRow(
        agency=letter.agency.code,
        kind=letter.stage.value,
        period=letter.period,
        indicators=letter.indicators,
        to_addrs=[{"email": c.email, "name": c.name} for c in letter.to],
        cc_addrs=[{"email": c.email, "name": c.name} for c in letter.cc],
        subject=subject,
        body_text=text,
        body_html=html,
        message_id=message_id,
        status="queued",
        attempts=0,
        next_attempt_at=now,
        created_at=now,
    )
    session.add(message)
    await session.flush()
    session.add_all(
        ReminderKeyRow(
            agency=item.agency,
            indicator=item.indicator,
            period=item.period,
            stage=item.stage.value,
            message=message.id,
            created_at=now,
        )
        for item in letter.items
    )
    await session.flush()
    return message.id


async def due_messages(session: AsyncSession, *, now: datetime, limit: int) -> list[MessageRow]:
    """Messages waiting for an attempt now, oldest first."""
    rows = await session.scalars(
        select(MessageRow)
        .where(MessageRow.status.in_(("queued", "retrying")), MessageRow.next_attempt_at <= now)
        .order_by(MessageRow.id)
        .limit(limit)
    )
    return list(rows)


async def record_attempt(
    session: AsyncSession,
    message: int,
    *,
    status: str,
    attempts: int,
    at: datetime,
    next_attempt_at: datetime | None = None,
    error: str | None = None,
) -> None:
    """Write the outcome of one delivery attempt."""
    values: dict[str, Any] = {"status": status, "attempts": attempts, "last_error": error}
    if status == "sent":
        values["sent_at"] = at
    if next_attempt_at is not None:
        values["next_attempt_at"] = next_attempt_at
    await session.execute(update(MessageRow).where(MessageRow.id == message).values(values))


async def delivery_log(
    session: AsyncSession, *, agency: str | None, since: datetime | None, limit: int
) -> list[MessageRow]:
    """Messages, newest first, of one agency and/or created since an instant."""
    query = select(MessageRow).order_by(MessageRow.id.desc()).limit(limit)
    if agency is not None:
        query = query.where(MessageRow.agency == agency)
    if since is not None:
        query = query.where(MessageRow.created_at >= since)
    return list(await session.scalars(query))


async def job_state(session: AsyncSession, job: str) -> JobStateRow | None:
    """A scheduled job's persisted state, if it ever ran or was initialised."""
    return await session.get(JobStateRow, job)


async def save_job_state(
    session: AsyncSession, job: str, *, last_fire_at: datetime, success_at: datetime | None
) -> None:
    """Record the fire a job handled (and when it last succeeded)."""
    row = await session.get(JobStateRow, job)
    if row is None:
        session.add(JobStateRow(job=job, last_fire_at=last_fire_at, last_success_at=success_at))
        return
    row.last_fire_at = last_fire_at
    if success_at is not None:
        row.last_success_at = success_at
