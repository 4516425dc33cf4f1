"""Rankings of ministries and of provinces (kept apart, as the DTI does), and lagging agencies."""

from __future__ import annotations

import asyncio
from datetime import date
from typing import Any

from services.gateway.web import data
from services.gateway.web.data import Record, ServiceReader
from services.gateway.web.formatting import (
    DASH,
    as_int,
    as_number,
    default_period,
    parse_or_none,
    period_choices,
    rank_change,
    score_number,
)
from services.gateway.web.labels import PILLARS, REASONS, SCOPES, Lang, assessment, named, text
from services.gateway.web.overview import published_periods
from services.gateway.web.page import Choice, Page, name_of
from services.gateway.web.tables import Cell, Table, text_cell

GROUPS = ("central", "local")


async def common_period(
    reader: ServiceReader, period: str | None, today: date
) -> tuple[str, list[str]]:
    """The period asked for (or the latest published one) and the periods worth offering."""
    published = published_periods(await data.indicators(reader))
    asked = parse_or_none(period)
    chosen = str(asked) if asked else default_period(published, today)
    return chosen, period_choices(published, today, chosen=chosen)


def pillar_order(entries: list[Record]) -> list[str]:
    """The pillars the entries carry scores for, in the committee's order."""
    present = {str(k) for e in entries for k in (e.get("pillar_scores") or {})}
    return [p for p in PILLARS if p in present] + sorted(present - set(PILLARS))


def ranking_table(group: str, entries: list[Record], names: dict[str, Record], lang: Lang) -> Table:
    """One group's ranking: rank, agency, index, pillar scores, previous rank and movement."""
    pillars = pillar_order(entries)
    table = Table(
        id=f"ranking-{group}",
        caption=named(SCOPES, group, lang),
        headers=[
            text("rank", lang),
            text("agency", lang),
            text("name", lang),
            text("score", lang),
            *(named(PILLARS, p, lang) for p in pillars),
            text("previous_rank", lang),
            text("change", lang),
        ],
        empty=text("no_data", lang),
    )
    for entry in sorted(
        entries, key=lambda e: (as_int(e.get("rank")) or 10**9, str(e.get("agency")))
    ):
        code = str(entry.get("agency") or "")
        rank, previous = as_int(entry.get("rank")), as_int(entry.get("previous_rank"))
        change, direction = rank_change(rank, previous, lang)
        pillar_scores = entry.get("pillar_scores") or {}
        # The service leaves an agency that reported nothing unranked, after all (scoring.md §6).
        silent = entry.get("reported") is False
        if silent:
            change, direction = DASH, "same"
        table.add(
            Cell(str(rank) if rank is not None else DASH, numeric=True),
            text_cell(code, href=f"/agencies/{code}"),
            text_cell(name_of(names.get(code) or entry, lang, fallback=code)),
            _no_data_cell(lang) if silent else _score_cell(entry.get("score"), lang),
            *(
                _no_data_cell(lang) if silent else _score_cell(pillar_scores.get(p), lang)
                for p in pillars
            ),
            Cell(str(previous) if previous is not None else DASH, numeric=True),
            Cell(change, raw=str(as_int(entry.get("change")) or ""), badge=f"move-{direction}"),
        )
    return table


def _no_data_cell(lang: Lang) -> Cell:
    return Cell(assessment("no_data", lang), raw="", badge="no_data")


def _score_cell(score: Any, lang: Lang) -> Cell:
    value = as_number(score)
    return Cell(
        score_number(value, lang),
        raw="" if value is None else repr(value),
        bar=None if value is None else max(0.0, min(1.0, value)),
        numeric=True,
    )


async def rankings_page(
    reader: ServiceReader, *, period: str | None, pillar: str | None, lang: Lang, today: date
) -> Page:
    """Ministries and provinces ranked apart, optionally on one pillar."""
    chosen, choices = await common_period(reader, period, today)
    pillar = pillar if pillar in PILLARS else None
    central, local, agencies, synthetic = await asyncio.gather(
        data.rankings(reader, group="central", period=chosen, pillar=pillar),
        data.rankings(reader, group="local", period=chosen, pillar=pillar),
        data.agencies(reader),
        data.holds_synthetic(reader, chosen),
    )
    names = {str(a.get("code")): a for a in agencies}
    page = Page(
        name="rankings",
        lang=lang,
        title=text("rankings", lang),
        subtitle=f"{text('period', lang)} {chosen}"
        + (f" · {named(PILLARS, pillar, lang)}" if pillar else ""),
        period=chosen,
        periods=[Choice(p, p) for p in choices],
        pillar=pillar,
        pillars=[Choice("", text("all_pillars", lang))]
        + [Choice(code, named(PILLARS, code, lang)) for code in PILLARS],
        synthetic=bool(synthetic),
    )
    page.tables = [
        ranking_table("central", central, names, lang),
        ranking_table("local", local, names, lang),
    ]
    page.note_unavailable(reader.unavailable)
    return page


def _reasons(entry: Record) -> list[Record]:
    return [r for r in entry.get("reasons") or [] if isinstance(r, dict)]


def laggards_summary(entries: list[Record], names: dict[str, Record], lang: Lang) -> Table:
    """One row per agency: how many reasons of each kind, most behind first.

    In the scoring service's order (most indicators behind, then most missing: scoring.md §6).
    """
    table = Table(
        id="laggards",
        caption=text("laggards", lang),
        headers=[text("agency", lang), text("name", lang)]
        + [named(REASONS, kind, lang) for kind in REASONS]
        + [text("total", lang)],
        empty=text("no_data", lang),
    )
    counted = [
        (entry, [sum(r.get("kind") == kind for r in _reasons(entry)) for kind in REASONS])
        for entry in entries
    ]
    for entry, counts in counted:
        code = str(entry.get("agency") or "")
        table.add(
            text_cell(code, href=f"/agencies/{code}"),
            text_cell(name_of(names.get(code) or entry, lang, fallback=code)),
            *(Cell(str(n), numeric=True) for n in counts),
            Cell(str(sum(counts)), numeric=True),
        )
    return table


def reasons_table(entries: list[Record], names: dict[str, Record], lang: Lang) -> Table:
    """One row per reason: the agency, the indicator, and what is wrong."""
    table = Table(
        id="reasons",
        caption=text("reasons_detail", lang),
        headers=[text(h, lang) for h in ("agency", "name", "indicator", "reason", "detail")],
        empty=text("no_data", lang),
    )
    for entry in entries:
        code = str(entry.get("agency") or "")
        for reason in _reasons(entry):
            indicator = str(reason.get("indicator") or "")
            kind = str(reason.get("kind") or "")
            table.add(
                text_cell(code, href=f"/agencies/{code}"),
                text_cell(name_of(names.get(code) or entry, lang, fallback=code)),
                text_cell(indicator, href=f"/indicators/{indicator}" if indicator else None),
                Cell(named(REASONS, kind, lang), raw=kind, badge=f"reason-{kind}"),
                text_cell(reason.get("detail")),
            )
    return table


async def laggards_page(
    reader: ServiceReader, *, period: str | None, program: str | None, lang: Lang, today: date
) -> Page:
    """Agencies with missing or late reports, or goals in the lowest band, and why."""
    chosen, choices = await common_period(reader, period, today)
    known = await data.programs(reader)
    codes = [str(p.get("code")) for p in known]
    program = program if program in codes else None
    entries, agencies, synthetic = await asyncio.gather(
        data.laggards(reader, period=chosen, program=program, lang=lang),
        data.agencies(reader),
        data.holds_synthetic(reader, chosen),
    )
    page = Page(
        name="laggards",
        lang=lang,
        title=text("laggards", lang),
        subtitle=f"{text('period', lang)} {chosen}" + (f" · {program}" if program else ""),
        period=chosen,
        periods=[Choice(p, p) for p in choices],
        program=program,
        programs=[Choice("", "—")] + [Choice(c, c) for c in codes],
        synthetic=bool(synthetic),
    )
    names = {str(a.get("code")): a for a in agencies}
    page.tables = [
        laggards_summary(entries, names, lang),
        reasons_table(entries, names, lang),
    ]
    page.note_unavailable(reader.unavailable)
    return page
