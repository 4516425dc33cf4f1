"""The submissions API: thin routes over ``service`` and ``batch``."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import Depends, Query, Request, Response
from starlette.datastructures import UploadFile

from libs.common.auth import Principal, PrincipalDep, Role
from libs.common.errors import Forbidden, InvalidInput, Problem, ProblemItem
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

router = api_router(tags=["submissions"])

ERRORS: dict[int | str, dict[str, Any]] = {
    status: {"model": Problem, "content": {"application/problem+json": {}}}
    for status in (403, 409, 413, 422)
}
UPLOAD_BODY: dict[str, Any] = {
    "requestBody": {
        "required": True,
        "content": {
            "multipart/form-data": {
                "schema": {
                    "type": "object",
                    "required": ["file"],
                    "properties": {
                        "file": {
                            "type": "string",
                            "format": "binary",
                            "description": "CSV (UTF-8) or XLSX; header row: agency, period, "
                            "indicator, value, note (or Mã đơn vị/Đơn vị, Kỳ báo cáo, "
                            "Mã chỉ tiêu/Chỉ tiêu, Giá trị, Ghi chú)",
                        }
                    },
                }
            }
        },
    }
}
AtomicQuery = Annotated[
    bool, Query(description="All or nothing: any bad item (row) refuses the whole request")
]


def settings_of(request: Request) -> IngestSettings:
    settings: IngestSettings = request.app.state.ingest_settings
    return settings


SettingsDep = Annotated[IngestSettings, Depends(settings_of)]


def submitter(principal: PrincipalDep) -> Principal:
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
    settings: SettingsDep,
    response: Response,
) -> Receipt:
    """Submit an agency's values for a period; a repeat of a submission_id gets its receipt."""
    receipt = await service.submit(runtime, principal, body, settings=settings)
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
    atomic: AtomicQuery = False,
) -> BatchReport:
    """Submit many submissions: per-item results, or all-or-nothing with ``atomic=true``."""
    return await batch.submit_batch(
        runtime, principal, body.items, atomic=atomic, settings=settings
    )


@router.post(
    "/submissions/upload", response_model=UploadReport, responses=ERRORS, openapi_extra=UPLOAD_BODY
)
async def upload(
    request: Request,
    principal: SubmitterDep,
    runtime: RuntimeDep,
    settings: SettingsDep,
    atomic: AtomicQuery = False,
) -> UploadReport:
    """Upload a CSV (UTF-8) or XLSX sheet, one row per value; a per-row report."""
    data = await uploaded_file(request, settings)
    return await service.upload(runtime, principal, data, atomic=atomic, settings=settings)


async def uploaded_file(request: Request, settings: IngestSettings) -> bytes:
    """The ``file`` field of a multipart body, read up to just past the size limit."""
    # Parsed here, not by a File() parameter: FastAPI would parse the form before the gateway
    # signature check and leave it no body to check (the check keeps a copy the form reads).
    form = await request.form(max_files=1, max_fields=10)
    try:
        file = form.get("file")
        if not isinstance(file, UploadFile):
            message = "a multipart/form-data field `file` holding the sheet is required"
            raise InvalidInput(message, errors=[ProblemItem(loc=["file"], msg=message)])
        return await file.read(settings.max_upload_bytes + 1)
    finally:
        await form.close()


@router.get(
    "/submissions/{id}",
    response_model=SubmissionOut,
    response_model_exclude_none=True,
    responses={404: ERRORS[403]},
)
async def get_submission(id: str, principal: PrincipalDep, runtime: RuntimeDep) -> SubmissionOut:
    """A submission's status: accepted, then stored (or rejected) by the observation store."""
    return await service.find(runtime, principal, id)
