"""Spreadsheets as people and attackers make them, built by other writers than ingest's own.

``staff_sheet`` is written by XlsxWriter the way a provincial office lays out its report: two
merged title rows, the header on row 3, a percentage-formatted cell, and the signature block
under the table. The others are hand-made archives: an XLSX whose rows hold only an empty cell
in column XFD, one with millions of shared strings, and an OpenDocument spreadsheet.
"""

from __future__ import annotations

import io
import random
import zipfile
from collections.abc import Sequence

import xlsxwriter

#: CPU seconds a file built to burn CPU may cost. Read naively, such files take minutes; read as
#: ingest reads them, about a second. The bound is wide because a loaded machine slows CPU too.
CPU_BOUND_SECONDS = 5.0

HEADER = ["STT", "Mã đơn vị", "Kỳ báo cáo", "Mã chỉ tiêu", "Giá trị", "Ghi chú"]
#: The rows under the table of a Vietnamese administrative report (row offsets from the table).
SIGNATURES = [
    ["", "", "", "", "Hà Nội, ngày 10 tháng 7 năm 2023", ""],
    ["", "Người lập biểu", "", "", "Thủ trưởng đơn vị", ""],
    ["", "(Ký, ghi rõ họ tên)", "", "", "(Ký tên, đóng dấu)", ""],
    ["", "Nguyễn Văn A", "", "", "Trần Thị B", ""],
]


def staff_sheet(rows: Sequence[Sequence[object]], *, percent_rows: Sequence[int] = ()) -> bytes:
    """An XLSX with two merged title rows, ``HEADER`` on row 3, ``rows`` from row 4 (the value
    of each index in ``percent_rows`` formatted ``0.00%``), a blank row, then ``SIGNATURES``."""
    buffer = io.BytesIO()
    workbook = xlsxwriter.Workbook(buffer, {"in_memory": True})
    sheet = workbook.add_worksheet("Báo cáo")
    title = workbook.add_format({"bold": True, "align": "center"})
    percent = workbook.add_format({"num_format": "0.00%"})
    sheet.merge_range(0, 0, 0, 5, "BÁO CÁO KẾT QUẢ CHUYỂN ĐỔI SỐ", title)
    sheet.merge_range(1, 0, 1, 5, "(Kèm theo Công văn số 123/STTTT-CĐS)", title)
    sheet.write_row(2, 0, HEADER)
    for index, row in enumerate(rows):
        for column, cell in enumerate(row):
            style = percent if column == 4 and index in percent_rows else None
            if cell is not None:
                sheet.write(3 + index, column, cell, style)
    for offset, line in enumerate(SIGNATURES):
        sheet.write_row(3 + len(rows) + 1 + offset, 0, line)
    workbook.close()
    return buffer.getvalue()


def _xlsx(sheet_xml: str, shared_strings_xml: str | None = None, padding: int = 0) -> bytes:
    """A minimal, valid XLSX archive around one worksheet's XML (and shared strings), with
    ``padding`` incompressible bytes in a picture-like part (so that it passes the zip-bomb
    guard's expansion ratio)."""
    strings_type = (
        '<Override PartName="/xl/sharedStrings.xml" ContentType="application/'
        'vnd.openxmlformats-officedocument.spreadsheetml.sharedStrings+xml"/>'
    )
    content_types = (
        '<?xml version="1.0" encoding="UTF-8"?>'
        '<Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types">'
        '<Default Extension="rels" '
        'ContentType="application/vnd.openxmlformats-package.relationships+xml"/>'
        '<Default Extension="xml" ContentType="application/xml"/>'
        '<Override PartName="/xl/workbook.xml" ContentType="application/'
        'vnd.openxmlformats-officedocument.spreadsheetml.sheet.main+xml"/>'
        '<Override PartName="/xl/worksheets/sheet1.xml" ContentType="application/'
        'vnd.openxmlformats-officedocument.spreadsheetml.worksheet+xml"/>'
        f"{strings_type if shared_strings_xml is not None else ''}</Types>"
    )
    relationships = "http://schemas.openxmlformats.org/officeDocument/2006/relationships"
    strings_link = (
        f'<Relationship Id="rId2" Type="{relationships}/sharedStrings" Target="sharedStrings.xml"/>'
    )
    parts = {
        "[Content_Types].xml": content_types,
        "_rels/.rels": (
            '<?xml version="1.0" encoding="UTF-8"?><Relationships xmlns="http://schemas.'
            'openxmlformats.org/package/2006/relationships"><Relationship Id="rId1" '
            f'Type="{relationships}/officeDocument" Target="xl/workbook.xml"/></Relationships>'
        ),
        "xl/workbook.xml": (
            '<?xml version="1.0" encoding="UTF-8"?><workbook xmlns="http://schemas.openxmlformats'
            f'.org/spreadsheetml/2006/main" xmlns:r="{relationships}"><sheets>'
            '<sheet name="S" sheetId="1" r:id="rId1"/></sheets></workbook>'
        ),
        "xl/_rels/workbook.xml.rels": (
            '<?xml version="1.0" encoding="UTF-8"?><Relationships xmlns="http://schemas.'
            'openxmlformats.org/package/2006/relationships"><Relationship Id="rId1" '
            f'Type="{relationships}/worksheet" Target="worksheets/sheet1.xml"/>'
            f"{strings_link if shared_strings_xml is not None else ''}</Relationships>"
        ),
        "xl/worksheets/sheet1.xml": sheet_xml,
    }
    if shared_strings_xml is not None:
        parts["xl/sharedStrings.xml"] = shared_strings_xml
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", compression=zipfile.ZIP_DEFLATED, compresslevel=9) as zf:
        for name, text in parts.items():
            zf.writestr(name, text)
        if padding:
            zf.writestr("xl/media/image1.png", random.Random(0).randbytes(padding))
    return buffer.getvalue()


_SHEET_OPEN = (
    '<?xml version="1.0" encoding="UTF-8"?><worksheet xmlns="http://schemas.openxmlformats.org/'
    'spreadsheetml/2006/main"><dimension ref="A1:XFD{rows}"/><sheetData>'
)
_HEADER_ROW = (
    '<row r="1"><c r="A1" t="inlineStr"><is><t>agency</t></is></c><c r="B1" t="inlineStr"><is>'
    '<t>period</t></is></c><c r="C1" t="inlineStr"><is><t>indicator</t></is></c><c r="D1" '
    't="inlineStr"><is><t>value</t></is></c></row>'
)


def xfd_sheet(target_bytes: int = 11 * 1024) -> bytes:
    """An XLSX of about ``target_bytes``: a header, then as many rows as the zip-bomb guard's
    expansion ratio lets through (about 95 times the file), each holding only an empty cell in
    column XFD, the last column; the sheet declares itself A1:XFD<n>."""
    row = '<row><c r="XFD1"/></row>'  # no row number: each follows the one before
    rows = target_bytes * 95 // len(row)
    xml = _SHEET_OPEN.format(rows=rows + 1) + _HEADER_ROW + row * rows + "</sheetData></worksheet>"
    return _xlsx(xml, padding=max(target_bytes - len(_xlsx(xml)), 0))


def shared_strings_sheet(
    strings: int = 2_500_000, target_bytes: int = 556 * 1024, *, declared: int | None = None
) -> bytes:
    """An XLSX of about ``target_bytes`` whose shared-strings part lists ``strings`` tiny
    strings (the sheet uses one), and says it holds ``declared`` (default: the truth)."""
    entries = "<si><t>x</t></si>" * strings
    said = strings if declared is None else declared
    shared = (
        '<?xml version="1.0" encoding="UTF-8"?><sst xmlns="http://schemas.openxmlformats.org/'
        f'spreadsheetml/2006/main" count="{said}" uniqueCount="{said}">{entries}</sst>'
    )
    xml = (
        _SHEET_OPEN.format(rows=2)
        + _HEADER_ROW
        + '<row r="2"><c r="A2" t="s"><v>0</v></c></row></sheetData></worksheet>'
    )
    compressed = len(_xlsx(xml, shared))
    return _xlsx(xml, shared, padding=max(target_bytes - compressed, 0))


_ODS_NAMESPACES = (
    'xmlns:office="urn:oasis:names:tc:opendocument:xmlns:office:1.0" '
    'xmlns:table="urn:oasis:names:tc:opendocument:xmlns:table:1.0" '
    'xmlns:text="urn:oasis:names:tc:opendocument:xmlns:text:1.0"'
)


def _ods_cell(cell: object) -> str:
    if cell is None:
        return "<table:table-cell/>"
    if isinstance(cell, bool):
        value = "true" if cell else "false"
        return (
            f'<table:table-cell office:value-type="boolean" office:boolean-value="{value}">'
            f"<text:p>{'TRUE' if cell else 'FALSE'}</text:p></table:table-cell>"
        )
    if isinstance(cell, float | int):
        return (
            f'<table:table-cell office:value-type="float" office:value="{cell}">'
            f"<text:p>{cell}</text:p></table:table-cell>"
        )
    if isinstance(cell, str) and cell.endswith(" %"):  # a percentage: "17.29 %"
        fraction = float(cell.removesuffix(" %")) / 100
        return (
            f'<table:table-cell office:value-type="percentage" office:value="{fraction}">'
            f"<text:p>{cell}</text:p></table:table-cell>"
        )
    return (
        f'<table:table-cell office:value-type="string"><text:p>{cell}</text:p></table:table-cell>'
    )


def ods_sheet(rows: Sequence[Sequence[object]], *, second_sheet: bool = False) -> bytes:
    """An OpenDocument spreadsheet laid out as LibreOffice saves one: ``rows`` (a text ending
    in `` %`` is a percentage cell), each row padded with 1,000 repeated empty cells, then the
    rest of the sheet as one blank row repeated a million times; optionally a second sheet."""
    body = "".join(
        "<table:table-row>"
        + "".join(_ods_cell(cell) for cell in row)
        + '<table:table-cell table:number-columns-repeated="1000"/></table:table-row>'
        for row in rows
    )
    rest = (
        '<table:table-row table:number-rows-repeated="1048000">'
        '<table:table-cell table:number-columns-repeated="1024"/></table:table-row>'
    )
    other = (
        '<table:table table:name="Khác"><table:table-row>'
        + "".join(_ods_cell(c) for c in ("agency", "period", "indicator", "value"))
        + "</table:table-row></table:table>"
    )
    content = (
        '<?xml version="1.0" encoding="UTF-8"?>'
        f"<office:document-content {_ODS_NAMESPACES}><office:body><office:spreadsheet>"
        f'<table:table table:name="Báo cáo">{body}{rest}</table:table>'
        f"{other if second_sheet else ''}</office:spreadsheet></office:body>"
        "</office:document-content>"
    )
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        mimetype = zipfile.ZipInfo("mimetype")  # first and stored, as the format requires
        archive.writestr(mimetype, "application/vnd.oasis.opendocument.spreadsheet")
        archive.writestr("content.xml", content)
    return buffer.getvalue()
