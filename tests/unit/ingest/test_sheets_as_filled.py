"""Sheets as staff fill them (titles, percentages, signatures) and files built to burn CPU."""

from __future__ import annotations

import io
import time
import zipfile

import pytest

from libs.common.errors import InvalidInput, PayloadTooLarge, ProblemItem
from services.ingest.files import (
    FileLimits,
    Percent,
    SheetRow,
    is_percentage,
    read_sheet,
    shared_string_counts,
)
from services.ingest.rows import cell_value, first_rows
from tests.support.sheets import (
    CPU_BOUND_SECONDS,
    ods_sheet,
    shared_strings_sheet,
    staff_sheet,
    xfd_sheet,
)

LIMITS = FileLimits()


def test_a_staff_sheet_is_read_below_its_titles_and_above_its_signatures() -> None:
    data = staff_sheet(
        [
            [1, "P01", "2023-S1", "KH2023-14a", 0.1729, "đã số hóa"],
            [2, "P01", "2023-S1", "KH2023-01", "Có", None],
            [3, "P01", "2023-S1", "KH2023-14b", 45, None],
        ],
        percent_rows=[0],
    )
    sheet = read_sheet(data, LIMITS)
    assert sheet.rows == [
        SheetRow(4, "P01", "2023-S1", "KH2023-14a", Percent(0.1729), "đã số hóa"),
        SheetRow(5, "P01", "2023-S1", "KH2023-01", "Có"),
        SheetRow(6, "P01", "2023-S1", "KH2023-14b", 45),
    ]
    assert [(item.loc, item.msg.split(" (")[0]) for item in sheet.skipped] == [
        (["row", 1], "skipped: a title above the header"),
        (["row", 2], "skipped: a title above the header"),
        (["row", 8], "skipped: below the table"),
        (["row", 9], "skipped: below the table"),
        (["row", 10], "skipped: below the table"),
        (["row", 11], "skipped: below the table"),
    ]
    assert "Người lập biểu / Thủ trưởng đơn vị" in sheet.skipped[3].msg


def test_a_bad_row_inside_the_table_is_still_a_row_not_a_footer() -> None:
    data = staff_sheet(
        [
            [1, "P01", "2023-S1", "KH2023-14a", None, None],  # no value: an error, not skipped
            [2, "P01", "2023-S1", "KH2023-01", "Có", None],
        ]
    )
    sheet = read_sheet(data, LIMITS)
    assert [row.row for row in sheet.rows] == [4, 5]
    assert [item.loc for item in sheet.skipped][2:] == [["row", n] for n in (7, 8, 9, 10)]


def test_a_header_past_the_title_rows_is_looked_for_and_named_when_incomplete() -> None:
    data = ("BÁO CÁO\n\nMã đơn vị,Kỳ báo cáo,Giá trị\nP01,2023-S1,1\n").encode()
    with pytest.raises(InvalidInput) as caught:
        read_sheet(data, LIMITS)
    assert [item.loc for item in caught.value.errors or []] == [["row", 3, "indicator"]]
    data = ("BÁO CÁO\n\nMã đơn vị,Kỳ báo cáo,Mã chỉ tiêu,Giá trị\nP01,2023-S1,X,1\n").encode()
    assert read_sheet(data, LIMITS).rows == [SheetRow(4, "P01", "2023-S1", "X", "1")]


@pytest.mark.parametrize(
    ("fraction", "expected"), [(0.1729, 17.29), (1, 100.0), (0.0005, 0.05), (0.2356, 23.56)]
)
def test_a_percentage_cell_reads_as_shown(fraction: float, expected: float) -> None:
    assert cell_value(Percent(fraction), "percent") == expected


def test_a_percentage_cell_for_a_count_is_refused_saying_why() -> None:
    with pytest.raises(ValueError, match=r"formatted as a percentage \(17.29%\)"):
        cell_value(Percent(0.1729), "number")


def test_an_ods_file_is_read_like_an_xlsx() -> None:
    data = ods_sheet(
        [
            ["BÁO CÁO KẾT QUẢ CHUYỂN ĐỔI SỐ"],
            ["STT", "Mã đơn vị", "Kỳ báo cáo", "Mã chỉ tiêu", "Giá trị", "Ghi chú"],
            [1, "P01", "2023-S1", "KH2023-14a", "17.29 %", "đã số hóa"],
            [2, "P01", "2023-S1", "KH2023-01", True, None],
            [],
            [None, "Người lập biểu", None, None, "Thủ trưởng đơn vị"],
        ],
        second_sheet=True,
    )
    started = time.process_time()
    sheet = read_sheet(data, LIMITS)
    assert (
        time.process_time() - started < CPU_BOUND_SECONDS
    )  # a million repeated blank rows cost one read
    assert sheet.rows == [
        SheetRow(3, "P01", "2023-S1", "KH2023-14a", Percent(0.1729), "đã số hóa"),
        SheetRow(4, "P01", "2023-S1", "KH2023-01", True),
    ]
    assert [item.loc for item in sheet.skipped] == [["row", 1], ["row", 6]]
    assert cell_value(sheet.rows[0].value, "percent") == 17.29


def test_an_opendocument_file_that_is_no_spreadsheet_is_refused_naming_it() -> None:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("mimetype", "application/vnd.oasis.opendocument.text")
        archive.writestr("content.xml", "<office:document-content/>")
    with pytest.raises(InvalidInput) as caught:
        read_sheet(buffer.getvalue(), LIMITS)
    assert "OpenDocument file is no spreadsheet" in caught.value.detail
    assert caught.value.errors == [ProblemItem(loc=["file"], msg=caught.value.detail)]


def test_every_agency_is_authorised_at_its_first_row_and_an_empty_one_is_not() -> None:
    rows = [
        SheetRow(4, "P79", "2023-S1", "X", 1),
        SheetRow(5, "", "2023-S1", "X", 1),
        SheetRow(6, "P01", "2023-S1", "X", 1),
        SheetRow(7, "P79", "2023-S1", "Y", 1),
    ]
    assert first_rows(rows) == {"P01": 6, "P79": 4}


def cpu_seconds_of_reading(data: bytes, limits: FileLimits) -> tuple[float, Exception | None]:
    started = time.process_time()
    try:
        read_sheet(data, limits)
    except (InvalidInput, PayloadTooLarge) as error:
        return time.process_time() - started, error
    return time.process_time() - started, None


def test_rows_of_one_empty_cell_in_column_xfd_cost_little() -> None:
    data = xfd_sheet()
    assert len(data) < 12 * 1024
    spent, error = cpu_seconds_of_reading(data, LIMITS)
    assert error is None
    assert spent < CPU_BOUND_SECONDS
    # Every row read counts, blank ones too: this file has about 44,000 of them.
    spent, error = cpu_seconds_of_reading(data, FileLimits(max_rows=10_000))
    assert isinstance(error, PayloadTooLarge)
    assert "more than 10000 rows" in error.detail
    assert spent < CPU_BOUND_SECONDS


@pytest.mark.parametrize("declared", [None, 1], ids=["declared", "understated"])
def test_millions_of_shared_strings_are_refused_before_they_are_loaded(
    declared: int | None,
) -> None:
    data = shared_strings_sheet(declared=declared)
    assert 500 * 1024 < len(data) < 600 * 1024
    spent, error = cpu_seconds_of_reading(data, LIMITS)
    assert isinstance(error, PayloadTooLarge)
    assert "200000 shared strings" in error.detail
    assert spent < CPU_BOUND_SECONDS


def test_cells_and_cpu_time_are_capped() -> None:
    data = ("agency,period,indicator,value\n" + "P01,2023,X,1\n" * 300).encode()
    with pytest.raises(PayloadTooLarge, match="more than 1000 cells"):
        read_sheet(data, FileLimits(max_cells=1000))
    with pytest.raises(PayloadTooLarge, match="to read; split it"):
        read_sheet(xfd_sheet(), FileLimits(max_cpu_seconds=0.01))


@pytest.mark.parametrize(
    ("number_format", "percentage"),
    [("0.00%", True), ("0%", True), ('0.00"%"', False), ("0.00\\%", False), ("0.00", False)],
)
def test_only_formats_that_scale_by_100_are_percentages(
    number_format: str, percentage: bool
) -> None:
    assert is_percentage(number_format) is percentage


def test_shared_strings_are_counted_not_taken_at_their_word() -> None:
    honest = shared_strings_sheet(strings=300, target_bytes=0)
    assert read_sheet(honest, FileLimits(max_shared_strings=300)).rows == []
    with pytest.raises(PayloadTooLarge, match="more than 299 shared strings"):
        read_sheet(honest, FileLimits(max_shared_strings=299))
    lying = shared_strings_sheet(strings=300, target_bytes=0, declared=1)
    with pytest.raises(PayloadTooLarge, match="more than 299 shared strings"):
        read_sheet(lying, FileLimits(max_shared_strings=299))


def test_shared_strings_cut_between_chunks_are_counted_once() -> None:
    item = b"<x:si><x:t>a</x:t></x:si>"
    for skew in range(len(item)):
        data = b" " * skew + item * 45_000  # 1.1 MB: the first chunk ends inside a tag
        counts = list(shared_string_counts(io.BytesIO(data)))
        assert counts[-1] == 45_000
        assert counts == sorted(counts)


def test_a_signature_spread_over_the_code_columns_is_still_the_footer() -> None:
    data = (
        "Mã đơn vị,Kỳ báo cáo,Mã chỉ tiêu,Giá trị\n"
        "P01,2023-S1,KH2023-01,có\n"
        "P01,2023-S1,KH2023-14a,\n"  # no value: a row of the table, refused by name
        "Người lập biểu,(Ký),,Thủ trưởng đơn vị\n"
        "P01,2023-S7,KH2023-01,có\n"  # four cells filled: a row of the table, however wrong
        "Nguyễn Văn A,,,Trần Thị B\n"
    ).encode()
    sheet = read_sheet(data, LIMITS)
    assert [row.row for row in sheet.rows] == [2, 3, 4, 5]
    assert [item.loc for item in sheet.skipped] == [["row", 6]]
