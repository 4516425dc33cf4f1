"""Every CSV the platform writes: UTF-8 with a BOM, and no cell a spreadsheet would run.

Spreadsheets evaluate a cell starting with ``= + - @`` (or a tab or carriage return before
one) as a formula: ``=HYPERLINK(...)`` in an agency's note would become a link, ``+cmd|...`` a
command (OWASP, "CSV injection"). Such text cells are written with a leading apostrophe, which
spreadsheets show as text; numbers are written as they are (a negative value stays a number).
Every writer of CSV uses ``csv_document``.
"""

from __future__ import annotations

import csv
import io
import re
from collections.abc import Iterable, Sequence

FORMULA_START = ("=", "+", "-", "@", "\t", "\r")
_NUMBER = re.compile(r"-?\d+(?:\.\d+)?(?:[eE][+-]?\d+)?")


def formula_safe(cell: object) -> object:
    """A cell as written: text that a spreadsheet would run as a formula is made text.

    A negative number written as text (``-5.5``, a machine-readable figure) stays a number.
    """
    if isinstance(cell, str) and cell.startswith(FORMULA_START) and not _NUMBER.fullmatch(cell):
        return "'" + cell
    return cell


def csv_document(header: Sequence[str], rows: Iterable[Iterable[object]]) -> str:
    """A CSV file of ``rows`` under ``header``, with a BOM so that Excel reads it as UTF-8."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\r\n")
    writer.writerow([formula_safe(name) for name in header])
    for row in rows:
        writer.writerow([formula_safe(cell) for cell in row])
    return "\ufeff" + buffer.getvalue()
