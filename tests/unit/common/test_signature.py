"""Services let in only what the gateway signed: method, path, query and body, within a size."""

from __future__ import annotations

import time
from collections.abc import AsyncIterator
from typing import Annotated

import httpx
import pytest
from fastapi import FastAPI, File, Form, UploadFile

from libs.common.auth import (
    SIGNATURE_MAX_AGE_SECONDS,
    SIGNED_AT_HEADER,
    NonceWindow,
    Principal,
    PrincipalDep,
    Role,
    sign_request,
)
from libs.common.errors import PROBLEM_JSON, install_problem_handlers
from libs.common.http import GatewaySignatureMiddleware
from libs.common.settings import Settings

SECRET = "unit-test-secret"
LIMIT = 4096


def service(*, checked: bool = True) -> FastAPI:
    """An upload endpoint taking FastAPI form parameters, behind the signature check."""
    app = FastAPI()
    install_problem_handlers(app)
    if checked:
        settings = Settings(internal_secret=SECRET, max_body_bytes=LIMIT)
        app.add_middleware(GatewaySignatureMiddleware, settings=settings, prefix="/api/")

    @app.post("/api/v1/upload")
    async def upload(
        principal: PrincipalDep, file: Annotated[UploadFile, File()], note: Annotated[str, Form()]
    ) -> dict[str, object]:
        return {"who": principal.key_id, "size": len(await file.read()), "note": note}

    @app.get("/healthz")
    async def healthz() -> dict[str, str]:
        return {"status": "ok"}

    return app


def form(size: int, *, target: str = "/api/v1/upload") -> tuple[bytes, dict[str, str]]:
    """A multipart body with a ``size``-byte file, and its headers signed for ``target``."""
    request = httpx.Request(
        "POST",
        f"http://svc{target}",
        files={"file": ("a.csv", b"x" * size, "text/csv")},
        data={"note": "Hà Nội"},
    )
    body = request.read()
    headers = sign_request(
        SECRET,
        method="POST",
        target=target,
        principal=Principal(Role.AGENCY, "k1", "P01"),
        body=body,
    )
    return body, {**headers, "content-type": request.headers["content-type"]}


@pytest.fixture
async def svc() -> AsyncIterator[httpx.AsyncClient]:
    transport = httpx.ASGITransport(app=service(), raise_app_exceptions=False)
    async with httpx.AsyncClient(transport=transport, base_url="http://svc") as client:
        yield client


def refused(response: httpx.Response, status: int, detail: str) -> None:
    assert response.status_code == status, response.text
    assert response.headers["content-type"] == PROBLEM_JSON
    assert detail in response.json()["detail"]


async def test_a_signed_form_reaches_the_endpoint_whole(svc: httpx.AsyncClient) -> None:
    body, headers = form(1000)
    response = await svc.post("/api/v1/upload", content=body, headers=headers)
    assert response.status_code == 200, response.text
    assert response.json() == {"who": "k1", "size": 1000, "note": "Hà Nội"}


async def test_anything_changed_after_signing_is_refused(svc: httpx.AsyncClient) -> None:
    body, headers = form(1000)
    tampered = body.replace(b"xxxx", b"xxxy", 1)
    mismatch = "does not match"
    refused(await svc.post("/api/v1/upload", content=tampered, headers=headers), 401, mismatch)
    refused(await svc.post("/api/v1/upload?x=1", content=body, headers=headers), 401, mismatch)
    refused(await svc.put("/api/v1/upload", content=body, headers=headers), 401, mismatch)
    stale = {**headers, SIGNED_AT_HEADER: str(int(time.time()) - 3600)}
    refused(await svc.post("/api/v1/upload", content=body, headers=stale), 401, "expired")


async def test_unsigned_calls_are_refused_even_where_nothing_is_served(
    svc: httpx.AsyncClient,
) -> None:
    body, _ = form(10)
    gateway_only = "only calls forwarded by the gateway"
    refused(await svc.post("/api/v1/upload", content=body), 401, gateway_only)
    refused(await svc.get("/api/v1/nowhere"), 401, gateway_only)
    assert (await svc.get("/healthz")).status_code == 200


async def test_bodies_past_the_limit_are_refused(svc: httpx.AsyncClient) -> None:
    body, headers = form(LIMIT)
    too_large = f"exceeds {LIMIT} bytes"
    refused(await svc.post("/api/v1/upload", content=body, headers=headers), 413, too_large)

    async def chunks() -> AsyncIterator[bytes]:  # no Content-Length: counted as it comes
        for start in range(0, len(body), 1024):
            yield body[start : start + 1024]

    streamed = await svc.post("/api/v1/upload", content=chunks(), headers=headers)
    refused(streamed, 413, too_large)


async def test_without_the_middleware_nothing_is_let_in() -> None:
    transport = httpx.ASGITransport(app=service(checked=False), raise_app_exceptions=False)
    async with httpx.AsyncClient(transport=transport, base_url="http://svc") as client:
        body, headers = form(10)
        response = await client.post("/api/v1/upload", content=body, headers=headers)
        refused(response, 401, "only calls forwarded by the gateway")


def test_a_nonce_is_accepted_once_within_the_window() -> None:
    nonces = NonceWindow()
    now = time.time()
    assert nonces.accept("a", int(now), now=now)
    assert not nonces.accept("a", int(now), now=now + 1)
    assert nonces.accept("b", int(now), now=now + 1)
    # Past the signature's lifetime the nonce is forgotten (the signature has expired anyway).
    later = now + SIGNATURE_MAX_AGE_SECONDS + 2
    assert nonces.accept("a", int(later), now=later)


def test_a_full_window_forgets_the_oldest_and_refuses_signatures_as_old() -> None:
    nonces = NonceWindow(capacity=3)
    now = time.time()
    for n, nonce in enumerate("abc"):
        assert nonces.accept(nonce, int(now) + n, now=now + n)
    assert nonces.accept("d", int(now) + 3, now=now + 3)  # "a" is forgotten...
    assert not nonces.accept("a", int(now), now=now + 3)  # ...and so refused as too old
    assert not nonces.accept("d", int(now) + 3, now=now + 3)
    assert len(nonces._seen) == 3
