"""``python -m bench``: measure the platform against the raw limits of this machine.

Prints a table and writes it as JSON under ``bench/results/``. ``--quick`` runs smaller loads
(a smoke run); ``--mode`` picks the embedded default, the cluster, or both.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import platform
import tempfile
import time
from collections.abc import Iterator
from dataclasses import asdict
from pathlib import Path

import httpx

from bench import freshness, ingest, raw, scenarios, scoring, servers
from bench.loadgen import Pool
from bench.stats import Row, render
from bench.workload import Slot, slots
from deploy.local.cluster import broker
from libs.common.settings import Settings

RATES = (250, 500, 750, 1000, 1500, 2000)
P99_BUDGET_MS = 100.0
#: Seconds of offered load at each rate (the acceptance asks 500/s held for 30 s).
RATE_SECONDS = 30


async def measure(
    running: servers.Platform,
    mode: str,
    *,
    quick: bool,
    limits: dict[str, float],
    db_limit: str,
) -> list[Row]:
    """Throughput per request size, latency at fixed rates, for one running platform."""
    rows: list[Row] = []
    async with httpx.AsyncClient(
        base_url=running.url,
        timeout=60,
        headers={"Authorization": f"Bearer {servers.TOKEN}"},
        # More connections cost the client (httpx's pool scans them per request) CPU the
        # platform on the same two cores would miss.
        limits=httpx.Limits(max_connections=128, max_keepalive_connections=128),
    ) as client:
        source = await slots(client)
        for size, total in (
            (1, 500 if quick else 3000),
            (50, 2000 if quick else 20000),
            (500, 5000 if quick else 50000),
        ):
            print(f"{mode}: ingest, {size} value(s) per request, {total} values")
            result = await ingest.throughput(
                client, source, values_per_request=size, total_values=total
            )
            rows.append(
                Row(
                    f"{mode} ingest x{size}",
                    "values stored/s",
                    result.values_per_second,
                    "values/s",
                    limits[db_limit],
                    db_limit,
                )
            )
            rows.append(
                Row(
                    f"{mode} ingest x{size}",
                    "submissions stored/s",
                    result.submissions_per_second,
                    "subs/s",
                )
            )
            if result.refused:
                rows.append(
                    Row(
                        f"{mode} ingest x{size}",
                        "503 answers, retried after Retry-After",
                        result.refused,
                        "requests",
                    )
                )
        await servers.settle(running)
        print(f"{mode}: freshness")
        stored, scored = await freshness.freshness(client, source, samples=10 if quick else 40)
        for label, samples in (("submit→stored", stored), ("submit→score updated", scored)):
            for name, value in ingest.summarize(samples).items():
                if name != "p95":
                    rows.append(Row(f"{mode} freshness", f"{label} {name}", value, "ms"))
        held = 0.0
        pool = Pool(running.url, token=servers.TOKEN)
        try:
            for rate in RATES[:3] if quick else RATES:
                await servers.settle(running)
                print(f"{mode}: latency at {rate} submissions/s")
                latencies, errors = await ingest.latency_at_rate(
                    pool, source, rate=rate, seconds=3 if quick else RATE_SECONDS
                )
                figures = ingest.summarize(latencies)
                for name, value in figures.items():
                    rows.append(Row(f"{mode} latency @{rate}/s", name, value, "ms"))
                rows.append(Row(f"{mode} latency @{rate}/s", "errors", errors, "requests"))
                if figures["p99"] < P99_BUDGET_MS and not errors:
                    held = rate
                else:
                    break
        finally:
            await pool.close()
        rows.append(
            Row(
                f"{mode} latency", f"highest rate with p99 < {P99_BUDGET_MS:.0f} ms", held, "subs/s"
            )
        )
        rows += await season(
            client, running, source, mode, quick=quick, limits=limits, db_limit=db_limit
        )
    return rows


async def season(
    client: httpx.AsyncClient,
    running: servers.Platform,
    source: Iterator[Slot],
    mode: str,
    *,
    quick: bool,
    limits: dict[str, float],
    db_limit: str,
) -> list[Row]:
    """The catalogue storm and the bulk load of a reporting season."""
    await servers.settle(running)
    print(
        f"{mode}: catalogue storm, {scenarios.STORM_AGENCIES} agency edits then their submissions"
    )
    storm = await scenarios.catalogue_storm(client, source)
    rows = [
        Row(f"{mode} catalogue storm", f"{storm.edits} agency edits", storm.edit_seconds, "s"),
        Row(
            f"{mode} catalogue storm",
            "all stored, after the last 202",
            storm.stored_after_last_202,
            "s",
        ),
    ]
    codes = await scenarios.define_bulk_indicators(client)
    await servers.settle(running)
    months = 2 if quick else len(scenarios.BULK_MONTHS)
    print(
        f"{mode}: bulk load, provinces × {months} months × {scenarios.BULK_INDICATORS} indicators"
    )
    bulk = await scenarios.bulk_load(client, codes, months=months)
    rows.append(
        Row(
            f"{mode} bulk {bulk.values:,} values",
            f"values stored/s ({scenarios.BULK_CLIENTS} clients, 100 per submission)",
            bulk.values_per_second,
            "values/s",
            limits[db_limit],
            db_limit,
        )
    )
    return rows


def recompute_rows(result: scoring.Recompute, mode: str, limits: dict[str, float]) -> list[Row]:
    """The full recompute's time and rate, against the database's raw insert rate."""
    db_limit = "PostgreSQL COPY" if mode == "cluster" else "SQLite executemany"
    scenario = f"{mode} scoring full recompute"
    shape = f"{result.agencies} agencies × {result.indicators} indicators × {scoring.PERIODS}"
    return [
        Row(scenario, f"{shape} periods", result.seconds, "s"),
        Row(
            scenario,
            "values rescored/s",
            result.values_per_second,
            "values/s",
            limits[db_limit],
            db_limit,
        ),
    ]


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else "")
    parser.add_argument("--mode", choices=["embedded", "cluster", "all"], default="all")
    parser.add_argument("--quick", action="store_true", help="small loads (a smoke run)")
    parser.add_argument(
        "--postgres",
        default=os.environ.get(
            "DX_BENCH_POSTGRES", "postgresql+asyncpg://postgres@127.0.0.1:5432/test"
        ),
    )
    parser.add_argument("--out", type=Path, default=Path("bench/results"))
    args = parser.parse_args()
    count = 20_000 if args.quick else 200_000
    print("raw limits ...")
    limits = {"SQLite executemany": raw.sqlite_rows_per_second(count)}
    rows = [
        Row("raw", "SQLite executemany, one transaction", limits["SQLite executemany"], "rows/s")
    ]
    if args.mode in ("cluster", "all"):
        dsn = args.postgres.replace("+asyncpg", "")
        limits["PostgreSQL COPY"] = await raw.postgres_rows_per_second(dsn, count)
        rows.append(Row("raw", "PostgreSQL COPY", limits["PostgreSQL COPY"], "rows/s"))
        with broker(Path("bench/results/logs")) as bootstrap:
            events = await raw.kafka_events_per_second(bootstrap, count // 10, 10)
        rows.append(Row("raw", "aiokafka produce (10 values/event)", events, "events/s"))
        rows.append(Row("raw", "aiokafka produce, as values", events * 10, "values/s"))
    if args.mode in ("embedded", "all"):
        with tempfile.TemporaryDirectory(prefix="dx-bench-scoring-") as data:
            print("embedded: scoring, full recompute")
            settings = Settings(data_dir=Path(data), log_level="WARNING")
            rows += recompute_rows(await scoring.full_recompute(settings), "embedded", limits)
        with servers.embedded() as running:
            rows += await measure(
                running, "embedded", quick=args.quick, limits=limits, db_limit="SQLite executemany"
            )
    if args.mode in ("cluster", "all"):
        async with servers.schemas(args.postgres, "scoring") as prefix:
            print("cluster: scoring, full recompute (PostgreSQL)")
            settings = Settings(
                database_url=args.postgres, database_schema_prefix=prefix, log_level="WARNING"
            )
            rows += recompute_rows(await scoring.full_recompute(settings), "cluster", limits)
        async with servers.schemas(args.postgres, "cluster") as prefix:
            with servers.local_cluster(args.postgres, prefix) as running:
                rows += await measure(
                    running, "cluster", quick=args.quick, limits=limits, db_limit="PostgreSQL COPY"
                )
    print()
    print(render(rows))
    args.out.mkdir(parents=True, exist_ok=True)
    path = args.out / f"bench-{time.strftime('%Y%m%dT%H%M%S')}.json"
    path.write_text(
        json.dumps(
            {
                "machine": {
                    "cpus": os.cpu_count(),
                    "platform": platform.platform(),
                    "python": platform.python_version(),
                },
                "quick": args.quick,
                "rows": [asdict(row) | {"ratio": row.ratio} for row in rows],
            },
            indent=2,
        )
    )
    print(f"\nwritten to {path}")


if __name__ == "__main__":
    asyncio.run(main())
