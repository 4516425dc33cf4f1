"""The platform under test, on SQLite (the embedded default) and on PostgreSQL."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from pathlib import Path

import httpx
import pytest

from tests.support.platform import embedded_platform, embedded_settings, postgres_settings


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.integration)])
async def dx(request: pytest.FixtureRequest, tmp_path: Path) -> AsyncIterator[httpx.AsyncClient]:
    """An admin client of a freshly started platform with the reference catalogue loaded."""
    if request.param == "sqlite":
        settings = embedded_settings(tmp_path)
    else:
        prefix = request.getfixturevalue("schema_prefix")
        settings = postgres_settings(
            tmp_path,
            url=request.getfixturevalue("postgres_url"),
            schema_prefix=f"{prefix}_{uuid.uuid4().hex[:6]}_",
        )
    async with embedded_platform(settings) as client:
        yield client
