"""The indicator page's province map: a tile grid, one square per province, drawn as inline SVG.

No package found on PyPI or npm ships Vietnam's province boundaries with a licence to reuse them
(those that name Vietnam's divisions, e.g. ``vietnam-provinces``, ship lists only), so the map is
the tile grid many statistics offices use: each of the 63 provinces is a square placed by the
approximate position of its capital (static/vietnam-tile-grid.csv: code, short label, grid row
and column, and the capital's latitude and longitude the layout was made from). After the 2025
mergers the 34 provinces keep their codes; an absorbed province's square takes the colour of the
province it merged into and says so. The same figures are in the page's table (and its CSV).
"""

from __future__ import annotations

import csv
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date
from pathlib import Path

from services.gateway.web.data import Record
from services.gateway.web.formatting import (
    as_number,
    number,
    show_value,
    target_value,
    value_cell,
)
from services.gateway.web.labels import Lang, text
from services.gateway.web.page import name_of
from services.gateway.web.tables import Cell, Table, text_cell

GRID = Path(__file__).parent / "static" / "vietnam-tile-grid.csv"
SIZE, GAP, PAD = 40, 4, 2  # square side, gap between squares, margin of the drawing (px)
STEPS = 5  # classes of a numeric indicator's scale


@dataclass(frozen=True)
class Place:
    """Where a province's square sits on the grid."""

    code: str
    label: str
    row: int
    col: int


def _places() -> dict[str, Place]:
    with GRID.open(encoding="utf-8") as source:
        return {
            row["code"]: Place(row["code"], row["label"], int(row["row"]), int(row["col"]))
            for row in csv.DictReader(source)
        }


PLACES = _places()


@dataclass(frozen=True)
class Tile:
    """One square: where, what it says, and the class that colours it."""

    code: str
    label: str
    x: int
    y: int
    css: str
    title: str


@dataclass(frozen=True)
class LegendEntry:
    """One colour of the map and what it means."""

    css: str
    label: str


@dataclass(frozen=True)
class ProvinceMap:
    """The drawing: squares, its size, and the legend."""

    tiles: list[Tile]
    legend: list[LegendEntry]
    width: int
    height: int
    size: int = SIZE


def _successors(agencies: list[Record], day: date) -> dict[str, str]:
    """Province -> the province it had merged into by ``day`` (following chains)."""
    merged = {
        str(a.get("code")): str(a["successor"])
        for a in agencies
        if a.get("successor") and str(a.get("valid_to") or "9999-12-31") < day.isoformat()
    }
    found = {}
    for code in merged:
        successor, seen = merged[code], {code}
        while successor in merged and successor not in seen:
            seen.add(successor)
            successor = merged[successor]
        found[code] = successor
    return found


def _scale(values: list[float], target: float | None, lang: Lang) -> tuple[float, list[str]]:
    """The top of the numeric scale (the highest value or the target) and each class's label."""
    top = max([*values, target or 0.0]) or 1.0
    step = top / STEPS
    labels = [f"{number(n * step, lang)} – {number((n + 1) * step, lang)}" for n in range(STEPS)]
    return top, labels


def province_map(
    indicator: Record,
    *,
    reported: Mapping[str, Record],
    missing: set[str],
    agencies: list[Record],
    period_end: date,
    target: Mapping[str, object] | None,
    lang: Lang,
) -> tuple[ProvinceMap, Table] | None:
    """The map and its table for the period; ``None`` when no province reports the indicator."""
    expected = {code for code in {*reported, *missing} if code in PLACES}
    if not expected:
        return None
    unit = indicator.get("unit")
    names = {str(a.get("code")): a for a in agencies}
    values = {c: (reported.get(c) or {}).get("value") for c in expected}
    numbers = [v for v in map(as_number, values.values()) if v is not None]
    boolean = any(isinstance(value, bool) for value in values.values())
    top, steps = _scale(numbers, target_value(target), lang)
    legend = (
        [LegendEntry("t-yes", text("yes", lang)), LegendEntry("t-no", text("no", lang))]
        if boolean
        else [LegendEntry(f"t-q{n + 1}", label) for n, label in enumerate(steps)]
    )
    legend += [
        LegendEntry("t-no_data", text("not_reported", lang)),
        LegendEntry("t-none", text("not_expected", lang)),
    ]

    def css_of(code: str) -> str:
        if code not in expected:
            return "t-none"
        value = values[code]
        if isinstance(value, bool):
            return "t-yes" if value else "t-no"
        shown = as_number(value)
        if shown is None:
            return "t-no_data"
        return f"t-q{min(STEPS, max(1, int(shown / top * STEPS) + 1))}"

    table = Table(
        id="map",
        caption=text("province_map", lang),
        headers=[text(h, lang) for h in ("agency", "name", "value", "map_class")],
        empty=text("no_data", lang),
    )
    meaning = {entry.css: entry.label for entry in legend}
    successors = _successors(agencies, period_end)
    tiles = []
    for place in sorted(PLACES.values(), key=lambda p: (p.row, p.col)):
        code = place.code
        into = successors.get(code)
        shown = into if into else code
        css = css_of(shown)
        name = name_of(names.get(code), lang, fallback=code)
        detail = show_value(values.get(shown), unit, lang) if shown in reported else meaning[css]
        title = f"{name}: {detail}"
        if into:
            title += f" ({text('successor', lang)} {name_of(names.get(into), lang, fallback=into)})"
            css += " merged"
        tiles.append(
            Tile(
                code=code,
                label=place.label,
                x=PAD + place.col * (SIZE + GAP),
                y=PAD + place.row * (SIZE + GAP),
                css=css,
                title=title,
            )
        )
        if code in expected:
            table.add(
                text_cell(code, href=f"/agencies/{code}"),
                text_cell(name),
                value_cell(values[code], unit, lang),
                Cell(meaning[css_of(code)], raw=css_of(code).removeprefix("t-")),
            )
    width = PAD * 2 + (max(p.col for p in PLACES.values()) + 1) * (SIZE + GAP)
    height = PAD * 2 + (max(p.row for p in PLACES.values()) + 1) * (SIZE + GAP)
    return ProvinceMap(tiles, legend, width, height), table
