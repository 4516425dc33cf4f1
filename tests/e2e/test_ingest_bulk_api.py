"""Many values at once through the gateway: batches, and CSV/XLSX sheets with per-row reports."""

from __future__ import annotations

import io
import uuid
import zipfile
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from openpyxl import Workbook

from services.ingest.files import SheetRow
from services.ingest.service import import_rows
from services.ingest.settings import IngestSettings
from tests.support.ingest import (
    BACKENDS,
    HANOI,
    PROBLEM,
    TOWN,
    accepted_events,
    assert_problem,
    ingest_platform,
    locs,
    runtime_of,
    submission,
)

pytestmark = pytest.mark.e2e


@pytest.fixture(scope="module", params=BACKENDS)
async def dx(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> AsyncIterator[httpx.AsyncClient]:
    async with ingest_platform(request, tmp_path_factory.mktemp("bulk")) as client:
        yield client


async def test_a_batch_keeps_the_good_items(dx: httpx.AsyncClient) -> None:
    good, repeated = submission(), submission()
    await dx.post("/api/v1/submissions", json=repeated)
    bad = submission(values=[{"indicator": "T-PCT", "value": 140}])
    items: list[Any] = [good, bad, repeated, {"agency": "TP01", "surprise": 1}, 7]
    response = await dx.post("/api/v1/submissions/batch", json={"items": items})
    assert response.status_code == 200, response.text
    report = response.json()
    assert [r["status"] for r in report["results"]] == [
        "accepted",
        "rejected",
        "duplicate",
        "rejected",
        "rejected",
    ]
    assert (report["accepted"], report["duplicates"], report["rejected"]) == (1, 1, 3)
    assert report["results"][1]["errors"][0]["loc"] == ["items", 1, "values", 0, "value"]
    assert ["items", 3, "surprise"] in [e["loc"] for e in report["results"][3]["errors"]]
    assert report["results"][4]["errors"][0]["loc"] == ["items", 4]
    bare = await dx.post("/api/v1/submissions/batch", json=[submission()])
    assert bare.status_code == 200
    assert bare.json()["accepted"] == 1


async def test_repeats_inside_one_batch_are_judged_in_order(dx: httpx.AsyncClient) -> None:
    """One request, one transaction: the second item under an id repeats or conflicts."""
    first = submission()
    other_values = {**first, "values": [{"indicator": "T-BOOL", "value": False}]}
    response = await dx.post(
        "/api/v1/submissions/batch", json={"items": [first, first, other_values]}
    )
    assert response.status_code == 200, response.text
    results = response.json()["results"]
    assert [r["status"] for r in results] == ["accepted", "duplicate", "rejected"]
    assert results[0]["id"] == results[1]["id"]
    assert results[2]["errors"][0]["loc"] == ["items", 2, "submission_id"]


async def test_an_atomic_batch_is_all_or_nothing(dx: httpx.AsyncClient) -> None:
    good = submission()
    bad = submission(period="2023-S7")
    url = "/api/v1/submissions/batch?atomic=true"
    problem = assert_problem(await dx.post(url, json={"items": [good, bad]}), 422)
    assert locs(problem) == [["items", 1, "period"]]
    used = submission()
    await dx.post("/api/v1/submissions", json=used)
    clash = {**used, "values": [{"indicator": "T-BOOL", "value": False}]}
    problem = assert_problem(await dx.post(url, json={"items": [good, clash]}), 409)
    assert locs(problem) == [["items", 1, "submission_id"]]
    response = await dx.post(url, json={"items": [good]})
    assert response.json()["results"][0]["status"] == "accepted"  # nothing was kept before


async def test_import_rows_reports_progress_and_repeats_nothing(dx: httpx.AsyncClient) -> None:
    rows = [
        SheetRow(2, TOWN, "2020-S1", "T-BOOL", "có", HANOI),
        SheetRow(3, "TP02", "2020-S1", "T-PCT", "12,5"),
        SheetRow(4, "TP02", "2020-S2", "T-PCT", "1"),
        SheetRow(5, "TP03", "2020-S2", "T-PCT", "1"),  # TP03 reports nothing
    ]
    seen: list[tuple[int, int]] = []
    settings = IngestSettings(import_chunk=2)
    report = await import_rows(
        runtime_of(dx), rows, source="import", progress=lambda *p: seen.append(p), settings=settings
    )
    assert (report.accepted_rows, report.rejected_rows, len(report.submissions)) == (3, 1, 3)
    assert seen == [(1, 4), (3, 4), (4, 4)]
    events = await accepted_events(dx)
    assert {events[id]["source"] for id in report.submissions} == {"import"}
    again = await import_rows(runtime_of(dx), rows, settings=settings)
    assert again.submissions == report.submissions


def sheet(tmp_path: Path, rows: list[list[object]]) -> bytes:
    workbook = Workbook()
    worksheet = workbook.active
    assert worksheet is not None
    for row in rows:
        worksheet.append(row)
    path = tmp_path / f"{uuid.uuid4().hex}.xlsx"
    workbook.save(path)
    return path.read_bytes()


async def upload(dx: httpx.AsyncClient, data: bytes, name: str, **params: str) -> httpx.Response:
    files = {"file": (name, data, "application/octet-stream")}
    return await dx.post("/api/v1/submissions/upload", files=files, params=params)


async def test_an_xlsx_upload_reports_each_row(dx: httpx.AsyncClient, tmp_path: Path) -> None:
    data = sheet(
        tmp_path,
        [
            ["STT", "Đơn vị", "Kỳ báo cáo", "Mã chỉ tiêu", "Giá trị", "Ghi chú"],
            [1, TOWN, "2022-S1", "T-BOOL", "Có", f"{HANOI} đã ban hành"],
            [2, "TP01", "2022-S1", "T-PCT", "45,5%", None],
            [3, "TP02", "2022-S1", "T-PCT", "nhiều", None],
            [4, "TP02", "2022-S1", "T-BOOL", "x", None],
            [5, "TP09", "2022-S1", "T-BOOL", "x", None],
        ],
    )
    response = await upload(dx, data, "bao-cao.xlsx")
    assert response.status_code == 200, response.text
    report = response.json()
    assert (report["accepted_rows"], report["rejected_rows"]) == (3, 2)
    assert [e["loc"] for e in report["errors"]] == [["row", 4, "value"], ["row", 6, "agency"]]
    assert len(report["submissions"]) == 2
    events = await accepted_events(dx)
    first = events[report["submissions"][0]]
    assert (first["agency"], first["source"]) == ("TP01", "upload")
    assert first["values"][0] == {
        "indicator": "T-BOOL",
        "value": True,
        "note": f"{HANOI} đã ban hành",
    }
    assert first["values"][1]["value"] == 45.5
    again = (await upload(dx, data, "bao-cao.xlsx")).json()
    assert again["submissions"] == report["submissions"]


async def test_a_csv_upload_atomic_refuses_everything(dx: httpx.AsyncClient) -> None:
    rows = [
        "agency,period,indicator,value,note",
        "TP01,2021-S2,T-BOOL,không,",
        "TP01,2021-S2,T-PCT,101,",
    ]
    data = "\n".join(rows).encode("utf-8-sig")
    problem = assert_problem(await upload(dx, data, "a.csv", atomic="true"), 422)
    assert locs(problem) == [["row", 3, "value"]]
    report = (await upload(dx, data, "a.csv")).json()
    assert (report["accepted_rows"], report["rejected_rows"]) == (1, 1)


async def test_uploads_that_are_too_big_or_bombs_are_413(
    dx: httpx.AsyncClient, tmp_path: Path
) -> None:
    data = sheet(tmp_path, [["agency", "period", "indicator", "value"]])
    bomb = io.BytesIO(data)
    with zipfile.ZipFile(bomb, "a", compression=zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("xl/media/padding.bin", bytes(4 * 1024 * 1024))
    assert_problem(await upload(dx, bomb.getvalue(), "bomb.xlsx"), 413)
    ingest = dx.app.state.services["ingest"]  # type: ignore[attr-defined]
    ingest.state.ingest_settings = IngestSettings(max_upload_bytes=100)
    try:
        assert_problem(await upload(dx, b"agency,period,indicator,value\n" * 10, "big.csv"), 413)
    finally:
        ingest.state.ingest_settings = IngestSettings()
    assert_problem(await upload(dx, b"\xff\xfe garbage", "x.csv"), 422)


@pytest.mark.parametrize(
    ("content_type", "content"),
    [
        ("application/x-www-form-urlencoded", b"x=1"),  # no file field
        ("application/json", b"{}"),
        ("multipart/form-data", b"--b\r\n"),  # no boundary
        ("multipart/form-data; boundary=b", b"--b\r\nContent-Dis"),  # truncated
        ("multipart/form-data; boundary=b", b""),
        ("multipart/form-data; boundary=b", b"--b\r\n\r\n" * 3000),  # parts without names
        (  # one sheet per upload
            "multipart/form-data; boundary=b",
            b"".join(
                b'--b\r\nContent-Disposition: form-data; name="file"; filename="%d.csv"\r\n\r\n'
                b"agency,period,indicator,value\r\n" % n
                for n in range(2)
            )
            + b"--b--\r\n",
        ),
    ],
)
async def test_malformed_uploads_are_problems(
    dx: httpx.AsyncClient, content_type: str, content: bytes
) -> None:
    headers = {"content-type": content_type}
    response = await dx.post("/api/v1/submissions/upload", content=content, headers=headers)
    assert 400 <= response.status_code < 500, response.text
    assert response.headers["content-type"] == PROBLEM


async def test_the_upload_is_documented_as_a_form_with_a_file(dx: httpx.AsyncClient) -> None:
    document = (await dx.get("/api/v1/openapi.json")).json()
    body = document["paths"]["/api/v1/submissions/upload"]["post"]["requestBody"]
    assert body["required"] is True
    assert list(body["content"]) == ["multipart/form-data"]
    ref = body["content"]["multipart/form-data"]["schema"]["$ref"]
    form = document["components"]["schemas"][ref.rsplit("/", 1)[1]]
    assert form["required"] == ["file"]
    assert form["properties"]["file"]["type"] == "string"
    assert form["properties"]["file"]["contentMediaType"] == "application/octet-stream"
    assert "Mã đơn vị" in form["properties"]["file"]["description"]
