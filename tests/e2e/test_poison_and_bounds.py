"""No poison event, no cheap denial of service: on SQLite and on PostgreSQL, through the gateway.

A note with a NUL, a malformed event and text the store cannot keep either never pass the door
(422 naming the field) or are dead-lettered at once; submissions from other agencies behind
them are stored within seconds. Oversized bodies are refused quickly with a bounded answer,
CSV exports cannot carry formulas, and a NUL in a query or path is a problem, never a 500.
"""

from __future__ import annotations

import asyncio
import csv
import io
import json
import time
import uuid
from pathlib import Path
from typing import Any

import httpx
import pytest

from libs.common.bus.inprocess import InProcessBus
from libs.common.events import SUBMISSIONS_TOPIC, Envelope, SubmissionAccepted, utcnow
from tests.support.flow import submit, wait_stored
from tests.support.ingest import PROBLEM, publish

pytestmark = pytest.mark.e2e

INDICATOR = "KH2023-01"  # boolean per agency, half-yearly, every province reports it
AGENCIES = Path(__file__).parents[2] / "services/indicators/reference/agencies.csv"
#: From the first of the hundred submissions to the last one stored (about 5 s unloaded).
OTHERS_WITHIN_SECONDS = 30.0


def provinces() -> list[str]:
    with AGENCIES.open(encoding="utf-8") as handle:
        return [row["code"] for row in csv.DictReader(handle) if row["code"].startswith("P")]


async def hundred_from_other_agencies_are_stored(dx: httpx.AsyncClient) -> None:
    codes = provinces()[1:51]
    started = time.monotonic()
    slots = asyncio.Semaphore(10)  # ten agencies at a time, as clients would

    async def one(code: str, period: str, value: bool) -> dict[str, Any]:
        async with slots:
            values = [{"indicator": INDICATOR, "value": value}]
            return await submit(dx, agency=code, period=period, values=values)

    receipts = await asyncio.gather(
        *(
            one(code, period, value)
            for value, period in ((True, "2024-S1"), (False, "2024-S2"))
            for code in codes
        )
    )
    assert len(receipts) == 100
    for receipt in receipts:  # one poller: a hundred would spend the key's request budget
        await wait_stored(
            dx, receipt["id"], within=started + OTHERS_WITHIN_SECONDS - time.monotonic()
        )


def parse_cpu_seconds(body: str) -> float:
    """CPU time this process takes to parse `body` once: the raw limit for refusing it.

    CPU time, not wall time: the gateway and the services run in this process, and the
    machine's other load would make a wall-clock bound flaky.
    """
    started = time.process_time()
    json.loads(body)
    return time.process_time() - started


def bus_of(dx: httpx.AsyncClient) -> InProcessBus:
    bus = dx.app.state.services["ingest"].state.runtime.bus  # type: ignore[attr-defined]
    assert isinstance(bus, InProcessBus)
    return bus


async def test_a_nul_note_is_refused_at_the_door_and_the_others_flow(
    dx: httpx.AsyncClient,
) -> None:
    body = {
        "submission_id": uuid.uuid4().hex,
        "agency": "P01",
        "period": "2023-S1",
        "values": [
            {"indicator": INDICATOR, "value": True, "note": "a\u0000b"},
            {"indicator": f"{INDICATOR}\u001b", "value": True},
        ],
    }
    response = await dx.post("/api/v1/submissions", json=body)
    assert response.status_code == 422, response.text
    assert response.headers["content-type"] == PROBLEM
    locs = [e["loc"] for e in response.json()["errors"]]
    assert ["values", 0, "note"] in locs
    assert ["values", 1, "indicator"] in locs
    batch = await dx.post("/api/v1/submissions/batch", json=[body], params={"atomic": "true"})
    assert batch.status_code == 422
    assert ["items", 0, "values", 0, "note"] in [e["loc"] for e in batch.json()["errors"]]
    sheet = 'agency,period,indicator,value,note\r\nP01,2023-S1,KH2023-01,true,"x\x00y"\r\n'
    upload = await dx.post(
        "/api/v1/submissions/upload",
        files={"file": ("values.csv", sheet.encode(), "text/csv")},
        params={"atomic": "true"},
    )
    assert upload.status_code == 422, upload.text
    assert ["row", 2, "note"] in [e["loc"] for e in upload.json()["errors"]]
    # A note with line breaks and tabs is an ordinary note.
    kept = await submit(
        dx,
        agency="P01",
        period="2023-S1",
        values=[{"indicator": INDICATOR, "value": True, "note": "dòng 1\r\n\tdòng 2"}],
    )
    await wait_stored(dx, kept["id"])
    await hundred_from_other_agencies_are_stored(dx)


async def test_events_the_store_cannot_use_are_dead_lettered_at_once(
    dx: httpx.AsyncClient,
) -> None:
    malformed = Envelope(
        type=SubmissionAccepted.event_type, producer="ingest", key="P02", payload={"values": 3}
    )
    # Past the door (an older ingest, a replayed event): the store itself must not choke.
    unkeepable = Envelope(
        type=SubmissionAccepted.event_type,
        producer="ingest",
        key="P03",
        payload={
            "submission": str(uuid.uuid4()),
            "agency": "P03",
            "period": "2023-S1",
            "values": [{"indicator": INDICATOR, "value": True, "note": "x\u0000y"}],
            "received_at": utcnow().isoformat(),
        },
    )
    bus = bus_of(dx)
    before = len(bus.dead_letters)
    await asyncio.wait_for(publish(dx, SUBMISSIONS_TOPIC, malformed, unkeepable), 10)
    parked = {e.event_id for e in bus.dead_letters[before:]}
    assert parked == {malformed.event_id, unkeepable.event_id}
    await hundred_from_other_agencies_are_stored(dx)


async def test_a_huge_submission_is_refused_quickly_with_a_bounded_answer(
    dx: httpx.AsyncClient,
) -> None:
    value = '{"indicator":"KH2023-01","value":52.3456}'
    values = ",".join([value] * 550_000)
    body = f'{{"submission_id":"huge","agency":"P01","period":"2023","values":[{values}]}}'
    assert 20_000_000 < len(body) < 25 * 1024 * 1024  # under the gateway's body limit
    started = time.process_time()
    response = await dx.post(
        "/api/v1/submissions", content=body, headers={"content-type": "application/json"}
    )
    elapsed = time.process_time() - started
    assert response.status_code == 422, response.text[:500]
    assert len(response.content) < 2_000
    assert response.json()["errors"][0]["loc"] == ["values"]
    # Refusing costs one to four parses of the body; validating every value, many more.
    baseline = parse_cpu_seconds(body)
    assert elapsed < 6 * baseline, f"took {elapsed:.2f}s of CPU, a parse {baseline:.2f}s"


async def test_a_huge_batch_is_refused_before_its_values_are_parsed(
    dx: httpx.AsyncClient,
) -> None:
    value = '{"indicator":"KH2023-01","value":52.3456}'
    item = '{"submission_id":"%d","agency":"P01","period":"2023","values":[%s]}'
    items = ",".join(item % (n, ",".join([value] * 5500)) for n in range(100))
    body = f"[{items}]"
    started = time.process_time()
    response = await dx.post(
        "/api/v1/submissions/batch", content=body, headers={"content-type": "application/json"}
    )
    elapsed = time.process_time() - started
    assert response.status_code == 413, response.text[:500]
    assert "550000 values" in response.json()["detail"]
    assert len(response.content) < 2_000
    # Refusing costs one to four parses of the body; validating each value took 5 s (15).
    baseline = parse_cpu_seconds(body)
    assert elapsed < 6 * baseline, f"took {elapsed:.2f}s of CPU, a parse {baseline:.2f}s"


async def test_a_many_problem_answer_lists_the_first_ones_and_counts_them(
    dx: httpx.AsyncClient,
) -> None:
    values = [{"indicator": f"NOPE-{n}", "value": True} for n in range(1000)]
    body = {"submission_id": "many", "agency": "P01", "period": "2023-S1", "values": values}
    response = await dx.post("/api/v1/submissions", json=body)
    assert response.status_code == 422
    problem = response.json()
    assert len(problem["errors"]) == 100
    assert problem["error_count"] == 1000


async def test_a_formula_in_a_note_reads_as_text_in_the_csv(dx: httpx.AsyncClient) -> None:
    notes = ['=HYPERLINK("x")', "+cmd|' /C calc'!A0", "@SUM(A1)", "\t=1+1"]
    for code, note in zip(provinces()[55:59], notes, strict=True):
        receipt = await submit(
            dx,
            agency=code,
            period="2023-S2",
            values=[{"indicator": INDICATOR, "value": False, "note": note}],
        )
        await wait_stored(dx, receipt["id"])
    response = await dx.get(
        "/api/v1/observations",
        params={"indicator": INDICATOR, "period": "2023-S2", "format": "csv"},
    )
    assert response.status_code == 200
    rows = list(csv.DictReader(io.StringIO(response.text.removeprefix("\ufeff"))))
    assert sorted(row["note"] for row in rows) == sorted(f"'{note}" for note in notes)


@pytest.mark.parametrize(
    ("target", "status"),
    [
        ("/api/v1/observations?agency=P01%00", 422),
        ("/api/v1/observations?indicator=%00", 422),
        ("/api/v1/notifications?agency=%00x", 422),
        ("/api/v1/assessments?period=2023%00", 422),
        ("/api/v1/submissions/abc%00", 404),
        ("/api/v1/indicators/KH2023-01%00", 404),
        ("/api/v1/keys/abc%00", 404),
    ],
)
async def test_a_nul_in_a_query_or_path_is_a_problem(
    dx: httpx.AsyncClient, target: str, status: int
) -> None:
    response = await dx.get(target)
    assert response.status_code == status, response.text
    assert response.headers["content-type"] == PROBLEM


async def test_a_nul_in_a_dashboard_path_is_not_found(dx: httpx.AsyncClient) -> None:
    assert (await dx.get("/indicators/KH2023-01%00")).status_code == 404
