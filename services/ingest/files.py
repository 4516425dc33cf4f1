"""Reading the sheet agencies already fill in: CSV (UTF-8) or XLSX, one row per value.

Columns are found by their header (English or Vietnamese, matched exactly after trimming and
Unicode NFC normalisation, because Excel on macOS may write decomposed diacritics); other
columns (``STT``, names) are ignored. Where a sheet has both a code column (``Mã đơn vị``) and a
name column (``Đơn vị``), the code wins. Rows are numbered as the spreadsheet shows them: the
header is row 1.
"""

from __future__ import annotations

import csv
import io
import unicodedata
import zipfile
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from datetime import date, datetime

from libs.common.errors import InvalidInput, PayloadTooLarge, ProblemItem

#: Each field's accepted headers, in order of preference.
HEADERS: dict[str, tuple[str, ...]] = {
    "agency": ("agency", "Mã đơn vị", "Đơn vị"),
    "period": ("period", "Kỳ báo cáo"),
    "indicator": ("indicator", "Mã chỉ tiêu", "Chỉ tiêu"),
    "value": ("value", "Giá trị"),
    "note": ("note", "Ghi chú"),
}
REQUIRED = ("agency", "period", "indicator", "value")
_XLSX_MAGIC = b"PK\x03\x04"
_OLE_MAGIC = b"\xd0\xcf\x11\xe0"  # the binary .xls of Excel 97-2003


@dataclass(frozen=True)
class FileLimits:
    """How much a file may hold, and expand to."""

    max_rows: int = 100_000
    max_uncompressed_bytes: int = 50 * 1024 * 1024
    max_ratio: float = 100.0


@dataclass(frozen=True)
class SheetRow:
    """One value as written in a sheet; ``value`` is the raw cell (typed later)."""

    row: int
    agency: str
    period: str
    indicator: str
    value: object
    note: str | None = None


def text(cell: object) -> str:
    """A cell as trimmed, NFC-normalised text ('' for an empty cell)."""
    if cell is None:
        return ""
    if isinstance(cell, float) and cell.is_integer():
        cell = int(cell)  # Excel stores 2023 as 2023.0
    return unicodedata.normalize("NFC", str(cell)).strip()


def read_sheet(data: bytes, limits: FileLimits) -> list[SheetRow]:
    """The rows of a CSV or XLSX file; 413 or 422 problem for files that cannot be read."""
    if data.startswith(_XLSX_MAGIC):
        check_zip(data, limits)
        return _rows(_xlsx_cells(data), limits)
    if data.startswith(_OLE_MAGIC):
        raise _unreadable("this is an Excel 97-2003 .xls file; save it as .xlsx or CSV (UTF-8)")
    try:
        decoded = data.decode("utf-8-sig")
    except UnicodeDecodeError as error:
        raise _unreadable(f"a CSV file must be UTF-8 (byte {error.start} is not)") from error
    return _rows(_csv_cells(decoded), limits)


def check_zip(data: bytes, limits: FileLimits) -> None:
    """Refuse an XLSX whose central directory says it expands too far (a zip bomb)."""
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as archive:
            members = archive.infolist()
    except (zipfile.BadZipFile, ValueError, OSError) as error:
        raise _unreadable(f"not a readable XLSX file: {error}") from error
    total = sum(member.file_size for member in members)
    if total > limits.max_uncompressed_bytes:
        raise PayloadTooLarge(
            f"the XLSX expands to {total} bytes; at most {limits.max_uncompressed_bytes}"
        )
    if total > limits.max_ratio * max(len(data), 1):
        raise PayloadTooLarge(
            f"the XLSX expands {total / max(len(data), 1):.0f} times; at most {limits.max_ratio:g}"
        )


def _xlsx_cells(data: bytes) -> Iterator[Sequence[object]]:
    from openpyxl import load_workbook  # heavy; only uploads need it

    try:
        workbook = load_workbook(io.BytesIO(data), read_only=True, data_only=True)
    except Exception as error:  # openpyxl raises anything on a malformed archive
        raise _unreadable(f"not a readable XLSX file: {type(error).__name__}") from error
    try:
        sheet = workbook.worksheets[0] if workbook.worksheets else None
        if sheet is None:
            return
        try:
            yield from sheet.iter_rows(values_only=True)
        except Exception as error:
            raise _unreadable(f"the XLSX sheet cannot be read: {type(error).__name__}") from error
    finally:
        workbook.close()


def _csv_cells(decoded: str) -> Iterator[Sequence[object]]:
    # The header ends where the reader ends lines: at \n, \r\n, or \r (Excel for Mac's CSV).
    first_line = next(io.StringIO(decoded, newline=""), "")
    try:
        delimiter = max(
            ",;\t", key=lambda d: _known_headers(next(csv.reader([first_line], delimiter=d)))
        )
        yield from csv.reader(io.StringIO(decoded, newline=""), delimiter=delimiter)
    except csv.Error as error:
        raise _unreadable(f"not a readable CSV file: {error}") from error


def _known_headers(header: Sequence[object]) -> int:
    names = {text(cell) for cell in header}
    return sum(1 for aliases in HEADERS.values() if names.intersection(aliases))


def _columns(header: Sequence[object]) -> dict[str, int]:
    found: dict[str, int] = {}
    names = [text(cell) for cell in header]
    for field, aliases in HEADERS.items():
        for alias in aliases:
            if alias in names:
                found[field] = names.index(alias)
                break
    missing = [
        ProblemItem(
            loc=["row", 1, field],
            msg=f"no {field} column; name it one of: {', '.join(HEADERS[field])}",
        )
        for field in REQUIRED
        if field not in found
    ]
    if missing:
        raise InvalidInput("The header row lacks required columns", errors=missing)
    return found


def _rows(cells: Iterator[Sequence[object]], limits: FileLimits) -> list[SheetRow]:
    header = next(cells, None)
    if header is None:
        raise InvalidInput(
            "The file is empty", errors=[ProblemItem(loc=["row", 1], msg="no header row")]
        )
    columns = _columns(header)
    rows: list[SheetRow] = []
    for number, line in enumerate(cells, start=2):

        def cell(field: str, line: Sequence[object] = line) -> object:
            index = columns.get(field)
            return line[index] if index is not None and index < len(line) else None

        if all(text(c) == "" for c in line):
            continue  # blank lines between blocks are common in hand-kept sheets
        if len(rows) >= limits.max_rows:
            raise PayloadTooLarge(f"the file has more than {limits.max_rows} rows")
        note = cell("note")
        rows.append(
            SheetRow(
                row=number,
                agency=text(cell("agency")),
                period=_period_text(cell("period")),
                indicator=text(cell("indicator")),
                value=cell("value"),
                note=None if note is None or str(note).strip() == "" else str(note).strip(),
            )
        )
    return rows


def _period_text(cell: object) -> str:
    # Excel turns a typed "2023-06" into a date: give the month back.
    if isinstance(cell, datetime | date):
        return f"{cell.year:04d}-{cell.month:02d}"
    return text(cell)


def _unreadable(message: str) -> InvalidInput:
    return InvalidInput(message, errors=[ProblemItem(loc=["file"], msg=message)])
