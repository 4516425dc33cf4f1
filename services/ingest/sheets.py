"""Uploaded sheets read in worker processes, off the event loop's interpreter.

openpyxl is pure Python: read in a thread, a large or hostile file holds the interpreter lock
and every other request waits behind it. In a worker process its CPU is spent on the other
core, and the event loop keeps answering. Workers are started on the first upload (``spawn``:
the service's own threads are not copied into them) and stopped with the service; a worker that
dies (killed, out of memory) is replaced, and the upload that lost it answered 503.
"""

from __future__ import annotations

import asyncio
import logging
import multiprocessing
from concurrent.futures import ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool

from libs.common.errors import ServiceUnavailable
from services.ingest.files import FileLimits, Sheet, read_sheet

log = logging.getLogger(__name__)


class SheetReader:
    """Reads sheets (``files.read_sheet``) in a pool of ``workers`` processes."""

    def __init__(self, workers: int) -> None:
        self.workers = workers
        self._pool: ProcessPoolExecutor | None = None

    async def read(self, data: bytes, limits: FileLimits) -> Sheet:
        """The sheet's rows, or the 413/422 problem ``read_sheet`` raised for it."""
        if self._pool is None:
            context = multiprocessing.get_context("spawn")
            self._pool = ProcessPoolExecutor(max_workers=self.workers, mp_context=context)
        loop = asyncio.get_running_loop()
        try:
            return await loop.run_in_executor(self._pool, read_sheet, data, limits)
        except BrokenProcessPool as error:
            log.error("a sheet reader process died; starting new ones: %r", error)
            self._pool = None
            raise ServiceUnavailable(
                "The file could not be read now; send it again", headers={"Retry-After": "5"}
            ) from error

    async def stop(self) -> None:
        """Stop the workers (an upload still being read is answered 503)."""
        if self._pool is not None:
            self._pool.shutdown(wait=False, cancel_futures=True)
            self._pool = None
