"""RFC 9457 problem details: one error base, one renderer."""

from __future__ import annotations

import json
import logging
from collections.abc import Mapping, Sequence
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from pydantic import BaseModel, Field
from starlette.exceptions import HTTPException as StarletteHTTPException

from libs.common.db import DATABASE_ERRORS, unavailable
from libs.common.settings import get_settings

PROBLEM_JSON = "application/problem+json"
PROBLEM_BASE = "https://dx-tracker.gov.vn/problems/"

log = logging.getLogger(__name__)


class ProblemItem(BaseModel):
    """One thing wrong with the input: where (``loc``, with the row for batches) and what."""

    loc: list[str | int]
    msg: str


class Problem(BaseModel):
    """The body of every error response."""

    type: str
    title: str
    status: int
    detail: str
    instance: str | None = None
    errors: list[ProblemItem] | None = None
    error_count: int | None = Field(
        None, description="How many problems there are, when `errors` lists only the first ones"
    )


def bounded(errors: Sequence[ProblemItem] | None) -> dict[str, Any]:
    """``errors`` and ``error_count`` of a problem: the first ``DX_MAX_PROBLEMS`` and the count.

    A body with half a million bad values must not get an answer larger than itself.
    """
    if errors is None:
        return {}
    limit = get_settings().max_problems
    if len(errors) <= limit:
        return {"errors": list(errors)}
    return {"errors": list(errors[:limit]), "error_count": len(errors)}


class ProblemError(Exception):
    """A business error with a real status code; rendered as problem+json."""

    status: int = 400
    slug: str = "bad-request"
    title: str = "Bad request"

    def __init__(
        self,
        detail: str,
        *,
        errors: Sequence[ProblemItem] | None = None,
        headers: dict[str, str] | None = None,
    ) -> None:
        super().__init__(detail)
        self.detail = detail
        self.errors = list(errors) if errors is not None else None
        self.headers = headers or {}

    def __reduce__(self) -> tuple[Any, ...]:
        # Raised in a worker process (reading a sheet), it crosses back whole: detail, errors
        # and headers, not only the message Exception's own pickling keeps.
        return (_rebuilt, (type(self), self.detail, self.errors, self.headers))

    def to_problem(self, instance: str | None = None) -> Problem:
        """The problem document for this error."""
        return Problem(
            type=PROBLEM_BASE + self.slug,
            title=self.title,
            status=self.status,
            detail=self.detail,
            instance=instance,
            **bounded(self.errors),
        )


def _rebuilt(
    kind: type[ProblemError],
    detail: str,
    errors: list[ProblemItem] | None,
    headers: dict[str, str],
) -> ProblemError:
    return kind(detail, errors=errors, headers=headers)


class Unauthorized(ProblemError):
    status, slug, title = 401, "unauthorized", "Missing or invalid API key"


class Forbidden(ProblemError):
    status, slug, title = 403, "forbidden", "Not allowed for this key"


class NotFound(ProblemError):
    status, slug, title = 404, "not-found", "Not found"


class Conflict(ProblemError):
    status, slug, title = 409, "conflict", "Conflicts with the current state"


class PayloadTooLarge(ProblemError):
    status, slug, title = 413, "payload-too-large", "Request too large"


class RequestTimeout(ProblemError):
    status, slug, title = 408, "request-timeout", "The request took too long to arrive"


class InvalidInput(ProblemError):
    status, slug, title = 422, "validation", "The input is not valid"


class ClientGone(ProblemError):
    """The client disconnected mid-request; nobody reads the answer (nginx's 499)."""

    status, slug, title = 499, "client-closed-request", "The client closed the request"


class RateLimited(ProblemError):
    status, slug, title = 429, "rate-limited", "Too many requests"


class ServiceUnavailable(ProblemError):
    status, slug, title = 503, "unavailable", "A backing service is unavailable"


def problem_responses(*errors: type[ProblemError]) -> dict[int | str, dict[str, Any]]:
    """OpenAPI ``responses`` of an endpoint for the errors it answers with (see
    ``document_problems`` for their content)."""
    return {error.status: {"description": error.title} for error in errors}


def document_problems(document: dict[str, Any]) -> dict[str, Any]:
    """Describe every error response of an OpenAPI document as the problem+json it is.

    FastAPI documents its validation errors as its own JSON shape; here they, and every other
    4xx and 5xx, answer a ``Problem`` with the problem+json media type (see the handlers below).
    The 400 FastAPI answers for a body it cannot parse (JSON that is not UTF-8, a broken form)
    is added to every operation taking a body.
    """
    for item in document.get("paths", {}).values():
        for operation in item.values():
            responses = operation.setdefault("responses", {})
            if "requestBody" in operation:
                responses.setdefault("400", {"description": "The body cannot be parsed"})
            for status, response in responses.items():
                if str(status)[:1] in ("4", "5"):
                    response["content"] = {
                        PROBLEM_JSON: {"schema": {"$ref": "#/components/schemas/Problem"}}
                    }
    schemas: dict[str, Any] = document.setdefault("components", {}).setdefault("schemas", {})
    problem = Problem.model_json_schema(ref_template="#/components/schemas/{model}")
    schemas.update(problem.pop("$defs", {}), Problem=problem)
    for unused in ("HTTPValidationError", "ValidationError"):  # FastAPI's, if now unreferenced
        rest = {name: schema for name, schema in schemas.items() if name != unused}
        if f'"#/components/schemas/{unused}"' not in json.dumps([document["paths"], rest]):
            schemas.pop(unused, None)
    return document


def problem_response(problem: Problem, headers: dict[str, str] | None = None) -> JSONResponse:
    """Render a problem document with its media type."""
    return JSONResponse(
        problem.model_dump(exclude_none=True),
        status_code=problem.status,
        media_type=PROBLEM_JSON,
        headers=headers,
    )


def validation_items(errors: Sequence[Any]) -> list[ProblemItem]:
    """Turn pydantic/FastAPI error dicts into problem items."""
    items = []
    for error in errors:
        loc = [part for part in error.get("loc", ()) if part != "body"] or ["body"]
        items.append(
            ProblemItem(
                loc=[p if isinstance(p, int) else str(p) for p in loc],
                msg=str(error.get("msg", "invalid")),
            )
        )
    return items


def install_problem_handlers(app: FastAPI) -> None:
    """Make every error of the app a problem+json response; a 500 is a logged bug.

    A database out of reach is no bug: the request is answered 503 with ``Retry-After``, so
    clients retry (a submission under the same ``submission_id``) once it is back.
    """

    async def on_problem(request: Request, exc: Exception) -> JSONResponse:
        assert isinstance(exc, ProblemError)
        return problem_response(exc.to_problem(request.url.path), exc.headers)

    async def on_validation(request: Request, exc: Exception) -> JSONResponse:
        assert isinstance(exc, RequestValidationError)
        error = InvalidInput(
            "The request does not match the schema", errors=validation_items(exc.errors())
        )
        return problem_response(error.to_problem(request.url.path))

    async def on_http(request: Request, exc: Exception) -> JSONResponse:
        assert isinstance(exc, StarletteHTTPException)
        problem = Problem(
            type=PROBLEM_BASE + f"http-{exc.status_code}",
            title=str(exc.detail),
            status=exc.status_code,
            detail=str(exc.detail),
            instance=request.url.path,
        )
        return problem_response(problem, dict(exc.headers or {}))

    async def on_crash(request: Request, exc: Exception) -> JSONResponse:
        log.exception("unhandled error on %s %s", request.method, request.url.path)
        problem = Problem(
            type=PROBLEM_BASE + "internal",
            title="Internal error",
            status=500,
            detail="The server failed; the error was logged with the request id",
            instance=request.url.path,
        )
        return problem_response(problem)

    async def on_database(request: Request, exc: Exception) -> JSONResponse:
        if not unavailable(exc):
            return await on_crash(request, exc)
        log.warning("database unavailable on %s %s: %r", request.method, request.url.path, exc)
        error = ServiceUnavailable(
            "The database is unavailable; retry later", headers={"Retry-After": "5"}
        )
        return problem_response(error.to_problem(request.url.path), error.headers)

    generate = app.openapi

    def openapi() -> dict[str, Any]:
        if app.openapi_schema is None:
            app.openapi_schema = document_problems(generate())
        return app.openapi_schema

    app.openapi = openapi  # type: ignore[method-assign]
    app.add_exception_handler(ProblemError, on_problem)
    app.add_exception_handler(RequestValidationError, on_validation)
    app.add_exception_handler(StarletteHTTPException, on_http)
    for database_error in DATABASE_ERRORS:
        app.add_exception_handler(database_error, on_database)
    app.add_exception_handler(Exception, on_crash)


def check_echoed(
    sent: Mapping[str, object],
    *,
    keys: Mapping[str, object] | None = None,
    read_only: Mapping[str, object] | None = None,
) -> None:
    """A PUT body may carry what a GET gave (so a resource round-trips), but must not contradict it.

    ``keys`` are the identifiers the path gives (``code``); ``read_only`` the fields the server
    derives (``predecessors``, ``resolved``). Each one ``sent`` (not ``None``) must equal the
    server's value, else 422 naming every field that disagrees.
    """
    problems = [
        ProblemItem(loc=["body", field], msg=f"the path says {value!r}, the body {sent[field]!r}")
        for field, value in (keys or {}).items()
        if sent.get(field) is not None and sent[field] != value
    ]
    problems += [
        ProblemItem(
            loc=["body", field],
            msg=f"read-only: it is {value!r}, not {sent[field]!r}; leave it out or send it as is",
        )
        for field, value in (read_only or {}).items()
        if sent.get(field) is not None and sent[field] != value
    ]
    if problems:
        fields = ", ".join(str(p.loc[-1]) for p in problems)
        raise InvalidInput(f"The body contradicts the resource: {fields}", errors=problems)
