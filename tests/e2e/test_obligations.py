"""What an agency owes for a period, as JSON and as the template it fills in and uploads back."""

from __future__ import annotations

import io
import re
from typing import Any

import httpx
import pytest
from openpyxl import load_workbook

from tests.support.flow import submit, wait_stored

pytestmark = pytest.mark.e2e

XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


async def expected_codes(dx: httpx.AsyncClient, agency: str, period: str) -> set[str]:
    """The indicators ``agency`` reports for ``period``, derived from the public catalogue:
    its populations' members for the period, or the owners of a national figure."""
    indicators = (await dx.get("/api/v1/indicators")).json()
    members: dict[str, set[str]] = {}
    codes = set()
    for indicator in indicators:
        if indicator["aggregation"] == "national":
            owners = {part.strip() for part in indicator["owner"].split(";")}
            reporters = {o for o in owners if re.fullmatch("[A-Z][A-Z0-9]*", o)} or {"BTTTT"}
        else:
            name = indicator.get("population") or "all93"
            if name not in members:
                url = f"/api/v1/populations/{name}"
                found = (await dx.get(url, params={"period": period})).json()
                members[name] = set(found["resolved"])
            reporters = members[name]
        if agency in reporters:
            codes.add(indicator["code"])
    return codes


async def owed(dx: httpx.AsyncClient, agency: str, period: str) -> dict[str, Any]:
    response = await dx.get(f"/api/v1/agencies/{agency}/obligations", params={"period": period})
    assert response.status_code == 200, response.text
    body: dict[str, Any] = response.json()
    return body


async def test_an_agency_owes_exactly_its_populations_indicators(dx: httpx.AsyncClient) -> None:
    receipt = await submit(
        dx,
        agency="P01",
        period="2023-S1",
        values=[{"indicator": "KH2023-01", "value": True, "note": "Quyết định 123/QĐ-UBND"}],
    )
    await wait_stored(dx, receipt["id"])
    body = await owed(dx, "P01", "2023-S1")
    listed = [(o["indicator"], o["period"]) for o in body["obligations"]]
    assert {code for code, _ in listed} == await expected_codes(dx, "P01", "2023-S1")
    assert len(listed) == len(set(listed)) > 10
    assert {period for _, period in listed} == {"2023-S1"}
    by_code = {o["indicator"]: o for o in body["obligations"]}
    received = by_code.pop("KH2023-01")
    assert (received["status"], received["value"], received["note"]) == (
        "received",
        True,
        "Quyết định 123/QĐ-UBND",
    )
    assert received["due_date"] == "2023-07-15"  # 15 days after the half-year
    assert {o["status"] for o in by_code.values()} == {"overdue"}
    assert (body["received"], body["due"]) == (1, len(listed) - 1)

    # A year asks for both half-years of these half-yearly indicators; a central agency owes
    # the national figures it owns.
    year = await owed(dx, "P01", "2023")
    assert sorted({o["period"] for o in year["obligations"]}) == ["2023-S1", "2023-S2"]
    assert len(year["obligations"]) == 2 * len(listed)
    central = await owed(dx, "BTTTT", "2023-S1")
    national = await expected_codes(dx, "BTTTT", "2023-S1")
    assert {o["indicator"] for o in central["obligations"]} == national
    assert len(national) > 10


async def test_bad_requests_are_problems(dx: httpx.AsyncClient) -> None:
    missing = await dx.get("/api/v1/agencies/P01/obligations")
    assert missing.status_code == 422
    assert missing.json()["errors"][0]["loc"] == ["query", "period"]
    unknown = await dx.get("/api/v1/agencies/NOPE/obligations", params={"period": "2023-S1"})
    assert unknown.status_code == 404
    assert unknown.headers["content-type"] == "application/problem+json"


async def test_the_template_round_trips_through_the_upload(dx: httpx.AsyncClient) -> None:
    response = await dx.post(
        "/api/v1/keys", json={"role": "agency", "agency": "P01", "label": "Sở TTTT Hà Nội"}
    )
    p01 = {"Authorization": f"Bearer {response.json()['key']}"}
    template = await dx.get(
        "/api/v1/agencies/P01/obligations",
        params={"period": "2023-S1", "format": "xlsx"},
        headers=p01,
    )
    assert template.status_code == 200, template.text
    assert template.headers["content-type"] == XLSX
    assert "bao-cao-P01-2023-S1.xlsx" in template.headers["content-disposition"]

    workbook = load_workbook(io.BytesIO(template.content))
    sheet = workbook.active
    assert sheet is not None
    header = [cell.value for cell in sheet[3]]
    value_column = header.index("Giá trị") + 1
    unit_column = header.index("Đơn vị tính") + 1
    filled = {}
    for row in range(4, sheet.max_row + 1):
        unit = sheet.cell(row, unit_column).value
        value: object = {"Có/Không": "Có", "%": 45.5}.get(str(unit), 12)
        sheet.cell(row, value_column).value = value
        filled[str(sheet.cell(row, header.index("Mã chỉ tiêu") + 1).value)] = value
    buffer = io.BytesIO()
    workbook.save(buffer)

    files = {"file": ("bao-cao-P01-2023-S1.xlsx", buffer.getvalue(), XLSX)}
    upload = await dx.post("/api/v1/submissions/upload", files=files, headers=p01)
    assert upload.status_code == 200, upload.text
    report = upload.json()
    assert (report["accepted_rows"], report["rejected_rows"], report["errors"]) == (
        len(filled),
        0,
        [],
    )
    assert [item["loc"] for item in report["skipped"]] == [["row", 1], ["row", 2]]
    for submission in report["submissions"]:
        await wait_stored(dx, submission)
    after = await owed(dx, "P01", "2023-S1")
    assert (after["due"], after["received"]) == (0, len(filled))
    stored = {o["indicator"]: o["value"] for o in after["obligations"]}
    assert stored == {code: True if v == "Có" else v for code, v in filled.items()}
