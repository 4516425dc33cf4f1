"""Reporting completeness and timeliness of a period (DHIS2's reporting-rate summary)."""

from __future__ import annotations

import asyncio
from datetime import date

from services.gateway.web import data
from services.gateway.web.data import Record, ServiceReader
from services.gateway.web.formatting import as_number, number, show_date
from services.gateway.web.labels import Lang, text
from services.gateway.web.page import Page, name_of
from services.gateway.web.rankings import programme_page
from services.gateway.web.tables import Cell, Table, text_cell

COUNTS = ("expected", "reported", "on_time")
RATES = ("reporting_rate", "on_time_rate")


def _rate(value: object, lang: Lang) -> Cell:
    """A rate (0..1) as the committee writes a share: ``66,7%``."""
    rate = as_number(value)
    shown = "–" if rate is None else number(100 * rate, lang, digits=1) + "%"
    return Cell(shown, raw="" if rate is None else repr(rate), numeric=True)


def _counts(row: Record, lang: Lang) -> list[Cell]:
    return [Cell(str(row.get(k)), numeric=True) for k in COUNTS] + [
        _rate(row.get(k), lang) for k in RATES
    ]


def totals_table(found: Record, lang: Lang) -> Table:
    """The period in total."""
    table = Table(
        id="completeness-total",
        caption=text("completeness_total", lang),
        headers=[text(h, lang) for h in (*COUNTS, "rate", "on_time_rate")],
        empty=text("no_data", lang),
    )
    total = found.get("total")
    if isinstance(total, dict) and total.get("expected"):
        table.add(*_counts(total, lang))
    return table


def indicators_table(found: Record, lang: Lang) -> Table:
    """Per indicator: over the agencies expected to report it."""
    table = Table(
        id="completeness-indicators",
        caption=text("completeness_indicators", lang),
        headers=[text(h, lang) for h in ("indicator", "due_on", *COUNTS, "rate", "on_time_rate")],
        empty=text("no_data", lang),
    )
    for row in found.get("indicators") or []:
        code = str(row.get("indicator") or "")
        table.add(
            text_cell(code, href=f"/indicators/{code}"),
            Cell(show_date(row.get("due"), lang), raw=str(row.get("due") or "")),
            *_counts(row, lang),
        )
    return table


def agencies_table(found: Record, names: dict[str, Record], lang: Lang) -> Table:
    """Per agency over all its indicators, ranked by reporting rate, then on-time rate."""
    table = Table(
        id="completeness-agencies",
        caption=text("completeness_agencies", lang),
        headers=[
            text(h, lang) for h in ("rank", "agency", "name", *COUNTS, "rate", "on_time_rate")
        ],
        empty=text("no_data", lang),
    )
    for row in found.get("agencies") or []:
        code = str(row.get("agency") or "")
        table.add(
            Cell(str(row.get("rank")), numeric=True),
            text_cell(code, href=f"/agencies/{code}"),
            text_cell(name_of(names.get(code) or row, lang, fallback=code)),
            *_counts(row, lang),
        )
    return table


async def completeness_page(
    reader: ServiceReader, *, period: str | None, program: str | None, lang: Lang, today: date
) -> Page:
    """Reported, on-time and their rates: in total, per indicator, per agency (ranked)."""
    page, chosen = await programme_page(
        reader, name="completeness", period=period, program=program, lang=lang, today=today
    )
    found, agencies = await asyncio.gather(
        data.completeness(reader, period=chosen, program=page.program),
        data.agencies(reader),
    )
    names = {str(a.get("code")): a for a in agencies}
    report = found or {}
    page.tables = [
        totals_table(report, lang),
        indicators_table(report, lang),
        agencies_table(report, names, lang),
    ]
    page.note_unavailable(reader.unavailable)
    return page
