"""Reading real CSV and XLSX sheets, and turning their rows into submissions."""

from __future__ import annotations

import unicodedata
import zipfile
from collections.abc import Sequence
from datetime import date, datetime
from pathlib import Path

import pytest
from openpyxl import Workbook

from libs.common.errors import InvalidInput, PayloadTooLarge
from libs.common.events import ReporterSpan
from services.ingest.files import FileLimits, SheetRow, read_sheet
from services.ingest.rows import agency_codes, cell_value, group_rows, parse_number
from services.ingest.validation import AgencySpec, Catalogue, IndicatorSpec, Rules

LIMITS = FileLimits()
HANOI = "Thành phố Hà Nội"
VI_HEADER = ["STT", "Mã đơn vị", "Đơn vị", "Kỳ báo cáo", "Mã chỉ tiêu", "Giá trị", "Ghi chú"]
REPORTERS = (ReporterSpan(agency="P01"), ReporterSpan(agency="P79"))
CATALOGUE = Catalogue(
    indicators={
        "KH2023-01": IndicatorSpec("KH2023-01", "boolean_per_agency", "half", 15, REPORTERS),
        "KH2023-14a": IndicatorSpec("KH2023-14a", "percent", "half", 15, REPORTERS),
    },
    agencies={"P01": AgencySpec("P01"), "P79": AgencySpec("P79")},
)
RULES = Rules(today=date(2026, 11, 23))


def write_xlsx(path: Path, rows: Sequence[Sequence[object]]) -> bytes:
    workbook = Workbook()
    sheet = workbook.active
    assert sheet is not None
    for row in rows:
        sheet.append(row)
    workbook.save(path)
    return path.read_bytes()


def test_csv_with_bom_and_vietnamese_headers(tmp_path: Path) -> None:
    path = tmp_path / "bao-cao.csv"
    lines = [
        ",".join(VI_HEADER),
        f'1,P01,{HANOI},2023-S1,KH2023-01,có,"{HANOI}: đã ban hành"',
        "",
        '2,P01,,2023-S1,KH2023-14a,"23,56",',
    ]
    path.write_bytes("\r\n".join(lines).encode("utf-8-sig"))
    rows = read_sheet(path.read_bytes(), LIMITS).rows
    assert rows == [
        SheetRow(2, "P01", "2023-S1", "KH2023-01", "có", f"{HANOI}: đã ban hành"),
        SheetRow(4, "P01", "2023-S1", "KH2023-14a", "23,56", None),
    ]


def test_csv_with_english_headers_and_semicolons_without_bom() -> None:
    data = b"agency;period;indicator;value;note\nP79;2023-S1;KH2023-14a;12.5;ok\n"
    assert read_sheet(data, LIMITS).rows == [
        SheetRow(2, "P79", "2023-S1", "KH2023-14a", "12.5", "ok")
    ]


def test_csv_with_mac_line_endings() -> None:
    # Lines ended by \r alone once made the header's delimiter sniffing raise (a 500).
    data = b"agency,period,indicator,value\rP79,2023-S1,KH2023-14a,12.5\r"
    assert read_sheet(data, LIMITS).rows == [SheetRow(2, "P79", "2023-S1", "KH2023-14a", "12.5")]


def test_decomposed_unicode_headers_match(tmp_path: Path) -> None:
    header = [
        unicodedata.normalize("NFD", h) for h in ("Đơn vị", "Kỳ báo cáo", "Chỉ tiêu", "Giá trị")
    ]
    data = (",".join(header) + "\nP01,2023-S1,KH2023-01,x\n").encode()
    assert read_sheet(data, LIMITS).rows == [SheetRow(2, "P01", "2023-S1", "KH2023-01", "x")]


def test_xlsx_with_vietnamese_headers_keeps_diacritics(tmp_path: Path) -> None:
    data = write_xlsx(
        tmp_path / "bao-cao.xlsx",
        [
            VI_HEADER,
            [
                1,
                "P01",
                HANOI,
                "2023-S1",
                "KH2023-01",
                True,
                f"{HANOI} — Sở Thông tin và Truyền thông",
            ],
            [2, "P01", HANOI, "2023-S1", "KH2023-14a", 23.56, None],
            [None, None, None, None, None, None, None],
            [3, "P79", "Thành phố Hồ Chí Minh", 2023, "KH2023-14a", "45,5%", "Ghi chú có dấu"],
            [4, "P79", None, datetime(2023, 6, 1), "KH2023-01", "Không", None],
        ],
    )
    rows = read_sheet(data, LIMITS).rows
    assert [(r.row, r.agency, r.period, r.indicator, r.value) for r in rows] == [
        (2, "P01", "2023-S1", "KH2023-01", True),
        (3, "P01", "2023-S1", "KH2023-14a", 23.56),
        (5, "P79", "2023", "KH2023-14a", "45,5%"),
        (6, "P79", "2023-06", "KH2023-01", "Không"),
    ]
    assert rows[0].note == f"{HANOI} — Sở Thông tin và Truyền thông"
    assert rows[2].note == "Ghi chú có dấu"


def test_code_columns_win_over_name_columns(tmp_path: Path) -> None:
    data = write_xlsx(
        tmp_path / "a.xlsx",
        [
            ["Đơn vị", "Mã đơn vị", "Kỳ báo cáo", "Chỉ tiêu", "Mã chỉ tiêu", "Giá trị"],
            [HANOI, "P01", "2023-S1", "Tỷ lệ ...", "KH2023-01", "x"],
        ],
    )
    [row] = read_sheet(data, LIMITS).rows
    assert (row.agency, row.indicator) == ("P01", "KH2023-01")


def test_missing_columns_are_named() -> None:
    with pytest.raises(InvalidInput) as caught:
        read_sheet("Mã đơn vị,Ghi chú\nP01,x\n".encode(), LIMITS)
    assert [(e.loc, e.msg.split(";")[0]) for e in caught.value.errors or []] == [
        (["row", 1, "period"], "no period column"),
        (["row", 1, "indicator"], "no indicator column"),
        (["row", 1, "value"], "no value column"),
    ]


@pytest.mark.parametrize(
    ("data", "message"),
    [
        (b"", "empty"),
        ("agency,period,indicator,value,note\nP01,2023,X,1,Hà Nam\n".encode("cp1258"), "UTF-8"),
        (b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + bytes(100), "97-2003"),
        (b"PK\x03\x04 this is no zip", "XLSX"),
        (b"agency,period,indicator,value\n" + b"x" * 200_000, "not a readable CSV"),
        (b"]\r\x1c3", "header row"),  # found by tests/e2e/test_hostile_api.py: once a 500
    ],
)
def test_unreadable_files_are_422(data: bytes, message: str) -> None:
    with pytest.raises(InvalidInput) as caught:
        read_sheet(data, LIMITS)
    assert message in caught.value.detail


def test_an_xlsx_that_expands_too_far_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "bomb.xlsx"
    write_xlsx(path, [["agency", "period", "indicator", "value"], ["P01", "2023-S1", "X", 1]])
    with zipfile.ZipFile(path, "a", compression=zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("xl/media/padding.bin", bytes(8 * 1024 * 1024))
    data = path.read_bytes()
    with pytest.raises(PayloadTooLarge, match="times"):
        read_sheet(data, LIMITS)
    with pytest.raises(PayloadTooLarge, match="expands to"):
        read_sheet(data, FileLimits(max_uncompressed_bytes=1024 * 1024, max_ratio=10_000))


def test_a_plain_xlsx_passes_the_zip_checks(tmp_path: Path) -> None:
    data = write_xlsx(tmp_path / "ok.xlsx", [["agency", "period", "indicator", "value"]])
    assert read_sheet(data, LIMITS).rows == []


def test_too_many_rows() -> None:
    data = ("agency,period,indicator,value\n" + "P01,2023,X,1\n" * 11).encode()
    with pytest.raises(PayloadTooLarge):
        read_sheet(data, FileLimits(max_rows=10))


@pytest.mark.parametrize(
    ("raw", "value_type", "expected"),
    [
        ("true", "boolean_per_agency", True),
        ("FALSE", "boolean_per_agency", False),
        ("Có", "boolean_per_agency", True),
        ("không", "boolean_per_agency", False),
        ("X", "boolean_per_agency", True),
        ("1", "boolean_per_agency", True),
        (0, "boolean_per_agency", False),
        (True, "boolean_per_agency", True),
        ("23,56", "percent", 23.56),
        ("45,5%", "percent", 45.5),
        ("1.234,5", "number", 1234.5),
        ("1,234.5", "number", 1234.5),
        ("1.234.567", "number", 1234567.0),
        ("1 234", "number", 1234.0),
        (" -7 ", "number", -7.0),
        (12, "number", 12.0),
        (True, "number", True),  # kept typed: the rules call it a wrong type
        ("whatever", None, "whatever"),  # unknown indicator: the rules say so
    ],
)
def test_cell_values(raw: object, value_type: str | None, expected: object) -> None:
    assert cell_value(raw, value_type) == expected
    assert type(cell_value(raw, value_type)) is type(expected)


@pytest.mark.parametrize(
    ("raw", "value_type", "message"),
    [
        (None, "number", "empty"),
        ("  ", "boolean_per_agency", "empty"),
        ("yes please", "boolean_per_agency", "expected true/false"),
        (2, "boolean_per_agency", "expected true/false"),
        ("12 %", "number", "not a number"),
        ("nan", "number", "not a number"),
        ("abc", "percent", "not a number"),
    ],
)
def test_cell_values_refused(raw: object, value_type: str, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        cell_value(raw, value_type)


def test_parse_number_rejects_two_decimal_marks() -> None:
    with pytest.raises(ValueError, match="not a number"):
        parse_number("1.2.3,4,5")


def test_agency_names_become_codes() -> None:
    rows = [SheetRow(2, HANOI, "2023-S1", "KH2023-01", "x"), SheetRow(3, "P79", "2023-S1", "K", 1)]
    decomposed = unicodedata.normalize("NFD", HANOI)
    assert [r.agency for r in agency_codes(rows, {decomposed: "P01"})] == ["P01", "P79"]


def test_a_note_longer_than_the_api_allows_is_a_row_error() -> None:
    rows = [SheetRow(2, "P01", "2023-S1", "KH2023-01", "x", "ý" * 2001)]
    [group] = group_rows(rows, CATALOGUE, RULES)
    assert group.accepted is None
    assert [e.loc for e in group.errors] == [["row", 2, "note"]]


def test_rows_group_by_agency_and_period_and_bad_rows_do_not_block_good_ones() -> None:
    rows = [
        SheetRow(2, "P01", "2023-S1", "KH2023-01", "có", f"{HANOI}"),
        SheetRow(3, "P79", "2023-S1", "KH2023-01", "maybe"),
        SheetRow(4, "P01", "2023-S1", "KH2023-14a", "140"),
        SheetRow(5, "P79", "2023-S1", "KH2023-14a", "12,5"),
        SheetRow(6, "P01", "2023-S2", "KH2023-14a", "1"),
        SheetRow(7, "P77", "2023-S1", "KH2023-01", "x"),
    ]
    groups = group_rows(rows, CATALOGUE, RULES)
    assert [(g.agency, g.period, g.rows) for g in groups] == [
        ("P01", "2023-S1", (2, 4)),
        ("P79", "2023-S1", (3, 5)),
        ("P01", "2023-S2", (6,)),
        ("P77", "2023-S1", (7,)),
    ]
    first, second, third, fourth = groups
    assert first.accepted is not None
    assert [(v.indicator, v.value, v.note) for v in first.accepted.values] == [
        ("KH2023-01", True, HANOI)
    ]
    assert [e.loc for e in first.errors] == [["row", 4, "value"]]
    assert second.accepted is not None
    assert [v.value for v in second.accepted.values] == [12.5]
    assert [e.loc for e in second.errors] == [["row", 3, "value"]]
    assert third.accepted is not None
    assert not third.errors
    assert fourth.accepted is None
    assert [e.loc for e in fourth.errors] == [["row", 7, "agency"]]
    assert fourth.rejected_rows == {7}
