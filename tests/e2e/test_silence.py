"""Silence is not rewarded: on a fresh embedded platform with one province reporting, that province
ranks above the silent ones and is not listed as more behind than them (docs/scoring.md §6-7)."""

from __future__ import annotations

import time
from collections.abc import Iterator
from typing import Any

import httpx
import pytest

from tests.support.platform import ADMIN_TOKEN, served_platform

pytestmark = pytest.mark.e2e

PERIOD = "2023-S2"  # no figure of it was published: every silent province owes it
REPORTER = "P48"  # Đà Nẵng


@pytest.fixture(scope="module")
def dx(tmp_path_factory: pytest.TempPathFactory) -> Iterator[httpx.Client]:
    """An admin client of a fresh embedded platform, over HTTP on loopback."""
    with served_platform(tmp_path_factory.mktemp("silence")) as base:
        headers = {"Authorization": f"Bearer {ADMIN_TOKEN}"}
        with httpx.Client(base_url=base, headers=headers, timeout=30) as client:
            yield client


def owed_yes_no(client: httpx.Client, agency: str) -> list[str]:
    """The yes/no indicators the agency's populations make it report for the period."""
    populations = client.get("/api/v1/populations", params={"period": PERIOD}).json()
    members = {p["name"]: set(p.get("resolved") or []) for p in populations}
    return sorted(
        i["code"]
        for i in client.get("/api/v1/indicators").json()
        if i["value_type"] == "boolean_per_agency" and agency in members.get(i["population"], ())
    )


def poll(ask: Any, *, until: Any, within: float = 60) -> Any:
    """Ask again until the answer satisfies ``until`` (fail after ``within`` seconds)."""
    deadline = time.monotonic() + within
    while True:
        answer = ask()
        if until(answer):
            return answer
        if time.monotonic() > deadline:
            raise AssertionError(f"no satisfying answer within {within}s: {answer!r:.500}")
        time.sleep(0.2)


def test_the_one_province_that_reported_ranks_above_the_silent_ones(dx: httpx.Client) -> None:
    codes = owed_yes_no(dx, REPORTER)
    assert len(codes) >= 2
    # Half yes, half no, and years after the due date: late and off track on half of them.
    values = [{"indicator": c, "value": n % 2 == 0} for n, c in enumerate(codes)]
    body = {"submission_id": "silence-p48", "agency": REPORTER, "period": PERIOD, "values": values}
    receipt = dx.post("/api/v1/submissions", json=body)
    assert receipt.status_code == 202, receipt.text
    poll(
        lambda: dx.get(f"/api/v1/submissions/{receipt.json()['id']}").json()["status"],
        until=lambda status: status == "stored",
    )

    def ranking() -> list[dict[str, Any]]:
        answer = dx.get("/api/v1/rankings", params={"group": "local", "period": PERIOD})
        found: list[dict[str, Any]] = answer.json()
        return found

    ranked = poll(
        ranking, until=lambda rows: any(r["agency"] == REPORTER and r["reported"] for r in rows)
    )
    assert len(ranked) == 63  # every province owes the period a figure
    first, *silent = ranked
    assert (first["agency"], first["rank"], first["reported"]) == (REPORTER, 1, True)
    assert first["score"] > 0
    # The silent ones are not tied with it at rank 1: they are listed after it, unranked.
    assert {(r["rank"], r["reported"], r["score"], r["change"]) for r in silent} == {
        (None, False, 0.0, None)
    }
    # Where nobody reported (the ministries), nobody is first.
    central = dx.get("/api/v1/rankings", params={"group": "central", "period": PERIOD}).json()
    assert central
    assert {(r["rank"], r["reported"]) for r in central} == {(None, False)}

    laggards = dx.get("/api/v1/laggards", params={"period": PERIOD, "lang": "en"}).json()
    order = [entry["agency"] for entry in laggards]
    assert REPORTER in order
    reported_at = order.index(REPORTER)
    provinces = {r["agency"] for r in silent}
    silent_listed = [a for a in order if a in provinces]
    assert len(silent_listed) == 62
    # Đà Nẵng has more reasons than a silent province (late and off track on one indicator)...
    reasons = {entry["agency"]: entry["reasons"] for entry in laggards}
    assert len(reasons[REPORTER]) > len(codes) // 2
    # ...but is listed after every province that sent nothing.
    assert all(order.index(a) < reported_at for a in silent_listed)

    # The dashboard shows the same order, and says which agencies have no data.
    page = dx.get("/rankings", params={"period": PERIOD}).text
    assert page.index(f">{REPORTER}<") < page.index(">P01<")
    assert "Chưa có số liệu" in page
    lagging = dx.get("/laggards", params={"period": PERIOD}).text
    assert lagging.index(">P01<") < lagging.index(f">{REPORTER}<")
