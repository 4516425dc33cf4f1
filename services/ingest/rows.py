"""From sheet rows to submissions: typed cells, agency names, one submission per agency and period.

Pure: the catalogue comes in as arguments. Booleans are written ``true/false``, ``có/không``,
``x`` or ``1/0`` (any case); numbers take a decimal point or the Vietnamese decimal comma
(``23,56``), thousands separators (``1.234,5`` or ``1,234.5``) and, for percents, a ``%``.
A cell formatted as a percentage holds a fraction and shows a percent (0.1729 shown 17,29 %):
it is read as shown, 17.29, for a percent indicator, and refused for any other.
A blank value is an error, not ``false``: a sheet cannot tell "no" from "not filled in".
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass

from libs.common.errors import ProblemItem
from services.ingest.files import Percent, SheetRow, text
from services.ingest.validation import Catalogue, Draft, DraftValue, Finding, Rules, validate

BOOLEAN_WORDS = {
    "true": True,
    "false": False,
    "có": True,
    "không": False,
    "x": True,
    "1": True,
    "0": False,
}
MAX_NOTE = 2000  # as the JSON API allows
PERCENT_DIGITS = 10  # decimals kept of a percentage cell: more is binary noise
_NUMBER = re.compile(r"[+-]?(?:\d+(?:\.\d*)?|\.\d+)(?:[eE][+-]?\d+)?")


def cell_value(raw: object, value_type: str | None) -> object:
    """The value a cell holds for an indicator of ``value_type``; ``ValueError`` says why not."""
    if raw is None or (isinstance(raw, str) and raw.strip() == ""):
        raise ValueError("the value is empty")
    if value_type is None or isinstance(raw, bool):
        return raw  # unknown indicator (reported as such), or a typed cell the rules check
    if isinstance(raw, Percent):
        if value_type == "percent":
            return round(raw.fraction * 100, PERCENT_DIGITS)  # 0.1729 × 100 is 17.290000000000003
        raise ValueError(f"the cell is formatted as a percentage ({raw}); this is not a percent")
    if value_type == "boolean_per_agency":
        if isinstance(raw, int | float) and raw in (0, 1):
            return bool(raw)
        word = unicodedata.normalize("NFC", str(raw)).strip().casefold()
        if word in BOOLEAN_WORDS:
            return BOOLEAN_WORDS[word]
        raise ValueError(f"expected true/false, có/không, x or 1/0, not {text(raw)!r}")
    if isinstance(raw, int | float):
        return float(raw)
    return parse_number(str(raw), percent=value_type == "percent")


def parse_number(written: str, *, percent: bool = False) -> float:
    """A number as people write it in Vietnamese or English sheets."""
    cleaned = written.strip().replace("\u00a0", "").replace(" ", "")
    if percent:
        cleaned = cleaned.removesuffix("%")
    if "," in cleaned and "." in cleaned:
        if cleaned.rfind(",") > cleaned.rfind("."):
            cleaned = cleaned.replace(".", "").replace(",", ".")
        else:
            cleaned = cleaned.replace(",", "")
    elif cleaned.count(",") == 1:
        cleaned = cleaned.replace(",", ".")
    elif cleaned.count(",") > 1:
        cleaned = cleaned.replace(",", "")
    elif cleaned.count(".") > 1:
        cleaned = cleaned.replace(".", "")
    if not _NUMBER.fullmatch(cleaned):
        raise ValueError(f"not a number: {written.strip()!r}")
    return float(cleaned)


def agency_codes(rows: Iterable[SheetRow], names: Mapping[str, str]) -> list[SheetRow]:
    """Rows with agency names (``Thành phố Hà Nội``) replaced by codes where the name is known."""
    codes = {unicodedata.normalize("NFC", name).strip(): code for name, code in names.items()}
    return [
        row
        if row.agency not in codes
        else SheetRow(row.row, codes[row.agency], row.period, row.indicator, row.value, row.note)
        for row in rows
    ]


def first_rows(rows: Iterable[SheetRow]) -> dict[str, int]:
    """Each agency the rows name, with the first row naming it, in code order.

    An empty agency cell is not an agency a key could act for: validation names its row.
    """
    found: dict[str, int] = {}
    for row in rows:
        if row.agency:
            found.setdefault(row.agency, row.row)
    return dict(sorted(found.items()))


@dataclass(frozen=True)
class RowGroup:
    """The rows of one agency and period: what passed, and every problem by row."""

    agency: str
    period: str
    rows: tuple[int, ...]
    accepted: Draft | None
    errors: tuple[ProblemItem, ...]
    findings: tuple[Finding, ...]

    @property
    def rejected_rows(self) -> set[int]:
        """Sheet rows with at least one problem."""
        return {int(item.loc[1]) for item in self.errors}


def group_rows(rows: Sequence[SheetRow], catalogue: Catalogue, rules: Rules) -> list[RowGroup]:
    """Rows grouped by (agency, period) in order of first appearance, each group validated."""
    groups: dict[tuple[str, str], list[SheetRow]] = {}
    for row in rows:
        groups.setdefault((row.agency, row.period), []).append(row)
    return [
        _group(agency, period, members, catalogue, rules)
        for (agency, period), members in groups.items()
    ]


def _group(
    agency: str, period: str, members: list[SheetRow], catalogue: Catalogue, rules: Rules
) -> RowGroup:
    errors: list[ProblemItem] = []
    values: list[DraftValue] = []
    kept: list[int] = []
    for row in members:
        if row.note is not None and len(row.note) > MAX_NOTE:
            errors.append(
                ProblemItem(loc=["row", row.row, "note"], msg=f"over {MAX_NOTE} characters")
            )
            continue
        spec = catalogue.indicators.get(row.indicator)
        try:
            value = cell_value(row.value, spec.value_type if spec else None)
        except ValueError as error:
            errors.append(ProblemItem(loc=["row", row.row, "value"], msg=str(error)))
            continue
        values.append(DraftValue(row.indicator, value, row.note))
        kept.append(row.row)
    findings = validate(Draft(agency, period, values), catalogue, rules) if values else []
    for finding in findings:
        targets = kept if finding.value is None else [kept[finding.value]]
        errors += [ProblemItem(loc=["row", n, finding.field], msg=finding.msg) for n in targets]
    whole = any(f.value is None for f in findings)
    bad = {f.value for f in findings}
    good = [v for i, v in enumerate(values) if i not in bad]
    accepted = Draft(agency, period, good) if good and not whole else None
    errors.sort(key=lambda item: (int(item.loc[1]), str(item.loc[2])))
    return RowGroup(
        agency, period, tuple(r.row for r in members), accepted, tuple(errors), tuple(findings)
    )
