"""Notify on the embedded default: readable .eml files, the API's shapes and who sees what."""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator, Awaitable, Callable
from datetime import UTC, datetime, timedelta
from email import policy
from email.message import EmailMessage
from email.parser import BytesParser
from pathlib import Path
from typing import Any

import httpx
import pytest
from sqlalchemy import func, select

from libs.common.events import (
    AgencyPublished,
    EventPayload,
    IndicatorPublished,
    ObservationsStored,
    ScoreChanged,
    utcnow,
)
from libs.common.periods import period_containing
from libs.common.service import ServiceRuntime
from services.notify.domain.calendar import format_day, local_day
from tests.support.platform import embedded_platform, embedded_settings

pytestmark = pytest.mark.e2e

PROGRAM = "E2E"


def province(code: str, name: str, *contacts: tuple[str, str, str | None]) -> AgencyPublished:
    """An agency event with (email, name, role) contacts."""
    people = [{"email": e, "name": n, "role": r} for e, n, r in contacts]
    return AgencyPublished(code=code, name_vi=name, kind="province", groups=[], contacts=people)


def indicator(
    code: str, name: str, reporters: list[str], *, due_days: int, frequency: str = "month"
) -> IndicatorPublished:
    """An indicator event of the test programme."""
    return IndicatorPublished.model_validate(
        {"code": code, "program": PROGRAM, "goal": code, "primary": True, "pillar": "gov"}
        | {"name_vi": name, "unit": "percent", "direction": "increase", "targets": []}
        | {"value_type": "percent", "aggregation": "mean", "frequency": frequency}
        | {"due_days": due_days, "reporters": [{"agency": a} for a in reporters]}
    )


def reported(agency: str, period: str, codes: list[str], at: datetime) -> ObservationsStored:
    """An agency's values, as the indicators service announces them once stored."""
    values = [
        {"indicator": code, "agency": agency, "period": period, "value": 75.0, "revision": 1}
        | {"recorded_at": at, "reported_at": at}
        for code in codes
    ]
    return ObservationsStored.model_validate(
        {"submission": None, "agency": agency, "period": period, "recorded_at": at}
        | {"observations": values}
    )


async def settled(client: httpx.AsyncClient) -> ServiceRuntime:
    """Notify's runtime once the seeded catalogue reached it (it would overwrite test agencies)."""
    services = client.app.state.services  # type: ignore[attr-defined]
    indicators: ServiceRuntime = services["indicators"].state.runtime
    table = indicators.outbox.table

    async def drained() -> bool:
        async with indicators.db.read() as session:
            pending = await session.scalar(
                select(func.count()).select_from(table).where(table.c.published_at.is_(None))
            )
        return pending == 0

    await wait_for(drained)
    runtime: ServiceRuntime = services["notify"].state.runtime
    return runtime


async def publish(runtime: ServiceRuntime, *events: tuple[EventPayload, str]) -> None:
    """Deliver events to notify's consumers (returns once they committed)."""
    for payload, key in events:
        await runtime.bus.publish(payload.topic, [payload.envelope(producer="test", key=key)])


async def wait_for(check: Callable[[], Awaitable[bool]], seconds: float = 20.0) -> None:
    """Poll until ``check`` holds or fail."""
    deadline = asyncio.get_running_loop().time() + seconds
    while not await check():
        if asyncio.get_running_loop().time() > deadline:
            pytest.fail(f"condition not met within {seconds}s")
        await asyncio.sleep(0.05)


def eml_files(directory: Path) -> list[Path]:
    return sorted(directory.glob("*.eml"))


async def mailed(directory: Path, count: int) -> list[EmailMessage]:
    """The .eml files once there are ``count``, parsed as a mail client would."""

    async def written() -> bool:
        return len(eml_files(directory)) == count

    await wait_for(written)
    parser = BytesParser(EmailMessage, policy=policy.default)
    return [parser.parsebytes(path.read_bytes()) for path in eml_files(directory)]


@pytest.fixture
async def client(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> AsyncIterator[httpx.AsyncClient]:
    monkeypatch.setenv("DX_NOTIFY_SCHEDULER_ENABLED", "false")
    monkeypatch.setenv("DX_NOTIFY_SENDER_POLL_SECONDS", "0.05")
    settings = embedded_settings(tmp_path, public_url="https://dx.gov.vn")
    async with embedded_platform(settings) as admin:
        yield admin


TODAY = local_day(utcnow())
PERIOD = period_containing(TODAY, "month").previous().previous()  # a month two months back
GAP = (TODAY - PERIOD.end).days  # due_days putting the due date on TODAY
NAME = "Tỷ lệ hồ sơ trực tuyến toàn trình được số hóa"
ON_TIME = datetime.combine(PERIOD.end, datetime.min.time(), UTC)


async def population(client: httpx.AsyncClient, *, due_days: int) -> ServiceRuntime:
    """Hà Nội and Huế have not reported E2E-01 for PERIOD; Hồ Chí Minh has."""
    runtime = await settled(client)
    await publish(
        runtime,
        (province("P01", "Hà Nội", ("vp@hanoi.gov.vn", "Văn phòng Sở", None)), "P01"),
        (province("P46", "Thừa Thiên Huế", ("stt@hue.gov.vn", "Sở TT&TT Huế", None)), "P46"),
        (province("P79", "Hồ Chí Minh", ("stt@hcm.gov.vn", "Sở TT&TT", None)), "P79"),
        (indicator("E2E-01", NAME, ["P01", "P46", "P79"], due_days=due_days), "E2E-01"),
        (reported("P79", str(PERIOD), ["E2E-01"], ON_TIME), "P79"),
    )
    return runtime


async def run(client: httpx.AsyncClient, **params: str) -> httpx.Response:
    return await client.post("/api/v1/notifications/reminders/run", params=params)


async def issue(client: httpx.AsyncClient, **body: object) -> dict[str, str]:
    response = await client.post("/api/v1/keys", json={"label": "notify-test", **body})
    assert response.status_code == 201, response.text
    return {"Authorization": f"Bearer {response.json()['key']}"}


async def test_reminders_are_written_as_readable_eml_files(
    client: httpx.AsyncClient, tmp_path: Path
) -> None:
    await population(client, due_days=GAP + 3)
    response = await run(client, period=str(PERIOD), program=PROGRAM)
    assert response.status_code == 200, response.text
    body = response.json()
    assert [(s["agency"], s["to"], s["indicators"], s["stage"]) for s in body["sent"]] == [
        ("P01", ["vp@hanoi.gov.vn"], ["E2E-01"], "reminder"),
        ("P46", ["stt@hue.gov.vn"], ["E2E-01"], "reminder"),
    ]
    assert body["skipped"] == []

    letters = {m["To"].addresses[0].addr_spec: m for m in await mailed(tmp_path / "mail", 2)}
    hanoi = letters["vp@hanoi.gov.vn"]
    assert (
        hanoi["Subject"] == f"[DX Tracker] Nhắc báo cáo chỉ tiêu chuyển đổi số kỳ {PERIOD} — Hà Nội"
    )
    assert hanoi["To"].addresses[0].display_name == "Văn phòng Sở"
    text = hanoi.get_body(("plain",))
    assert text is not None
    content = text.get_content()
    assert "Kính gửi: Hà Nội" in content
    assert f"E2E-01 — {NAME}" in content
    assert f"Hạn báo cáo: {format_day(TODAY + timedelta(days=3))}" in content
    assert "https://dx.gov.vn/api/v1/submissions" in content
    assert letters["stt@hue.gov.vn"]["Subject"].endswith("— Thừa Thiên Huế")

    # The file is written before the sender records `sent`: wait on the state, not the file.
    log: list[dict[str, Any]] = []

    async def recorded() -> bool:
        log[:] = (await client.get("/api/v1/notifications")).json()
        return len(log) == 2 and all(n["status"] == "sent" for n in log)

    await wait_for(recorded)
    sent = [("P01", "sent", 1, "reminder"), ("P46", "sent", 1, "reminder")]
    assert sorted((n["agency"], n["status"], n["attempts"], n["kind"]) for n in log) == sent
    assert {"id", "agency", "to", "subject", "kind", "status", "sent_at", "attempts"} <= set(log[0])

    again = (await run(client, period=str(PERIOD), program=PROGRAM)).json()
    assert again["sent"] == []
    assert [(s["agency"], s["reason"]) for s in again["skipped"]] == [
        ("P01", "already_sent"),
        ("P46", "already_sent"),
    ]


async def test_dry_run_writes_nothing(client: httpx.AsyncClient, tmp_path: Path) -> None:
    await population(client, due_days=GAP - 2)
    dry = await run(client, period=str(PERIOD), indicator="E2E-01", dry_run="true")
    assert dry.status_code == 200, dry.text
    planned = dry.json()
    assert planned["dry_run"] is True
    planned_letters = [(s["agency"], s["stage"], s["id"]) for s in planned["sent"]]
    assert planned_letters == [("P01", "overdue", None), ("P46", "overdue", None)]
    await asyncio.sleep(0.3)
    assert eml_files(tmp_path / "mail") == []
    assert (await client.get("/api/v1/notifications")).json() == []
    real = (await run(client, period=str(PERIOD), indicator="E2E-01")).json()
    assert [s["agency"] for s in real["sent"]] == ["P01", "P46"]  # the dry run took no keys


async def test_escalation_goes_to_the_head_and_the_standing_agency(
    client: httpx.AsyncClient, tmp_path: Path
) -> None:
    runtime = await population(client, due_days=GAP - 20)
    head = ("giamdoc@hanoi.gov.vn", "Nguyễn Văn Ánh", "head")
    await publish(
        runtime,
        (province("P01", "Hà Nội", ("vp@hanoi.gov.vn", "Văn phòng", None), head), "P01"),
        (province("BTTTT", "Bộ TT&TT", ("cds@mic.gov.vn", "Cục CĐS", None)), "BTTTT"),
    )
    body = (await run(client, period=str(PERIOD), program=PROGRAM)).json()
    hanoi = next(s for s in body["sent"] if s["agency"] == "P01")
    assert (hanoi["stage"], hanoi["to"]) == ("escalation", ["giamdoc@hanoi.gov.vn"])
    assert hanoi["cc"] == ["cds@mic.gov.vn"]

    mail = await mailed(tmp_path / "mail", 2)
    message = next(m for m in mail if m["Subject"].endswith("— Hà Nội"))
    assert message["Subject"].startswith("[DX Tracker] Đôn đốc báo cáo")
    assert [a.addr_spec for a in message["Cc"].addresses] == ["cds@mic.gov.vn"]
    plain = message.get_body(("plain",))
    assert plain is not None
    assert "Kính gửi: Lãnh đạo Hà Nội" in plain.get_content()


BAD_INPUT = [
    ("reminders/run", {"period": "2023-S3"}, "period"),
    ("reminders/run", {"period": "June 2023"}, "period"),
    ("reminders/run", {}, "period"),
    ("reminders/run", {"period": str(PERIOD.year), "indicator": "E2E-01"}, "period"),  # monthly
    ("reminders/run", {"period": "2023-06", "indicator": "NOPE"}, "indicator"),
    ("reminders/run", {"period": "2023-06", "program": "NOPE"}, "program"),
    ("reminders/run", {"period": "2023-06", "dry_run": "maybe"}, "dry_run"),
    ("progress/run", {"period": "2023-13"}, "period"),
]


async def test_bad_input_is_a_422_naming_the_parameter(client: httpx.AsyncClient) -> None:
    await population(client, due_days=GAP)
    for path, params, parameter in BAD_INPUT:
        response = await client.post(f"/api/v1/notifications/{path}", params=params)
        assert response.status_code == 422, (params, response.text)
        assert response.headers["content-type"] == "application/problem+json"
        assert ["query", parameter] in [e["loc"] for e in response.json()["errors"]], params
    bad = await client.get("/api/v1/notifications", params={"since": "yesterday"})
    assert bad.status_code == 422
    assert ["query", "since"] in [e["loc"] for e in bad.json()["errors"]]
    # At the ends of the calendar: once 500s (the UTC instant, or the due date, overflowed).
    for since in ("0001-01-01T00:00:00+05:00", "9999-12-31T23:59:59-05:00"):
        edge = await client.get("/api/v1/notifications", params={"since": since})
        assert edge.status_code == 200, edge.text
    params = {"period": "9999-S2", "dry_run": "true"}
    last = await client.post("/api/v1/notifications/reminders/run", params=params)
    assert last.status_code == 200, last.text


async def test_who_may_run_and_who_sees_what(client: httpx.AsyncClient) -> None:
    await population(client, due_days=GAP - 2)
    reader = await issue(client, role="reader")
    hue = await issue(client, role="agency", agency="P46")
    for key in (reader, hue):
        refused = await client.post(
            "/api/v1/notifications/reminders/run", params={"period": str(PERIOD)}, headers=key
        )
        assert refused.status_code == 403
    assert len((await run(client, period=str(PERIOD), program=PROGRAM)).json()["sent"]) == 2

    everything = (await client.get("/api/v1/notifications", headers=reader)).json()
    assert sorted(n["agency"] for n in everything) == ["P01", "P46"]
    own = (await client.get("/api/v1/notifications", headers=hue)).json()
    assert [n["agency"] for n in own] == ["P46"]
    # Contacts are for admins only: no address, not even in the relay's last error.
    for entry in [*everything, *own]:
        assert (entry["to"], entry["cc"], entry["last_error"]) == (None, None, None)
        assert "@" not in json.dumps(entry)
    assert all(n["to"] for n in (await client.get("/api/v1/notifications")).json())
    other = await client.get("/api/v1/notifications", params={"agency": "P01"}, headers=hue)
    assert other.status_code == 403
    filtered = (await client.get("/api/v1/notifications", params={"agency": "P01"})).json()
    assert [n["agency"] for n in filtered] == ["P01"]
    later = (utcnow() + timedelta(hours=1)).isoformat()
    assert (await client.get("/api/v1/notifications", params={"since": later})).json() == []
    earlier = (utcnow() - timedelta(hours=1)).replace(tzinfo=None).isoformat()
    assert len((await client.get("/api/v1/notifications", params={"since": earlier})).json()) == 2


async def test_progress_letter_lists_off_track_indicators(client: httpx.AsyncClient) -> None:
    runtime = await population(client, due_days=GAP)
    score = {"indicator": "E2E-01", "scope": "P79", "period": str(PERIOD), "band": "under_half"}
    off_track = ScoreChanged.model_validate(score | {"status": "hard", "computed_at": utcnow()})
    await publish(runtime, (off_track, "P79"))
    response = await client.post(
        "/api/v1/notifications/progress/run", params={"period": str(PERIOD), "program": PROGRAM}
    )
    assert response.status_code == 200, response.text
    assert [(s["agency"], s["stage"]) for s in response.json()["sent"]] == [("P79", "progress")]
