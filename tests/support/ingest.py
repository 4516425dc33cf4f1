"""An embedded platform for the ingest API tests, with a test catalogue in ingest's replica.

The replica is seeded with test-only codes by publishing catalogue events through the running
ingest runtime's bus (the in-process bus returns once they are handled), and ingest's outbox
relay is stopped: accepted submissions stay in the outbox, where tests read them, and no verdict
arrives but the ones tests send.
"""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import httpx
import pytest
from sqlalchemy import select

from libs.common.events import (
    CATALOGUE_TOPIC,
    SUBMISSIONS_TOPIC,
    AgencyPublished,
    Envelope,
    IndicatorPublished,
    ReporterSpan,
)
from libs.common.service import ServiceRuntime
from services.ingest.models import MESSAGING
from tests.support.platform import embedded_platform, embedded_settings

PROBLEM = "application/problem+json"
MAX_BODY = 256 * 1024
HANOI = "Thành phố Hà Nội"
TOWN = "Thành phố Thử Nghiệm"  # a name of its own: the reference catalogue has the real ones
AGENCIES = {"TP01": TOWN, "TP02": "Tỉnh Thử Nghiệm", "TP03": "Tỉnh Không Báo Cáo"}
REPORTERS = [ReporterSpan(agency="TP01"), ReporterSpan(agency="TP02")]
BACKENDS = ["sqlite", pytest.param("postgres", marks=pytest.mark.integration)]


def indicator(
    code: str, value_type: str, *, frequency: str = "half", due_days: int = 15
) -> IndicatorPublished:
    """A test indicator reported by TP01 and TP02."""
    return IndicatorPublished(
        code=code,
        program="TEST",
        goal=code,
        primary=True,
        pillar="data",
        name_vi=f"Chỉ tiêu thử {code}",
        unit="percent" if value_type == "percent" else "count",
        direction="increase",
        value_type=value_type,
        aggregation="share_of_agencies",
        targets=[],
        frequency=frequency,
        due_days=due_days,
        reporters=REPORTERS,
    )


INDICATORS = [
    indicator("T-BOOL", "boolean_per_agency"),
    indicator("T-PCT", "percent"),
    indicator("T-NUM", "number", frequency="year", due_days=36_500),
]


def agency_events() -> list[Envelope]:
    """The test agencies as catalogue events."""
    return [
        AgencyPublished(code=code, name_vi=name, kind="province", groups=["local"]).envelope(
            producer="test", key=code
        )
        for code, name in AGENCIES.items()
    ]


def runtime_of(client: httpx.AsyncClient, service: str = "ingest") -> ServiceRuntime:
    """A service's runtime (ingest by default) behind an embedded platform's gateway client."""
    app = client.app  # type: ignore[attr-defined]
    runtime: ServiceRuntime = app.state.services[service].state.runtime
    return runtime


async def publish(client: httpx.AsyncClient, topic: str, *events: Envelope) -> None:
    """Publish on the platform's bus; returns once every consumer handled the events."""
    await runtime_of(client).bus.publish(topic, list(events))


@asynccontextmanager
async def ingest_platform(
    request: pytest.FixtureRequest, data_dir: Path
) -> AsyncIterator[httpx.AsyncClient]:
    """An admin client of a platform on ``request.param`` (sqlite or postgres), replica seeded."""
    overrides: dict[str, object] = {"rate_limit_per_minute": 0, "max_body_bytes": MAX_BODY}
    if request.param == "postgres":
        prefix = request.getfixturevalue("schema_prefix")
        overrides["database_url"] = request.getfixturevalue("postgres_url")
        overrides["database_schema_prefix"] = f"{prefix}_{uuid.uuid4().hex[:6]}_"
    async with embedded_platform(embedded_settings(data_dir, **overrides)) as client:
        await runtime_of(client).relay.stop()
        indicators = [i.envelope(producer="test", key=i.code) for i in INDICATORS]
        await publish(client, CATALOGUE_TOPIC, *agency_events(), *indicators)
        yield client


async def key_for(
    client: httpx.AsyncClient, agency: str | None, role: str = "agency"
) -> dict[str, str]:
    """Headers of a freshly issued key."""
    body = {"role": role, "agency": agency, "label": "test"}
    response = await client.post("/api/v1/keys", json=body)
    assert response.status_code == 201, response.text
    return {"Authorization": f"Bearer {response.json()['key']}"}


def submission(agency: str = "TP01", period: str = "2023-S1", **extra: Any) -> dict[str, Any]:
    """A valid submission body, with fields replaced or added by ``extra``."""
    body = {
        "submission_id": uuid.uuid4().hex,
        "agency": agency,
        "period": period,
        "values": [
            {"indicator": "T-BOOL", "value": True, "note": f"{HANOI}: đã ban hành"},
            {"indicator": "T-PCT", "value": 23.56},
        ],
    }
    return {**body, **extra}


def assert_problem(response: httpx.Response, status: int) -> dict[str, Any]:
    """The problem document of a response that must be one, with that status."""
    assert response.status_code == status, response.text
    assert response.headers["content-type"] == PROBLEM
    problem: dict[str, Any] = response.json()
    assert problem["status"] == status
    return problem


def locs(problem: dict[str, Any]) -> list[list[str | int]]:
    """Where each of a problem's errors is."""
    return [item["loc"] for item in problem["errors"]]


async def accepted_events(client: httpx.AsyncClient) -> dict[str, dict[str, Any]]:
    """Every SubmissionAccepted payload in ingest's outbox, by submission id."""
    outbox = MESSAGING.outbox
    async with runtime_of(client).db.read() as session:
        rows = (
            await session.scalars(
                select(outbox.c.envelope).where(outbox.c.topic == SUBMISSIONS_TOPIC)
            )
        ).all()
    events = [Envelope.from_bytes(raw) for raw in rows]
    return {e.payload["submission"]: e.payload for e in events if e.type == "submission.accepted"}
