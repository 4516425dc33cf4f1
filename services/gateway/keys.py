"""API keys: creation, revocation, and the authentication of a bearer token."""

from __future__ import annotations

import asyncio
import contextlib
import hmac
import logging
import time
from dataclasses import dataclass
from datetime import datetime, timedelta

from pydantic import BaseModel, Field, model_validator
from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession

from libs.common.auth import Principal, Role, hash_api_key, key_id_of, new_api_key
from libs.common.db import Database, aware, upsert
from libs.common.errors import NotFound, RateLimited, Unauthorized
from libs.common.events import utcnow
from services.gateway.models import ApiKey
from services.gateway.ratelimit import RateLimiter

log = logging.getLogger(__name__)

BOOTSTRAP_KEY_ID = "bootstrap"
CACHE_SECONDS = 30.0
#: How often each gateway reads the revocations made through any gateway.
REVOCATION_POLL_SECONDS = 1.0
#: Revocations are read again this far back (the gateways' clocks may differ a little).
REVOCATION_OVERLAP = timedelta(seconds=10)
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
    """Refuse a key from now on, through every gateway within ``REVOCATION_POLL_SECONDS``.

    ``bootstrap`` revokes the bootstrap admin token (``DX_BOOTSTRAP_ADMIN_TOKEN``) for good,
    whatever the setting says from then on.
    """
    if not key_id.isalnum():  # ids are hex; a NUL would not even reach PostgreSQL
        raise NotFound(f"No active key {key_id!r}")
    if key_id == BOOTSTRAP_KEY_ID:
        now = utcnow()
        row = {
            "key_id": BOOTSTRAP_KEY_ID,
            "key_hash": "-",
            "role": Role.ADMIN.value,
            "agency": None,
            "label": "DX_BOOTSTRAP_ADMIN_TOKEN",
            "rate_limit_per_minute": None,
            "created_at": now,
            "revoked_at": now,
        }
        await upsert(session, ApiKey, [row], ["key_id"])
        return
    result = await session.execute(
        update(ApiKey)
        .where(ApiKey.key_id == key_id, ApiKey.revoked_at.is_(None))
        .values(revoked_at=utcnow())
    )
    if not result.rowcount:  # type: ignore[attr-defined]
        raise NotFound(f"No active key {key_id}")


class Authenticator:
    """Turns a bearer token into a caller; caches lookups briefly to spare the database.

    Revocations reach every gateway's cache within ``REVOCATION_POLL_SECONDS`` (``watch``): the
    request path itself never waits for the database on a cached key. A token not in the cache
    costs a lookup; each client address may cause ``lookups_per_minute`` of them, so random
    tokens cannot make the database work for nothing (429 past that).
    """

    def __init__(
        self,
        db: Database,
        *,
        bootstrap_token: str | None,
        default_rate_limit: int,
        lookups_per_minute: int = 60,
    ) -> None:
        self.db = db
        self.bootstrap_token = bootstrap_token
        self.bootstrap_revoked = False
        self.default_rate_limit = default_rate_limit
        self.lookups_per_minute = lookups_per_minute
        self._lookups = RateLimiter()
        self._cache: dict[str, tuple[float, Caller | None]] = {}
        self._revoked_since: datetime | None = None
        self._watching: asyncio.Task[None] | None = None

    async def authenticate(self, authorization: str | None, client: str | None = None) -> Caller:
        """The caller behind an ``Authorization`` header; 401 for anything else."""
        if not authorization or not authorization.lower().startswith("bearer "):
            raise Unauthorized(
                "Send `Authorization: Bearer <api key>`", headers={"WWW-Authenticate": "Bearer"}
            )
        token = authorization[7:].strip()
        if self.bootstrap_token and hmac.compare_digest(token, self.bootstrap_token):
            if self.bootstrap_revoked:
                raise Unauthorized(
                    "The bootstrap admin token was revoked", headers={"WWW-Authenticate": "Bearer"}
                )
            return Caller(Principal(Role.ADMIN, BOOTSTRAP_KEY_ID), self.default_rate_limit)
        digest = hash_api_key(token)
        cached = self._cache.get(digest)
        if cached is None or cached[0] < time.monotonic():
            wait = self._lookups.check(f"address:{client}", self.lookups_per_minute)
            if wait:
                raise RateLimited(
                    "Too many unknown keys from this address; retry later",
                    headers={"Retry-After": RateLimiter.retry_after_header(wait)},
                )
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

    async def refresh(self) -> None:
        """Apply the revocations made (through any gateway) since the last refresh."""
        started = utcnow()
        query = select(ApiKey.key_id).where(ApiKey.revoked_at.is_not(None))
        if self._revoked_since is not None:
            query = query.where(ApiKey.revoked_at >= self._revoked_since - REVOCATION_OVERLAP)
        async with self.db.read() as session:
            revoked = set(await session.scalars(query))
        if BOOTSTRAP_KEY_ID in revoked:
            self.bootstrap_revoked = True
        if revoked and self._revoked_since is not None:
            self._cache = {
                digest: entry
                for digest, entry in self._cache.items()
                if entry[1] is None or entry[1].principal.key_id not in revoked
            }
        self._revoked_since = aware(started)

    async def start(self) -> None:
        """Read the revocations, then follow them in the background."""
        await self.refresh()
        self._watching = asyncio.create_task(self._watch(), name="gateway-revocations")

    async def stop(self) -> None:
        """Stop following revocations."""
        if self._watching is not None:
            self._watching.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._watching
            self._watching = None

    async def _watch(self) -> None:
        while True:
            await asyncio.sleep(REVOCATION_POLL_SECONDS)
            try:
                await self.refresh()
            except Exception:
                log.warning("cannot read revocations now; keeping the cache", exc_info=True)

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
