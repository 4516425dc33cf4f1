"""The gateway's contract: 401/403/429, keys, signatures, merged OpenAPI."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from libs.common.auth import Principal, Role, sign_request
from tests.support.platform import embedded_platform, embedded_settings, forwarded_to_services

pytestmark = pytest.mark.e2e


@pytest.fixture
async def client(tmp_path: Path) -> AsyncIterator[httpx.AsyncClient]:
    async with embedded_platform(embedded_settings(tmp_path)) as admin:
        yield admin


async def issue(client: httpx.AsyncClient, **body: object) -> str:
    response = await client.post("/api/v1/keys", json={"label": "test", **body})
    assert response.status_code == 201, response.text
    key: str = response.json()["key"]
    return key


@pytest.mark.parametrize(
    "authorization",
    [None, "Bearer", "Bearer nonsense", "Basic dXNlcjpwYXNz", "Bearer dx_abc_def"],
)
async def test_unauthenticated_calls_get_401_and_never_reach_a_service(
    client: httpx.AsyncClient, authorization: str | None
) -> None:
    before = forwarded_to_services()
    headers = {"Authorization": authorization} if authorization else {}
    client.headers.pop("Authorization", None)
    response = await client.get("/api/v1/agencies", headers=headers)
    assert response.status_code == 401
    assert response.headers["content-type"] == "application/problem+json"
    assert response.json()["status"] == 401
    assert forwarded_to_services() == before


async def test_issued_keys_authenticate_until_revoked(client: httpx.AsyncClient) -> None:
    key = await issue(client, role="reader")
    as_reader = {"Authorization": f"Bearer {key}"}
    assert (await client.get("/api/v1/keys", headers=as_reader)).status_code == 403
    key_id = key.split("_")[1]
    listed = (await client.get("/api/v1/keys")).json()
    assert [k["key_id"] for k in listed] == [key_id]
    assert "key" not in listed[0]
    assert "key_hash" not in listed[0]
    assert (await client.delete(f"/api/v1/keys/{key_id}")).status_code == 204
    assert (await client.get("/api/v1/keys", headers=as_reader)).status_code == 401


async def test_the_bootstrap_token_is_revoked_for_good(client: httpx.AsyncClient) -> None:
    admin = {"Authorization": f"Bearer {await issue(client, role='admin')}"}
    assert (await client.delete("/api/v1/keys/bootstrap")).status_code == 204
    refused = await client.get("/api/v1/keys")
    assert refused.status_code == 401
    assert "revoked" in refused.json()["detail"]
    listed = (await client.get("/api/v1/keys", headers=admin)).json()
    assert {(k["key_id"], k["revoked"]) for k in listed} >= {("bootstrap", True)}


async def test_readers_cannot_write(client: httpx.AsyncClient) -> None:
    key = await issue(client, role="reader")
    before = forwarded_to_services()
    response = await client.post(
        "/api/v1/submissions", json={}, headers={"Authorization": f"Bearer {key}"}
    )
    assert response.status_code == 403
    assert forwarded_to_services() == before


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"role": "agency"}, "agency"),
        ({"role": "reader", "agency": "P01"}, "agency"),
        ({"role": "owner"}, "role"),
        ({"role": "reader", "rate_limit_per_minute": 2**63}, "rate_limit_per_minute"),  # was 500
    ],
)
async def test_bad_key_requests_are_422_naming_the_field(
    client: httpx.AsyncClient, body: dict[str, object], field: str
) -> None:
    response = await client.post("/api/v1/keys", json={"label": "x", **body})
    assert response.status_code == 422
    assert field in response.text


async def test_rate_limit_gives_429_with_retry_after(client: httpx.AsyncClient) -> None:
    key = await issue(client, role="reader", rate_limit_per_minute=3)
    headers = {"Authorization": f"Bearer {key}"}
    statuses = [
        (await client.get("/api/v1/agencies", headers=headers)).status_code for _ in range(4)
    ]
    assert 429 not in statuses[:3]
    limited = await client.get("/api/v1/agencies", headers=headers)
    assert limited.status_code == 429
    assert int(limited.headers["retry-after"]) >= 1
    assert limited.headers["content-type"] == "application/problem+json"


async def test_services_refuse_calls_the_gateway_did_not_sign(client: httpx.AsyncClient) -> None:
    service_app = client.app.state.services["indicators"]  # type: ignore[attr-defined]
    transport = httpx.ASGITransport(app=service_app, raise_app_exceptions=False)
    async with httpx.AsyncClient(transport=transport, base_url="http://indicators") as direct:
        assert (await direct.get("/api/v1/agencies")).status_code == 401
        forged = sign_request(
            "not-the-secret",
            method="GET",
            target="/api/v1/agencies",
            principal=Principal(Role.ADMIN, "forged"),
            body=b"",
        )
        assert (await direct.get("/api/v1/agencies", headers=forged)).status_code == 401
        tampered = sign_request(
            "test-internal-secret",
            method="GET",
            target="/api/v1/agencies",
            principal=Principal(Role.READER, "r"),
            body=b"",
        )
        tampered["x-dx-principal"] = "admin;;r"
        assert (await direct.get("/api/v1/agencies", headers=tampered)).status_code == 401
        signed = sign_request(
            "test-internal-secret",
            method="GET",
            target="/api/v1/agencies",
            principal=Principal(Role.READER, "r"),
            body=b"",
        )
        assert (await direct.get("/api/v1/agencies", headers=signed)).status_code == 200
        replayed = await direct.get("/api/v1/agencies", headers=signed)
        assert replayed.status_code == 401
        assert "replay" in replayed.json()["detail"]
        assert (await direct.get("/api/v1/no-such-thing")).status_code == 401
        for public in ("/healthz", "/readyz", "/metrics", "/openapi.json"):
            assert (await direct.get(public)).status_code == 200, public


async def test_odd_paths_reach_the_service_that_owns_them(client: httpx.AsyncClient) -> None:
    # Once a 500 (the gateway's HTTP client refused the path), a 404 from the gateway's router
    # (a newline), or a 401 (".." resolved on the way, so the signature no longer matched).
    reader = {"Authorization": f"Bearer {await issue(client, role='reader')}"}
    for encoded, code in [("%13", "\x13"), ("a%0Ab", "a\nb"), ("%2E%2E", ".."), ("a%3Fb", "a?b")]:
        response = await client.get(f"/api/v1/agencies/{encoded}")
        assert response.status_code == 404, response.text
        assert response.headers["content-type"] == "application/problem+json"
        assert response.json()["detail"] == f"No agency {code}"
        refused = await client.put(f"/api/v1/agencies/{encoded}", json={}, headers=reader)
        assert refused.status_code == 403, refused.text


async def test_admin_operations_refuse_other_keys_before_reading_the_body(
    client: httpx.AsyncClient,
) -> None:
    agency = {"Authorization": f"Bearer {await issue(client, role='agency', agency='P01')}"}
    for method, path in [
        ("POST", "/api/v1/keys"),
        ("PUT", "/api/v1/agencies/P02"),
        ("PUT", "/api/v1/populations/pilot"),
        ("PUT", "/api/v1/indicators/KH2023-01"),
        ("PUT", "/api/v1/assessments/KH2023-01/2023-S1"),
        ("POST", "/api/v1/notifications/reminders/run"),  # its required query is missing too
    ]:
        response = await client.request(method, path, json={"not": "valid"}, headers=agency)
        assert response.status_code == 403, f"{method} {path}: {response.text}"


async def test_the_gateways_own_bodies_are_limited_too(tmp_path: Path) -> None:
    # FastAPI reads a JSON body whole before authenticating: without a limit, any size.
    async with embedded_platform(embedded_settings(tmp_path, max_body_bytes=1024)) as admin:
        body = json.dumps({"role": "reader", "label": "x" * 2000}).encode()

        async def chunks() -> AsyncIterator[bytes]:  # no Content-Length: counted as it comes
            yield body

        json_type = {"content-type": "application/json"}
        for content in (body, chunks()):
            response = await admin.post("/api/v1/keys", content=content, headers=json_type)
            assert response.status_code == 413, response.text
            assert response.headers["content-type"] == "application/problem+json"
        small = await admin.post("/api/v1/keys", json={"role": "reader", "label": "ok"})
        assert small.status_code == 201, small.text


async def test_merged_openapi_is_public_and_lists_every_service(client: httpx.AsyncClient) -> None:
    client.headers.pop("Authorization", None)
    response = await client.get("/api/v1/openapi.json")
    assert response.status_code == 200
    document = response.json()
    assert "/api/v1/keys" in document["paths"]
    assert document["components"]["securitySchemes"]["bearer"]["scheme"] == "bearer"


async def test_the_indicator_endpoints_are_typed(client: httpx.AsyncClient) -> None:
    document = (await client.get("/api/v1/openapi.json")).json()

    def answer(path: str, method: str = "get") -> dict[str, Any]:
        found: dict[str, Any] = document["paths"][path][method]["responses"]["200"]["content"]
        schema: dict[str, Any] = found["application/json"]["schema"]
        return schema

    indicator = {"$ref": "#/components/schemas/Indicator"}
    assert answer("/api/v1/indicators")["items"] == indicator
    assert answer("/api/v1/indicators/{code}") == indicator
    assert answer("/api/v1/indicators/{code}", "put") == indicator
    fields = document["components"]["schemas"]["Indicator"]["properties"]
    assert {"code", "name_vi", "name_en", "targets", "reporting", "population"} <= set(fields)


async def test_operations_endpoints(client: httpx.AsyncClient) -> None:
    assert (await client.get("/healthz")).json()["status"] == "ok"
    ready = await client.get("/readyz")
    assert ready.status_code == 200, ready.text
    metrics = await client.get("/metrics")
    assert "dx_http_requests_total" in metrics.text


async def test_not_ready_on_a_full_disk(client: httpx.AsyncClient) -> None:
    settings = client.app.state.services["ingest"].state.runtime.settings  # type: ignore[attr-defined]
    free = settings.min_free_disk_bytes
    settings.min_free_disk_bytes = 2**62  # more than any disk has free: the disk is "full"
    try:
        ready = await client.get("/readyz")
    finally:
        settings.min_free_disk_bytes = free
    assert ready.status_code == 503
    assert "bytes free on the disk" in ready.json()["checks"]["ingest"]
    assert (await client.get("/readyz")).status_code == 200


async def test_no_key_for_an_agency_the_catalogue_does_not_know(client: httpx.AsyncClient) -> None:
    response = await client.post(
        "/api/v1/keys", json={"role": "agency", "agency": "P999", "label": "typo"}
    )
    assert response.status_code == 422, response.text
    assert response.json()["errors"][0]["loc"] == ["agency"]
    assert await issue(client, role="agency", agency="P01")
