"""A body trickling in is cut off: 408 once the time for it is up, never a connection held."""

from __future__ import annotations

import asyncio
import time

import pytest
from starlette.requests import Request
from starlette.types import Message

from libs.common.errors import RequestTimeout
from libs.common.http import read_body


def trickling(chunks: int) -> Request:
    sent = 0

    async def receive() -> Message:
        nonlocal sent
        if sent:
            await asyncio.sleep(0.1)  # a byte now and then, for ever
        sent += 1
        return {"type": "http.request", "body": b"x", "more_body": sent < chunks}

    return Request({"type": "http", "method": "POST", "path": "/", "headers": []}, receive)


async def test_a_trickling_body_is_refused_when_its_time_is_up() -> None:
    started = time.monotonic()
    with pytest.raises(RequestTimeout) as refused:
        await read_body(trickling(10_000), 1_000_000, within=0.5)
    assert 0.5 <= time.monotonic() - started < 10  # well before the 1,000 s of trickle
    assert refused.value.status == 408


async def test_a_body_arriving_in_time_is_read() -> None:
    assert await read_body(trickling(3), 1_000_000, within=5) == b"xxx"
