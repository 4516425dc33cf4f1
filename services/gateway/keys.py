"""API keys: creation, revocation, and the authentication of a bearer token."""

from __future__ import annotations

import hmac
import time
from dataclasses import dataclass

from pydantic import BaseModel, Field, model_validator
from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession

from libs.common.auth import Principal, Role, hash_api_key, key_id_of, new_api_key
from libs.common.db import Database
from libs.common.errors import NotFound, Unauthorized
from libs.common.events import utcnow
from services.gateway.models import ApiKey

BOOTSTRAP_KEY_ID = "bootstrap"
CACHE_SECONDS = 30.0
#: The largest budget a key may carry: what its column (a 32-bit INTEGER) holds.
MAX_RATE_LIMIT = 2**31 - 1


class KeyRequest(BaseModel):
    """What an admin asks for when creating a key."""

    role: Role
    agency: str | None = Field(None, max_length=32, description="Required for agency keys")
    label: str = Field(..., min_length=1, max_length=200)
    rate_limit_per_minute: int | None = Field(
        None, ge=0, le=MAX_RATE_LIMIT, description="0 = unlimited"
    )

    @model_validator(mode="after")
    def _agency_matches_role(self) -> KeyRequest:
        if self.role is Role.AGENCY and not self.agency:
            raise ValueError("an agency key needs `agency`")
        if self.role is not Role.AGENCY and self.agency:
            raise ValueError("only agency keys are bound to an agency")
        return self


class KeyInfo(BaseModel):
    key_id: str
    role: Role
    agency: str | None
    label: str
    rate_limit_per_minute: int | None
    created_at: str
    revoked: bool


class IssuedKey(KeyInfo):
    key: str = Field(description="The key itself, shown only this once")


@dataclass(frozen=True)
class Caller:
    """An authenticated caller and its request budget."""

    principal: Principal
    rate_limit_per_minute: int | None


def _info(row: ApiKey) -> dict[str, object]:
    return {
        "key_id": row.key_id,
        "role": Role(row.role),
        "agency": row.agency,
        "label": row.label,
        "rate_limit_per_minute": row.rate_limit_per_minute,
        "created_at": row.created_at.isoformat(),
        "revoked": row.revoked_at is not None,
    }


async def create_key(session: AsyncSession, request: KeyRequest) -> IssuedKey:
    """Store a new key's digest and return the key once."""
    key_id, key = new_api_key()
    row = ApiKey(
        key_id=key_id,
        key_hash=hash_api_key(key),
        role=request.role.value,
        agency=request.agency,
        label=request.label,
        rate_limit_per_minute=request.rate_limit_per_minute,
        created_at=utcnow(),
    )
    session.add(row)
    await session.flush()
    return IssuedKey(key=key, **_info(row))


async def list_keys(session: AsyncSession) -> list[KeyInfo]:
    """Every key, without secrets."""
    rows = (await session.scalars(select(ApiKey).order_by(ApiKey.created_at))).all()
    return [KeyInfo(**_info(row)) for row in rows]


async def revoke_key(session: AsyncSession, key_id: str) -> None:
    """Refuse a key from now on (within the authentication cache's lifetime)."""
    result = await session.execute(
        update(ApiKey)
        .where(ApiKey.key_id == key_id, ApiKey.revoked_at.is_(None))
        .values(revoked_at=utcnow())
    )
    if not result.rowcount:  # type: ignore[attr-defined]
        raise NotFound(f"No active key {key_id}")


class Authenticator:
    """Turns a bearer token into a caller; caches lookups briefly to spare the database."""

    def __init__(
        self, db: Database, *, bootstrap_token: str | None, default_rate_limit: int
    ) -> None:
        self.db = db
        self.bootstrap_token = bootstrap_token
        self.default_rate_limit = default_rate_limit
        self._cache: dict[str, tuple[float, Caller | None]] = {}

    async def authenticate(self, authorization: str | None) -> Caller:
        """The caller behind an ``Authorization`` header; 401 for anything else."""
        if not authorization or not authorization.lower().startswith("bearer "):
            raise Unauthorized(
                "Send `Authorization: Bearer <api key>`", headers={"WWW-Authenticate": "Bearer"}
            )
        token = authorization[7:].strip()
        if self.bootstrap_token and hmac.compare_digest(token, self.bootstrap_token):
            return Caller(Principal(Role.ADMIN, BOOTSTRAP_KEY_ID), self.default_rate_limit)
        digest = hash_api_key(token)
        cached = self._cache.get(digest)
        if cached is None or cached[0] < time.monotonic():
            cached = (time.monotonic() + CACHE_SECONDS, await self._lookup(token, digest))
            if len(self._cache) > 10_000:
                self._cache.clear()
            self._cache[digest] = cached
        if cached[1] is None:
            raise Unauthorized("Unknown or revoked API key", headers={"WWW-Authenticate": "Bearer"})
        return cached[1]

    def forget(self) -> None:
        """Drop cached lookups (after a revocation through this gateway)."""
        self._cache.clear()

    async def _lookup(self, token: str, digest: str) -> Caller | None:
        key_id = key_id_of(token)
        if key_id is None:
            return None
        async with self.db.read() as session:
            row = await session.get(ApiKey, key_id)
        if row is None or row.revoked_at is not None:
            return None
        if not hmac.compare_digest(row.key_hash, digest):
            return None
        limit = (
            row.rate_limit_per_minute
            if row.rate_limit_per_minute is not None
            else self.default_rate_limit
        )
        return Caller(Principal(Role(row.role), row.key_id, row.agency), limit)
