"""Ingest's work: authorise, validate, keep (see ``intake``), and answer about submissions."""

from __future__ import annotations

import asyncio
import hashlib
import logging
from collections.abc import Callable, Collection, Sequence
from datetime import datetime
from typing import cast

from sqlalchemy.ext.asyncio import AsyncSession

from libs.common.auth import Principal, Role, require_agency_access
from libs.common.db import aware
from libs.common.errors import (
    Conflict,
    Forbidden,
    InvalidInput,
    NotFound,
    PayloadTooLarge,
    ProblemItem,
    ServiceUnavailable,
)
from libs.common.events import utcnow
from libs.common.groupcommit import GroupCommitter
from libs.common.service import ServiceRuntime
from services.ingest import repository
from services.ingest.files import FileLimits, SheetRow
from services.ingest.intake import Pending, Stored, digest, keep, late, receipt
from services.ingest.metrics import BATCH_SIZE, count
from services.ingest.replica import catalogue_copy
from services.ingest.rows import agency_codes, first_rows, group_rows
from services.ingest.schemas import Receipt, Status, SubmissionIn, SubmissionOut, UploadReport
from services.ingest.settings import IngestSettings
from services.ingest.sheets import SheetReader
from services.ingest.validation import (
    Catalogue,
    Draft,
    DraftValue,
    Finding,
    Rules,
    validate,
    vietnam_day,
)

log = logging.getLogger(__name__)

Committer = GroupCommitter[Pending, Stored]

#: Who runs ``dx import``: an operator at the console, with an admin's reach.
OPERATOR = Principal(role=Role.ADMIN, key_id="operator")
CATALOGUE_POLL_SECONDS = 0.05
SETTLE_SECONDS = 1.0


def authorize(principal: Principal, agency: str, *, row: int | None = None) -> None:
    """403 unless the key may submit for ``agency`` (named in a sheet first at ``row``);
    refusals are logged with the key id."""
    try:
        require_agency_access(principal, agency)
    except Forbidden as error:
        log.warning(
            "key %s (%s, agency %s) refused: submitting for %s",
            principal.key_id,
            principal.role.value,
            principal.agency,
            agency,
            extra={"key_id": principal.key_id, "agency": agency},
        )
        count("rejected", "forbidden")
        if row is not None:
            error.errors = [ProblemItem(loc=["row", row, "agency"], msg=error.detail)]
        raise


def rules(settings: IngestSettings, now: datetime) -> Rules:
    """The validation policy at ``now``."""
    return Rules(
        today=vietnam_day(now),
        accept_open_periods=settings.accept_open_periods,
        max_values=settings.max_values,
    )


def draft_of(body: SubmissionIn) -> Draft:
    """A request body as the validation rules see it."""
    values = [DraftValue(v.indicator, v.value, v.note) for v in body.values]
    return Draft(body.agency, body.period, values)


def problems(findings: Sequence[Finding], prefix: Sequence[str | int] = ()) -> list[ProblemItem]:
    """Findings as problem items, under ``prefix`` (a batch item)."""
    return [ProblemItem(loc=[*prefix, *f.loc()], msg=f.msg) for f in findings]


def tally(stored: Stored) -> None:
    """Count a kept submission as accepted or as a repeat."""
    count("duplicate" if stored.duplicate else "accepted")


async def load(
    runtime: ServiceRuntime,
    *,
    indicators: Collection[str],
    agencies: Collection[str],
    settings: IngestSettings,
    at_least: datetime | None = None,
) -> Catalogue:
    """The replica's entries for these codes; unknown codes are judged on a settled replica.

    Right after start-up the catalogue may still be on its way from the indicators service, or
    arriving event by event (a failed batch is replayed one by one): unknown codes then mean
    "not yet", not "wrong". So while the replica is empty or changed in the last second, wait;
    past ``catalogue_wait_seconds`` answer 503, never a 422 the client would not retry. With
    ``at_least`` (a catalogue version the caller has seen: CATALOGUE_VERSION_HEADER), wait
    likewise until the replica has applied the catalogue up to that instant.
    """
    copy = catalogue_copy(runtime)
    loop = asyncio.get_running_loop()
    deadline = loop.time() + settings.catalogue_wait_seconds
    fresh = False  # the in-memory copy first; the replica itself once it does not do
    while True:
        held = await copy.get(runtime.db, fresh=fresh)
        catalogue, version = held.catalogue, held.version
        behind = at_least is not None and (version is None or version < at_least)
        if not behind:
            if set(indicators) <= catalogue.indicators.keys() and set(agencies) <= (
                catalogue.agencies.keys()
            ):
                return catalogue
            if fresh and version and (utcnow() - version).total_seconds() >= SETTLE_SECONDS:
                return catalogue
        if loop.time() >= deadline:
            raise ServiceUnavailable(
                "Ingest has not received the catalogue yet; retry shortly",
                headers={"Retry-After": "5"},
            )
        if behind and at_least is not None:
            # While the replica is behind, only its version is polled (two indexed reads);
            # the catalogue is read whole once, when it has caught up.
            await _caught_up(runtime, at_least, deadline)
        elif fresh:
            await asyncio.sleep(CATALOGUE_POLL_SECONDS)
        fresh = True


async def _caught_up(runtime: ServiceRuntime, at_least: datetime, deadline: float) -> None:
    """Return once the replica has applied the catalogue up to ``at_least``, or at ``deadline``."""
    loop = asyncio.get_running_loop()
    while loop.time() < deadline:
        async with runtime.db.read() as session:
            version = await repository.catalogue_changed_at(session)
        if version is not None and version >= at_least:
            return
        await asyncio.sleep(CATALOGUE_POLL_SECONDS)


def codes(drafts: Sequence[Draft]) -> dict[str, set[str]]:
    """The indicator and agency codes the drafts name."""
    return {
        "indicators": {v.indicator for d in drafts for v in d.values},
        "agencies": {d.agency for d in drafts},
    }


async def submit(
    runtime: ServiceRuntime,
    committer: Committer,
    principal: Principal,
    body: SubmissionIn,
    *,
    settings: IngestSettings,
    at_least: datetime | None = None,
) -> Receipt:
    """Validate and keep one submission; 202 receipt, 403, 409 or 422 listing every problem.

    Concurrent submissions share a transaction (``committer``): the receipt is given once the
    submission's own rows are committed.
    """
    authorize(principal, body.agency)
    draft = draft_of(body)
    BATCH_SIZE.observe(len(draft.values))
    received_at = utcnow()
    catalogue = await load(runtime, **codes([draft]), settings=settings, at_least=at_least)
    findings = validate(draft, catalogue, rules(settings, received_at))
    if findings:
        count("rejected", findings[0].kind)
        raise InvalidInput(
            f"{len(findings)} problem(s) in the submission", errors=problems(findings)
        )
    pending = Pending(
        draft, body.submission_id, "api", received_at, late(draft, catalogue, received_at)
    )
    try:
        kept = await committer.submit(pending)
    except Conflict:
        count("rejected", "conflict")
        raise
    tally(kept)
    return receipt(kept)


def committer(runtime: ServiceRuntime, settings: IngestSettings) -> Committer:
    """The group committer of single submissions (see ``libs.common.groupcommit``)."""

    async def work(session: AsyncSession, items: Sequence[Pending]) -> list[Stored | Exception]:
        return list(await keep(session, runtime.outbox, items))

    return GroupCommitter(
        runtime.db,
        work,
        service=runtime.name,
        max_items=settings.group_commit_items,
        max_wait=settings.group_commit_wait_ms / 1000,
    )


async def find(runtime: ServiceRuntime, principal: Principal, id: str) -> SubmissionOut:
    """A submission's state; an agency key sees only its own (404 for others, not 403)."""
    async with runtime.db.read() as session:
        row = await repository.get_submission(session, id)
    if row is None or (principal.role is Role.AGENCY and principal.agency != row.agency):
        raise NotFound(f"No submission {id}")
    return SubmissionOut(
        id=row.id,
        submission_id=row.submission_id,
        agency=row.agency,
        period=row.period,
        status=cast(Status, row.status),
        source=row.source,
        errors=[ProblemItem.model_validate(e) for e in row.errors] if row.errors else None,
        received_at=aware(row.received_at),
        stored_at=aware(row.stored_at) if row.stored_at else None,
        late=row.late,
    )


async def upload(
    runtime: ServiceRuntime,
    reader: SheetReader,
    principal: Principal,
    data: bytes,
    *,
    atomic: bool,
    settings: IngestSettings,
    at_least: datetime | None = None,
) -> UploadReport:
    """Read an uploaded CSV/XLSX/ODS (in a worker process) and submit its rows (see
    ``import_rows``)."""
    if len(data) > settings.max_upload_bytes:
        count("rejected", "too_large")
        raise PayloadTooLarge(f"the file exceeds {settings.max_upload_bytes} bytes")
    try:
        sheet = await reader.read(data, sheet_limits(settings))
    except PayloadTooLarge:
        count("rejected", "too_large")
        raise
    except InvalidInput:
        count("rejected", "unreadable_file")
        raise
    return await import_rows(
        runtime,
        sheet.rows,
        skipped=sheet.skipped,
        source="upload",
        principal=principal,
        atomic=atomic,
        batch_key=hashlib.sha256(data).hexdigest(),
        settings=settings,
        at_least=at_least,
    )


def sheet_limits(settings: IngestSettings) -> FileLimits:
    """How large a sheet the settings allow."""
    return FileLimits(
        max_rows=settings.max_request_values,
        max_uncompressed_bytes=settings.max_xlsx_uncompressed_bytes,
        max_ratio=settings.max_xlsx_ratio,
        max_cells=settings.max_xlsx_cells,
        max_shared_strings=settings.max_xlsx_shared_strings,
        max_cpu_seconds=settings.max_file_cpu_seconds,
    )


async def import_rows(
    runtime: ServiceRuntime,
    rows: Sequence[SheetRow],
    *,
    skipped: Sequence[ProblemItem] = (),
    source: str = "import",
    progress: Callable[[int, int], None] | None = None,
    principal: Principal = OPERATOR,
    atomic: bool = False,
    batch_key: str | None = None,
    settings: IngestSettings | None = None,
    at_least: datetime | None = None,
) -> UploadReport:
    """Submit sheet rows grouped by (agency, period); ``progress(rows_done, rows_total)``.

    Bad rows are reported and skipped unless ``atomic`` (then nothing is kept and the 422 lists
    every bad row). Submission ids derive from ``batch_key`` (default: the rows' digest) and
    each group's values, so importing the same file again repeats, never duplicates.
    """
    settings = settings or IngestSettings()
    if len(rows) > settings.max_request_values:
        raise PayloadTooLarge(f"more than {settings.max_request_values} rows")
    BATCH_SIZE.observe(len(rows))
    received_at = utcnow()
    async with runtime.db.read() as session:
        rows = agency_codes(rows, await repository.agency_names(session))
    catalogue = await load(
        runtime,
        indicators={r.indicator for r in rows},
        agencies={r.agency for r in rows},
        settings=settings,
        at_least=at_least,
    )
    for agency, row in first_rows(rows).items():
        authorize(principal, agency, row=row)
    groups = group_rows(rows, catalogue, rules(settings, received_at))
    errors = sorted(
        (item for group in groups for item in group.errors), key=lambda item: int(item.loc[1])
    )
    for group in groups:
        if group.accepted is None and group.errors:
            count("rejected", group.findings[0].kind if group.findings else "bad_value")
    if atomic and errors:
        raise InvalidInput(f"{len(errors)} problem(s) in the file", errors=errors)
    rejected = {n for group in groups for n in group.rejected_rows}
    key = batch_key or hashlib.sha256(repr(rows).encode()).hexdigest()
    drafts = [group.accepted for group in groups if group.accepted is not None]
    chunk = max(len(drafts), 1) if atomic else settings.import_chunk
    ids: list[str] = []
    done = len(rejected)  # progress counts rows dealt with, refused ones included
    if progress is not None:
        progress(done, len(rows))
    for start in range(0, len(drafts), chunk):
        part = [
            Pending(
                draft,
                # The file and the values name the submission: the same file again repeats.
                f"{source}:{key[:16]}:{digest(draft)[:16]}",
                source,
                received_at,
                late(draft, catalogue, received_at),
            )
            for draft in drafts[start : start + chunk]
        ]
        async with runtime.db.transaction() as session:
            kept = await keep(session, runtime.outbox, part)
        for stored in kept:
            if isinstance(stored, Conflict):  # digests name the values: never for a file
                raise stored
            tally(stored)
            ids.append(stored.submission.id)
        done += sum(len(item.draft.values) for item in part)
        if progress is not None:
            progress(done, len(rows))
    return UploadReport(
        accepted_rows=len(rows) - len(rejected),
        rejected_rows=len(rejected),
        submissions=ids,
        errors=errors,
        skipped=list(skipped),
    )
