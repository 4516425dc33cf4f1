"""Scoring's full recompute: every agency × every indicator × 8 periods, rescored from scratch;
and (``python -m bench.scoring``) what one submission then costs scoring.

The catalogue reaches scoring as in the platform: the indicators service seeds the reference
and its outbox relay publishes it on the in-process bus. The agencies' values are then written
straight into scoring's replica (setting up, not measured) and ``rescore`` — what
``dx rescore`` runs — is timed: every series, agency index and ranking recomputed.
"""

from __future__ import annotations

import argparse
import asyncio
import random
import tempfile
import time
from dataclasses import dataclass
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

from prometheus_client import REGISTRY
from sqlalchemy import func, select

from bench.servers import schemas
from libs.common.bus.inprocess import InProcessBus
from libs.common.db import upsert
from libs.common.events import AggregateValue, ObservationsStored, StoredObservation, utcnow
from libs.common.periods import ReportingPeriod, parse_period, period_containing
from libs.common.service import ServiceRuntime
from libs.common.settings import Settings
from services.platform import BUILDERS, migrate, runtime
from services.scoring import repository
from services.scoring.models import AgencyValueRow, AggregateRow, RescoreMark
from services.scoring.service import rescore

PERIODS = 8
LAST_DAY = date(2024, 12, 31)  # before the 2025 mergers: 93 central agencies and 63 provinces
SCOPES = ("national", "central", "local")
SERVICES = ("indicators", "scoring")


@dataclass(frozen=True)
class Recompute:
    agencies: int
    indicators: int
    values: int
    seconds: float

    @property
    def values_per_second(self) -> float:
        return self.values / self.seconds


def last_periods(frequency: str) -> list[str]:
    """The ``PERIODS`` periods of the frequency ending with the one holding ``LAST_DAY``."""
    period: ReportingPeriod = period_containing(LAST_DAY, frequency)
    found = []
    for _ in range(PERIODS):
        found.append(str(period))
        period = period.previous()
    return found


async def _seed_catalogue(settings: Settings) -> None:
    """Start indicators and scoring on one bus until the reference catalogue is scored."""
    bus = InProcessBus()
    services = [runtime(BUILDERS[name](settings, bus, standalone=False)) for name in SERVICES]
    await bus.start()
    try:
        for service in services:
            await service.start()  # indicators' start returns once its catalogue is published
    finally:
        for service in reversed(services):
            await service.stop()
        await bus.stop()


async def full_recompute(settings: Settings) -> Recompute:
    """Seed, fill scoring's replica with every (agency, indicator, period), time ``rescore``."""
    await asyncio.to_thread(migrate, settings, SERVICES)  # Alembic runs its own event loop
    await _seed_catalogue(settings)
    scoring = runtime(BUILDERS["scoring"](settings, InProcessBus(), standalone=True))
    try:
        async with scoring.db.read() as session:
            indicators = await repository.indicators(session)
            agencies = [
                code
                for code, agency in sorted((await repository.agencies(session)).items())
                if agency.exists_on(LAST_DAY)
            ]
        chooser = random.Random(11)
        now = datetime.now(UTC)
        values: list[dict[str, Any]] = []
        figures: list[dict[str, Any]] = []
        for indicator in indicators:
            boolean = indicator.aggregation == "share_of_agencies"
            for period in last_periods(indicator.frequency):
                figures += [
                    {"indicator": indicator.code, "scope": scope, "period": period}
                    | {"value": chooser.uniform(0, 100), "method": "computed", "recorded_at": now}
                    for scope in SCOPES
                ]
                for agency in agencies:
                    value = chooser.random() < 0.6 if boolean else chooser.uniform(0, 100)
                    values.append(
                        {"indicator": indicator.code, "agency": agency, "period": period}
                        | {"value_bool": value if boolean else None}
                        | {"value_number": None if boolean else value, "revision": 1}
                        | {"reported_at": now, "late": False, "recorded_at": now}
                    )
        async with scoring.db.transaction() as session:
            # Upserts: the reference's published figures are already there for some keys.
            await upsert(session, AgencyValueRow, values, ["indicator", "agency", "period"])
            await upsert(session, AggregateRow, figures, ["indicator", "scope", "period"])

        def progress(done: int, total: int) -> None:
            if done == total or done % max(1, total // 20) == 0:
                print(f"\r  rescored: {done}/{total} series and periods", end="", flush=True)

        started = time.perf_counter()
        await rescore(scoring, progress=progress)
        seconds = time.perf_counter() - started
        print()
        return Recompute(len(agencies), len(indicators), len(values), seconds)
    finally:
        await scoring.db.dispose()


@dataclass(frozen=True)
class Incremental:
    submissions: int
    cpu_seconds: float
    passes: int

    @property
    def cpu_ms_per_submission(self) -> float:
        return self.cpu_seconds / self.submissions * 1000


INCREMENTAL_RATE = 10.0  # submissions/s, as in the profile of the platform that led here


def _passes() -> float:
    """How many rescorer passes this process ran."""
    return REGISTRY.get_sample_value("dx_scoring_coalesced_marks_count") or 0.0


async def _drained(scoring: ServiceRuntime) -> None:
    marks = select(func.count()).select_from(RescoreMark)
    while True:
        async with scoring.db.read() as session:
            if not await session.scalar(marks):
                return
        await asyncio.sleep(0.01)


async def incremental_cost(settings: Settings, submissions: int = 60) -> Incremental:
    """On the data the full recompute left: scoring's CPU per single-value submission at 10/s.

    Each submission reaches scoring as the indicators service announces it (the agency's value
    and the national figure it moved); the consumer keeps and marks it, the rescorer scores
    it. Counted: the whole process's CPU until every mark is scored.
    """
    bus = InProcessBus()
    scoring = runtime(BUILDERS["scoring"](settings, bus, standalone=False))
    await bus.start()
    await scoring.start()
    try:
        await _drained(scoring)  # what the catalogue marked when it was seeded
        async with scoring.db.read() as session:
            indicators = [
                i
                for i in await repository.indicators(session)
                if i.aggregation == "share_of_agencies" and i.frequency == "half"
            ]
            known = await repository.index_periods(session)
        period = max((p for p in known if "-S" in p), key=parse_period)
        reporters = sorted(
            {a for i in indicators for a in i.expected_reporters(parse_period(period))}
        )
        chooser = random.Random(5)
        before = _passes()
        started = time.process_time()
        for n in range(submissions):
            sent = time.perf_counter()
            indicator, agency, now = (
                indicators[n % len(indicators)],
                chooser.choice(reporters),
                utcnow(),
            )
            observed = StoredObservation(
                indicator=indicator.code,
                agency=agency,
                period=period,
                value=chooser.random() < 0.5,
                revision=n + 2,
                recorded_at=now,
                reported_at=now,
            )
            figure = AggregateValue(
                indicator=indicator.code,
                scope="national",
                period=period,
                value=chooser.uniform(0, 100),
                method="computed",
            )
            event = ObservationsStored(
                submission=f"bench-{n}",
                agency=agency,
                period=period,
                observations=[observed],
                aggregates=[figure],
                recorded_at=now,
            )
            await bus.publish(event.topic, [event.envelope(producer="bench", key=agency)])
            await asyncio.sleep(max(0.0, 1 / INCREMENTAL_RATE - (time.perf_counter() - sent)))
        await _drained(scoring)
        cpu = time.process_time() - started
        return Incremental(submissions, cpu, int(_passes() - before))
    finally:
        await scoring.stop()
        await bus.stop()


async def _measure(settings: Settings) -> None:
    result = await full_recompute(settings)
    print(
        f"full recompute, {result.agencies} agencies × {result.indicators} indicators × "
        f"{PERIODS} periods: {result.values} values in {result.seconds:.2f} s, "
        f"{result.values_per_second:,.0f} values/s"
    )
    cost = await incremental_cost(settings)
    print(
        f"{cost.submissions} single-value submissions at {INCREMENTAL_RATE:.0f}/s: scoring's CPU "
        f"{cost.cpu_ms_per_submission:.1f} ms per submission, {cost.passes} rescorer passes"
    )


async def _main() -> None:
    """``python -m bench.scoring [--postgres URL]``: the full recompute, then the cost of a
    submission, alone (on a throw-away SQLite directory, or schemas of its own)."""
    parser = argparse.ArgumentParser(description=_main.__doc__)
    parser.add_argument("--postgres", help="postgresql+asyncpg://… instead of SQLite")
    args = parser.parse_args()
    if args.postgres:
        async with schemas(args.postgres, "scoring") as prefix:
            await _measure(
                Settings(
                    database_url=args.postgres, database_schema_prefix=prefix, log_level="WARNING"
                )
            )
        return
    with tempfile.TemporaryDirectory(prefix="dx-bench-scoring-") as data:
        await _measure(Settings(data_dir=Path(data), log_level="WARNING"))


if __name__ == "__main__":
    asyncio.run(_main())
