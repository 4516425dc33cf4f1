"""A PostgreSQL outage while agencies submit: refused clearly, every accepted value kept once.

The embedded platform reaches PostgreSQL only through a loopback proxy. Agencies post
submissions, alone and in batches of three, each carrying up to twenty of the values the agency
reports, while the indicators service stores them. The link is cut from inside one of the
store's transactions, after its effect and before its commit, kept down a few seconds and
restored. A client then sends the refused submissions again, as a real one would.
"""

from __future__ import annotations

import asyncio
import itertools
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import pytest
from sqlalchemy import select
from sqlalchemy.engine import make_url
from sqlalchemy.ext.asyncio import AsyncSession

from libs.common.events import Envelope, SubmissionAccepted, utcnow
from services.indicators.service import ObservationStore
from services.ingest import repository
from services.ingest.models import AgencyRef, IndicatorRef
from services.ingest.validation import (
    Draft,
    DraftValue,
    IndicatorSpec,
    Rules,
    validate,
    vietnam_day,
)
from tests.support.flow import wait_stored
from tests.support.ingest import PROBLEM, assert_problem, key_for, runtime_of
from tests.support.platform import embedded_platform, postgres_settings
from tests.support.proxy import TcpProxy

pytestmark = [pytest.mark.integration, pytest.mark.fault]

PERIODS = [f"{year}{half}" for year in (2021, 2022, 2023, 2024) for half in ("", "-S1", "-S2")]
WORKERS = 4
MAX_VALUES = 20
ACCEPTED_BEFORE_CUT = 12
ACCEPTED_AFTER_RESTORE = 12
OUTAGE_SECONDS = 3.0
#: The platform's gateway → service timeout: no answer may take longer, outage or not.
ANSWER_WITHIN = 10.0

Body = dict[str, Any]
Key = tuple[str, str, str]  # (indicator, agency, period)
Receipt = tuple[str, bool]  # (platform id, duplicate)
Stored = tuple[int, bool | float, str]  # (revision, value, platform id of the submission)


@dataclass
class Attempt:
    """One request of an agency: the submissions it carried, when it ran, and the answer."""

    bodies: list[Body]
    started: float
    ended: float = 0.0
    status: int = 0
    headers: dict[str, str] = field(default_factory=dict)
    answer: Any = None

    @property
    def refused(self) -> bool:
        return self.status == 503

    def receipts(self) -> dict[str, Receipt]:
        """submission_id -> (platform id, was a repeat) of each submission the answer kept."""
        if self.status == 202:
            return {self.bodies[0]["submission_id"]: (self.answer["id"], self.answer["duplicate"])}
        if self.status != 200:
            return {}
        return {
            self.bodies[result["index"]]["submission_id"]: (
                result["id"],
                result["status"] == "duplicate",
            )
            for result in self.answer["results"]
            if result["status"] in ("accepted", "duplicate")
        }


@dataclass
class Outage:
    """The cut of the database link, made from inside a store transaction, and its timing."""

    proxy: TcpProxy
    armed: bool = False
    cut: asyncio.Event = field(default_factory=asyncio.Event)
    cut_at: float = 0.0
    restored_at: float = 0.0
    #: The submissions whose store transaction was cut after its effect, before its commit.
    interrupted: set[str] = field(default_factory=set)

    def install(self, monkeypatch: pytest.MonkeyPatch) -> None:
        """Wrap the store's batch effect (before the platform is built, which binds it)."""
        store_batch = ObservationStore.store_batch

        async def store_then_cut(
            store: ObservationStore, session: AsyncSession, envelopes: Sequence[Envelope]
        ) -> None:
            await store_batch(store, session, envelopes)
            await session.flush()  # the effect is on the server
            if self.armed and not self.cut.is_set():
                self.interrupted = {
                    SubmissionAccepted.model_validate(envelope.payload).submission
                    for envelope in envelopes
                }
                await self.proxy.cut()  # the commit that follows cannot reach PostgreSQL
                self.cut_at = asyncio.get_running_loop().time()
                self.cut.set()

        monkeypatch.setattr(ObservationStore, "store_batch", store_then_cut)

    async def restore(self) -> None:
        await self.proxy.restore()
        self.restored_at = asyncio.get_running_loop().time()


@pytest.fixture
async def postgres_proxy(postgres_url: str) -> AsyncIterator[TcpProxy]:
    """A proxy in front of the machine's PostgreSQL that the test can cut and restore."""
    url = make_url(postgres_url)
    proxy = TcpProxy(url.host or "127.0.0.1", url.port or 5432)
    await proxy.start()
    yield proxy
    await proxy.close()


def value_of(spec: IndicatorSpec, seq: int) -> bool | float:
    """A value of the indicator's type that differs from one submission to the next."""
    if spec.value_type == "boolean_per_agency":
        return seq % 2 == 0
    return round(seq * 7.3 % 100, 1)


async def reporting_plan(client: httpx.AsyncClient) -> list[Body]:
    """One submission per (agency, period), carrying the values the agency may report then.

    Which indicators an agency reports is read from ingest's replica and judged by ingest's
    own validation, so every planned submission is valid and every (agency, period) is new.
    """
    async with runtime_of(client).db.read() as session:
        catalogue = await repository.load_catalogue(
            session,
            indicators=(await session.scalars(select(IndicatorRef.code))).all(),
            agencies=(await session.scalars(select(AgencyRef.code))).all(),
        )
    rules = Rules(today=vietnam_day(utcnow()))
    plan: list[Body] = []
    for period, agency in itertools.product(PERIODS, sorted(catalogue.agencies)):
        values = [
            DraftValue(spec.code, value_of(spec, len(plan) + seq))
            for seq, spec in enumerate(catalogue.indicators.values())
        ]
        plan.append(
            {
                "submission_id": uuid.uuid4().hex,
                "agency": agency,
                "period": period,
                "values": [
                    {"indicator": v.indicator, "value": v.value}
                    for v in values
                    if not validate(Draft(agency, period, [v]), catalogue, rules)
                ][:MAX_VALUES],
            }
        )
    return plan


async def post(client: httpx.AsyncClient, bodies: list[Body]) -> Attempt:
    """Submit one submission (202) or a batch of them (200), timing the answer."""
    loop = asyncio.get_running_loop()
    attempt = Attempt(bodies, started=loop.time())
    async with asyncio.timeout(ANSWER_WITHIN * 2):  # a hang fails the test, not CI
        if len(bodies) == 1:
            response = await client.post("/api/v1/submissions", json=bodies[0])
        else:
            response = await client.post("/api/v1/submissions/batch", json={"items": bodies})
    attempt.ended = loop.time()
    attempt.status = response.status_code
    attempt.headers = dict(response.headers)
    attempt.answer = response.json()
    return attempt


async def agency(
    client: httpx.AsyncClient, plan: Iterator[list[Body]], attempts: list[Attempt]
) -> None:
    """Submit from the shared plan until it is closed; after a 503, wait a little and go on."""
    for bodies in plan:
        attempt = await post(client, bodies)
        attempts.append(attempt)
        await asyncio.sleep(0.3 if attempt.refused else 0.01)


def requests_of(plan: list[Body], stop: asyncio.Event) -> Iterator[list[Body]]:
    """The plan as requests, alternately one submission and a batch of three, until ``stop``."""
    remaining = iter(plan)
    for size in itertools.cycle((1, 3)):
        bodies = list(itertools.islice(remaining, size))
        if stop.is_set() or not bodies:
            return
        yield bodies


def accepted(attempts: list[Attempt], *, after: float = 0.0) -> dict[str, str]:
    """submission_id -> platform id of every submission kept by a request begun ``after``."""
    found: dict[str, str] = {}
    for attempt in attempts:
        if attempt.started >= after:
            found.update({sid: id for sid, (id, _) in attempt.receipts().items()})
    return found


async def wait_until(
    condition: Callable[[], bool | Awaitable[bool]], *, within: float, what: str
) -> None:
    """Poll ``condition()`` until it holds; fail after ``within`` seconds."""
    deadline = asyncio.get_running_loop().time() + within
    while True:
        holds = condition()
        if not isinstance(holds, bool):
            holds = await holds
        if holds:
            return
        if asyncio.get_running_loop().time() > deadline:
            raise AssertionError(f"{what} not reached within {within}s")
        await asyncio.sleep(0.05)


async def ready(client: httpx.AsyncClient) -> bool:
    """Whether the gateway's ``/readyz`` reports the platform ready."""
    return (await client.get("/readyz")).status_code == 200


def keys_of(body: Body) -> list[Key]:
    """The series each value of a submission goes to."""
    return [(v["indicator"], body["agency"], body["period"]) for v in body["values"]]


def expected_rows(bodies: list[Body], ids: dict[str, str]) -> dict[Key, list[Stored]]:
    """What the store must hold for these submissions: each value once, as revision 1."""
    return {
        key: [(1, value["value"], ids[body["submission_id"]])]
        for body in bodies
        for key, value in zip(keys_of(body), body["values"], strict=True)
    }


async def stored_rows(client: httpx.AsyncClient, bodies: list[Body]) -> dict[Key, list[Stored]]:
    """Every stored revision (all, not only the latest) of the bodies' agencies' own values."""
    response = await client.get(
        "/api/v1/observations",
        params={
            "agency": sorted({body["agency"] for body in bodies}),
            "scope": "agency",
            "revisions": "true",
            "limit": 50_000,
        },
    )
    assert response.status_code == 200, response.text
    rows: dict[Key, list[Stored]] = {}
    for row in response.json():
        key = (row["indicator"], row["agency"], row["period"])
        rows.setdefault(key, []).append((row["revision"], row["value"], row["submission"]))
    return rows


async def test_database_cut_mid_batches_refuses_cleanly_and_stores_accepted_values_once(
    postgres_proxy: TcpProxy,
    schema_prefix: str,
    postgres_url: str,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    outage = Outage(postgres_proxy)
    outage.install(monkeypatch)
    proxied_url = (
        make_url(postgres_url)
        .set(host="127.0.0.1", port=postgres_proxy.port)
        .render_as_string(hide_password=False)
    )
    settings = postgres_settings(
        tmp_path,
        url=proxied_url,
        schema_prefix=f"{schema_prefix}_{uuid.uuid4().hex[:6]}_",
        rate_limit_per_minute=0,
        database_pool_size=4,
        service_timeout_seconds=ANSWER_WITHIN,
    )
    async with embedded_platform(settings) as dx:
        plan = await reporting_plan(dx)
        reserved = plan.pop()  # submitted by the test itself while the link is down
        unused_key = await key_for(dx, "P01")  # never looked up before the outage
        loop = asyncio.get_running_loop()
        attempts: list[Attempt] = []
        stop = asyncio.Event()
        requests = requests_of(plan, stop)
        agencies = [asyncio.create_task(agency(dx, requests, attempts)) for _ in range(WORKERS)]
        try:
            await wait_until(
                lambda: len(accepted(attempts)) >= ACCEPTED_BEFORE_CUT,
                within=60,
                what=f"{ACCEPTED_BEFORE_CUT} accepted submissions",
            )
            outage.armed = True  # the next store transaction cuts the link before committing
            async with asyncio.timeout(30):
                await outage.cut.wait()

            # The outage: alive but not ready, and submissions refused with a clear 503.
            readiness = await dx.get("/readyz")
            assert readiness.status_code == 503, readiness.text
            checks = readiness.json()["checks"]
            assert all(state != "ok" for state in checks.values()), checks
            ingest_checks = await runtime_of(dx).check_ready()
            assert ingest_checks["database"].startswith("DatabaseUnavailable"), ingest_checks
            assert ingest_checks["bus"] == "ok"
            assert (await dx.get("/healthz")).status_code == 200
            # The gateway's lookup of a key it has not cached yet needs the database too.
            problem = assert_problem(
                await dx.get("/api/v1/submissions/none", headers=unused_key), 503
            )
            assert problem["type"].endswith("/unavailable")
            during = await post(dx, [reserved])
            attempts.append(during)
            assert during.refused, during.answer

            await asyncio.sleep(max(0.0, outage.cut_at + OUTAGE_SECONDS - loop.time()))
            await outage.restore()

            # Recovery: ready again at once, and submissions accepted again.
            await wait_until(lambda: ready(dx), within=10, what="readiness after the outage")
            await wait_until(
                lambda: len(accepted(attempts, after=outage.restored_at)) >= ACCEPTED_AFTER_RESTORE,
                within=60,
                what=f"{ACCEPTED_AFTER_RESTORE} submissions accepted after the outage",
            )
        finally:
            stop.set()
            await asyncio.gather(*agencies)

        # Every answer was an acceptance or a clear refusal, in time.
        unexpected = [(a.status, a.answer) for a in attempts if a.status not in (200, 202, 503)]
        assert not unexpected
        for attempt in attempts:
            assert attempt.ended - attempt.started < ANSWER_WITHIN
            assert all(not duplicate for _, duplicate in attempt.receipts().values())
            if attempt.refused:
                assert attempt.headers["content-type"] == PROBLEM
                assert attempt.answer["status"] == 503
                assert "retry-after" in attempt.headers
        # Refused once the cut was made, a request cannot have committed anything; one in
        # flight at the cut may have had its commit reach PostgreSQL before the answer was lost.
        refused = [a for a in attempts if a.refused]
        surely_refused = [b for a in refused if a.started >= outage.cut_at for b in a.bodies]
        in_doubt = [b for a in refused if a.started < outage.cut_at for b in a.bodies]
        assert not [a.answer for a in refused if a.started >= outage.restored_at]
        kept = accepted(attempts)

        # Every accepted submission is stored, each value once as revision 1; refused ones not.
        assert outage.interrupted
        assert outage.interrupted <= set(kept.values())
        for id in kept.values():
            await wait_stored(dx, id, within=60)
        sent = {body["submission_id"]: body for a in attempts for body in a.bodies}
        rows = await stored_rows(dx, list(sent.values()))
        kept_rows = expected_rows([sent[sid] for sid in kept], kept)
        assert {key: rows.get(key) for key in kept_rows} == kept_rows
        assert not [key for body in surely_refused for key in keys_of(body) if key in rows]

        # The client sends the refused ones again under the same ids: each is then kept once.
        again = await post(dx, [*surely_refused, *in_doubt])
        receipts = again.receipts()
        assert len(receipts) == len(surely_refused) + len(in_doubt), again.answer
        assert not [b for b in surely_refused if receipts[b["submission_id"]][1]]
        for id, _ in receipts.values():
            await wait_stored(dx, id, within=60)
        ids = {**kept, **{sid: id for sid, (id, _) in receipts.items()}}
        assert await stored_rows(dx, list(sent.values())) == expected_rows(list(sent.values()), ids)
