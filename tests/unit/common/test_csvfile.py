"""Every CSV the platform writes: formulas become text, numbers stay numbers (OWASP)."""

from __future__ import annotations

import csv
import io

import pytest

from libs.common.csvfile import csv_document, formula_safe


@pytest.mark.parametrize(
    "text",
    [
        '=HYPERLINK("x")',
        "+cmd|' /C calc'!A0",
        "-2+3+cmd|' /C calc'!A0",
        "@SUM(A1)",
        "\t=1+1",
        "\r=1",
    ],
)
def test_text_a_spreadsheet_would_run_is_written_as_text(text: str) -> None:
    assert formula_safe(text) == "'" + text


@pytest.mark.parametrize("cell", ["-5.5", "-12", "-1e-3", "Hà Nội", "52.3", "", -5.5, 3, None])
def test_numbers_and_plain_text_are_written_as_they_are(cell: object) -> None:
    assert formula_safe(cell) == cell


def test_a_document_has_a_bom_crlf_lines_and_safe_cells() -> None:
    text = csv_document(["agency", "note"], [["P01", "=1+1"], ["P02", -3.5]])
    assert text.startswith("\ufeff")
    assert text.endswith("\r\n")
    rows = list(csv.reader(io.StringIO(text.removeprefix("\ufeff"))))
    assert rows == [["agency", "note"], ["P01", "'=1+1"], ["P02", "-3.5"]]
