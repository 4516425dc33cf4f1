"""``make demo``: submit a clearly labelled SYNTHETIC per-agency dataset through the public API.

Opt-in only, so a newcomer sees full rankings; the default platform shows only real data. Every
value is submitted with a ``demo-`` submission id and a note saying it is synthetic, and every page
of the period it lands in carries a banner saying so (services/gateway/web/data.holds_synthetic).
It goes to the last finished half-year by default (ingest takes a period only once it has ended):
the committee's real figures are for earlier periods, so the synthetic values never replace a
published national figure. Being submitted now, after that period's due date, they count as late.

    python -m services.gateway.web.demo --url http://127.0.0.1:8000 --token <admin key>
"""

from __future__ import annotations

import argparse
import asyncio
import os
import random
import sys
from dataclasses import dataclass, field
from datetime import date
from typing import Any

import httpx

from libs.common.periods import period_containing
from services.gateway.web.data import DEMO_MARKER, DEMO_PREFIX

NOTE = f"{DEMO_MARKER} – synthetic demo value, not a real figure"
SEED = "dx-demo-1"


@dataclass
class DemoReport:
    """What the demo loaded: receipts accepted, refused submissions and their reasons."""

    period: str
    accepted: list[str] = field(default_factory=list)
    refused: dict[str, str] = field(default_factory=dict)
    stored: int = 0


def demo_period(today: date) -> str:
    """The last half-year that has ended (the latest one agencies may report)."""
    return str(period_containing(today, "half").previous())


def expected_indicators(
    agency: str, indicators: list[dict[str, Any]], members: dict[str, set[str]]
) -> list[dict[str, Any]]:
    """The yes/no indicators the agency's populations make it report."""
    return [
        i
        for i in indicators
        if i.get("value_type") == "boolean_per_agency"
        and agency in members.get(str(i.get("population")), set())
    ]


def synthetic_values(
    agency: str, indicators: list[dict[str, Any]], *, seed: str = SEED
) -> list[dict[str, Any]]:
    """Deterministic yes/no answers: each agency gets its own 'strength', so rankings spread."""
    rng = random.Random(f"{seed}:{agency}")
    strength = rng.uniform(0.2, 0.95)
    return [
        {"indicator": i["code"], "value": rng.random() < strength, "note": NOTE}
        for i in sorted(indicators, key=lambda i: str(i.get("code")))
    ]


def submission(agency: str, period: str, values: list[dict[str, Any]]) -> dict[str, Any]:
    """One agency's submission; the id marks it as demo data and makes a rerun a no-op."""
    return {
        "submission_id": f"{DEMO_PREFIX}{period}-{agency}",
        "agency": agency,
        "period": period,
        "values": values,
    }


async def load_demo(
    client: httpx.AsyncClient, *, period: str, program: str | None = None, wait_seconds: float = 60
) -> DemoReport:
    """Submit the synthetic dataset for every agency existing in ``period``; wait until stored."""
    report = DemoReport(period=period)
    agencies = (await client.get("/api/v1/agencies", params={"period": period})).json()
    params = {"program": program} if program else {}
    indicators = (await client.get("/api/v1/indicators", params=params)).json()
    populations = (await client.get("/api/v1/populations", params={"period": period})).json()
    members = {str(p["name"]): set(p.get("resolved") or []) for p in populations}
    receipts: dict[str, str] = {}
    for agency in sorted(str(a["code"]) for a in agencies):
        chosen = expected_indicators(agency, indicators, members)
        if not chosen:
            continue
        body = submission(agency, period, synthetic_values(agency, chosen))
        answer = await client.post("/api/v1/submissions", json=body)
        if answer.status_code in (200, 201, 202):
            receipts[agency] = str(answer.json().get("id"))
            report.accepted.append(agency)
        else:
            report.refused[agency] = f"{answer.status_code}: {answer.text[:300]}"
    report.stored = await _wait_stored(client, list(receipts.values()), wait_seconds)
    return report


async def _wait_stored(client: httpx.AsyncClient, receipts: list[str], within: float) -> int:
    """How many receipts reached ``stored`` before the deadline (polls, bounded in time)."""
    pending, stored = set(receipts), 0
    deadline = asyncio.get_running_loop().time() + within
    while pending and asyncio.get_running_loop().time() < deadline:
        for receipt in sorted(pending):
            status = (await client.get(f"/api/v1/submissions/{receipt}")).json().get("status")
            if status in ("stored", "rejected"):
                pending.discard(receipt)
                stored += status == "stored"
        if pending:
            await asyncio.sleep(0.5)
    return stored


def main(argv: list[str] | None = None) -> int:
    """Command line of ``make demo``."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--url", default=os.environ.get("DX_DEMO_URL", "http://127.0.0.1:8000"))
    parser.add_argument("--token", default=os.environ.get("DX_DEMO_TOKEN"))
    parser.add_argument("--period", default=demo_period(date.today()))
    parser.add_argument("--program", default=None)
    args = parser.parse_args(argv)
    if not args.token:
        parser.error("an admin key is needed: --token or DX_DEMO_TOKEN")

    async def run() -> DemoReport:
        headers = {"Authorization": f"Bearer {args.token}"}
        async with httpx.AsyncClient(base_url=args.url, headers=headers, timeout=30) as client:
            return await load_demo(client, period=args.period, program=args.program)

    report = asyncio.run(run())
    print(
        f"SYNTHETIC demo data for {report.period}: {len(report.accepted)} agencies submitted, "
        f"{report.stored} stored, {len(report.refused)} refused"
    )
    for agency, reason in sorted(report.refused.items()):
        print(f"  refused {agency}: {reason}", file=sys.stderr)
    print(f"see {args.url}/rankings?period={report.period}")
    return 0 if report.accepted and not report.refused else 1


if __name__ == "__main__":
    raise SystemExit(main())
