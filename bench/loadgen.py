"""A lean open-loop load generator: HTTP/1.1 keep-alive over asyncio streams.

At hundreds of requests a second a full HTTP client spends more CPU per request than the
platform it measures, on the same two cores. This one writes pre-encoded requests on a pool
of persistent connections and reads back only the status line, the headers it needs and the
body: a few tens of microseconds per request. Latency is counted from the planned send time
(open loop), so a platform that falls behind shows its queue instead of slowing the load.
"""

from __future__ import annotations

import asyncio
import json
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlsplit


@dataclass
class Outcome:
    """What an offered load got: each request's latency (s) and the statuses answered."""

    latencies: list[float] = field(default_factory=list)
    statuses: dict[int, int] = field(default_factory=dict)
    failures: int = 0

    def errors(self, expected: int) -> int:
        """Requests not answered with ``expected``."""
        return self.failures + sum(n for code, n in self.statuses.items() if code != expected)


class Connection:
    """One persistent HTTP/1.1 connection."""

    def __init__(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self.reader = reader
        self.writer = writer

    async def exchange(self, request: bytes) -> tuple[int, bytes]:
        """Send one request; its status and body."""
        self.writer.write(request)
        head = await self.reader.readuntil(b"\r\n\r\n")
        lines = head.split(b"\r\n")
        status = int(lines[0].split(b" ", 2)[1])
        length = 0
        for line in lines[1:]:
            name, _, value = line.partition(b":")
            if name.strip().lower() == b"content-length":
                length = int(value)
        body = await self.reader.readexactly(length) if length else b""
        return status, body

    def close(self) -> None:
        self.writer.close()


class Pool:
    """Persistent connections to one host, opened as the load needs them."""

    def __init__(self, url: str, *, token: str, size: int = 256) -> None:
        parts = urlsplit(url)
        self.host = parts.hostname or "127.0.0.1"
        self.port = parts.port or 80
        self.token = token
        self.size = size
        self._idle: list[Connection] = []
        self._open = 0
        self._freed = asyncio.Condition()

    def post(self, path: str, body: Any) -> bytes:
        """A pre-encoded JSON POST."""
        payload = json.dumps(body, separators=(",", ":")).encode()
        return (
            f"POST {path} HTTP/1.1\r\nHost: {self.host}\r\n"
            f"Authorization: Bearer {self.token}\r\nContent-Type: application/json\r\n"
            f"Content-Length: {len(payload)}\r\n\r\n"
        ).encode() + payload

    async def _take(self) -> Connection:
        async with self._freed:
            while not self._idle and self._open >= self.size:
                await self._freed.wait()
            if self._idle:
                return self._idle.pop()
            self._open += 1
        try:
            reader, writer = await asyncio.open_connection(self.host, self.port)
        except OSError:
            async with self._freed:
                self._open -= 1
                self._freed.notify()
            raise
        return Connection(reader, writer)

    async def _give(self, connection: Connection | None) -> None:
        async with self._freed:
            if connection is None:
                self._open -= 1
            else:
                self._idle.append(connection)
            self._freed.notify()

    async def send(self, request: bytes) -> tuple[int, bytes]:
        """One request on a pooled connection (a broken one is dropped, the error raised)."""
        connection = await self._take()
        try:
            answer = await connection.exchange(request)
        except (OSError, asyncio.IncompleteReadError, ValueError):
            connection.close()
            await self._give(None)
            raise
        await self._give(connection)
        return answer

    async def close(self) -> None:
        for connection in self._idle:
            connection.close()
        self._idle.clear()


async def offer(pool: Pool, requests: Sequence[bytes], *, rate: float) -> Outcome:
    """Send ``requests`` at ``rate`` per second whatever the answers; wait for every answer."""
    outcome = Outcome()
    start = time.perf_counter() + 0.05

    async def one(planned: float, request: bytes) -> None:
        delay = planned - time.perf_counter()
        if delay > 0:
            await asyncio.sleep(delay)
        try:
            status, _ = await pool.send(request)
            outcome.statuses[status] = outcome.statuses.get(status, 0) + 1
        except (OSError, asyncio.IncompleteReadError, ValueError):
            outcome.failures += 1
        outcome.latencies.append(time.perf_counter() - planned)

    await asyncio.gather(*(one(start + n / rate, r) for n, r in enumerate(requests)))
    return outcome
