"""The submissions API: thin routes over ``service`` and ``batch``."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

from fastapi import Depends, File, Query, Request, Response, UploadFile

from libs.common.auth import Principal, PrincipalDep, Role
from libs.common.errors import (
    Conflict,
    Forbidden,
    InvalidInput,
    NotFound,
    PayloadTooLarge,
    ServiceUnavailable,
    problem_responses,
)
from libs.common.events import CATALOGUE_VERSION_HEADER, parse_catalogue_version, utcnow
from libs.common.service import RuntimeDep, api_router
from services.ingest import batch, service
from services.ingest.schemas import (
    BatchIn,
    BatchReport,
    Receipt,
    SubmissionIn,
    SubmissionOut,
    UploadReport,
)
from services.ingest.settings import IngestSettings
from services.ingest.sheets import SheetReader

router = api_router(tags=["submissions"])

ERRORS = problem_responses(Forbidden, Conflict, PayloadTooLarge, InvalidInput, ServiceUnavailable)
SheetFile = Annotated[
    UploadFile,
    File(
        description="CSV (UTF-8), XLSX or ODS; header row: agency, period, indicator, value, note "
        "(or Mã đơn vị/Đơn vị, Kỳ báo cáo, Mã chỉ tiêu/Chỉ tiêu, Giá trị, Ghi chú)"
    ),
]
AtomicQuery = Annotated[
    bool, Query(description="All or nothing: any bad item (row) refuses the whole request")
]


async def settings_of(request: Request) -> IngestSettings:
    settings: IngestSettings = request.app.state.ingest_settings
    return settings


SettingsDep = Annotated[IngestSettings, Depends(settings_of)]


async def committer_of(request: Request) -> service.Committer:
    committer: service.Committer = request.app.state.committer
    return committer


CommitterDep = Annotated[service.Committer, Depends(committer_of)]


async def catalogue_seen(request: Request) -> datetime | None:
    """The catalogue version the caller has seen (``x-dx-catalogue-version``), if any.

    A version from the future is taken as now: no one can make ingest wait for a change that
    has not happened.
    """
    seen = parse_catalogue_version(request.headers.get(CATALOGUE_VERSION_HEADER))
    return min(seen, utcnow()) if seen else None


SeenDep = Annotated[datetime | None, Depends(catalogue_seen)]


async def reader_of(request: Request) -> SheetReader:
    reader: SheetReader = request.app.state.sheet_reader
    return reader


ReaderDep = Annotated[SheetReader, Depends(reader_of)]


async def submitter(principal: PrincipalDep) -> Principal:
    """The caller, if its key may submit at all (the gateway refuses readers too)."""
    if principal.role is Role.READER:
        raise Forbidden("Reader keys may not submit")
    return principal


SubmitterDep = Annotated[Principal, Depends(submitter)]


@router.post("/submissions", status_code=202, response_model=Receipt, responses=ERRORS)
async def submit(
    body: SubmissionIn,
    principal: SubmitterDep,
    runtime: RuntimeDep,
    committer: CommitterDep,
    settings: SettingsDep,
    seen: SeenDep,
    response: Response,
) -> Receipt:
    """Submit an agency's values for a period; a repeat of a submission_id gets its receipt."""
    receipt = await service.submit(
        runtime, committer, principal, body, settings=settings, at_least=seen
    )
    response.headers["Location"] = receipt.status_url
    return receipt


@router.post(
    "/submissions/batch",
    response_model=BatchReport,
    response_model_exclude_none=True,
    responses=ERRORS,
)
async def submit_batch(
    body: BatchIn,
    principal: SubmitterDep,
    runtime: RuntimeDep,
    settings: SettingsDep,
    seen: SeenDep,
    atomic: AtomicQuery = False,
) -> BatchReport:
    """Submit many submissions: per-item results, or all-or-nothing with ``atomic=true``."""
    return await batch.submit_batch(
        runtime, principal, body.items, atomic=atomic, settings=settings, at_least=seen
    )


@router.post(
    "/submissions/upload",
    response_model=UploadReport,
    responses=ERRORS,
    # One sheet per request: anything more in the form is refused (400) before it is spooled.
    form_limits={"max_files": 1, "max_fields": 10},
)
async def upload(
    file: SheetFile,
    principal: SubmitterDep,
    runtime: RuntimeDep,
    reader: ReaderDep,
    settings: SettingsDep,
    seen: SeenDep,
    atomic: AtomicQuery = False,
) -> UploadReport:
    """Upload a CSV (UTF-8) or XLSX sheet, one row per value; a per-row report."""
    # Read up to just past the limit: enough to refuse a larger file without holding it all.
    data = await file.read(settings.max_upload_bytes + 1)
    return await service.upload(
        runtime, reader, principal, data, atomic=atomic, settings=settings, at_least=seen
    )


@router.get(
    "/submissions/{id}",
    response_model=SubmissionOut,
    response_model_exclude_none=True,
    responses=problem_responses(NotFound),
)
async def get_submission(id: str, principal: PrincipalDep, runtime: RuntimeDep) -> SubmissionOut:
    """A submission's status: accepted, then stored (or rejected) by the observation store."""
    return await service.find(runtime, principal, id)
