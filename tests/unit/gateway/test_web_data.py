"""The dashboard's service reader: signed exactly as services check, and quiet on failures."""

from __future__ import annotations

import json

import httpx
import pytest
from fastapi import FastAPI, Request

from libs.common.auth import PrincipalDep
from libs.common.errors import install_problem_handlers
from libs.common.http import GatewaySignatureMiddleware
from libs.common.settings import Settings
from services.gateway.routing import Upstreams
from services.gateway.web import data
from services.gateway.web.data import READER, ServiceReader, query_target

SECRET = "unit-test-secret"


def signed_service() -> FastAPI:
    """A service answering who the gateway vouched for and the query it saw."""
    app = FastAPI()
    install_problem_handlers(app)
    app.add_middleware(
        GatewaySignatureMiddleware, settings=Settings(internal_secret=SECRET), prefix="/api/"
    )

    @app.get("/api/v1/indicators")
    async def whoami(request: Request, principal: PrincipalDep) -> dict[str, object]:
        return {
            "role": principal.role.value,
            "key": principal.key_id,
            "query": sorted(request.query_params.multi_items()),
        }

    return app


def reader_of(clients: dict[str, httpx.AsyncClient], secret: str = SECRET) -> ServiceReader:
    return ServiceReader(Upstreams(clients, secret=secret))


def asgi(app: FastAPI, name: str) -> httpx.AsyncClient:
    return httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url=f"http://{name}")


def answering(status: int, body: object = None, *, raw: bytes | None = None) -> httpx.AsyncClient:
    content = raw if raw is not None else json.dumps(body).encode()
    transport = httpx.MockTransport(lambda request: httpx.Response(status, content=content))
    return httpx.AsyncClient(transport=transport, base_url="http://svc")


@pytest.mark.parametrize(
    ("params", "expected"),
    [
        pytest.param(None, "/p", id="no-query"),
        pytest.param({"a": None, "b": ""}, "/p?b=", id="none-dropped-empty-kept"),
        pytest.param(
            {"scope": "population:pilot 40"}, "/p?scope=population%3Apilot+40", id="quoted"
        ),
        pytest.param(
            {"scope": ["agency", "national"]}, "/p?scope=agency&scope=national", id="list"
        ),
        pytest.param({"n": 3, "v": "Hà Nội"}, "/p?n=3&v=H%C3%A0+N%E1%BB%99i", id="utf8"),
    ],
)
def test_query_target(params: dict[str, object] | None, expected: str) -> None:
    assert query_target("/p", params) == expected  # type: ignore[arg-type]


async def test_calls_are_signed_as_the_dashboards_reader_and_the_service_accepts_them() -> None:
    reader = reader_of({"indicators": asgi(signed_service(), "indicators")})
    answer = await reader.get(
        "/api/v1/indicators", {"program": "KH2023", "scope": "population:pilot 40", "x": "Đà Nẵng"}
    )
    assert answer == {
        "role": "reader",
        "key": READER.key_id,
        "query": [["program", "KH2023"], ["scope", "population:pilot 40"], ["x", "Đà Nẵng"]],
    }
    assert reader.unavailable == set()


async def test_a_wrongly_signed_call_is_refused_and_reads_as_no_data() -> None:
    reader = reader_of({"indicators": asgi(signed_service(), "indicators")}, secret="other")
    assert await reader.get("/api/v1/indicators") is None


@pytest.mark.parametrize(
    ("client", "unavailable"),
    [
        pytest.param(answering(404, {"title": "Not Found"}), set(), id="404-is-no-data"),
        pytest.param(answering(422, {"title": "Bad"}), set(), id="422-is-no-data"),
        pytest.param(answering(503, {"title": "Down"}), {"scoring"}, id="5xx-is-unavailable"),
        pytest.param(answering(200, raw=b"<html>"), set(), id="not-json"),
    ],
)
async def test_failures_become_none(client: httpx.AsyncClient, unavailable: set[str]) -> None:
    reader = reader_of({"scoring": client})
    assert await reader.get("/api/v1/scores", {"period": "2023-S1"}) is None
    assert await reader.records("/api/v1/rankings") == []
    assert reader.unavailable == unavailable


async def test_an_unreachable_service_is_named() -> None:
    def refuse(request: httpx.Request) -> httpx.Response:
        raise httpx.ConnectError("refused", request=request)

    client = httpx.AsyncClient(transport=httpx.MockTransport(refuse), base_url="http://notify")
    reader = reader_of({"notify": client})
    assert await reader.records("/api/v1/notifications", {"agency": "P01"}) == []
    assert reader.unavailable == {"notify"}


async def test_codes_from_page_urls_stay_one_path_segment() -> None:
    seen: list[str] = []

    def record(request: httpx.Request) -> httpx.Response:
        seen.append(str(request.url.raw_path, "ascii"))
        return httpx.Response(404, json={})

    client = httpx.AsyncClient(transport=httpx.MockTransport(record), base_url="http://i")
    reader = reader_of({"indicators": client})
    assert await data.indicator(reader, "KH2023-01?x=1") is None
    assert await data.agency(reader, "../keys") is None
    assert seen == ["/api/v1/indicators/KH2023-01%3Fx%3D1", "/api/v1/agencies/..%2Fkeys"]


async def test_records_and_record_keep_only_the_expected_shape() -> None:
    reader = reader_of({"indicators": answering(200, [{"code": "A"}, "stray", 3])})
    assert await reader.records("/api/v1/agencies") == [{"code": "A"}]
    assert await reader.record("/api/v1/agencies/A") is None
