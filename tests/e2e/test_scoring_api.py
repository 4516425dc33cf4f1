"""Scoring through the gateway, fed directly on its bus: bands, summaries, rankings, laggards."""

from __future__ import annotations

import random
from collections.abc import AsyncIterator, Sequence
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

import httpx
import pytest
import yaml
from sqlalchemy import delete, select

from libs.common.events import (
    CATALOGUE_TOPIC,
    SCORES_TOPIC,
    AgencyPublished,
    AggregateValue,
    Envelope,
    EventPayload,
    IndicatorPublished,
    ObservationsStored,
    OfficialAssessmentSpec,
    ReporterSpan,
    StoredObservation,
    TargetSpec,
    utcnow,
)
from services.indicators import models as indicators_models
from services.scoring import models, repository, service
from services.scoring.rescorer import Rescorer
from services.scoring.settings import ScoringSettings
from tests.support.flow import runtime, scored, settle
from tests.support.platform import embedded_platform, embedded_settings

pytestmark = pytest.mark.e2e

REFERENCE = Path(indicators_models.__file__).parent / "reference" / "indicators.yaml"


@pytest.fixture
async def dx(dx: httpx.AsyncClient) -> httpx.AsyncClient:
    """The test's own platform (conftest: SQLite, and PostgreSQL as integration), seed settled."""
    await settle(dx)
    return dx


@pytest.fixture(scope="module")
async def shared(tmp_path_factory: pytest.TempPathFactory) -> AsyncIterator[httpx.AsyncClient]:
    """One platform for the checks that change nothing, with a few indicators to refuse."""
    async with embedded_platform(embedded_settings(tmp_path_factory.mktemp("dx"))) as client:
        await settle(client)
        await publish(client, indicator("B-1"), indicator("O-1", program="OFF"))
        yield client


async def publish(client: httpx.AsyncClient, *payloads: EventPayload) -> None:
    """Hand events to scoring's bus; returns once its handlers committed and the rescorer
    scored what they marked."""
    for payload in payloads:
        key = getattr(payload, "agency", None) or getattr(payload, "code", "test")
        await runtime(client).bus.publish(
            payload.topic, [payload.envelope(producer="test", key=str(key))]
        )
    await scored(client)


def indicator(
    code: str,
    *,
    program: str = "TST",
    targets: Sequence[tuple[int, str, float]] = ((2027, ">=", 80),),
    reporters: Sequence[str] = (),
    **fields: Any,
) -> IndicatorPublished:
    values: dict[str, Any] = {
        "goal": code,
        "primary": True,
        "pillar": "data",
        "name_vi": f"Chỉ tiêu {code}",
        "unit": "percent",
        "direction": "increase",
        "value_type": "percent",
        "aggregation": "national",
        "frequency": "half",
        "due_days": 15,
    }
    return IndicatorPublished(
        code=code,
        program=program,
        targets=[TargetSpec(year=y, op=op, value=v) for y, op, v in targets],
        reporters=[ReporterSpan(agency=a) for a in reporters],
        **(values | fields),
    )


def agency(code: str, group: str) -> AgencyPublished:
    kind = "province" if group == "local" else "ministry"
    return AgencyPublished(code=code, name_vi=f"Cơ quan {code}", kind=kind, groups=[group])


def figures(
    period: str, values: dict[str, float | None], scope: str = "national"
) -> ObservationsStored:
    """National figures (method published) as the indicators service sends them."""
    return ObservationsStored(
        submission=None,
        agency="BTTTT",
        period=period,
        observations=[],
        aggregates=[
            AggregateValue(indicator=c, scope=scope, period=period, value=v, method="published")
            for c, v in values.items()
        ],
        recorded_at=utcnow(),
    )


def report(
    code: str, period: str, values: dict[str, bool | float], *, at: datetime | None = None
) -> ObservationsStored:
    """One agency's stored values (`at`: when it submitted them)."""
    now = utcnow()
    return ObservationsStored(
        submission=f"{code}-{period}",
        agency=code,
        period=period,
        observations=[
            StoredObservation(
                indicator=indicator_code,
                agency=code,
                period=period,
                value=value,
                revision=1,
                recorded_at=now,
                reported_at=at or now,
            )
            for indicator_code, value in values.items()
        ],
        recorded_at=now,
    )


async def get(client: httpx.AsyncClient, path: str, **params: str) -> Any:
    response = await client.get(f"/api/v1/{path}", params=params)
    assert response.status_code == 200, response.text
    return response.json()


# Bands and statuses from national figures.


async def test_bands_and_statuses_come_from_the_published_figures(dx: httpx.AsyncClient) -> None:
    await publish(
        dx,
        indicator("B-1"),
        indicator("B-2", targets=[(2027, ">", 50)]),
        indicator("B-3", targets=[(2027, "=", 100)]),
        indicator("B-4"),
        figures("2025-S2", {"B-3": 20}),
        figures("2026-S1", {"B-1": 85, "B-2": 30, "B-3": 40}),
    )
    scores = await get(dx, "scores", program="TST", period="2026-S1")
    by_code = {s["indicator"]: s for s in scores}
    assert list(by_code) == ["B-1", "B-2", "B-3", "B-4"]
    assert {c: (s["band"], s["status"]) for c, s in by_code.items()} == {
        "B-1": ("completed", "completed"),  # 85 >= 80
        "B-2": ("over_half", "unassessable"),  # 30/50 = 0.6, one figure: no trend
        # 20 at 2026.0, 40 at 2026.5: the line reaches 100 at 2028.0, r = 1, not a year early.
        "B-3": ("under_half", "likely"),
        "B-4": ("no_data", "no_data"),  # nothing published
    }
    assert by_code["B-2"]["progress"] == pytest.approx(0.6)
    assert by_code["B-2"]["target"] == {"year": 2027, "op": ">", "value": 50}
    assert by_code["B-3"]["projected"] == pytest.approx(100)
    assert by_code["B-4"]["value"] is None
    assert by_code["B-2"]["explanation"].startswith("30 trên mục tiêu > 50 → 60% → Đã thực hiện")
    english = await get(dx, "scores", program="TST", period="2026-S1", lang="en")
    assert english[1]["explanation"].startswith("30 of target > 50 → 60% → more than half done")
    assert await get(dx, "scores", program="TST", period="2026-S1", scope="local") == []


@pytest.mark.parametrize(
    ("path", "params", "named"),
    [
        ("scores", {"period": "2026-S3"}, "period"),
        ("scores", {"period": "2026-S1", "program": "NOPE"}, "program"),
        ("scores", {"period": "2026-S1", "lang": "fr"}, "lang"),
        ("scores", {"period": "2026-S1", "scope": "planet"}, "scope"),
        ("scores/summary", {"period": "2026-S1"}, "program"),
        ("scores/summary", {"period": "2026-S1", "program": "TST", "source": "x"}, "source"),
        ("rankings", {"period": "2026-S1", "group": "regional"}, "group"),
        ("rankings", {"period": "2026-S1", "group": "local", "pillar": "nope"}, "pillar"),
        ("laggards", {"period": "last year"}, "period"),
        ("assessments", {"period": "2026-13"}, "period"),
        ("rankings", {"period": "1000-S1", "group": "local"}, "period"),
        ("laggards", {"period": "9999-S2"}, "period"),
    ],
)
async def test_bad_parameters_are_422_naming_them(
    shared: httpx.AsyncClient, path: str, params: dict[str, str], named: str
) -> None:
    response = await shared.get(f"/api/v1/{path}", params=params)
    assert response.status_code == 422, response.text
    assert response.headers["content-type"] == "application/problem+json"
    assert named in [error["loc"][-1] for error in response.json()["errors"]]


# The committee's 2023 half-year report, from the reference catalogue.


def reference_kh2023() -> tuple[list[IndicatorPublished], list[AggregateValue]]:
    """KH2023's indicators and the national figures the committee published, as events."""
    entries = yaml.safe_load(REFERENCE.read_text(encoding="utf-8"))["indicators"]
    chosen = [entry for entry in entries if entry["program"] == "KH2023"]
    published = [
        indicator(
            entry["code"],
            program="KH2023",
            goal=entry.get("goal") or entry["code"],
            primary=entry.get("primary", True),
            pillar=entry["pillar"],
            aggregation=entry["aggregation"],
            value_type=entry.get("value_type") or "percent",
            targets=[(t["year"], t["op"], t["value"]) for t in entry["targets"]],
        )
        for entry in chosen
    ]
    figures = [
        AggregateValue(
            indicator=entry["code"],
            scope=figure["scope"],
            period=str(figure["period"]),
            value=figure["value"],
            method="published",
        )
        for entry in chosen
        for figure in entry.get("published") or []
    ]
    return published, figures


# Hand count of KH2023 at 2023-S1 (every target for 2023, increasing; `=` means reach it):
# goal | figure(s) 2023-S1           | target | progress           | band
# 01   | 52.3                        | = 100  | 0.523              | over_half
# 02   | 19.7                        | = 100  | 0.197              | under_half
# 03   | 14                          | = 100  | 0.14               | under_half
# 04   | 12                          | > 30   | 0.4                | under_half
# 05   | 60.5                        | > 80   | 0.756              | over_half
# 06   | 13                          | = 100  | 0.13               | under_half
# 07   | none                        | = 100  | -                  | no_data
# 08   | 58                          | = 100  | 0.58               | over_half
# 09   | 56.63                       | = 100  | 0.566              | over_half
# 10   | 92.77                       | = 100  | 0.928              | over_half
# 11   | 11a (primary) 90.66         | = 100  | 0.907              | over_half
# 12   | 12a central 58.93 local 17.29 | = 30 | met / 0.576        | over_half (worse group)
# 13   | none                        | = 100  | -                  | no_data
# 14   | 14a central 33.1 local 23.56 | = 100 | 0.331 / 0.236      | under_half
# 15   | 18                          | > 30   | 0.6                | over_half
# 16   | none                        | > 30   | -                  | no_data
# 17   | none                        | > 10   | -                  | no_data
# 18   | 9.2                         | > 50   | 0.184              | under_half
# 19   | 14.96                       | > 16   | 0.935              | over_half
# 20   | 7.5                         | > 8.5  | 0.882              | over_half
# 21   | 41.9                        | = 100  | 0.419              | under_half
# 22   | 50.79                       | = 100  | 0.508              | over_half
# 23   | 23a (primary) 100           | > 90   | met                | completed
# 24   | 79.2                        | > 80   | 0.99               | over_half
# 25   | 76.93                       | > 85   | 0.905              | over_half
# 26   | 60                          | > 30   | met                | completed
# 27   | 3                           | > 20   | 0.15               | under_half
# 28   | 74.63                       | > 75   | 0.995              | over_half
# 29   | none                        | > 60   | -                  | no_data
# 30   | none                        | > 30   | -                  | no_data
# 31   | none                        | > 80   | -                  | no_data
# 32   | 63                          | > 80   | 0.788              | over_half
# 33   | 9.2                         | > 30   | 0.307              | under_half
# 34   | 5.37                        | > 20   | 0.269              | under_half
# 35   | 2.3                         | > 10   | 0.23               | under_half
# Totals: completed 2 (23, 26), over_half 15, under_half 11, no_data 7 — 35 goals.
# One figure per goal is no trend: statuses are completed for 23 and 26, no_data for the seven
# without a figure, unassessable for the rest (12a's central group is met, but its local group
# cannot be assessed, the worse of the two).
async def test_kh2023_half_year_summary_matches_the_hand_count(dx: httpx.AsyncClient) -> None:
    indicators, published = reference_kh2023()
    assert len(indicators) == 39
    await publish(dx, *indicators)
    await publish(
        dx,
        ObservationsStored(
            submission=None,
            agency="BTTTT",
            period="2023-S1",
            observations=[],
            aggregates=published,
            recorded_at=utcnow(),
        ),
    )
    summary = await get(dx, "scores/summary", program="KH2023", period="2023-S1")
    assert summary["goals"] == 35
    # Goals with no figure at all (07, 13, 16, 17, 29, 30, 31) are no data, not under half.
    assert summary["bands"] == {"completed": 2, "over_half": 15, "under_half": 11, "no_data": 7}
    assert summary["statuses"] == {
        "completed": 2,
        "ahead": 0,
        "likely": 0,
        "low": 0,
        "hard": 0,
        "unassessable": 26,
        "no_data": 7,
    }
    scores = await get(dx, "scores", program="KH2023", period="2023-S1")
    first = next(s for s in scores if s["indicator"] == "KH2023-01")
    assert first["explanation"].startswith("52,3 trên mục tiêu 100 → 52% → Đã thực hiện trên 50%")
    split = [(s["scope"], s["band"]) for s in scores if s["indicator"] == "KH2023-12a"]
    assert split == [("central", "completed"), ("local", "over_half")]


# Composite index and rankings.

LOCAL = ("L1", "L2", "L3", "L4", "L5")
RANKED = [
    indicator(
        "R-1",
        program="RNK",
        aggregation="share_of_agencies",
        value_type="boolean_per_agency",
        targets=[(2028, "=", 100)],
        reporters=[*LOCAL, "C1"],
    ),
    indicator(
        "R-2",
        program="RNK",
        pillar="gov",
        aggregation="by_group",
        targets=[(2028, "=", 100)],
        reporters=[*LOCAL, "C1"],
    ),
]
# Index = mean of the pillars: data (R-1, yes = 1) and gov (R-2 / 100). L5 never reports.
REPORTS = {
    "2026-S2": {"L4": (True, 100), "L1": (True, 80), "L2": (True, 60), "L3": (False, 10)},
    "2027-S1": {"L1": (True, 100), "L2": (True, 50), "L3": (True, 50), "L4": (False, 40)},
}


async def feed_rankings(client: httpx.AsyncClient) -> None:
    await publish(client, *(agency(code, "local") for code in LOCAL), agency("C1", "central"))
    await publish(client, *RANKED)
    for period, answers in REPORTS.items():
        for code, (done, share) in answers.items():
            await publish(client, report(code, period, {"R-1": done, "R-2": share}))
    await publish(client, report("C1", "2027-S1", {"R-1": True}))


async def test_rankings_share_ranks_on_ties_and_show_the_previous_rank(
    dx: httpx.AsyncClient,
) -> None:
    await feed_rankings(dx)
    ranking = await get(dx, "rankings", group="local", period="2027-S1")
    lines = [(r["rank"], r["agency"], r["previous_rank"], r["change"]) for r in ranking]
    assert lines == [
        (1, "L1", 2, 1),
        (2, "L2", 3, 1),
        (2, "L3", 4, 2),
        (4, "L4", 1, -3),
        (None, "L5", None, None),  # never reported: unranked, now and before
    ]
    assert [r["score"] for r in ranking] == pytest.approx([1.0, 0.75, 0.75, 0.2, 0.0])
    assert [r["reported"] for r in ranking] == [True, True, True, True, False]  # L5: silent
    assert ranking[1]["pillar_scores"] == pytest.approx({"data": 1.0, "gov": 0.5})
    assert ranking[0]["name_vi"] == "Cơ quan L1"
    gov = await get(dx, "rankings", group="local", period="2027-S1", pillar="gov")
    assert [(r["rank"], r["agency"], r["score"]) for r in gov][:4] == [
        (1, "L1", 1.0),
        (2, "L2", 0.5),
        (2, "L3", 0.5),
        (4, "L4", 0.4),
    ]
    central = await get(dx, "rankings", group="central", period="2027-S1")
    assert [(r["rank"], r["agency"], r["score"]) for r in central] == [(1, "C1", 0.5)]
    assert await get(dx, "rankings", group="local", period="2030-S1") == []


# Laggards.


async def test_laggards_name_missing_late_and_off_track_reports(dx: httpx.AsyncClient) -> None:
    # Due 15 days after 2026-06-30; the far target keeps a not-yet-due period to ask about.
    lagging = indicator(
        "G-1",
        program="LAG",
        aggregation="share_of_agencies",
        value_type="boolean_per_agency",
        targets=[(2026, "=", 100), (2999, "=", 100)],
        reporters=["L1", "L2", "L3", "L4"],
    )
    await publish(dx, lagging, *(agency(code, "local") for code in ("L1", "L2", "L3", "L4")))
    on_time, late = datetime(2026, 7, 10, 3, tzinfo=UTC), datetime(2026, 8, 1, 3, tzinfo=UTC)
    await publish(
        dx,
        report("L1", "2026-S1", {"G-1": True}, at=on_time),
        report("L2", "2026-S1", {"G-1": True}, at=late),
        report("L3", "2026-S1", {"G-1": False}, at=on_time),
    )
    found = await get(dx, "laggards", period="2026-S1", program="LAG", lang="en")
    reasons = {
        entry["agency"]: [(r["indicator"], r["kind"], r["detail"]) for r in entry["reasons"]]
        for entry in found
    }
    assert reasons == {
        "L2": [("G-1", "late", "reported 2026-08-01, 17 day(s) after the due date 2026-07-15")],
        "L3": [("G-1", "off_track", "no → less than half done")],
        "L4": [("G-1", "missing", "no value for 2026-S1 (due 2026-07-15)")],
    }
    # One indicator behind each: the one that sent nothing first, then by code.
    assert [entry["agency"] for entry in found] == ["L4", "L2", "L3"]
    assert found[1]["name_vi"] == "Cơ quan L2"
    vietnamese = await get(dx, "laggards", period="2026-S1", program="LAG")
    assert vietnamese[0]["reasons"][0]["detail"] == "chưa có số liệu kỳ 2026-S1 (hạn 15/07/2026)"
    assert await get(dx, "laggards", period="2998-S1", program="LAG") == []


# Score changes on the bus.


async def score_events(client: httpx.AsyncClient, code: str) -> list[dict[str, Any]]:
    outbox = models.MESSAGING.outbox
    query = select(outbox.c.envelope).where(outbox.c.topic == SCORES_TOPIC).order_by(outbox.c.id)
    async with runtime(client).db.read() as session:
        envelopes = [Envelope.from_bytes(raw) for raw in await session.scalars(query)]
    return [e.payload for e in envelopes if e.payload["indicator"] == code]


async def test_a_band_change_writes_score_changed_to_the_outbox(dx: httpx.AsyncClient) -> None:
    await publish(dx, indicator("S-1"))
    for value in (30, 35, 50):  # under half, still under half, over half
        await publish(dx, figures("2026-S1", {"S-1": value}))
    events = await score_events(dx, "S-1")
    assert [(e["previous_band"], e["band"], e["status"]) for e in events] == [
        (None, "under_half", "unassessable"),
        ("under_half", "over_half", "unassessable"),
    ]
    assert all(e["scope"] == "national" and e["period"] == "2026-S1" for e in events)
    metrics = (await dx.get("/metrics")).text
    assert "dx_scoring_score_changes_total" in metrics
    assert 'dx_scoring_recomputes_total{trigger="observations"}' in metrics


# Out-of-order and repeated delivery: a batch is kept as if its events came one by one.


def revision(
    number: int, value: bool, *, reported_at: datetime, recorded_at: datetime
) -> ObservationsStored:
    """Agency P01's revision ``number`` of O-1 for 2025-S1."""
    observed = StoredObservation(
        indicator="O-1",
        agency="P01",
        period="2025-S1",
        value=value,
        revision=number,
        recorded_at=recorded_at,
        reported_at=reported_at,
    )
    return ObservationsStored(
        submission=f"O-1-{number}",
        agency="P01",
        period="2025-S1",
        observations=[observed],
        recorded_at=recorded_at,
    )


async def kept_value(client: httpx.AsyncClient) -> tuple[Any, ...]:
    async with runtime(client).db.read() as session:
        row = await session.get(models.AgencyValueRow, ("O-1", "P01", "2025-S1"))
    assert row is not None
    return row.value, row.revision, row.reported_at.replace(tzinfo=UTC)


@pytest.mark.parametrize("one_batch", [True, False], ids=["one batch", "one by one"])
async def test_late_and_repeated_events_keep_the_newest_revision_and_first_report(
    dx: httpx.AsyncClient, one_batch: bool
) -> None:
    await publish(dx, indicator("O-1", aggregation="share_of_agencies", reporters=["P01"]))
    first, second = datetime(2025, 7, 2, tzinfo=UTC), datetime(2025, 7, 9, tzinfo=UTC)
    newer = revision(2, False, reported_at=second, recorded_at=second).envelope(
        producer="test", key="P01"
    )
    older = revision(1, True, reported_at=first, recorded_at=first).envelope(
        producer="test", key="P01"
    )
    old_figure, new_figure = figures("2025-S1", {"O-1": 40}), figures("2025-S1", {"O-1": 60})
    old_figure.recorded_at, new_figure.recorded_at = first, second
    # Revision 2 and the newer figure overtake revision 1 and the older figure; one event twice.
    late = [
        newer,
        new_figure.envelope(producer="test", key="O-1"),
        older,
        older,
        old_figure.envelope(producer="test", key="O-1"),
    ]
    bus = runtime(dx).bus
    for batch in [late] if one_batch else [[envelope] for envelope in late]:
        await bus.publish(ObservationsStored.topic, batch)
    await scored(dx)
    assert await kept_value(dx) == (False, 2, first)
    scores = await get(dx, "scores", program="TST", period="2025-S1", scope="national")
    assert [score["value"] for score in scores if score["indicator"] == "O-1"] == [60]


# A full rescore gives what the events gave.

SNAPSHOTS = (models.ScoreRow, models.AgencyIndexRow, models.RankingRow)


async def snapshot_tables(client: httpx.AsyncClient) -> dict[str, list[tuple[Any, ...]]]:
    tables: dict[str, list[tuple[Any, ...]]] = {}
    async with runtime(client).db.read() as session:
        for model in SNAPSHOTS:
            columns = [c for c in model.__table__.columns if c.key != "computed_at"]
            keys = [c for c in columns if c.primary_key]  # PostgreSQL cannot order JSON
            rows = await session.execute(select(*columns).order_by(*keys))
            tables[model.__tablename__] = [tuple(row) for row in rows]
    return tables


async def test_rescore_rebuilds_what_incremental_scoring_built(dx: httpx.AsyncClient) -> None:
    await feed_rankings(dx)
    await publish(
        dx,
        indicator("B-3", targets=[(2027, "=", 100)]),
        figures("2025-S2", {"B-3": 20}),
        figures("2026-S1", {"B-3": 40}),
        figures("2026-S1", {"R-2": 55.5}, scope="local"),
    )
    incremental = await snapshot_tables(dx)
    assert all(incremental.values())
    answers = [
        await get(dx, "rankings", group="local", period="2027-S1"),
        await get(dx, "rankings", group="local", period="2026-S2", pillar="gov"),
        await get(dx, "scores", program="TST", period="2026-S1"),
        await get(dx, "scores", program="RNK", period="2026-S1", scope="local"),
    ]
    async with runtime(dx).db.transaction() as session:
        for model in SNAPSHOTS:
            await session.execute(delete(model))
    seen: list[tuple[int, int]] = []
    done = await service.rescore(runtime(dx), progress=lambda n, total: seen.append((n, total)))
    assert await snapshot_tables(dx) == incremental
    assert [
        await get(dx, "rankings", group="local", period="2027-S1"),
        await get(dx, "rankings", group="local", period="2026-S2", pillar="gov"),
        await get(dx, "scores", program="TST", period="2026-S1"),
        await get(dx, "scores", program="RNK", period="2026-S1", scope="local"),
    ] == answers
    assert seen[-1] == (done.series + done.periods + 1,) * 2
    assert [n for n, _ in seen] == list(range(1, len(seen) + 1))
    again = await service.rescore(runtime(dx))
    assert again.changes == 0
    assert await snapshot_tables(dx) == incremental


def envelope(payload: EventPayload) -> Envelope:
    key = getattr(payload, "agency", None) or getattr(payload, "code", "test")
    return payload.envelope(producer="test", key=str(key))


# Each indicator of the mixed programme: its frequency and the periods agencies report for.
MIXED_PERIODS = {
    "X-1": ["2026-Q1", "2026-Q2", "2026-Q3", "2026-Q4"],
    "X-2": ["2026-S1", "2026-S2", "2027-S1"],
    "X-3": ["2026-01", "2026-05", "2026-08", "2026-12"],
}


def mixed_catalogue(codes: Sequence[str], *, weight: float = 1) -> list[IndicatorPublished]:
    """Indicators of every kind the index counts, and one only scored nationally."""
    return [
        indicator(
            "X-1",
            program="MIX",
            aggregation="share_of_agencies",
            value_type="boolean_per_agency",
            frequency="quarter",
            targets=[(2027, "=", 100)],
            reporters=codes,
        ),
        indicator(
            "X-2",
            program="MIX",
            pillar="gov",
            aggregation="mean",
            targets=[(2026, ">=", 60), (2028, ">=", 90)],
            reporters=codes,
            weight=weight,
        ),
        indicator(
            "X-3",
            program="MIX",
            pillar="gov",
            aggregation="by_group",
            frequency="month",
            targets=[(2027, ">=", 80)],
            reporters=codes[:-2],
        ),
        indicator("X-4", program="MIX", pillar="econ", targets=[(2027, ">", 50)]),
    ]


def mixed_round(chooser: random.Random, codes: Sequence[str]) -> list[ObservationsStored]:
    """Each agency reports (or corrects) a value of each indicator for a random period; the
    national figures move."""
    events = []
    for code in codes:
        for name, periods in MIXED_PERIODS.items():
            if chooser.random() < 0.25:
                continue  # some agencies leave some indicators unreported
            value: bool | float = (
                chooser.random() < 0.6 if name == "X-1" else round(chooser.uniform(0, 100), 1)
            )
            events.append(report(code, chooser.choice(periods), {name: value}))
    national: dict[str, float | None] = {
        "X-4": chooser.uniform(0, 100),
        "X-2": chooser.uniform(20, 95),
    }
    events.append(figures(chooser.choice(["2026-S1", "2026-S2"]), national))
    events.append(figures("2026-S2", {"X-3": chooser.uniform(10, 90)}, scope="local"))
    return events


async def test_coalesced_scoring_of_many_batches_matches_a_full_rescore(
    dx: httpx.AsyncClient,
) -> None:
    """Values, corrections, figures and catalogue changes in many batches, scored by coalesced
    passes of the rescorer: the same scores, indices and ranks as a rescore of the same data."""
    chooser = random.Random(20)
    groups = {f"L{n}": "local" for n in range(1, 9)} | {f"C{n}": "central" for n in range(1, 5)}
    codes = sorted(groups)
    await publish(dx, *(agency(code, group) for code, group in groups.items()))
    await publish(dx, *mixed_catalogue(codes))
    bus = runtime(dx).bus
    for turn in range(6):
        events = mixed_round(chooser, codes)
        # Batches of a few events, handed over back to back: passes take many batches each.
        for start in range(0, len(events), 5):
            batch = [envelope(event) for event in events[start : start + 5]]
            await bus.publish(ObservationsStored.topic, batch)
        if turn == 3:
            # The catalogue changes while values keep coming: a weight, an agency's group.
            changed = [agency("L1", "central"), *mixed_catalogue(codes, weight=3)[1:2]]
            await bus.publish(CATALOGUE_TOPIC, [envelope(event) for event in changed])
    await scored(dx)
    incremental = await snapshot_tables(dx)
    assert all(incremental.values())
    central = await get(dx, "rankings", group="central", period="2026-S2")
    assert "L1" in [line["agency"] for line in central]
    async with runtime(dx).db.transaction() as session:
        for model in SNAPSHOTS:
            await session.execute(delete(model))
    await service.rescore(runtime(dx))
    assert await snapshot_tables(dx) == incremental


# Nothing marked is lost: marks outlive the rescorer, and a newer marking outlives a pass.


def rescorer_of(client: httpx.AsyncClient) -> Rescorer:
    found: Rescorer = client.app.state.services["scoring"].state.rescorer  # type: ignore[attr-defined]
    return found


async def test_marks_wait_for_a_rescorer_that_stopped(dx: httpx.AsyncClient) -> None:
    await publish(dx, indicator("K-1"))
    # As if the process died right after the consumer committed the figure and its mark.
    await rescorer_of(dx).stop()
    await runtime(dx).bus.publish(
        ObservationsStored.topic, [envelope(figures("2026-S1", {"K-1": 90}))]
    )
    async with runtime(dx).db.read() as session:
        pending = await repository.pending_marks(session, kinds=("series",), limit=10)
    assert [item for item, _ in pending] == [("series", "K-1", "national", "")]
    assert await score_events(dx, "K-1") == []  # not scored: no snapshot, no event
    restarted = Rescorer(runtime(dx), ScoringSettings())
    restarted.start()
    try:
        await scored(dx)
    finally:
        await restarted.stop()
    async with runtime(dx).db.read() as session:
        stored = await repository.snapshots(session, indicators=["K-1"])
    assert [(c.period, c.value, c.band.value) for c in stored.values()] == [
        ("2026-S1", 90, "completed")
    ]
    assert [e["band"] for e in await score_events(dx, "K-1")] == ["completed"]


async def test_one_replica_runs_the_rescorer_and_another_takes_over(dx: httpx.AsyncClient) -> None:
    await publish(dx, indicator("K-5"))  # the platform's rescorer has run a pass: it leads
    other = Rescorer(runtime(dx), ScoringSettings())  # a second replica on the same database
    try:
        if runtime(dx).db.dialect == "sqlite":
            assert await other.lease.held()  # one process's file: that process leads
        else:
            assert not await other.lease.held()
            await runtime(dx).bus.publish(
                ObservationsStored.topic, [envelope(figures("2026-S1", {"K-5": 85}))]
            )
            assert await other.pass_once() == 0  # not leading: leaves the marks to the leader
            await scored(dx)  # which scores them
            await rescorer_of(dx).stop()  # the leader goes away
            assert await other.lease.held()
    finally:
        await other.stop()


async def test_one_pass_scores_what_many_consumer_batches_marked(dx: httpx.AsyncClient) -> None:
    await scored(dx)  # the seeded catalogue
    await rescorer_of(dx).stop()  # marks now wait: the pass below is the only one
    bus = runtime(dx).bus
    await bus.publish(CATALOGUE_TOPIC, [envelope(indicator("K-3"))])
    for value in range(10, 101, 10):  # ten consumer batches, one figure each
        await bus.publish(ObservationsStored.topic, [envelope(figures("2026-S1", {"K-3": value}))])
    async with runtime(dx).db.read() as session:
        pending, _ = await repository.backlog(session)
        marks = await repository.pending_marks(session, kinds=("series",), limit=10)
    assert pending == {"indicator": 1, "series": 1}
    assert [generation for _, generation in marks] == [9]  # marked ten times, kept once
    rescorer = Rescorer(runtime(dx), ScoringSettings())
    try:
        assert await rescorer.pass_once() == 2
    finally:
        await rescorer.stop()  # gives the lease back
    async with runtime(dx).db.read() as session:
        assert await repository.backlog(session) == ({}, None)
        stored = await repository.snapshots(session, indicators=["K-3"])
    assert [(c.value, c.band.value) for c in stored.values()] == [(100, "completed")]
    # Scored once: the band the ten figures ended at, not each step on the way.
    assert [(e["previous_band"], e["band"]) for e in await score_events(dx, "K-3")] == [
        (None, "completed")
    ]


async def test_a_mark_made_again_while_it_is_scored_stays_pending(dx: httpx.AsyncClient) -> None:
    await scored(dx)  # the seeded catalogue
    await rescorer_of(dx).stop()  # this test plays the rescorer
    db, item = runtime(dx).db, ("series", "K-2", "national", "")
    async with db.transaction() as session:
        await repository.mark(session, [item], utcnow())
    async with db.read() as session:
        read = await repository.pending_marks(session, kinds=("series",), limit=10)
    assert [mark for mark, _ in read] == [item]
    async with db.transaction() as session:
        await repository.mark(session, [item], utcnow())  # a consumer marks it again meanwhile
    async with db.transaction() as session:
        await repository.forget_marks(session, read)  # the pass forgets what it scored
    async with db.read() as session:
        left = await repository.pending_marks(session, kinds=("series",), limit=10)
    assert [(mark, generation) for mark, generation in left] == [(item, read[0][1] + 1)]
    async with db.transaction() as session:
        await repository.forget_marks(session, left)
    async with db.read() as session:
        assert await repository.backlog(session) == ({}, None)


# Official assessments.


async def test_official_assessments_are_recorded_shown_and_summarised(
    dx: httpx.AsyncClient,
) -> None:
    official = OfficialAssessmentSpec(as_of=date(2026, 7, 12), label="likely", source="SK2026")
    await publish(
        dx,
        indicator("O-1", program="OFF", official_assessment=official),
        indicator("O-2", program="OFF"),
        indicator("O-3", program="OFF"),
    )
    recorded = await get(dx, "assessments", indicator="O-1")
    assert [(a["period"], a["label"], a["note"], a["author"]) for a in recorded] == [
        ("2026-S1", "likely", "SK2026", "reference")
    ]
    response = await dx.put(
        "/api/v1/assessments/O-2/2026-S1", json={"label": "hard", "note": "chậm triển khai"}
    )
    assert response.status_code == 200, response.text
    assert response.json()["author"] == "bootstrap"

    scores = await get(dx, "scores", program="OFF", period="2026-S1")
    assert [s["official"] for s in scores] == [
        {"label": "likely", "note": "SK2026"},
        {"label": "hard", "note": "chậm triển khai"},
        None,
    ]
    official_summary = await get(
        dx, "scores/summary", program="OFF", period="2026-S1", source="official"
    )
    assert official_summary["statuses"] | {"likely": 1, "hard": 1} == official_summary["statuses"]
    assert sum(official_summary["statuses"].values()) == 2
    assert sum(official_summary["bands"].values()) == 0
    assert official_summary["unassessed"] == 1
    computed = await get(dx, "scores/summary", program="OFF", period="2026-S1")
    assert computed["bands"]["no_data"] == 3
    assert computed["statuses"]["no_data"] == 3

    # A person's assessment stands when the catalogue republishes its own.
    assert (
        await dx.put("/api/v1/assessments/O-1/2026-S1", json={"label": "low"})
    ).status_code == 200
    await publish(dx, indicator("O-1", program="OFF", official_assessment=official, weight=2))
    assert [a["label"] for a in await get(dx, "assessments", indicator="O-1")] == ["low"]


@pytest.mark.parametrize(
    ("path", "body", "status"),
    [
        ("O-1/2026-S1", {"label": "excellent"}, 422),
        ("O-1/2026-H1", {"label": "likely"}, 422),
        ("NOPE/2026-S1", {"label": "likely"}, 404),
    ],
)
async def test_bad_assessments_are_refused(
    shared: httpx.AsyncClient, path: str, body: dict[str, str], status: int
) -> None:
    response = await shared.put(f"/api/v1/assessments/{path}", json=body)
    assert response.status_code == status, response.text
    assert response.headers["content-type"] == "application/problem+json"


async def test_only_admins_record_assessments(shared: httpx.AsyncClient) -> None:
    issued = await shared.post("/api/v1/keys", json={"label": "dashboard", "role": "reader"})
    reader = {"Authorization": f"Bearer {issued.json()['key']}"}
    response = await shared.put(
        "/api/v1/assessments/O-1/2026-S1", json={"label": "likely"}, headers=reader
    )
    assert response.status_code == 403
    assert response.headers["content-type"] == "application/problem+json"
    assert (await shared.get("/api/v1/assessments", headers=reader)).status_code == 200
