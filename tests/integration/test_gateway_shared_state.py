"""Gateways of a cluster share their state: revocations and budgets hold across all of them.

Two gateways on one PostgreSQL database, as two cluster replicas are: a key revoked through
one is refused by the other within a second, a key's budget is spent across both, the
bootstrap token revoked through one is refused by both, and an address sending unknown keys
is refused before they cost a lookup.
"""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from starlette.requests import Request

from libs.common.errors import RateLimited, Unauthorized
from services import platform
from services.gateway import keys
from services.gateway.app import Gateway
from services.gateway.routing import Upstreams
from tests.support.platform import ADMIN_TOKEN, postgres_settings

pytestmark = pytest.mark.integration

BUDGET = 5


@pytest.fixture
async def gateways(
    tmp_path: Path, postgres_url: str, schema_prefix: str
) -> AsyncIterator[tuple[Gateway, Gateway]]:
    settings = postgres_settings(
        tmp_path,
        url=postgres_url,
        schema_prefix=f"{schema_prefix}_gw_{uuid.uuid4().hex[:6]}_",
        rate_limit_shared=True,
        unknown_key_limit_per_minute=3,
    )
    await asyncio.to_thread(platform.migrate, settings, ("gateway",))
    pair = (
        Gateway(settings, Upstreams({}, secret="s")),
        Gateway(settings, Upstreams({}, secret="s")),
    )
    for gateway in pair:
        await gateway.authenticator.start()
    yield pair
    for gateway in pair:
        await gateway.authenticator.stop()
        await gateway.db.dispose()


def request(token: str, client: str = "10.0.0.1") -> Request:
    return Request(
        {
            "type": "http",
            "method": "GET",
            "path": "/api/v1/agencies",
            "headers": [(b"authorization", f"Bearer {token}".encode())],
            "client": (client, 40000),
        }
    )


async def issue(gateway: Gateway, **limits: int) -> keys.IssuedKey:
    body = keys.KeyRequest(role="reader", label="shared state", **limits)
    async with gateway.db.transaction() as session:
        return await keys.create_key(session, body)


async def refused_within(gateway: Gateway, token: str, seconds: float) -> float:
    started = asyncio.get_running_loop().time()
    while True:
        try:
            await gateway.admit(request(token))
        except Unauthorized:
            return asyncio.get_running_loop().time() - started
        assert asyncio.get_running_loop().time() - started < seconds, "still admitted"
        await asyncio.sleep(0.05)


async def test_a_key_revoked_through_one_gateway_is_refused_by_the_other(
    gateways: tuple[Gateway, Gateway],
) -> None:
    first, second = gateways
    key = await issue(first)
    for gateway in gateways:
        assert (await gateway.admit(request(key.key))).key_id == key.key_id  # cached on both
    async with first.db.transaction() as session:
        await keys.revoke_key(session, key.key_id)
    first.authenticator.forget()
    assert await refused_within(second, key.key, 3.0) < 3.0


async def test_a_key_budget_is_spent_across_gateways(gateways: tuple[Gateway, Gateway]) -> None:
    key = await issue(gateways[0], rate_limit_per_minute=BUDGET)
    for n in range(BUDGET):
        await gateways[n % 2].admit(request(key.key))
    for gateway in gateways:
        with pytest.raises(RateLimited) as refused:
            await gateway.admit(request(key.key))
        assert 1 <= int(refused.value.headers["Retry-After"]) <= 60


async def test_the_bootstrap_token_can_be_revoked_for_every_gateway(
    gateways: tuple[Gateway, Gateway],
) -> None:
    first, second = gateways
    assert (await second.admit(request(ADMIN_TOKEN))).key_id == keys.BOOTSTRAP_KEY_ID
    async with first.db.transaction() as session:
        await keys.revoke_key(session, keys.BOOTSTRAP_KEY_ID)
    await first.authenticator.refresh()
    with pytest.raises(Unauthorized, match="revoked"):
        await first.admit(request(ADMIN_TOKEN))
    assert await refused_within(second, ADMIN_TOKEN, 3.0) < 3.0


async def test_unknown_keys_are_limited_per_client_address(
    gateways: tuple[Gateway, Gateway],
) -> None:
    gateway = gateways[0]
    for n in range(3):
        with pytest.raises(Unauthorized):
            await gateway.admit(request(f"dx_{n}nope_{uuid.uuid4().hex}"))
    with pytest.raises(RateLimited, match="unknown keys"):
        await gateway.admit(request(f"dx_zz_{uuid.uuid4().hex}"))
    # Another address is not held back by this one.
    with pytest.raises(Unauthorized):
        await gateway.admit(request(f"dx_yy_{uuid.uuid4().hex}", client="10.0.0.2"))
