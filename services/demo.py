"""``dx demo`` (``make demo``): a clearly labelled SYNTHETIC per-agency dataset, loaded in process.

Opt-in only, so that a newcomer sees full rankings; the default platform shows only real data.
The values go through ingest's own import path straight into its outbox (no API key is made,
none is left behind), and the running platform's relay publishes them. Every value is marked as
demo data wherever it shows: its submission's and observation's ``source`` is ``demo`` (so
``GET /observations`` says so on every row), its note says it is synthetic, and the dashboard
labels each demo value and puts a banner on every page of the period
(services/gateway/web/data.holds_synthetic).

It goes to the latest period scoring has scores for (the one the dashboard opens on), or the
period asked for; being submitted now, after that period's due date, the values count as late.
"""

from __future__ import annotations

import asyncio
import random
from collections.abc import Iterable
from dataclasses import dataclass, field

from sqlalchemy import select

from libs.common.bus import create_bus
from libs.common.db import Database
from libs.common.periods import ReportingPeriod, parse_period
from libs.common.service import ServiceRuntime
from libs.common.settings import BusKind, Settings
from services.gateway.web.data import DEMO_MARKER, DEMO_SOURCE
from services.ingest import app as ingest
from services.ingest import repository as ingest_repository
from services.ingest.files import SheetRow
from services.ingest.service import import_rows
from services.ingest.validation import Catalogue, IndicatorSpec
from services.scoring.models import ScoreRow

NOTE = f"{DEMO_MARKER} – synthetic demo value, not a real figure"
SEED = "dx-demo-1"


@dataclass
class DemoReport:
    """What the demo loaded: rows queued, refused, and submissions stored in time."""

    period: str
    agencies: list[str] = field(default_factory=list)
    rows: int = 0
    refused: list[str] = field(default_factory=list)
    submissions: list[str] = field(default_factory=list)
    stored: int = 0


def latest_period(periods: Iterable[str]) -> str | None:
    """The period that ends last (a year after its own second half), None for none."""
    parsed = [parse_period(p) for p in periods]
    return str(max(parsed, key=lambda p: (p.end, p))) if parsed else None


async def scored_periods(settings: Settings) -> set[str]:
    """Every period scoring holds a score for."""
    db = Database(settings.database_url_for("scoring"), schema=settings.schema_for("scoring"))
    try:
        async with db.read() as session:
            return set(await session.scalars(select(ScoreRow.period).distinct()))
    finally:
        await db.dispose()


def expected_indicators(
    agency: str, catalogue: Catalogue, period: ReportingPeriod, program: str | None = None
) -> list[IndicatorSpec]:
    """The yes/no indicators the agency is expected to report for the period."""
    return [
        spec
        for code, spec in sorted(catalogue.indicators.items())
        if spec.value_type == "boolean_per_agency"
        and spec.expects(agency, period.end)
        and (program is None or code.startswith(f"{program}-"))
    ]


def synthetic_values(
    agency: str, indicators: Iterable[IndicatorSpec], *, seed: str = SEED
) -> list[tuple[str, bool]]:
    """Deterministic yes/no answers: each agency gets its own 'strength', so rankings spread."""
    rng = random.Random(f"{seed}:{agency}")
    strength = rng.uniform(0.2, 0.95)
    return [(spec.code, rng.random() < strength) for spec in sorted(indicators, key=_code)]


def _code(spec: IndicatorSpec) -> str:
    return spec.code


async def load_demo(
    runtime: ServiceRuntime,
    *,
    period: str,
    program: str | None = None,
    wait_seconds: float = 60,
) -> DemoReport:
    """Queue the synthetic dataset of every agency existing in ``period``; wait until stored."""
    asked = parse_period(period)
    report = DemoReport(period=str(asked))
    async with runtime.db.read() as session:
        catalogue = await ingest_repository.load_catalogue(session)
    rows: list[SheetRow] = []
    for code, agency in sorted(catalogue.agencies.items()):
        chosen = expected_indicators(code, catalogue, asked, program)
        if agency.exists_on(asked.end) and chosen:
            report.agencies.append(code)
            rows += [
                SheetRow(len(rows) + n, code, str(asked), indicator, value, NOTE)
                for n, (indicator, value) in enumerate(synthetic_values(code, chosen), start=1)
            ]
    # The same dataset again repeats its submissions, never duplicates them.
    imported = await import_rows(
        runtime, rows, source=DEMO_SOURCE, batch_key=f"{SEED}:{asked}:{program or ''}"
    )
    report.rows = imported.accepted_rows
    report.refused = [f"row {e.loc[1]}: {e.msg}" for e in imported.errors]
    report.submissions = imported.submissions
    report.stored = await _wait_stored(runtime, imported.submissions, wait_seconds)
    return report


async def _wait_stored(runtime: ServiceRuntime, ids: list[str], within: float) -> int:
    """How many submissions the running platform stored before the deadline (polls)."""
    pending, stored = set(ids), 0
    deadline = asyncio.get_running_loop().time() + within
    while pending and asyncio.get_running_loop().time() < deadline:
        async with runtime.db.read() as session:
            for submission in sorted(pending):
                found = await ingest_repository.get_submission(session, submission)
                if found is not None and found.status in ("stored", "rejected"):
                    pending.discard(submission)
                    stored += found.status == "stored"
        if pending:
            await asyncio.sleep(0.5)
    return stored


async def run_demo(
    settings: Settings, *, period: str | None, program: str | None, wait_seconds: float = 60
) -> DemoReport:
    """Load the demo into the platform whose databases ``settings`` name (``dx demo``)."""
    chosen = period or latest_period(await scored_periods(settings))
    if chosen is None:
        raise ValueError("nothing is scored yet: start the platform (make run) or pass --period")
    service = ingest.build(settings, create_bus(settings, default=BusKind.KAFKA), standalone=True)
    runtime: ServiceRuntime = service.state.runtime
    try:
        return await load_demo(runtime, period=chosen, program=program, wait_seconds=wait_seconds)
    finally:
        await runtime.db.dispose()
