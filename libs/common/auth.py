"""API keys, principals, and the gateway's signature on every call it forwards to a service."""

from __future__ import annotations

import hashlib
import hmac
import secrets
import time
from collections import deque
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass
from enum import StrEnum
from typing import Annotated

from fastapi import Depends, Request

from libs.common.errors import Forbidden, Unauthorized

KEY_PREFIX = "dx_"
SIGNATURE_MAX_AGE_SECONDS = 300

PRINCIPAL_HEADER = "x-dx-principal"
SIGNED_AT_HEADER = "x-dx-signed-at"
SIGNATURE_HEADER = "x-dx-signature"
NONCE_HEADER = "x-dx-nonce"
REQUEST_ID_HEADER = "x-request-id"
#: Where the signature middleware leaves the verified principal: ``request.state.principal``.
PRINCIPAL_STATE = "principal"


class Role(StrEnum):
    ADMIN = "admin"
    AGENCY = "agency"
    READER = "reader"


@dataclass(frozen=True)
class Principal:
    """Who is calling: the key's role, its agency for agency keys, and the key's id."""

    role: Role
    key_id: str
    agency: str | None = None

    def header(self) -> str:
        """The compact form forwarded to services."""
        return f"{self.role.value};{self.agency or ''};{self.key_id}"

    @classmethod
    def from_header(cls, value: str) -> Principal:
        """Parse the forwarded form; raises ``ValueError`` on a malformed one."""
        role, agency, key_id = value.split(";")
        return cls(role=Role(role), key_id=key_id, agency=agency or None)


def new_api_key() -> tuple[str, str]:
    """A fresh key and its public id: the key is shown once, only its hash is stored."""
    key_id = secrets.token_hex(6)
    return key_id, f"{KEY_PREFIX}{key_id}_{secrets.token_urlsafe(32)}"


def hash_api_key(key: str) -> str:
    """The stored form of a key (keys are 256-bit random, so a plain digest suffices)."""
    return hashlib.sha256(key.encode()).hexdigest()


def key_id_of(key: str) -> str | None:
    """The public id embedded in a key, or None if it is not one of ours."""
    if not key.startswith(KEY_PREFIX):
        return None
    parts = key[len(KEY_PREFIX) :].split("_", 1)
    return parts[0] if len(parts) == 2 and parts[0] else None


def _signature(
    secret: str,
    *,
    signed_at: str,
    nonce: str,
    method: str,
    target: str,
    principal: str,
    body: bytes,
) -> str:
    message = "\n".join(
        [signed_at, nonce, method.upper(), target, principal, hashlib.sha256(body).hexdigest()]
    )
    return hmac.new(secret.encode(), message.encode(), hashlib.sha256).hexdigest()


def sign_request(
    secret: str, *, method: str, target: str, principal: Principal, body: bytes
) -> dict[str, str]:
    """Headers proving the gateway authenticated ``principal`` for this exact request."""
    signed_at = str(int(time.time()))
    nonce = secrets.token_hex(12)
    header = principal.header()
    return {
        PRINCIPAL_HEADER: header,
        SIGNED_AT_HEADER: signed_at,
        NONCE_HEADER: nonce,
        SIGNATURE_HEADER: _signature(
            secret,
            signed_at=signed_at,
            nonce=nonce,
            method=method,
            target=target,
            principal=header,
            body=body,
        ),
    }


class NonceWindow:
    """The nonces of the signatures this process accepted while they could still be replayed.

    A signature is good for ``SIGNATURE_MAX_AGE_SECONDS`` (clocks of gateway and services may
    differ a little); within that time its nonce is accepted once. The set lives in memory, per
    service process, which is enough and keeps the hot path a dictionary lookup (no shared store,
    no round trip): services accept calls from the gateway only (network policy, HMAC key), so a
    replayer needs a request captured on the gateway's own path, and a replay reaching another
    replica of the service repeats a request whose effects are idempotent by design (a
    submission under its ``submission_id``, a PUT of the same state, a reminder run that never
    sends an item twice). The set is bounded: past ``capacity`` the oldest nonces are forgotten
    and signatures as old as them are refused from then on as expired, so a forgotten nonce can
    never be replayed.
    """

    def __init__(self, capacity: int = 200_000) -> None:
        self.capacity = capacity
        self._seen: set[str] = set()
        self._order: deque[tuple[int, str]] = deque()
        self._oldest_accepted = 0

    def accept(self, nonce: str, signed_at: int, *, now: float) -> bool:
        """Whether ``nonce`` (of a signature made at ``signed_at``) is new; remembers it."""
        horizon = now - SIGNATURE_MAX_AGE_SECONDS
        while self._order and self._order[0][0] < horizon:
            self._seen.discard(self._order.popleft()[1])
        if signed_at < self._oldest_accepted or nonce in self._seen:
            return False
        while len(self._order) >= self.capacity:
            forgotten_at, forgotten = self._order.popleft()
            self._seen.discard(forgotten)
            self._oldest_accepted = max(self._oldest_accepted, forgotten_at + 1)
        self._seen.add(nonce)
        self._order.append((signed_at, nonce))
        return True


def request_target(request: Request) -> str:
    """The path and query a request was sent to, as the signature covers them."""
    return request.url.path + (f"?{request.url.query}" if request.url.query else "")


async def verify_signature(
    secret: str,
    *,
    method: str,
    target: str,
    headers: Mapping[str, str],
    body: Callable[[], Awaitable[bytes]],
    nonces: NonceWindow,
) -> Principal:
    """The principal a request's gateway signature vouches for; 401 for anything else.

    ``target`` is the request's path and query, ``headers`` its headers (by lower-case name) and
    ``body`` reads all of its body, only once the headers show a fresh signature to check. A
    signature is accepted once: its nonce is remembered in ``nonces``, a replay is refused.
    """
    header = headers.get(PRINCIPAL_HEADER)
    signed_at = headers.get(SIGNED_AT_HEADER, "")
    nonce = headers.get(NONCE_HEADER, "")
    signature = headers.get(SIGNATURE_HEADER, "")
    if not header or not signed_at.isdigit() or not signature or not nonce:
        raise Unauthorized("Services accept only calls forwarded by the gateway")
    now = time.time()
    if abs(now - int(signed_at)) > SIGNATURE_MAX_AGE_SECONDS:
        raise Unauthorized("The gateway signature has expired")
    expected = _signature(
        secret,
        signed_at=signed_at,
        nonce=nonce,
        method=method,
        target=target,
        principal=header,
        body=await body(),
    )
    if not hmac.compare_digest(expected, signature):
        raise Unauthorized("The gateway signature does not match the request")
    if not nonces.accept(nonce, int(signed_at), now=now):
        raise Unauthorized("The gateway signature was used already (a replay)")
    try:
        return Principal.from_header(header)
    except ValueError as error:
        raise Unauthorized("Malformed principal") from error


async def signed_principal(request: Request) -> Principal:
    """The caller, as the gateway vouched for it (checked by ``GatewaySignatureMiddleware``).

    A request that reached an endpoint without a verified principal was not checked at all (the
    app lacks the middleware): it is refused like an unsigned one.
    """
    principal = request.scope.get("state", {}).get(PRINCIPAL_STATE)
    if not isinstance(principal, Principal):
        raise Unauthorized("Services accept only calls forwarded by the gateway")
    return principal


PrincipalDep = Annotated[Principal, Depends(signed_principal)]


async def signed_admin(principal: PrincipalDep) -> Principal:
    """The caller, if it holds an admin key: as a dependency, the 403 comes before any 422."""
    require_admin(principal)
    return principal


AdminDep = Annotated[Principal, Depends(signed_admin)]


def require_admin(principal: Principal) -> None:
    """403 unless the caller holds an admin key."""
    if principal.role is not Role.ADMIN:
        raise Forbidden("This operation needs an admin key")


def require_agency_access(principal: Principal, agency: str) -> None:
    """403 unless the caller is admin or the agency itself."""
    if principal.role is Role.ADMIN:
        return
    if principal.role is Role.AGENCY and principal.agency == agency:
        return
    raise Forbidden(f"This key may not act for agency {agency}")
