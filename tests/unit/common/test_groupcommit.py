"""Group commit on a real SQLite database: shared transactions, each caller answered after it."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Sequence
from pathlib import Path

import pytest
from sqlalchemy import Column, Integer, MetaData, String, Table, func, insert, select
from sqlalchemy.exc import IntegrityError, OperationalError
from sqlalchemy.ext.asyncio import AsyncSession

from libs.common.db import Database
from libs.common.groupcommit import GroupCommitter

METADATA = MetaData()
ITEMS = Table(
    "items",
    METADATA,
    Column("id", Integer, primary_key=True),
    Column("name", String(20), nullable=False, unique=True),
)


@pytest.fixture
async def db(tmp_path: Path) -> AsyncIterator[Database]:
    database = Database(f"sqlite+aiosqlite:///{tmp_path / 'group.db'}")
    async with database.engine.begin() as connection:
        await connection.run_sync(METADATA.create_all)
    yield database
    await database.dispose()


class Recorder:
    """Work that inserts each item's name and remembers the groups it was given."""

    def __init__(self) -> None:
        self.groups: list[list[str]] = []

    async def __call__(self, session: AsyncSession, names: Sequence[str]) -> list[int | Exception]:
        self.groups.append(list(names))
        results: list[int | Exception] = []
        for name in names:
            if name.startswith("refused"):
                results.append(ValueError(f"{name} is refused"))
                continue
            await session.execute(insert(ITEMS).values(name=name))
            results.append(len(name))
        return results


async def count(db: Database) -> int:
    async with db.read() as session:
        return int(await session.scalar(select(func.count()).select_from(ITEMS)) or 0)


async def test_concurrent_callers_share_transactions_and_get_their_own_results(
    db: Database,
) -> None:
    work = Recorder()
    committer = GroupCommitter(db, work, service="test")
    names = [f"item-{n}" for n in range(50)]
    try:
        results = await asyncio.gather(*(committer.submit(name) for name in names))
    finally:
        await committer.stop()
    assert results == [len(name) for name in names]
    assert await count(db) == 50
    assert sorted(n for group in work.groups for n in group) == sorted(names)
    assert len(work.groups) < 50  # callers that came together were committed together


async def test_a_caller_is_answered_only_once_its_rows_are_committed(db: Database) -> None:
    seen_by_caller: list[int] = []

    async def work(session: AsyncSession, names: Sequence[str]) -> list[int | Exception]:
        await session.execute(insert(ITEMS), [{"name": name} for name in names])
        return [1 for _ in names]

    committer = GroupCommitter(db, work, service="test")
    try:

        async def submit_then_look(name: str) -> None:
            await committer.submit(name)
            seen_by_caller.append(await count(db))  # another connection: committed rows only

        await asyncio.gather(*(submit_then_look(f"n{n}") for n in range(10)))
    finally:
        await committer.stop()
    assert min(seen_by_caller) >= 1
    assert await count(db) == 10


async def test_an_item_refused_by_the_work_does_not_refuse_the_others(db: Database) -> None:
    committer = GroupCommitter(db, Recorder(), service="test")
    try:
        outcomes = await asyncio.gather(
            committer.submit("good-1"),
            committer.submit("refused-1"),
            committer.submit("good-2"),
            return_exceptions=True,
        )
    finally:
        await committer.stop()
    assert (outcomes[0], outcomes[2]) == (6, 6)
    assert isinstance(outcomes[1], ValueError)
    assert await count(db) == 2


async def test_a_group_failing_on_one_item_is_retried_item_by_item(db: Database) -> None:
    async with db.transaction() as session:
        await session.execute(insert(ITEMS).values(name="taken"))
    work = Recorder()
    committer = GroupCommitter(db, work, service="test")
    try:
        outcomes = await asyncio.gather(
            *(committer.submit(name) for name in ("a", "taken", "b")), return_exceptions=True
        )
    finally:
        await committer.stop()
    assert (outcomes[0], outcomes[2]) == (1, 1)
    assert isinstance(outcomes[1], IntegrityError)
    assert await count(db) == 3  # "taken" once, a and b committed on their own


async def test_a_database_out_of_reach_fails_every_caller_of_the_group(db: Database) -> None:
    async def unreachable(session: AsyncSession, names: Sequence[str]) -> list[int | Exception]:
        raise OperationalError("INSERT", {}, Exception("database is locked"))

    committer = GroupCommitter(db, unreachable, service="test")
    try:
        outcomes = await asyncio.gather(
            *(committer.submit(f"x{n}") for n in range(5)), return_exceptions=True
        )
    finally:
        await committer.stop()
    assert all(isinstance(outcome, OperationalError) for outcome in outcomes)
    assert await count(db) == 0


async def test_callers_of_a_group_cut_off_by_stop_are_told(db: Database) -> None:
    started = asyncio.Event()

    async def slow(session: AsyncSession, names: Sequence[str]) -> list[int | Exception]:
        started.set()
        await asyncio.Event().wait()  # a transaction that never ends
        return []

    committer = GroupCommitter(db, slow, service="test")
    waiting = asyncio.ensure_future(committer.submit("x"))
    await started.wait()
    await committer.stop()
    with pytest.raises(ConnectionAbortedError):
        await asyncio.wait_for(waiting, timeout=5)
