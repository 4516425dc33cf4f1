"""Production refuses secrets anyone may know: published defaults, placeholders, short ones."""

from __future__ import annotations

import pytest

from libs.common.settings import Settings

GOOD = "x7Qm2vKp9LrT4wZs8NcB3hJd6FgY1eUa"  # 32 characters, as from a generator
COMPOSE_TOKEN = "compose-only-admin-token-change-me"


def production(**values: object) -> Settings:
    return Settings(environment="production", **values)  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("values", "named"),
    [
        ({}, "DX_INTERNAL_SECRET"),
        ({"internal_secret": "compose-only-internal-secret-change-me"}, "DX_INTERNAL_SECRET"),
        ({"internal_secret": "REPLACE_ME_INTERNAL_SECRET_AT_LEAST_32_RANDOM_BYTES"}, "INTERNAL"),
        ({"internal_secret": "short-but-random"}, "shorter than 32"),
        (
            {
                "internal_secret": GOOD,
                "bootstrap_admin_token": "compose-only-admin-token-change-me",
            },
            "DX_BOOTSTRAP_ADMIN_TOKEN",
        ),
        ({"internal_secret": GOOD, "bootstrap_admin_token": "change-me"}, "BOOTSTRAP"),
        (
            {
                "internal_secret": GOOD,
                "database_url": "postgresql+asyncpg://dx:dx-compose-only@postgres:5432/dx",
            },
            "DX_DATABASE_URL",
        ),
    ],
)
def test_production_refuses_known_secrets(values: dict[str, object], named: str) -> None:
    with pytest.raises(RuntimeError, match=named):
        production(**values).check_production_safety()


def test_production_starts_on_secrets_of_its_own() -> None:
    production(
        internal_secret=GOOD,
        bootstrap_admin_token=GOOD[::-1],
        database_url=f"postgresql+asyncpg://dx:{GOOD}@db:5432/dx",
    ).check_production_safety()


def test_development_keeps_its_defaults() -> None:
    Settings(environment="development").check_production_safety()
