"""Alembic, one migration tree per service, run as a step before the service starts."""

from __future__ import annotations

import asyncio
import re
from importlib import resources
from pathlib import Path

from alembic import command, context
from alembic.config import Config
from sqlalchemy import MetaData, text
from sqlalchemy.engine import Connection
from sqlalchemy.ext.asyncio import create_async_engine
from sqlalchemy.pool import NullPool

from libs.common.db import is_sqlite

SCHEMA_NAME = re.compile(r"[a-z_][a-z0-9_]{0,62}")


def alembic_config(service: str, url: str, schema: str | None) -> Config:
    """The Alembic configuration of a service's migration tree."""
    if schema is not None and not SCHEMA_NAME.fullmatch(schema):
        raise ValueError(f"not a usable schema name: {schema!r}")
    location = Path(str(resources.files(f"services.{service}"))) / "migrations"
    config = Config()
    config.set_main_option("script_location", str(location))
    config.attributes["url"] = url
    config.attributes["schema"] = None if is_sqlite(url) else schema
    return config


def upgrade(service: str, url: str, schema: str | None, revision: str = "head") -> None:
    """Bring a service's database to ``revision`` (blocking; call outside the event loop)."""
    if is_sqlite(url):
        database = url.split("///", 1)[-1]
        if database and database != ":memory:":
            Path(database).parent.mkdir(parents=True, exist_ok=True)
    command.upgrade(alembic_config(service, url, schema), revision)


def run_env(target_metadata: MetaData) -> None:
    """Body of every service's ``env.py``: online, async, in the service's schema."""
    config = context.config
    url: str = config.attributes["url"]
    schema: str | None = config.attributes["schema"]

    def migrate(connection: Connection) -> None:
        if connection.dialect.name == "sqlite":
            # Before the service opens the file: readers then never block the writer.
            connection.exec_driver_sql("PRAGMA journal_mode=WAL")
            connection.commit()
        if schema:
            connection.execute(text(f'CREATE SCHEMA IF NOT EXISTS "{schema}"'))
            connection.execute(text(f'SET search_path TO "{schema}"'))
            connection.commit()
        context.configure(
            connection=connection,
            target_metadata=target_metadata,
            version_table_schema=schema,
            compare_type=True,
            render_as_batch=connection.dialect.name == "sqlite",
        )
        with context.begin_transaction():
            context.run_migrations()

    async def run() -> None:
        engine = create_async_engine(url, poolclass=NullPool)
        async with engine.connect() as connection:
            await connection.run_sync(migrate)
        await engine.dispose()

    asyncio.run(run())


def create_messaging_tables() -> None:
    """Migration step creating ``outbox`` and ``inbox`` (see ``libs.common.messaging``)."""
    from alembic import op
    from sqlalchemy import BigInteger, Column, DateTime, Integer, LargeBinary, String, Uuid

    op.create_table(
        "inbox",
        Column("event_id", Uuid(), primary_key=True),
        Column("topic", String(200), nullable=False),
        Column("received_at", DateTime(timezone=True), nullable=False),
    )
    op.create_table(
        "outbox",
        Column(
            "id",
            BigInteger().with_variant(Integer(), "sqlite"),
            primary_key=True,
            autoincrement=True,
        ),
        Column("event_id", Uuid(), nullable=False, unique=True),
        Column("topic", String(200), nullable=False),
        Column("key", String(200), nullable=False),
        Column("envelope", LargeBinary(), nullable=False),
        Column("created_at", DateTime(timezone=True), nullable=False),
        Column("published_at", DateTime(timezone=True)),
    )
    pending = text("published_at IS NULL")
    op.create_index(
        "ix_outbox_pending", "outbox", ["id"], postgresql_where=pending, sqlite_where=pending
    )


def drop_messaging_tables() -> None:
    """Migration step undoing ``create_messaging_tables``."""
    from alembic import op

    op.drop_table("outbox")
    op.drop_table("inbox")
