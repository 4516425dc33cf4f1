"""The submissions API through the gateway: receipts, idempotency, authorisation, bad input."""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator
from datetime import date, datetime, timedelta
from typing import Any

import httpx
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from sqlalchemy import delete

from libs.common.events import (
    CATALOGUE_TOPIC,
    SUBMISSION_STATUS_TOPIC,
    AgencyPublished,
    SubmissionStatusChanged,
    utcnow,
)
from services.ingest.models import AgencyRef
from services.ingest.replica import catalogue_copy
from services.ingest.settings import IngestSettings
from tests.support.ingest import (
    AGENCIES,
    BACKENDS,
    HANOI,
    MAX_BODY,
    PROBLEM,
    accepted_events,
    agency_events,
    assert_problem,
    ingest_platform,
    key_for,
    locs,
    publish,
    runtime_of,
    submission,
)

pytestmark = pytest.mark.e2e


@pytest.fixture(scope="module", params=BACKENDS)
async def dx(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> AsyncIterator[httpx.AsyncClient]:
    async with ingest_platform(request, tmp_path_factory.mktemp("ingest")) as client:
        yield client


async def test_a_submission_is_accepted_with_its_event_in_the_outbox(dx: httpx.AsyncClient) -> None:
    body = submission()
    response = await dx.post("/api/v1/submissions", json=body)
    assert response.status_code == 202, response.text
    receipt = response.json()
    assert receipt["status"] == "accepted"
    assert receipt["status_url"] == f"/api/v1/submissions/{receipt['id']}"
    assert response.headers["location"] == receipt["status_url"]
    assert receipt["late"] is True  # 2023-S1 was due on 2023-07-15
    assert receipt["duplicate"] is False
    event = (await accepted_events(dx))[receipt["id"]]
    assert (event["agency"], event["period"], event["source"], event["late"]) == (
        "TP01",
        "2023-S1",
        "api",
        True,
    )
    assert event["values"] == [
        {"indicator": "T-BOOL", "value": True, "note": f"{HANOI}: đã ban hành"},
        {"indicator": "T-PCT", "value": 23.56, "note": None},
    ]
    status = (await dx.get(receipt["status_url"])).json()
    assert status["status"] == "accepted"
    assert (status["agency"], status["period"], status["late"]) == ("TP01", "2023-S1", True)
    assert "stored_at" not in status


async def test_a_figure_reported_before_its_due_date_is_not_late(dx: httpx.AsyncClient) -> None:
    last_year = str(date.today().year - 1)
    body = submission(period=last_year, values=[{"indicator": "T-NUM", "value": 12}])
    response = await dx.post("/api/v1/submissions", json=body)
    assert response.status_code == 202, response.text
    assert response.json()["late"] is False


async def test_a_repeat_gets_the_first_receipt_and_other_values_conflict(
    dx: httpx.AsyncClient,
) -> None:
    body = submission()
    first = await dx.post("/api/v1/submissions", json=body)
    again = await dx.post("/api/v1/submissions", json=body)
    assert again.status_code == 202
    assert again.json()["id"] == first.json()["id"]
    assert again.json()["received_at"] == first.json()["received_at"]
    assert again.json()["duplicate"] is True
    events = await accepted_events(dx)
    changed = {**body, "values": [{"indicator": "T-BOOL", "value": False}]}
    problem = assert_problem(await dx.post("/api/v1/submissions", json=changed), 409)
    assert locs(problem) == [["submission_id"]]
    assert await accepted_events(dx) == events  # nothing more was written


async def test_racing_repeats_make_one_submission_and_one_event(dx: httpx.AsyncClient) -> None:
    body = submission()
    responses = await asyncio.gather(*(dx.post("/api/v1/submissions", json=body) for _ in range(8)))
    assert {r.status_code for r in responses} == {202}, [r.text for r in responses]
    ids = {r.json()["id"] for r in responses}
    assert len(ids) == 1
    assert sum(not r.json()["duplicate"] for r in responses) == 1
    events = await accepted_events(dx)
    assert ids <= set(events)


async def test_agency_keys_submit_and_read_only_their_own(dx: httpx.AsyncClient) -> None:
    own = await key_for(dx, "TP01")
    other = await key_for(dx, "TP02")
    reader = await key_for(dx, None, role="reader")
    response = await dx.post("/api/v1/submissions", json=submission(), headers=own)
    assert response.status_code == 202, response.text
    url = response.json()["status_url"]
    assert_problem(await dx.post("/api/v1/submissions", json=submission(), headers=other), 403)
    assert_problem(await dx.post("/api/v1/submissions", json=submission(), headers=reader), 403)
    assert (await dx.get(url, headers=own)).status_code == 200
    assert (await dx.get(url, headers=reader)).status_code == 200
    assert_problem(await dx.get(url, headers=other), 404)
    assert_problem(await dx.get("/api/v1/submissions/no-such-id"), 404)
    batch = {"items": [submission(agency="TP02"), submission(agency="TP01")]}
    assert_problem(await dx.post("/api/v1/submissions/batch", json=batch, headers=own), 403)


async def test_every_problem_is_listed_at_once(dx: httpx.AsyncClient) -> None:
    body = submission(
        values=[
            {"indicator": "T-BOOL", "value": 1},
            {"indicator": "T-PCT", "value": 123.4},
            {"indicator": "NO-SUCH", "value": 1},
            {"indicator": "T-PCT", "value": 1},
        ]
    )
    problem = assert_problem(await dx.post("/api/v1/submissions", json=body), 422)
    assert locs(problem) == [
        ["values", 0, "value"],
        ["values", 1, "indicator"],
        ["values", 1, "value"],
        ["values", 2, "indicator"],
        ["values", 3, "indicator"],
    ]
    future = submission(period=f"{date.today().year + 1}-S1", agency="TP03")
    problem = assert_problem(await dx.post("/api/v1/submissions", json=future), 422)
    assert locs(problem)[0] == ["period"]
    assert ["values", 0, "indicator"] in locs(problem)  # TP03 reports nothing


def body(**extra: Any) -> bytes:
    return json.dumps(submission(**extra)).encode()


def one(value: Any, indicator: str = "T-PCT", **more: Any) -> bytes:
    return body(values=[{"indicator": indicator, "value": value, **more}])


V0 = ["values", 0, "value"]


@pytest.mark.parametrize(
    ("content", "status", "loc"),
    [
        (b'{"submission_id": "x", "agency": ', 422, None),
        (b"[]", 422, None),
        (b"", 422, None),
        (b"null", 422, None),
        (b'"text"', 422, None),
        (b"[" * 50_000 + b"]" * 50_000, 400, None),  # deeper than the JSON parser goes
        (b"x" * (MAX_BODY + 1), 413, None),
        (body(extra_field=1), 422, ["extra_field"]),
        (one(1, unit="%"), 422, ["values", 0, "unit"]),
        (one("23.5"), 422, V0),
        (one("true", "T-BOOL"), 422, V0),
        (one(None, "T-BOOL"), 422, V0),
        (one([1]), 422, V0),
        (one(10**400), 422, V0),
        (one(float("nan")), 422, V0),  # Python's parser takes NaN; the rules do not
        (one(1).replace(b"1}]", b"1e999}]"), 422, V0),  # parsed as infinity
        (body(values=[]), 422, ["values"]),
        (body(agency=17), 422, ["agency"]),
        (body(period=2023), 422, ["period"]),
        (body(submission_id=""), 422, ["submission_id"]),
    ],
)
async def test_bad_bodies_are_4xx_problems_never_500(
    dx: httpx.AsyncClient, content: bytes, status: int, loc: list[str | int] | None
) -> None:
    headers = {"content-type": "application/json"}
    response = await dx.post("/api/v1/submissions", content=content, headers=headers)
    problem = assert_problem(response, status)
    if loc is not None:
        assert loc in locs(problem)


async def test_too_many_values_is_422(dx: httpx.AsyncClient) -> None:
    values = [{"indicator": f"T-{n}", "value": 1} for n in range(1001)]
    problem = assert_problem(
        await dx.post("/api/v1/submissions", json=submission(values=values)), 422
    )
    assert ["values"] in locs(problem)


async def test_verdicts_move_the_status(dx: httpx.AsyncClient) -> None:
    stored = (await dx.post("/api/v1/submissions", json=submission())).json()
    refused = (await dx.post("/api/v1/submissions", json=submission())).json()
    at = utcnow()
    verdicts = [
        SubmissionStatusChanged(submission=stored["id"], agency="TP01", status="stored", at=at),
        SubmissionStatusChanged(
            submission=refused["id"],
            agency="TP01",
            status="rejected",
            detail="unknown indicator T-PCT; unknown agency TP01",
            at=at,
        ),
    ]
    await publish(
        dx, SUBMISSION_STATUS_TOPIC, *(v.envelope(producer="test", key="TP01") for v in verdicts)
    )
    state = (await dx.get(stored["status_url"])).json()
    assert state["status"] == "stored"
    assert datetime.fromisoformat(state["stored_at"]) == at
    state = (await dx.get(refused["status_url"])).json()
    assert state["status"] == "rejected"
    assert [e["msg"] for e in state["errors"]] == ["unknown indicator T-PCT", "unknown agency TP01"]
    older = SubmissionStatusChanged(
        submission=stored["id"], agency="TP01", status="rejected", at=at - timedelta(seconds=5)
    )
    await publish(dx, SUBMISSION_STATUS_TOPIC, older.envelope(producer="test", key="TP01"))
    assert (await dx.get(stored["status_url"])).json()["status"] == "stored"
    metrics = (await dx.get("/metrics")).text
    assert 'dx_ingest_submissions_total{outcome="accepted",reason=""}' in metrics
    assert "dx_ingest_accept_to_stored_seconds_count" in metrics
    assert "dx_ingest_batch_size_bucket" in metrics


async def test_before_the_catalogue_arrives_submissions_get_503_not_422(
    dx: httpx.AsyncClient,
) -> None:
    ingest = dx.app.state.services["ingest"]  # type: ignore[attr-defined]
    async with runtime_of(dx).db.transaction() as session:
        await session.execute(delete(AgencyRef))
    catalogue_copy(runtime_of(dx)).invalidate()  # the rows went behind the consumer's back
    ingest.state.ingest_settings = IngestSettings(catalogue_wait_seconds=0.2)
    try:
        response = await dx.post("/api/v1/submissions", json=submission())
        assert_problem(response, 503)
        assert response.headers["retry-after"] == "5"
    finally:
        ingest.state.ingest_settings = IngestSettings()
        await publish(dx, CATALOGUE_TOPIC, *agency_events())
    response = await dx.post("/api/v1/submissions", json=submission())
    assert response.status_code == 202, response.text


async def test_a_catalogue_change_is_applied_to_the_very_next_submission(
    dx: httpx.AsyncClient,
) -> None:
    assert (await dx.post("/api/v1/submissions", json=submission())).status_code == 202
    # TP01 ceases to exist before 2023-S1 ends: ingest's in-memory copy must not hide it.
    ended = AgencyPublished(
        code="TP01",
        name_vi=AGENCIES["TP01"],
        kind="province",
        groups=["local"],
        valid_to=date(2023, 3, 31),
    )
    await publish(dx, CATALOGUE_TOPIC, ended.envelope(producer="test", key="TP01"))
    problem = assert_problem(await dx.post("/api/v1/submissions", json=submission()), 422)
    assert "TP01 does not exist on 2023-06-30" in str(problem["errors"])


JSON = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats() | st.text(max_size=20),
    lambda inner: (
        st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=8), inner, max_size=4)
    ),
    max_leaves=12,
)
VALUE = st.fixed_dictionaries(
    {
        "indicator": st.sampled_from(["T-BOOL", "T-PCT", "T-NUM", "?"]) | st.text(max_size=5),
        "value": JSON,
    },
    optional={"note": JSON, "other": JSON},
)
BODY = JSON | st.fixed_dictionaries(
    {
        "submission_id": st.text(max_size=12) | JSON,
        "agency": st.sampled_from(["TP01", "TP02", "TP03", ""]) | JSON,
        "period": st.sampled_from(["2023-S1", "2023", "2023-13", "2099-Q1"]) | JSON,
        "values": st.lists(VALUE, max_size=4) | JSON,
    }
)


@settings(max_examples=60, deadline=None)
@given(body=BODY)
async def test_random_json_never_breaks_the_service(dx: httpx.AsyncClient, body: Any) -> None:
    content = json.dumps(body).encode()  # NaN and Infinity included, as Python's parser takes them
    for path in ("/api/v1/submissions", "/api/v1/submissions/batch"):
        response = await dx.post(
            path, content=content, headers={"content-type": "application/json"}
        )
        assert response.status_code < 500, response.text
        if response.status_code >= 400:
            assert response.headers["content-type"] == PROBLEM
