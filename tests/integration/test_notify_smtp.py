"""Reminders through a real SMTP server (aiosmtpd on loopback): once each, retried, never twice."""

from __future__ import annotations

import asyncio
import socket
import uuid
from collections import Counter
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from email import policy
from email.message import EmailMessage
from email.parser import BytesParser
from pathlib import Path
from typing import Any

import httpx
import pytest
from aiosmtpd.controller import Controller

from libs.common.service import ServiceRuntime
from services.notify.api.deps import NotifyParts
from services.notify.scheduler import Scheduler
from services.notify.service import run_reminders
from services.notify.settings import NotifySettings
from tests.e2e.test_notify import (
    indicator,
    province,
    publish,
    reported,
    settled,
    wait_for,
)
from tests.support.platform import embedded_platform, embedded_settings, postgres_settings

pytestmark = pytest.mark.integration

S1, S2 = "2023-S1", "2023-S2"
AFTER_S1_DUE = date(2023, 7, 20)  # S1 due 15/07/2023: overdue, not yet escalated
AFTER_S2_DUE = date(2024, 1, 20)  # S2 due 15/01/2024


@dataclass
class Mailbox:
    """An aiosmtpd handler keeping every message it accepts."""

    received: list[tuple[list[str], bytes]] = field(default_factory=list)

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        self.received.append((list(envelope.rcpt_tos), bytes(envelope.content)))
        return "250 OK"

    def messages(self) -> list[tuple[list[str], EmailMessage]]:
        parser = BytesParser(EmailMessage, policy=policy.default)
        return [(recipients, parser.parsebytes(raw)) for recipients, raw in self.received]


class SmtpServer:
    """A real SMTP server on a loopback port that can go down and come back on the same port."""

    def __init__(self) -> None:
        with socket.socket() as probe:
            probe.bind(("127.0.0.1", 0))
            self.port = probe.getsockname()[1]
        self.mailbox = Mailbox()
        self._controller: Controller | None = None

    async def start(self) -> None:
        self._controller = Controller(self.mailbox, hostname="127.0.0.1", port=self.port)
        await asyncio.to_thread(self._controller.start)

    async def stop(self) -> None:
        if self._controller is not None:
            await asyncio.to_thread(self._controller.stop)
            self._controller = None


@pytest.fixture
async def smtp() -> AsyncIterator[SmtpServer]:
    server = SmtpServer()
    await server.start()
    yield server
    await server.stop()


@pytest.fixture
def fast_retries(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("DX_NOTIFY_SCHEDULER_ENABLED", "false")
    monkeypatch.setenv("DX_NOTIFY_SENDER_POLL_SECONDS", "0.05")
    monkeypatch.setenv("DX_NOTIFY_RETRY_BASE_SECONDS", "0.1")
    monkeypatch.setenv("DX_NOTIFY_RETRY_MAX_SECONDS", "0.5")
    monkeypatch.setenv("DX_NOTIFY_MAX_ATTEMPTS", "50")
    monkeypatch.setenv("DX_NOTIFY_SMTP_TIMEOUT_SECONDS", "5")


@pytest.fixture(params=["sqlite", "postgres"])
async def client(
    request: pytest.FixtureRequest, tmp_path: Path, smtp: SmtpServer, fast_retries: None
) -> AsyncIterator[httpx.AsyncClient]:
    mail = {"smtp_host": "127.0.0.1", "smtp_port": smtp.port}
    if request.param == "sqlite":
        settings = embedded_settings(tmp_path, **mail)
    else:
        prefix = f"{request.getfixturevalue('schema_prefix')}_{uuid.uuid4().hex[:6]}_"
        url = request.getfixturevalue("postgres_url")
        settings = postgres_settings(tmp_path, url=url, schema_prefix=prefix, **mail)
    async with embedded_platform(settings) as admin:
        yield admin


CONTACTS = {
    "P01": [("vp@hanoi.gov.vn", "Văn phòng Sở TT&TT Hà Nội"), ("cds@hanoi.gov.vn", "Phòng CĐS")],
    "P02": [("stt@hagiang.gov.vn", "Sở TT&TT Hà Giang")],
    "P04": [("stt@caobang.gov.vn", "Sở TT&TT Cao Bằng")],
    "P06": [("stt@backan.gov.vn", "Sở TT&TT Bắc Kạn")],
}
NAMES = {"P01": "Hà Nội", "P02": "Hà Giang", "P04": "Cao Bằng", "P06": "Bắc Kạn"}
INDICATORS = {
    "IT-01": "Tỷ lệ thủ tục hành chính cung cấp dịch vụ công trực tuyến toàn trình",
    "IT-02": "Tỷ lệ hồ sơ giải quyết thủ tục hành chính được số hóa",
}


def parts_of(client: httpx.AsyncClient) -> NotifyParts:
    """Notify's settings and worker in the running platform."""
    parts: NotifyParts = client.app.state.services["notify"].state.notify  # type: ignore[attr-defined]
    return parts


def on_time(period: str) -> datetime:
    return datetime(2023, 7, 1, 3, tzinfo=UTC) if period == S1 else datetime(2024, 1, 2, tzinfo=UTC)


async def population(client: httpx.AsyncClient, reports: dict[str, list[str]]) -> ServiceRuntime:
    """Four provinces expected to report IT-01 and IT-02; ``reports``: period -> who reported."""
    runtime = await settled(client)
    agencies = [
        (province(code, NAMES[code], *[(e, n, None) for e, n in CONTACTS[code]]), code)
        for code in CONTACTS
    ]
    indicators = [
        (indicator(code, name, list(CONTACTS), due_days=15, frequency="half"), code)
        for code, name in INDICATORS.items()
    ]
    await publish(runtime, *agencies, *indicators)
    for key, codes in reports.items():
        agency, period = key.split("@")
        await publish(runtime, (reported(agency, period, codes, on_time(period)), agency))
    return runtime


def to_of(message: EmailMessage) -> list[str]:
    return sorted(a.addr_spec for a in message["To"].addresses)


async def test_only_agencies_missing_reports_get_one_message_each(
    client: httpx.AsyncClient, smtp: SmtpServer
) -> None:
    runtime = await population(
        client,
        {"P01@2023-S1": ["IT-01", "IT-02"], "P02@2023-S1": ["IT-01"], "P06@2023-S1": ["IT-02"]},
    )
    settings = parts_of(client).settings
    first = await run_reminders(
        runtime, period=S1, program="E2E", today=AFTER_S1_DUE, settings=settings
    )
    assert [(s.agency, s.indicators, s.stage) for s in first.sent] == [
        ("P02", ["IT-02"], "overdue"),
        ("P04", ["IT-01", "IT-02"], "overdue"),
        ("P06", ["IT-01"], "overdue"),
    ]

    async def three_delivered() -> bool:
        return len(smtp.mailbox.received) >= 3

    await wait_for(three_delivered)
    await asyncio.sleep(0.3)  # nothing else is on its way
    messages = smtp.mailbox.messages()
    by_recipient = {to_of(m)[0]: (rcpt, m) for rcpt, m in messages}
    assert len(messages) == 3
    assert set(by_recipient) == {"stt@hagiang.gov.vn", "stt@caobang.gov.vn", "stt@backan.gov.vn"}
    recipients, caobang = by_recipient["stt@caobang.gov.vn"]
    assert recipients == ["stt@caobang.gov.vn"]
    assert caobang["Subject"] == (
        "[DX Tracker] Quá hạn báo cáo chỉ tiêu chuyển đổi số kỳ 2023-S1 — Cao Bằng"
    )
    plain = caobang.get_body(("plain",))
    assert plain is not None
    text = plain.get_content()
    assert "Kính gửi: Cao Bằng" in text
    assert f"IT-01 — {INDICATORS['IT-01']}" in text
    assert f"IT-02 — {INDICATORS['IT-02']}" in text
    assert "Hạn báo cáo: 15/07/2023" in text
    hagiang = by_recipient["stt@hagiang.gov.vn"][1].get_body(("plain",))
    assert hagiang is not None
    assert "IT-02" in hagiang.get_content()
    assert "IT-01 —" not in hagiang.get_content()

    again = await run_reminders(
        runtime, period=S1, program="E2E", today=AFTER_S1_DUE, settings=settings
    )
    assert again.sent == []
    assert {s.reason for s in again.skipped} == {"already_sent"}
    await asyncio.sleep(0.5)
    assert len(smtp.mailbox.received) == 3
    log = (await client.get("/api/v1/notifications")).json()
    assert sorted((n["agency"], n["status"], n["attempts"]) for n in log) == [
        ("P02", "sent", 1),
        ("P04", "sent", 1),
        ("P06", "sent", 1),
    ]


async def test_concurrent_runs_queue_each_letter_once(
    client: httpx.AsyncClient, smtp: SmtpServer
) -> None:
    runtime = await population(client, {"P01@2023-S1": ["IT-01", "IT-02"]})
    settings = parts_of(client).settings
    runs = await asyncio.gather(
        *(
            run_reminders(runtime, period=S1, program="E2E", today=AFTER_S1_DUE, settings=settings)
            for _ in range(3)
        )
    )
    sent = sorted(s.agency for r in runs for s in r.sent)
    assert sent == ["P02", "P04", "P06"]

    async def delivered() -> bool:
        return len(smtp.mailbox.received) >= 3

    await wait_for(delivered)
    await asyncio.sleep(0.3)
    assert len(smtp.mailbox.received) == 3


async def test_smtp_down_during_a_run_is_retried_and_never_duplicated(
    client: httpx.AsyncClient, smtp: SmtpServer
) -> None:
    runtime = await population(client, {"P01@2023-S2": ["IT-01", "IT-02"]})
    await smtp.stop()
    run = await run_reminders(
        runtime, period=S2, today=AFTER_S2_DUE, program="E2E", settings=parts_of(client).settings
    )
    assert sorted(s.agency for s in run.sent) == ["P02", "P04", "P06"]
    parts_of(client).worker.wake()

    async def log() -> list[dict[str, Any]]:
        entries: list[dict[str, Any]] = (await client.get("/api/v1/notifications")).json()
        return entries

    async def all_failed_at_least_twice() -> bool:
        return all(n["status"] == "retrying" and n["attempts"] >= 2 for n in await log())

    await wait_for(all_failed_at_least_twice)
    assert all("Connect" in (n["last_error"] or "") for n in await log())
    await smtp.start()  # back, on the same port

    async def all_sent() -> bool:
        return all(n["status"] == "sent" for n in await log())

    await wait_for(all_sent)
    await asyncio.sleep(0.5)
    messages = smtp.mailbox.messages()
    assert sorted(to_of(m)[0] for _, m in messages) == [
        "stt@backan.gov.vn",
        "stt@caobang.gov.vn",
        "stt@hagiang.gov.vn",
    ]
    assert len({m["Message-ID"] for _, m in messages}) == 3
    metrics = (await client.get("/metrics")).text
    assert "dx_notify_emails_retried_total" in metrics
    assert "dx_notify_emails_failed_total" in metrics


async def test_a_run_missed_while_down_runs_once_on_start(
    client: httpx.AsyncClient, smtp: SmtpServer
) -> None:
    runtime = await population(client, {"P01@2023-S1": ["IT-01", "IT-02"]})
    daily = NotifySettings(schedule="0 8 * * *", progress_schedule="0 8 1 1 *")
    start = datetime(2023, 7, 17, 2, tzinfo=UTC)  # 09:00 in Hà Nội
    assert await Scheduler(runtime, daily).tick(start) == []  # first start: nothing missed yet
    back = start + timedelta(days=3)  # three fires missed while no replica ran
    assert await Scheduler(runtime, daily).tick(back) == ["reminders"]
    # A replica started later reads the persisted state: the fire is not run again.
    assert await Scheduler(runtime, daily).tick(back + timedelta(hours=1)) == []
    log = (await client.get("/api/v1/notifications")).json()
    letters = Counter(n["agency"] for n in log)
    assert {"P02", "P04", "P06"} <= set(letters)  # the reference catalogue adds some of its own
    assert set(letters.values()) == {1}

    async def all_delivered() -> bool:
        return len(smtp.mailbox.received) == len(log)

    await wait_for(all_delivered)
    metrics = (await client.get("/metrics")).text
    assert 'dx_notify_last_successful_run_timestamp_seconds{job="reminders"}' in metrics
    assert "dx_notify_emails_sent_total" in metrics
