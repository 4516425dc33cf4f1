"""What every answer gets: a NUL in a path or query value of a signed call is a problem document
(before any database sees it, after the signature), and security headers."""

from __future__ import annotations

from urllib.parse import urlsplit

import httpx
import pytest
from fastapi import FastAPI

from libs.common.auth import Principal, Role, sign_request
from libs.common.errors import PROBLEM_JSON, install_problem_handlers
from libs.common.http import GatewaySignatureMiddleware, RequestContextMiddleware
from libs.common.settings import Settings

SECRET = "unit-test-secret"


@pytest.fixture(scope="module")
def app() -> FastAPI:
    app = FastAPI()
    install_problem_handlers(app)
    settings = Settings(internal_secret=SECRET)
    app.add_middleware(GatewaySignatureMiddleware, settings=settings, prefix="/api/")
    app.add_middleware(RequestContextMiddleware, service="unit")

    @app.get("/api/things/{id}")
    async def thing(id: str, agency: str | None = None) -> dict[str, str | None]:
        assert "\x00" not in id
        assert "\x00" not in (agency or "")
        return {"id": id, "agency": agency}

    return app


async def get(app: FastAPI, target: str, *, signed: bool = True) -> httpx.Response:
    parts = urlsplit(target)
    path = parts.path.replace("%00", "\x00")
    headers = (
        sign_request(
            SECRET,
            method="GET",
            target=path + (f"?{parts.query}" if parts.query else ""),
            principal=Principal(Role.READER, "r"),
            body=b"",
        )
        if signed
        else {}
    )
    transport = httpx.ASGITransport(app=app, raise_app_exceptions=False)
    async with httpx.AsyncClient(transport=transport, base_url="http://test") as client:
        return await client.get(target, headers=headers)


async def test_a_nul_in_the_path_is_not_found(app: FastAPI) -> None:
    response = await get(app, "/api/things/a%00b")
    assert response.status_code == 404
    assert response.headers["content-type"] == PROBLEM_JSON
    assert response.json()["instance"] == "/api/things/ab"
    assert response.headers["x-request-id"]


async def test_a_nul_in_a_query_value_names_the_parameter(app: FastAPI) -> None:
    response = await get(app, "/api/things/1?agency=P01%00&other=x")
    assert response.status_code == 422
    assert response.headers["content-type"] == PROBLEM_JSON
    assert response.json()["errors"] == [{"loc": ["query", "agency"], "msg": "NUL is not allowed"}]


async def test_an_unsigned_call_is_refused_first(app: FastAPI) -> None:
    assert (await get(app, "/api/things/1?agency=%00", signed=False)).status_code == 401


async def test_other_requests_pass(app: FastAPI) -> None:
    response = await get(app, "/api/things/1?agency=P%2001")
    assert response.status_code == 200
    assert response.json() == {"id": "1", "agency": "P 01"}


async def test_every_answer_says_nosniff_and_data_runs_nothing(app: FastAPI) -> None:
    for target in ("/api/things/1", "/api/things/a%00b", "/nowhere"):
        response = await get(app, target)
        assert response.headers["x-content-type-options"] == "nosniff"
        assert response.headers["content-security-policy"].startswith("default-src 'none'")
