"""A database out of reach is answered 503 with Retry-After; any other database error is a 500."""

from __future__ import annotations

import httpx
import pytest
from fastapi import FastAPI
from sqlalchemy.exc import DBAPIError, IntegrityError, OperationalError
from sqlalchemy.exc import TimeoutError as PoolTimeout

from libs.common.db import DatabaseUnavailable
from libs.common.errors import PROBLEM_JSON, install_problem_handlers

CAUSE = Exception("driver error")
ERRORS: dict[str, Exception] = {
    "refused": DatabaseUnavailable("cannot connect to the database: ConnectionRefusedError()"),
    "lost": DBAPIError("COMMIT", {}, CAUSE, connection_invalidated=True),
    "locked": OperationalError("INSERT", {}, Exception("database is locked")),
    "pool": PoolTimeout("QueuePool limit of size 4 overflow 4 reached"),
    "duplicate": IntegrityError("INSERT", {}, CAUSE),
    "driver": DBAPIError("SELECT", {}, CAUSE),
}


@pytest.fixture(scope="module")
def app() -> FastAPI:
    app = FastAPI()
    install_problem_handlers(app)

    @app.get("/fail/{name}")
    async def fail(name: str) -> None:
        raise ERRORS[name]

    return app


@pytest.mark.parametrize(
    ("name", "status"),
    [
        ("refused", 503),
        ("lost", 503),
        ("locked", 503),
        ("pool", 503),
        ("duplicate", 500),
        ("driver", 500),
    ],
)
async def test_database_errors_are_problems(app: FastAPI, name: str, status: int) -> None:
    transport = httpx.ASGITransport(app=app, raise_app_exceptions=False)
    async with httpx.AsyncClient(transport=transport, base_url="http://test") as client:
        response = await client.get(f"/fail/{name}")
    assert response.status_code == status
    assert response.headers["content-type"] == PROBLEM_JSON
    assert response.json()["status"] == status
    assert ("retry-after" in response.headers) is (status == 503)
