"""Reminders through a real SMTP server (aiosmtpd on loopback): once each, retried, never twice.

Also the reminder CronJob's command, `dx reminders run`, as its own process next to a running
notify that only delivers (Kubernetes): what it chases, what it records, the lease it takes.
"""

from __future__ import annotations

import asyncio
import json
import os
import socket
import sys
import uuid
from collections import Counter
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from email import policy
from email.message import EmailMessage
from email.parser import BytesParser
from pathlib import Path
from typing import Any

import httpx
import pytest
from aiosmtpd.controller import Controller
from fastapi import FastAPI
from prometheus_client import REGISTRY

from libs.common.bus import create_bus
from libs.common.db import aware
from libs.common.events import utcnow
from libs.common.periods import period_containing
from libs.common.service import ServiceRuntime
from libs.common.settings import BusKind, Settings
from services import platform
from services.notify import app as notify_app
from services.notify import repository
from services.notify.api.deps import NotifyParts
from services.notify.domain.calendar import local_day
from services.notify.domain.schedule import due_fire
from services.notify.scheduler import Scheduler, scheduler_lease, worker_lease
from services.notify.service import REMINDERS_JOB, run_reminders
from services.notify.settings import NotifySettings
from tests.e2e.test_notify import (
    indicator,
    province,
    publish,
    reported,
    settled,
    wait_for,
)
from tests.support.platform import (
    embedded_platform,
    embedded_settings,
    postgres_settings,
    running,
)

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


# ------------------------------------------------------------------------------------------
# `dx reminders run`, the CronJob's command, next to a notify replica that does not schedule
# ------------------------------------------------------------------------------------------

CRONJOB_ARGS = ("reminders", "run")  # deploy/k8s/base/reminders-cronjob.yaml
TODAY = local_day(utcnow())
YEAR = period_containing(TODAY, "year").previous()  # the only period due today: see below
DUE_IN_3_DAYS = (TODAY + timedelta(days=3) - YEAR.end).days  # due_days of a reminder today
DAILY = "0 8 * * *"


@dataclass(frozen=True)
class Finished:
    """A ``dx`` process that ended."""

    code: int
    out: str
    err: str


def mail_settings(request: pytest.FixtureRequest, tmp_path: Path, smtp: SmtpServer) -> Settings:
    """Settings of notify on SQLite or on its own PostgreSQL schema, mailing to ``smtp``."""
    mail = {"smtp_host": "127.0.0.1", "smtp_port": smtp.port}
    if request.param == "sqlite":
        return embedded_settings(tmp_path, **mail)
    prefix = f"{request.getfixturevalue('schema_prefix')}_{uuid.uuid4().hex[:6]}_"
    url = request.getfixturevalue("postgres_url")
    return postgres_settings(tmp_path, url=url, schema_prefix=prefix, **mail)


@asynccontextmanager
async def notify_replica(settings: Settings) -> AsyncIterator[FastAPI]:
    """notify alone (``dx serve notify``), with its schedules off as in Kubernetes."""
    assert NotifySettings().scheduler_enabled is False  # fast_retries turns them off
    await asyncio.to_thread(platform.migrate, settings, ("notify",))
    app = notify_app.build(
        settings, create_bus(settings, default=BusKind.INPROCESS), standalone=True
    )
    async with running(app):
        yield app


@pytest.fixture(params=["sqlite", "postgres"])
async def replica(
    request: pytest.FixtureRequest, tmp_path: Path, smtp: SmtpServer, fast_retries: None
) -> AsyncIterator[FastAPI]:
    async with notify_replica(mail_settings(request, tmp_path, smtp)) as app:
        yield app


@pytest.fixture(params=["postgres"])
async def pg_replica(
    request: pytest.FixtureRequest, tmp_path: Path, smtp: SmtpServer, fast_retries: None
) -> AsyncIterator[FastAPI]:
    """On PostgreSQL only: there the leases are shared between processes."""
    async with notify_replica(mail_settings(request, tmp_path, smtp)) as app:
        yield app


def runtime_of(app: FastAPI) -> ServiceRuntime:
    runtime: ServiceRuntime = app.state.runtime
    return runtime


async def dx(settings: Settings, *args: str, **env: str) -> Finished:
    """``dx <args>`` as its own process, on the databases and SMTP server of ``settings``."""
    command = Path(sys.executable).with_name("dx")
    assert command.exists(), f"no {command}: install the project into the venv"
    variables = {
        "DX_DATA_DIR": str(settings.data_dir),
        "DX_BUS": "inprocess",
        "DX_SMTP_HOST": str(settings.smtp_host),
        "DX_SMTP_PORT": str(settings.smtp_port),
        "DX_DATABASE_SCHEMA_PREFIX": settings.database_schema_prefix,
    }
    if settings.database_url:
        variables["DX_DATABASE_URL"] = settings.database_url
    process = await asyncio.create_subprocess_exec(
        str(command),
        *args,
        env=os.environ | variables | env,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )
    out, err = await asyncio.wait_for(process.communicate(), timeout=120)
    assert process.returncode is not None
    return Finished(process.returncode, out.decode(), err.decode())


async def due_population(runtime: ServiceRuntime) -> None:
    """An annual indicator of last year due in three days: Hà Nội and Huế have not reported.

    Last year is the only period its calendar is in today: the year before left its chase
    window long ago, this year's opens next year.
    """
    await publish(
        runtime,
        (province("P01", "Hà Nội", ("vp@hanoi.gov.vn", "Văn phòng Sở", None)), "P01"),
        (province("P46", "Thừa Thiên Huế", ("stt@hue.gov.vn", "Sở TT&TT Huế", None)), "P46"),
        (province("P79", "Hồ Chí Minh", ("stt@hcm.gov.vn", "Sở TT&TT", None)), "P79"),
        (
            indicator(
                "IT-01",
                INDICATORS["IT-01"],
                ["P01", "P46", "P79"],
                due_days=DUE_IN_3_DAYS,
                frequency="year",
            ),
            "IT-01",
        ),
        (reported("P79", str(YEAR), ["IT-01"], datetime.combine(YEAR.end, time(), UTC)), "P79"),
    )


async def job_state(runtime: ServiceRuntime) -> tuple[datetime, datetime | None] | None:
    """The reminder job's (last fire handled, last success), if it has a state."""
    async with runtime.db.read() as session:
        state = await repository.job_state(session, REMINDERS_JOB)
    if state is None:
        return None
    success = aware(state.last_success_at) if state.last_success_at else None
    return aware(state.last_fire_at), success


async def queued(runtime: ServiceRuntime) -> int:
    async with runtime.db.read() as session:
        return len(await repository.delivery_log(session, agency=None, since=None, limit=100))


async def test_cronjob_command_chases_what_is_due_today_and_records_its_success(
    replica: FastAPI, smtp: SmtpServer
) -> None:
    runtime = runtime_of(replica)
    settings = runtime.settings
    await due_population(runtime)

    dry = await dx(settings, *CRONJOB_ARGS, "--dry-run")
    assert dry.code == 0, dry.err
    planned = json.loads(dry.out)
    assert planned["day"] == TODAY.isoformat()
    assert [run["period"] for run in planned["runs"]] == [str(YEAR)]
    assert [(s["agency"], s["id"]) for s in planned["runs"][0]["sent"]] == [
        ("P01", None),
        ("P46", None),
    ]
    assert await job_state(runtime) is None, "a dry run records nothing"
    assert await queued(runtime) == 0

    before = utcnow()
    done = await dx(settings, *CRONJOB_ARGS)
    after = utcnow()
    assert done.code == 0, done.err
    result = json.loads(done.out)
    assert result["day"] == TODAY.isoformat()
    (run,) = result["runs"]
    assert (run["period"], run["dry_run"], run["skipped"]) == (str(YEAR), False, [])
    assert [(s["agency"], s["to"], s["indicators"], s["stage"]) for s in run["sent"]] == [
        ("P01", ["vp@hanoi.gov.vn"], ["IT-01"], "reminder"),
        ("P46", ["stt@hue.gov.vn"], ["IT-01"], "reminder"),
    ]

    # The replica, which schedules nothing, delivers what the job queued.
    async def delivered() -> bool:
        return len(smtp.mailbox.received) >= 2

    await wait_for(delivered)
    assert sorted(to_of(m)[0] for _, m in smtp.mailbox.messages()) == [
        "stt@hue.gov.vn",
        "vp@hanoi.gov.vn",
    ]

    # Its success is in the job state the scheduler keeps, and every replica exports it.
    state = await job_state(runtime)
    assert state is not None
    last_success = state[1]
    assert last_success is not None
    assert before <= last_success <= after
    parts: NotifyParts = replica.state.notify
    await parts.worker.scheduler.export_last_runs()
    exported = REGISTRY.get_sample_value(
        "dx_notify_last_successful_run_timestamp_seconds", {"job": REMINDERS_JOB}
    )
    assert exported == last_success.timestamp()

    again = await dx(settings, *CRONJOB_ARGS)
    assert again.code == 0, again.err
    (rerun,) = json.loads(again.out)["runs"]
    assert rerun["sent"] == []
    assert [(s["agency"], s["reason"]) for s in rerun["skipped"]] == [
        ("P01", "already_sent"),
        ("P46", "already_sent"),
    ]
    newer = await job_state(runtime)
    assert newer is not None
    assert newer[1] is not None
    assert newer[1] > last_success
    await asyncio.sleep(0.3)
    assert len(smtp.mailbox.received) == 2


async def test_cronjob_command_and_scheduler_share_one_lease(pg_replica: FastAPI) -> None:
    runtime = runtime_of(pg_replica)
    await due_population(runtime)
    daily = NotifySettings(schedule=DAILY, progress_schedule="0 8 1 1 *")
    started = utcnow() - timedelta(days=3)
    assert await Scheduler(runtime, daily).tick(started) == []  # the schedule began 3 days ago
    # The replica leads (it delivers) with its own lease: that never stands in the job's way.

    async def replica_leads() -> bool:
        probe = worker_lease(runtime)
        try:
            return not await probe.held()
        finally:
            await probe.release()

    await wait_for(replica_leads)

    held = scheduler_lease(runtime)  # as an in-process scheduler holds it while it runs a job
    assert await held.held()
    try:
        refused = await dx(runtime.settings, *CRONJOB_ARGS, DX_NOTIFY_SCHEDULE=DAILY)
        assert refused.code == 1, refused.err
        assert "not run: another run of the scheduled jobs holds lease" in refused.err
        assert held.name in refused.err
        assert refused.out == ""
        assert await Scheduler(runtime, daily).tick(utcnow()) == [], "the scheduler waits too"
    finally:
        await held.release()
    state = await job_state(runtime)
    assert state is not None
    assert state[1] is None, "nothing ran, nothing recorded"
    assert await queued(runtime) == 0

    done = await dx(runtime.settings, *CRONJOB_ARGS, DX_NOTIFY_SCHEDULE=DAILY)
    now = utcnow()
    assert done.code == 0, done.err
    assert [s["agency"] for s in json.loads(done.out)["runs"][0]["sent"]] == ["P01", "P46"]
    # The job handled the schedule's latest fire: a scheduler does not run it a second time.
    state = await job_state(runtime)
    assert state is not None
    assert state[0] == due_fire(DAILY, started, now)
    assert REMINDERS_JOB not in await Scheduler(runtime, daily).tick(now)
    assert await queued(runtime) == 2
