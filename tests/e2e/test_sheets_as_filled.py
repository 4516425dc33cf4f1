"""Sheets as provincial staff fill them, uploaded and stored; files built to burn CPU refused.

The staff sheet is written by XlsxWriter, not by openpyxl (which ingest reads with), the way
an office lays out its report: merged titles, a percentage-formatted cell, signatures below.
"""

from __future__ import annotations

import time
from typing import Any

import httpx
import pytest

from tests.support.flow import wait_stored
from tests.support.sheets import (
    CPU_BOUND_SECONDS,
    ods_sheet,
    shared_strings_sheet,
    staff_sheet,
    xfd_sheet,
)

pytestmark = pytest.mark.e2e

PROBLEM = "application/problem+json"


async def upload(
    dx: httpx.AsyncClient, data: bytes, headers: dict[str, str] | None = None
) -> httpx.Response:
    files = {"file": ("bao-cao.xlsx", data, "application/octet-stream")}
    return await dx.post("/api/v1/submissions/upload", files=files, headers=headers)


async def stored(dx: httpx.AsyncClient, report: dict[str, Any]) -> None:
    for submission in report["submissions"]:
        await wait_stored(dx, submission)


async def observation(dx: httpx.AsyncClient, indicator: str) -> dict[str, Any]:
    params = {"indicator": indicator, "agency": "P01", "period": "2023-S1"}
    [found] = (await dx.get("/api/v1/observations", params=params)).json()
    return dict(found)


def report_of(sheet: list[list[object]]) -> bytes:
    return staff_sheet(sheet, percent_rows=[0])


async def test_a_staff_sheet_is_stored_with_its_percent_and_its_footer_skipped(
    dx: httpx.AsyncClient,
) -> None:
    rows: list[list[object]] = [
        [1, "P01", "2023-S1", "KH2023-14a", 0.1729, "Số hóa 17,29 % hồ sơ"],
        [2, "P01", "2023-S1", "KH2023-01", "Có", None],
    ]
    response = await upload(dx, report_of(rows))
    assert response.status_code == 200, response.text
    report = response.json()
    assert (report["accepted_rows"], report["rejected_rows"], report["errors"]) == (2, 0, [])
    assert [item["loc"] for item in report["skipped"]] == [["row", n] for n in (1, 2, 7, 8, 9, 10)]
    assert "Người lập biểu / Thủ trưởng đơn vị" in report["skipped"][3]["msg"]
    await stored(dx, report)
    percent = await observation(dx, "KH2023-14a")
    assert (percent["value"], percent["note"], percent["revision"]) == (
        17.29,
        "Số hóa 17,29 % hồ sơ",
        1,
    )
    assert (await observation(dx, "KH2023-01"))["value"] is True

    # The same figure sent again with a corrected note: the note is kept as sent.
    rows[0][5] = "Số hóa 17,29 % hồ sơ (đã đối chiếu)"
    again = (await upload(dx, report_of(rows))).json()
    await stored(dx, again)
    corrected = await observation(dx, "KH2023-14a")
    assert (corrected["value"], corrected["note"], corrected["revision"]) == (
        17.29,
        "Số hóa 17,29 % hồ sơ (đã đối chiếu)",
        2,
    )
    assert (await observation(dx, "KH2023-01"))["revision"] == 1  # unchanged, not a correction


async def test_a_row_for_another_agency_is_refused_naming_the_row(dx: httpx.AsyncClient) -> None:
    response = await dx.post(
        "/api/v1/keys", json={"role": "agency", "agency": "P79", "label": "TP. Hồ Chí Minh"}
    )
    headers = {"Authorization": f"Bearer {response.json()['key']}"}
    rows: list[list[object]] = [
        [1, "P79", "2023-S1", "KH2023-01", "Có", None],
        [2, "P01", "2023-S1", "KH2023-01", "Có", None],
    ]
    refused = await upload(dx, staff_sheet(rows), headers)
    assert refused.status_code == 403, refused.text
    assert refused.headers["content-type"] == PROBLEM
    assert [item["loc"] for item in refused.json()["errors"]] == [["row", 5, "agency"]]


def understated_shared_strings() -> bytes:
    return shared_strings_sheet(declared=1)


@pytest.mark.parametrize(
    ("build", "status"),
    [(xfd_sheet, 200), (shared_strings_sheet, 413), (understated_shared_strings, 413)],
    ids=["11KB-of-XFD-rows", "556KB-of-shared-strings", "understated-shared-strings"],
)
async def test_files_built_to_burn_cpu_cost_little_cpu(
    dx: httpx.AsyncClient, build: Any, status: int
) -> None:
    data: bytes = build()
    started = time.process_time()
    response = await upload(dx, data)
    spent = time.process_time() - started
    assert response.status_code == status, response.text
    assert spent < CPU_BOUND_SECONDS, f"{spent:.2f} s of CPU"
    if status == 200:
        assert (response.json()["accepted_rows"], response.json()["errors"]) == (0, [])
    else:
        assert response.headers["content-type"] == PROBLEM
        assert "shared strings" in response.json()["detail"]


async def test_an_ods_file_is_stored_like_an_xlsx(dx: httpx.AsyncClient) -> None:
    data = ods_sheet(
        [
            ["BÁO CÁO KẾT QUẢ CHUYỂN ĐỔI SỐ"],
            ["STT", "Mã đơn vị", "Kỳ báo cáo", "Mã chỉ tiêu", "Giá trị", "Ghi chú"],
            [1, "P01", "2023-S1", "KH2023-14a", "17.29 %", "LibreOffice"],
            [None, "Người lập biểu", None, None, "Thủ trưởng đơn vị"],
        ]
    )
    files = {"file": ("bao-cao.ods", data, "application/vnd.oasis.opendocument.spreadsheet")}
    response = await dx.post("/api/v1/submissions/upload", files=files)
    assert response.status_code == 200, response.text
    report = response.json()
    assert (report["accepted_rows"], report["errors"]) == (1, [])
    assert [item["loc"] for item in report["skipped"]] == [["row", 1], ["row", 4]]
    await stored(dx, report)
    found = await observation(dx, "KH2023-14a")
    assert (found["value"], found["note"]) == (17.29, "LibreOffice")
