"""The XLSX an agency downloads, fills in and uploads back: its obligations for a period.

The sheet reads as ingest reads every sheet (``services.ingest.files``): two title rows, then
the header ``STT, Mã đơn vị, Đơn vị, Kỳ báo cáo, Mã chỉ tiêu, Chỉ tiêu, Đơn vị tính,
Hạn báo cáo, Tình trạng, Giá trị, Ghi chú`` (ingest reads the code columns, the value and the
note, and ignores the others), one row per obligation. A value already stored is pre-filled, so
that uploading the sheet again changes nothing; a yes/no cell offers ``Có``/``Không``; percent
cells are plain numbers (17.29, not a percentage format), the unit column says ``%``.
"""

from __future__ import annotations

import io
from collections.abc import Sequence

from services.indicators.domain.catalogue import Agency
from services.indicators.obligations import Obligation

XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
HEADER = (
    "STT",
    "Mã đơn vị",
    "Đơn vị",
    "Kỳ báo cáo",
    "Mã chỉ tiêu",
    "Chỉ tiêu",
    "Đơn vị tính",
    "Hạn báo cáo",
    "Tình trạng",
    "Giá trị",
    "Ghi chú",
)
STATUS_VI = {
    "received": "Đã nhận",
    "open": "Kỳ chưa kết thúc",
    "due": "Chưa nộp",
    "overdue": "Quá hạn",
}
UNITS_VI = {"percent": "%", "boolean_per_agency": "Có/Không"}
WIDTHS = (5, 11, 28, 11, 13, 60, 11, 12, 16, 12, 40)


def cell_of(value: bool | float | None) -> object:
    """A stored value as the sheet shows it (and ingest reads it back)."""
    if isinstance(value, bool):
        return "Có" if value else "Không"
    return value


def obligations_sheet(agency: Agency, period: str, owed: Sequence[Obligation]) -> bytes:
    """The pre-filled template of ``agency``'s obligations for ``period``."""
    from openpyxl import Workbook  # heavy; only this download needs it
    from openpyxl.styles import Alignment, Font
    from openpyxl.utils import get_column_letter
    from openpyxl.worksheet.datavalidation import DataValidation

    workbook = Workbook()
    sheet = workbook.active
    assert sheet is not None
    sheet.title = f"Báo cáo {period}"
    last = get_column_letter(len(HEADER))
    sheet.append([f"BÁO CÁO CHỈ TIÊU CHUYỂN ĐỔI SỐ — {agency.name_vi} — kỳ {period}"])
    sheet.append(
        [
            "Điền cột Giá trị (Có/Không, hoặc một số), rồi tải tệp lên "
            "POST /api/v1/submissions/upload. Không đổi các cột mã."
        ]
    )
    for row in (1, 2):
        sheet.merge_cells(f"A{row}:{last}{row}")
        sheet[f"A{row}"].alignment = Alignment(horizontal="center", wrap_text=True)
    sheet["A1"].font = Font(bold=True, size=13)
    sheet.append(list(HEADER))
    for cell in sheet[3]:
        cell.font = Font(bold=True)
    yes_no = DataValidation(type="list", formula1='"Có,Không"', allow_blank=True)
    sheet.add_data_validation(yes_no)
    for number, obligation in enumerate(owed, start=1):
        indicator = obligation.indicator
        sheet.append(
            [
                number,
                agency.code,
                agency.name_vi,
                str(obligation.period),
                indicator.code,
                indicator.name_vi,
                UNITS_VI.get(indicator.value_type, indicator.unit),
                obligation.due_date,
                STATUS_VI[obligation.status],
                cell_of(obligation.value),
                obligation.note,
            ]
        )
        row = sheet.max_row
        sheet.cell(row, 8).number_format = "DD/MM/YYYY"
        if indicator.value_type == "boolean_per_agency":
            yes_no.add(sheet.cell(row, 10))
    for index, width in enumerate(WIDTHS, start=1):
        sheet.column_dimensions[get_column_letter(index)].width = width
    sheet.freeze_panes = "A4"
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()
