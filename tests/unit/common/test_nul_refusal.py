"""Every answer: a NUL in a path or query value is a problem document, and security headers."""

from __future__ import annotations

import httpx
import pytest
from fastapi import FastAPI

from libs.common.errors import PROBLEM_JSON, install_problem_handlers
from libs.common.http import RequestContextMiddleware


@pytest.fixture(scope="module")
def app() -> FastAPI:
    app = FastAPI()
    install_problem_handlers(app)
    app.add_middleware(RequestContextMiddleware, service="unit")

    @app.get("/things/{id}")
    async def thing(id: str, agency: str | None = None) -> dict[str, str | None]:
        assert "\x00" not in id
        assert "\x00" not in (agency or "")
        return {"id": id, "agency": agency}

    return app


async def get(app: FastAPI, target: str) -> httpx.Response:
    transport = httpx.ASGITransport(app=app, raise_app_exceptions=False)
    async with httpx.AsyncClient(transport=transport, base_url="http://test") as client:
        return await client.get(target)


async def test_a_nul_in_the_path_is_not_found(app: FastAPI) -> None:
    response = await get(app, "/things/a%00b")
    assert response.status_code == 404
    assert response.headers["content-type"] == PROBLEM_JSON
    assert response.json()["instance"] == "/things/ab"
    assert response.headers["x-request-id"]


async def test_a_nul_in_a_query_value_names_the_parameter(app: FastAPI) -> None:
    response = await get(app, "/things/1?agency=P01%00&other=x")
    assert response.status_code == 422
    assert response.headers["content-type"] == PROBLEM_JSON
    assert response.json()["errors"] == [{"loc": ["query", "agency"], "msg": "NUL is not allowed"}]


async def test_other_requests_pass(app: FastAPI) -> None:
    response = await get(app, "/things/1?agency=P%2001")
    assert response.status_code == 200
    assert response.json() == {"id": "1", "agency": "P 01"}


async def test_every_answer_says_nosniff_and_data_runs_nothing(app: FastAPI) -> None:
    for target in ("/things/1", "/things/a%00b", "/nowhere"):
        response = await get(app, target)
        assert response.headers["x-content-type-options"] == "nosniff"
        assert response.headers["content-security-policy"].startswith("default-src 'none'")
