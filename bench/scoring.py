"""Scoring's full recompute: every agency × every indicator × 8 periods, rescored from scratch.

The catalogue reaches scoring as in the platform: the indicators service seeds the reference
and its outbox relay publishes it on the in-process bus. The agencies' values are then written
straight into scoring's replica (setting up, not measured) and ``rescore`` — what
``dx rescore`` runs — is timed: every series, agency index and ranking recomputed.
"""

from __future__ import annotations

import asyncio
import random
import tempfile
import time
from dataclasses import dataclass
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

from libs.common.bus.inprocess import InProcessBus
from libs.common.db import upsert
from libs.common.periods import ReportingPeriod, period_containing
from libs.common.settings import Settings
from services.platform import BUILDERS, migrate, runtime
from services.scoring import repository
from services.scoring.models import AgencyValueRow, AggregateRow
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


async def _main() -> None:
    """``python -m bench.scoring``: the full recompute alone, on a throw-away SQLite directory."""
    with tempfile.TemporaryDirectory(prefix="dx-bench-scoring-") as data:
        result = await full_recompute(Settings(data_dir=Path(data), log_level="WARNING"))
    print(
        f"{result.agencies} agencies × {result.indicators} indicators × {PERIODS} periods: "
        f"{result.values} values in {result.seconds:.2f} s, {result.values_per_second:,.0f} values/s"
    )


if __name__ == "__main__":
    asyncio.run(_main())
