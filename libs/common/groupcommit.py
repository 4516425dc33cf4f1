"""Group commit: concurrent callers share one database transaction.

Each caller hands in one item and waits; a single writer task takes every item queued so far
(at most ``max_items``), applies the whole group in one transaction and answers each caller
only once that transaction is committed. While one group commits, the next one gathers, so
under load the number of transactions per second stays small and constant while the items
per transaction grow; an idle platform still commits each item at once (``max_wait`` adds a
short, bounded wait for company, 0 by default).

A group that fails for the database's sake (out of reach) fails every caller in it with that
error (each answers 503 and its client retries); a group that fails for any other reason is
applied again item by item, so one bad item never refuses the others.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Awaitable, Callable, Sequence
from typing import Generic, TypeVar

from prometheus_client import Histogram
from sqlalchemy.ext.asyncio import AsyncSession

from libs.common.db import Database, unavailable

log = logging.getLogger(__name__)

Item = TypeVar("Item")
Result = TypeVar("Result")

#: Applies a group of items in the session's transaction: one result (or the exception that
#: item raises for its caller) per item, in order.
GroupWork = Callable[[AsyncSession, Sequence[Item]], Awaitable[list[Result | Exception]]]

GROUP_SIZE = Histogram(
    "dx_group_commit_items",
    "Items committed together in one transaction, by service",
    ["service"],
    buckets=(1, 2, 4, 8, 16, 32, 64, 128, 256, 512),
)


class GroupCommitter(Generic[Item, Result]):
    """Shares transactions between concurrent callers of ``submit``."""

    def __init__(
        self,
        db: Database,
        work: GroupWork[Item, Result],
        *,
        service: str,
        max_items: int = 256,
        max_wait: float = 0.0,
    ) -> None:
        self.db = db
        self.work = work
        self.service = service
        self.max_items = max_items
        self.max_wait = max_wait
        self._queue: list[tuple[Item, asyncio.Future[Result]]] = []
        self._committing: list[tuple[Item, asyncio.Future[Result]]] = []
        self._wake = asyncio.Event()
        self._task: asyncio.Task[None] | None = None

    async def submit(self, item: Item) -> Result:
        """Apply ``item`` with whatever else is waiting; return once it is committed."""
        if self._task is None or self._task.done():
            self._task = asyncio.create_task(self._run(), name=f"group-commit:{self.service}")
        future: asyncio.Future[Result] = asyncio.get_running_loop().create_future()
        self._queue.append((item, future))
        self._wake.set()
        # A caller that goes away does not take its item back: it is committed all the same.
        return await asyncio.shield(future)

    async def stop(self) -> None:
        """Stop the writer; callers still waiting are told the service is going away."""
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
            self._task = None
        # The group cut off mid-transaction, and those still queued: their callers are told
        # (a retry under the same submission id is answered from whatever was committed).
        left, self._queue, self._committing = [*self._committing, *self._queue], [], []
        for _, future in left:
            if not future.done():
                future.set_exception(ConnectionAbortedError("the service is stopping"))

    async def _run(self) -> None:
        while True:
            await self._wake.wait()
            self._wake.clear()
            if self.max_wait and len(self._queue) < self.max_items:
                await asyncio.sleep(self.max_wait)
            while self._queue:
                self._committing = self._queue[: self.max_items]
                del self._queue[: self.max_items]
                await self._commit(self._committing)
                self._committing = []

    async def _commit(self, group: list[tuple[Item, asyncio.Future[Result]]]) -> None:
        items = [item for item, _ in group]
        try:
            results = await self._apply(items)
        except Exception as error:
            if len(group) == 1 or unavailable(error):
                for _, future in group:
                    _answer(future, error)
                return
            log.warning("a group of %d failed; committing its items one by one", len(group))
            for entry in group:
                await self._commit([entry])
            return
        GROUP_SIZE.labels(self.service).observe(len(group))
        for (_, future), result in zip(group, results, strict=True):
            _answer(future, result)

    async def _apply(self, items: Sequence[Item]) -> list[Result | Exception]:
        async with self.db.transaction() as session:
            return await self.work(session, items)


def _answer(future: asyncio.Future[Result], outcome: Result | BaseException) -> None:
    if future.done():
        return
    if isinstance(outcome, BaseException):
        future.set_exception(outcome)
    else:
        future.set_result(outcome)
