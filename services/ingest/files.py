"""Reading the sheet agencies already fill in: CSV (UTF-8), XLSX or ODS, one row per value.

Columns are found by their header (English or Vietnamese, matched exactly after trimming and
Unicode NFC normalisation, because Excel on macOS may write decomposed diacritics); other
columns (``STT``, names) are ignored. Where a sheet has both a code column (``Mã đơn vị``) and a
name column (``Đơn vị``), the code wins. Rows are numbered as the spreadsheet shows them.

Sheets as staff fill them in:

- the header is the first of the first ``HEADER_SCAN`` rows that names every required column;
  title rows above it (a merged "BÁO CÁO …" banner) are skipped and reported;
- the table ends at its last row that fills the four required cells, or three of them with a
  period (``2023-S1``); what follows (the date line, "Người lập biểu", "Thủ trưởng đơn vị",
  names, notes) is skipped and reported with its row numbers, never read as values;
- a number in a cell formatted as a percentage is read as Excel shows it: 0.1729 shown
  ``17,29 %`` is ``Percent(0.1729)``, 17.29 for a percent indicator (see ``rows``);
- an OpenDocument spreadsheet (``.ods``) is read like an XLSX (its first table); an Excel
  97-2003 (``.xls``) file is refused naming its format.

Bounded work (a small file must not cost much CPU): every row read after the header counts
against ``max_rows``, blank ones too; an XLSX is read in openpyxl's read-only mode without
trusting the dimension it declares, only the first ``MAX_COLUMNS`` columns and, after the
header, only the header's columns; its shared strings are counted (and refused past
``max_shared_strings``) before openpyxl loads them; cells read are capped at ``max_cells``;
and reading stops past ``max_cpu_seconds`` of the reading thread's CPU time.
"""

from __future__ import annotations

import csv
import io
import itertools
import re
import time
import unicodedata
import zipfile
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import IO, Any, Literal, Protocol
from xml.etree.ElementTree import ParseError, iterparse

from libs.common.errors import InvalidInput, PayloadTooLarge, ProblemItem
from libs.common.periods import parse_period

#: Each field's accepted headers, in order of preference.
HEADERS: dict[str, tuple[str, ...]] = {
    "agency": ("agency", "Mã đơn vị", "Đơn vị"),
    "period": ("period", "Kỳ báo cáo"),
    "indicator": ("indicator", "Mã chỉ tiêu", "Chỉ tiêu"),
    "value": ("value", "Giá trị"),
    "note": ("note", "Ghi chú"),
}
REQUIRED = ("agency", "period", "indicator", "value")
#: How many rows from the top may hold titles before the header.
HEADER_SCAN = 20
#: Columns of an XLSX read at all (A..BL): a header further right is not looked for.
MAX_COLUMNS = 64
_XLSX_MAGIC = b"PK\x03\x04"
_OLE_MAGIC = b"\xd0\xcf\x11\xe0"  # the binary .xls of Excel 97-2003
_ODF_MIMETYPE = b"application/vnd.oasis.opendocument"
_ODS_MIMETYPE = b"application/vnd.oasis.opendocument.spreadsheet"
_ODS_CONTENT = "content.xml"
_SHARED_STRINGS_TYPE = (
    "application/vnd.openxmlformats-officedocument.spreadsheetml.sharedStrings+xml"
)
_CONTENT_TYPES = "[Content_Types].xml"
#: A shared string's start tag (``<si>``, ``<x:si …>``) in the raw XML, and how many bytes of
#: one chunk's end may hold one cut in two.
_STRING_ITEM = re.compile(rb"<(?:[A-Za-z_][\w.-]*:)?si[\s>/]")
_ITEM_OVERLAP = 64
_FORMAT_LITERALS = re.compile(r'"[^"]*"|\\.')  # quoted text and escaped characters of a format


@dataclass(frozen=True)
class FileLimits:
    """How much a file may hold, expand to, and cost to read."""

    max_rows: int = 100_000
    max_uncompressed_bytes: int = 50 * 1024 * 1024
    max_ratio: float = 100.0
    max_cells: int = 2_000_000
    max_shared_strings: int = 200_000
    max_cpu_seconds: float = 10.0


@dataclass(frozen=True)
class Percent:
    """A number from a cell formatted as a percentage: ``fraction`` 0.1729 is shown 17.29 %."""

    fraction: float

    def __str__(self) -> str:
        return f"{self.fraction * 100:g}%"


@dataclass(frozen=True)
class SheetRow:
    """One value as written in a sheet; ``value`` is the raw cell (typed later)."""

    row: int
    agency: str
    period: str
    indicator: str
    value: object
    note: str | None = None


@dataclass(frozen=True)
class Sheet:
    """The value rows of a file, and the rows not read as values (titles, footer) with why."""

    rows: list[SheetRow]
    skipped: list[ProblemItem] = field(default_factory=list)


@dataclass
class _Budget:
    """What reading one file may still cost: cells, and CPU time of the reading thread."""

    limits: FileLimits
    started: float = field(default_factory=time.thread_time)
    cells: int = 0

    def spend(self, cells: int) -> None:
        self.cells += cells
        if self.cells > self.limits.max_cells:
            raise PayloadTooLarge(f"the file has more than {self.limits.max_cells} cells")
        if time.thread_time() - self.started > self.limits.max_cpu_seconds:
            raise PayloadTooLarge(
                f"the file takes more than {self.limits.max_cpu_seconds:g} s to read; split it"
            )


def text(cell: object) -> str:
    """A cell as trimmed, NFC-normalised text ('' for an empty cell)."""
    if cell is None:
        return ""
    if isinstance(cell, float) and cell.is_integer():
        cell = int(cell)  # Excel stores 2023 as 2023.0
    return unicodedata.normalize("NFC", str(cell)).strip()


def read_sheet(data: bytes, limits: FileLimits) -> Sheet:
    """The rows of a CSV, XLSX or ODS file; 413 or 422 problem for files that cannot be read."""
    budget = _Budget(limits)
    if data.startswith(_XLSX_MAGIC):
        if check_zip(data, limits) == "ods":
            return _rows(_OdsSheet(data), budget)
        _check_shared_strings(data, budget)
        with _xlsx_source(data) as sheet:
            return _rows(sheet, budget)
    if data.startswith(_OLE_MAGIC):
        raise _unreadable("this is an Excel 97-2003 .xls file; save it as .xlsx or CSV (UTF-8)")
    try:
        decoded = data.decode("utf-8-sig")
    except UnicodeDecodeError as error:
        raise _unreadable(f"a CSV file must be UTF-8 (byte {error.start} is not)") from error
    return _rows(_CsvSheet(decoded), budget)


def check_zip(data: bytes, limits: FileLimits) -> Literal["xlsx", "ods"]:
    """Which spreadsheet a zip is; refuse one that is neither, or says it expands too far (a
    zip bomb)."""
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as archive:
            members = archive.infolist()
            names = {member.filename for member in members}
            mimetype = archive.read("mimetype")[:100] if "mimetype" in names else b""
    except (zipfile.BadZipFile, ValueError, OSError, RuntimeError) as error:
        raise _unreadable(f"not a readable XLSX file: {error}") from error
    kind: Literal["xlsx", "ods"] = "ods" if mimetype.startswith(_ODS_MIMETYPE) else "xlsx"
    if mimetype.startswith(_ODF_MIMETYPE) and kind != "ods":
        raise _unreadable("this OpenDocument file is no spreadsheet; send an .ods, .xlsx or CSV")
    if kind == "ods" and _ODS_CONTENT not in names:
        raise _unreadable("not a readable .ods file: it has no content.xml")
    if kind == "xlsx" and _CONTENT_TYPES not in names:
        raise _unreadable("not a readable XLSX file: a zip archive but no Office document")
    total = sum(member.file_size for member in members)
    if total > limits.max_uncompressed_bytes:
        raise PayloadTooLarge(
            f"the file expands to {total} bytes; at most {limits.max_uncompressed_bytes}"
        )
    if total > limits.max_ratio * max(len(data), 1):
        raise PayloadTooLarge(
            f"the file expands {total / max(len(data), 1):.0f} times; at most {limits.max_ratio:g}"
        )
    return kind


def _check_shared_strings(data: bytes, budget: _Budget) -> None:
    """Count the XLSX's shared strings, as cheaply as XML allows, before openpyxl loads them."""
    limit = budget.limits.max_shared_strings
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as archive:
            parts = [
                element.get("PartName", "").lstrip("/")
                for _, element in iterparse(archive.open(_CONTENT_TYPES))
                if element.get("ContentType") == _SHARED_STRINGS_TYPE
            ]
            for part in parts:
                if part not in archive.NameToInfo:
                    continue  # openpyxl says so below
                with archive.open(part) as stream:
                    for found in shared_string_counts(stream):
                        if found > limit:
                            raise PayloadTooLarge(
                                f"the XLSX holds more than {limit} shared strings"
                            )
                        budget.spend(0)
    except (ParseError, zipfile.BadZipFile, ValueError, OSError, RuntimeError) as error:
        raise _unreadable(f"not a readable XLSX file: {type(error).__name__}") from error


def shared_string_counts(stream: IO[bytes]) -> Iterator[int]:
    """How many shared strings the raw XML has started so far, after each chunk read.

    A regular expression finds millions a second, where parsing them is what the limit is
    there to avoid; a start tag cut between two chunks is counted once.
    """
    found, tail = 0, b""
    while chunk := stream.read(1 << 20):
        window = tail + chunk
        tail = window[-_ITEM_OVERLAP:]
        found += len(_STRING_ITEM.findall(window)) - len(_STRING_ITEM.findall(tail))
        yield found
    yield found + len(_STRING_ITEM.findall(tail))


class _Source(Protocol):
    def rows(self, first: int, width: int) -> Iterator[tuple[int, Sequence[object]]]:
        """(number, cells) of the rows from row ``first`` (1-based) on, of at most ``width``
        cells; a source may leave out blank rows it did not have to read one by one."""
        ...


@contextmanager
def _xlsx_source(data: bytes) -> Iterator[_Source]:
    """The first sheet of an XLSX, read-only, not trusting the dimension it declares."""
    from openpyxl import load_workbook  # heavy; only uploads need it

    try:
        workbook = load_workbook(io.BytesIO(data), read_only=True, data_only=True)
    except Exception as error:  # openpyxl raises anything on a malformed archive
        raise _unreadable(f"not a readable XLSX file: {type(error).__name__}") from error
    try:
        yield _XlsxSheet(workbook.worksheets[0] if workbook.worksheets else None)
    finally:
        workbook.close()


@dataclass
class _XlsxSheet:
    sheet: Any

    def rows(self, first: int, width: int) -> Iterator[tuple[int, Sequence[object]]]:
        if self.sheet is None or not hasattr(self.sheet, "reset_dimensions"):
            return
        self.sheet.reset_dimensions()  # a declared A1:XFD1048576 must not set the work
        try:
            cells_by_row = self.sheet.iter_rows(min_row=first, max_col=width)
            for number, cells in enumerate(cells_by_row, start=first):
                yield number, tuple(_cell(cell) for cell in cells)
        except PayloadTooLarge:
            raise
        except Exception as error:
            raise _unreadable(f"the XLSX sheet cannot be read: {type(error).__name__}") from error


def _cell(cell: object) -> object:
    value = getattr(cell, "value", None)
    number = isinstance(value, int | float) and not isinstance(value, bool)
    if number and is_percentage(str(getattr(cell, "number_format", ""))):
        return Percent(float(value))  # type: ignore[arg-type]
    return value


def is_percentage(number_format: str) -> bool:
    """Whether a number format scales by 100 (``0.00%``), not shows a literal ``"%"`` or ``\\%``."""
    return "%" in _FORMAT_LITERALS.sub("", number_format)


@dataclass
class _CsvSheet:
    decoded: str

    def rows(self, first: int, width: int) -> Iterator[tuple[int, Sequence[object]]]:
        # The header ends where the reader ends lines: at \n, \r\n, or \r (Excel for Mac's CSV).
        first_line = next(io.StringIO(self.decoded, newline=""), "")
        try:
            delimiter = max(
                ",;\t", key=lambda d: _known_headers(next(csv.reader([first_line], delimiter=d)))
            )
            lines = csv.reader(io.StringIO(self.decoded, newline=""), delimiter=delimiter)
            for number, line in enumerate(itertools.islice(lines, first - 1, None), start=first):
                yield number, line[:width]
        except csv.Error as error:
            raise _unreadable(f"not a readable CSV file: {error}") from error


_ODS_TABLE = "{urn:oasis:names:tc:opendocument:xmlns:table:1.0}"
_ODS_OFFICE = "{urn:oasis:names:tc:opendocument:xmlns:office:1.0}"
_ODS_TEXT = "{urn:oasis:names:tc:opendocument:xmlns:text:1.0}"


@dataclass
class _OdsSheet:
    """The first table of an OpenDocument spreadsheet, streamed from its ``content.xml``.

    Repeated rows and cells (``number-rows-repeated``, ``number-columns-repeated``, which
    LibreOffice writes for the empty rest of a sheet) cost one read: a blank repeated row is
    left out, a repeated row with content is yielded each time (and counted), cells past
    ``width`` are not made.
    """

    data: bytes

    def rows(self, first: int, width: int) -> Iterator[tuple[int, Sequence[object]]]:
        number, tables = 0, 0
        try:
            with zipfile.ZipFile(io.BytesIO(self.data)) as archive:
                for event, element in iterparse(archive.open(_ODS_CONTENT), ("start", "end")):
                    if element.tag == f"{_ODS_TABLE}table" and event == "start":
                        tables += 1
                        if tables > 1:
                            return  # sheets after the first are not read
                    if element.tag != f"{_ODS_TABLE}table-row" or event != "end":
                        continue
                    repeat = _repeat(element, "number-rows-repeated")
                    cells = _ods_cells(element, width)
                    element.clear()
                    if not any(text(c) for c in cells):
                        number += repeat
                        continue
                    for _ in range(repeat):
                        number += 1
                        if number >= first:
                            yield number, cells
        except (ParseError, zipfile.BadZipFile, ValueError, TypeError, OSError) as error:
            raise _unreadable(f"not a readable .ods file: {type(error).__name__}") from error


def _repeat(element: Any, name: str) -> int:
    return max(int(element.get(f"{_ODS_TABLE}{name}", "1")), 1)


def _ods_cells(row: Any, width: int) -> list[object]:
    cells: list[object] = []
    for cell in row:
        if len(cells) >= width:
            break
        value = _ods_value(cell)
        cells += [value] * min(_repeat(cell, "number-columns-repeated"), width - len(cells))
    return cells


def _ods_value(cell: Any) -> object:
    kind = cell.get(f"{_ODS_OFFICE}value-type")
    if kind in ("float", "currency"):
        return float(cell.get(f"{_ODS_OFFICE}value"))
    if kind == "percentage":
        return Percent(float(cell.get(f"{_ODS_OFFICE}value")))
    if kind == "boolean":
        return cell.get(f"{_ODS_OFFICE}boolean-value") == "true"
    if kind == "date":
        return datetime.fromisoformat(cell.get(f"{_ODS_OFFICE}date-value"))
    paragraphs = ["".join(p.itertext()) for p in cell if p.tag == f"{_ODS_TEXT}p"]
    return "\n".join(paragraphs) or None


def _known_headers(header: Sequence[object]) -> int:
    names = {text(cell) for cell in header}
    return sum(1 for aliases in HEADERS.values() if names.intersection(aliases))


def _columns(header: Sequence[object]) -> dict[str, int]:
    found: dict[str, int] = {}
    names = [text(cell) for cell in header]
    for name, aliases in HEADERS.items():
        for alias in aliases:
            if alias in names:
                found[name] = names.index(alias)
                break
    return found


def _missing(columns: dict[str, int], row: int) -> InvalidInput:
    return InvalidInput(
        "The header row lacks required columns",
        errors=[
            ProblemItem(
                loc=["row", row, name],
                msg=f"no {name} column; name it one of: {', '.join(HEADERS[name])}",
            )
            for name in REQUIRED
            if name not in columns
        ],
    )


def _header(sheet: _Source, budget: _Budget) -> tuple[int, dict[str, int], list[int]]:
    """The header's row number and columns, and the non-blank rows above it (titles)."""
    best: tuple[int, dict[str, int]] | None = None
    titles: list[int] = []
    for number, line in sheet.rows(1, MAX_COLUMNS):
        if number > HEADER_SCAN:
            break
        budget.spend(len(line))
        columns = _columns(line)
        if all(name in columns for name in REQUIRED):
            return number, columns, titles
        if any(text(c) for c in line):
            titles.append(number)
        if columns and (best is None or len(columns) > len(best[1])):
            best = (number, columns)
    if best is None and not titles:
        raise InvalidInput(
            "The file is empty", errors=[ProblemItem(loc=["row", 1], msg="no header row")]
        )
    raise _missing(best[1] if best else {}, best[0] if best else 1)


def _rows(sheet: _Source, budget: _Budget) -> Sheet:
    header, columns, titles = _header(sheet, budget)
    width = max(columns.values()) + 1  # after the header, only its columns are read
    skipped = [ProblemItem(loc=["row", n], msg="skipped: a title above the header") for n in titles]
    rows: list[tuple[SheetRow, bool]] = []
    limit = budget.limits.max_rows
    for read, (number, line) in enumerate(sheet.rows(header + 1, width), start=1):
        if read > limit:  # blank rows count too: each costs a read
            raise PayloadTooLarge(f"the file has more than {limit} rows")
        budget.spend(width)

        def cell(name: str, line: Sequence[object] = line) -> object:
            index = columns.get(name)
            return line[index] if index is not None and index < len(line) else None

        if all(text(c) == "" for c in line):
            continue  # blank lines between blocks are common in hand-kept sheets
        note = cell("note")
        row = SheetRow(
            row=number,
            agency=text(cell("agency")),
            period=_period_text(cell("period")),
            indicator=text(cell("indicator")),
            value=cell("value"),
            note=None if note is None or str(note).strip() == "" else str(note).strip(),
        )
        rows.append((row, _in_table(row)))
    table = max((i for i, (_, in_table) in enumerate(rows) if in_table), default=-1)
    skipped += [
        ProblemItem(loc=["row", row.row], msg=f"skipped: below the table ({_summary(row)})")
        for row, _ in rows[table + 1 :]
    ]
    return Sheet([row for row, _ in rows[: table + 1]], skipped)


def _in_table(row: SheetRow) -> bool:
    """Whether a row reads as one of the table's: it fills the four required cells, or three
    of them with a period. A signature or a note below the table does neither."""
    cells = (row.agency, row.period, row.indicator, text(row.value))
    filled = sum(1 for c in cells if c)
    if filled == len(cells):
        return True
    try:
        parse_period(row.period)
    except ValueError:
        return False
    return filled == len(cells) - 1


def _summary(row: SheetRow) -> str:
    """What a footer row says (a signature line, a note), shortened."""
    words = " / ".join(
        part for part in (row.agency, row.period, row.indicator, text(row.value), row.note) if part
    )
    return words if len(words) <= 80 else words[:79] + "…"


def _period_text(cell: object) -> str:
    # Excel turns a typed "2023-06" into a date: give the month back.
    if isinstance(cell, datetime | date):
        return f"{cell.year:04d}-{cell.month:02d}"
    return text(cell)


def _unreadable(message: str) -> InvalidInput:
    return InvalidInput(message, errors=[ProblemItem(loc=["file"], msg=message)])
