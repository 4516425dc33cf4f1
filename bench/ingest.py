"""Ingest measured end to end: HTTP → outbox → bus → observation store → status ``stored``."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import httpx

from bench.loadgen import Pool, offer
from bench.stats import percentile
from bench.workload import Slot, requests


@dataclass(frozen=True)
class Throughput:
    values: int
    submissions: int
    seconds: float
    accept_seconds: float
    refused: int  # 503 answers (overloaded), each retried after its Retry-After

    @property
    def values_per_second(self) -> float:
        return self.values / self.seconds

    @property
    def submissions_per_second(self) -> float:
        return self.submissions / self.seconds


def receipts_of(response: httpx.Response) -> list[str]:
    """The submission ids a submit or batch response accepted."""
    body: Any = response.json()
    if "results" in body:
        return [item["id"] for item in body["results"] if item["status"] == "accepted"]
    return [body["id"]]


POLL_CHUNK = 20
POLL_PAUSE = 0.2


async def wait_all_stored(client: httpx.AsyncClient, ids: list[str], progress: bool = True) -> None:
    """Poll statuses, oldest first, until every submission is stored.

    Polls are few and paced (``POLL_CHUNK`` every ``POLL_PAUSE`` s) so that watching the
    platform does not become a load of its own; a failed poll is simply polled again.
    """
    pending = list(ids)
    while pending:
        chunk = pending[:POLL_CHUNK]
        answers = await asyncio.gather(
            *(client.get(f"/api/v1/submissions/{sid}") for sid in chunk), return_exceptions=True
        )
        statuses = {
            sid: answer.json().get("status")
            for sid, answer in zip(chunk, answers, strict=True)
            if isinstance(answer, httpx.Response) and answer.status_code == 200
        }
        if "rejected" in statuses.values():
            raise RuntimeError("a benchmark submission was rejected")
        done = {sid for sid, status in statuses.items() if status == "stored"}
        pending = [sid for sid in pending if sid not in done]
        if progress:
            print(f"\r  stored: {len(ids) - len(pending)}/{len(ids)}", end="", flush=True)
        if pending and len(done) < len(chunk):
            await asyncio.sleep(POLL_PAUSE)
    if progress:
        print()


async def post_retrying(
    client: httpx.AsyncClient, path: str, body: Any
) -> tuple[httpx.Response, int]:
    """POST as a well-behaved client: a 503 is retried (same submission ids, so never kept
    twice) after the Retry-After the platform asks for. The answer and how many 503s came."""
    refused = 0
    while True:
        response = await client.post(path, json=body)
        if response.status_code != 503:
            return response, refused
        refused += 1
        await asyncio.sleep(float(response.headers.get("retry-after", "1")))


async def throughput(
    client: httpx.AsyncClient,
    source: Iterator[Slot],
    *,
    values_per_request: int,
    total_values: int,
    concurrency: int = 16,
) -> Throughput:
    """Send requests of the given size until ``total_values``, then wait until all are stored."""
    queue = requests(source, values_per_request=values_per_request)
    ids: list[str] = []
    sent_values = refused = 0
    lock = asyncio.Lock()

    async def worker() -> None:
        nonlocal sent_values, refused
        while True:
            async with lock:
                if sent_values >= total_values:
                    return
                path, body, carried = next(queue)
                sent_values += carried
            response, retried = await post_retrying(client, path, body)
            refused += retried
            if response.status_code not in (200, 202):
                raise RuntimeError(f"{path}: {response.status_code} {response.text[:300]}")
            ids.extend(receipts_of(response))

    started = time.perf_counter()
    await asyncio.gather(*(worker() for _ in range(concurrency)))
    accepted = time.perf_counter() - started
    await wait_all_stored(client, ids)
    return Throughput(sent_values, len(ids), time.perf_counter() - started, accepted, refused)


async def latency_at_rate(
    pool: Pool, source: Iterator[Slot], *, rate: float, seconds: float
) -> tuple[list[float], int]:
    """Open-loop single-value submissions at ``rate``/s; latency counted from the planned send."""
    queue = requests(source, values_per_request=1)
    bodies = [pool.post("/api/v1/submissions", next(queue)[1]) for _ in range(int(rate * seconds))]
    outcome = await offer(pool, bodies, rate=rate)
    return outcome.latencies, outcome.errors(202)


def summarize(latencies: list[float]) -> dict[str, float]:
    """p50/p95/p99 in milliseconds."""
    return {f"p{int(q * 100)}": 1000 * percentile(latencies, q) for q in (0.5, 0.95, 0.99)}
