"""Reminder runs and the delivery log."""

from __future__ import annotations

from typing import Annotated

from fastapi import Query

from libs.common.auth import AdminDep, PrincipalDep, Role, require_agency_access
from libs.common.errors import Forbidden, problem_responses
from libs.common.events import UtcInstant
from libs.common.service import ReadSession, RuntimeDep, api_router
from services.notify import repository, service
from services.notify.api.deps import PartsDep
from services.notify.schemas import Notification, ReminderRun

router = api_router(tags=["notifications"])

PeriodParam = Annotated[str, Query(description="2023, 2023-S1, 2023-Q2 or 2023-06")]
DryRunParam = Annotated[bool, Query(description="Compute what would be sent; write nothing")]


@router.post("/notifications/reminders/run", response_model=ReminderRun)
async def run_reminders(
    runtime: RuntimeDep,
    principal: AdminDep,
    parts: PartsDep,
    period: PeriodParam,
    program: str | None = None,
    indicator: str | None = None,
    dry_run: DryRunParam = False,
) -> ReminderRun:
    """Run the reminder job now (admin): one letter per agency, never an item twice."""
    run = await service.run_reminders(
        runtime,
        period=period,
        program=program,
        indicator=indicator,
        dry_run=dry_run,
        settings=parts.settings,
    )
    if run.sent and not dry_run:
        parts.worker.wake()
    return run


@router.post("/notifications/progress/run", response_model=ReminderRun)
async def run_progress_letters(
    runtime: RuntimeDep,
    principal: AdminDep,
    parts: PartsDep,
    period: PeriodParam,
    program: str | None = None,
    dry_run: DryRunParam = False,
) -> ReminderRun:
    """Send the progress letter on off-track indicators now (admin)."""
    run = await service.run_progress_letters(
        runtime, period=period, program=program, dry_run=dry_run, settings=parts.settings
    )
    if run.sent and not dry_run:
        parts.worker.wake()
    return run


@router.get(
    "/notifications", response_model=list[Notification], responses=problem_responses(Forbidden)
)
async def list_notifications(
    session: ReadSession,
    principal: PrincipalDep,
    agency: str | None = None,
    since: Annotated[
        UtcInstant | None, Query(description="Only messages queued at or after (ISO 8601)")
    ] = None,
    limit: Annotated[int, Query(ge=1, le=5000)] = 500,
) -> list[Notification]:
    """The delivery log, newest first; an agency key sees only its own agency's letters.

    Contacts are for admins only, as everywhere: other keys see no address.
    """
    if principal.role is Role.AGENCY:
        if agency is not None:
            require_agency_access(principal, agency)
        agency = principal.agency
    rows = await repository.delivery_log(session, agency=agency, since=since, limit=limit)
    admin = principal.role is Role.ADMIN
    return [Notification.of(row, with_contacts=admin) for row in rows]
