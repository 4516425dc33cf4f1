"""The national overview of one programme: each goal's value against its target, counts per band."""

from __future__ import annotations

import asyncio
from datetime import date
from typing import Any

from services.gateway.web import data
from services.gateway.web.data import Record, ServiceReader
from services.gateway.web.formatting import (
    as_number,
    bar_fill,
    default_period,
    number,
    parse_or_none,
    period_choices,
    show_target,
    target_for,
    target_value,
    value_cell,
)
from services.gateway.web.labels import (
    BANDS,
    SCOPES,
    STATUSES,
    Lang,
    assessment,
    glyph,
    named,
    text,
)
from services.gateway.web.page import Choice, Page, name_of
from services.gateway.web.tables import Cell, Table, text_cell

DEFAULT_PROGRAM = "KH2023"
SCOPE_ORDER = ("national", "central", "local")


def published_periods(catalogue: list[Record]) -> list[str]:
    """Every period for which the committee published a figure of these indicators."""
    return sorted(
        {
            str(p.get("period"))
            for i in catalogue
            for p in i.get("published") or []
            if p.get("period")
        }
    )


def figure_scopes(indicator: Record) -> tuple[str, ...]:
    """The scope(s) the overview shows: by-group indicators are published per group."""
    # Mirrors how the committee publishes (SCORING.md §4); the gateway may not import a service.
    return ("central", "local") if indicator.get("aggregation") == "by_group" else ("national",)


def choose_program(asked: str | None, codes: list[str]) -> str:
    """The programme asked for if it exists, else the committee's current plan, else any."""
    return next((c for c in (asked, DEFAULT_PROGRAM, *codes) if c in codes), DEFAULT_PROGRAM)


def goals_table(lang: Lang) -> Table:
    """The goals table's columns (one row per indicator and scope)."""
    headers = [
        "goal",
        "indicator",
        "name",
        "scope",
        "value",
        "target",
        "progress",
        "band",
        "status",
    ]
    return Table(
        id="goals",
        caption=text("goals", lang),
        headers=[text(h, lang) for h in headers],
        empty=text("no_data", lang),
    )


def add_goal_row(
    table: Table,
    indicator: Record,
    *,
    scope: str,
    value: Any,
    target: Any,
    progress: float | None,
    band: str | None,
    status: str | None,
    lang: Lang,
) -> None:
    """One indicator's figure with its bar (value vs target) and the committee's labels."""
    unit = indicator.get("unit")
    code = str(indicator.get("code"))
    numeric = as_number(value)
    fill = bar_fill(
        progress,
        value=numeric,
        target=target_value(target),
        direction=str(indicator.get("direction") or "increase"),
    )
    # Without a figure there is no bar, and no empty coloured badge either.
    bar = (
        Cell("", raw="", numeric=True)
        if fill is None
        else Cell(
            number(100 * fill, lang, digits=0) + "%",
            raw=f"{fill:.4f}",
            bar=fill,
            numeric=True,
            badge=band,
        )
    )
    table.add(
        text_cell(indicator.get("goal") or code),
        text_cell(code, href=f"/indicators/{code}"),
        text_cell(name_of(indicator, lang, fallback=code)),
        text_cell(named(SCOPES, scope, lang)),
        value_cell(value, unit, lang),
        Cell(show_target(target, unit, lang)),
        bar,
        Cell(f"{glyph(band)} {assessment(band, lang)}", raw=band or "", badge=band or "none"),
        Cell(
            f"{glyph(status)} {assessment(status, lang)}", raw=status or "", badge=status or "none"
        ),
    )


def counts_table(
    table_id: str, caption: str, codes: tuple[str, ...], counts: dict[str, Any], lang: Lang
) -> Table:
    """Goals per band (or per status), in the committee's order and words."""
    table = Table(
        id=table_id,
        caption=caption,
        headers=[text("band" if table_id == "bands" else "status", lang), text("count", lang)],
        empty=text("no_data_scores", lang),
    )
    if not counts:
        return table
    total = sum(v for v in counts.values() if isinstance(v, int)) or 1
    for code in codes:
        count = counts.get(code, 0)
        count = count if isinstance(count, int) else 0
        table.add(
            Cell(f"{glyph(code)} {assessment(code, lang)}", raw=code, badge=code),
            Cell(str(count), raw=str(count), numeric=True, bar=count / total, badge=code),
        )
    return table


async def overview_page(
    reader: ServiceReader, *, program: str | None, period: str | None, lang: Lang, today: date
) -> Page:
    """The programme's goals for a period, scored when the scoring service answers."""
    known = await data.programs(reader)
    codes = [str(p.get("code")) for p in known]
    chosen = choose_program(program, codes)
    catalogue = await data.indicators(reader, chosen)
    published = published_periods(catalogue)
    asked = parse_or_none(period)
    shown_period = str(asked) if asked else default_period(published, today)
    record = next((p for p in known if p.get("code") == chosen), None)
    page = Page(
        name="overview",
        lang=lang,
        title=name_of(record, lang, fallback=chosen),
        subtitle=f"{text('programme', lang)} {chosen} · {text('period', lang)} {shown_period}",
        period=shown_period,
        periods=[Choice(p, p) for p in period_choices(published, today, chosen=shown_period)],
        program=chosen,
        programs=[Choice(c, c) for c in codes],
    )
    scored, summary, page.synthetic = await asyncio.gather(
        data.scores(reader, program=chosen, period=shown_period, lang=lang),
        data.score_summary(reader, program=chosen, period=shown_period),
        data.holds_synthetic(reader, shown_period),
    )
    by_code = {str(i.get("code")): i for i in catalogue}
    table = goals_table(lang)
    if scored:
        order = {s: n for n, s in enumerate(SCOPE_ORDER)}
        for score in sorted(
            scored, key=lambda s: (str(s.get("indicator")), order.get(str(s.get("scope")), 9))
        ):
            indicator = by_code.get(str(score.get("indicator")), {"code": score.get("indicator")})
            add_goal_row(
                table,
                {**indicator, "goal": score.get("goal") or indicator.get("goal")},
                scope=str(score.get("scope") or "national"),
                value=score.get("value"),
                target=score.get("target"),
                progress=as_number(score.get("progress")),
                band=score.get("band"),
                status=score.get("status"),
                lang=lang,
            )
    else:
        await _unscored_rows(reader, table, catalogue, shown_period, lang)
        if table.rows:
            page.notices.append(text("fallback_note", lang))
    summary = summary or {}
    page.tables = [
        counts_table("bands", text("bands_summary", lang), BANDS, summary.get("bands") or {}, lang),
        counts_table(
            "statuses",
            text("statuses_summary", lang),
            STATUSES,
            summary.get("statuses") or {},
            lang,
        ),
        table,
    ]
    page.note_unavailable(reader.unavailable)
    return page


async def _unscored_rows(
    reader: ServiceReader, table: Table, catalogue: list[Record], period: str, lang: Lang
) -> None:
    """Values and targets straight from the figures, while no score is available."""
    wanted = [(i, scope) for i in catalogue for scope in figure_scopes(i)]
    figures = await reader.all(
        data.aggregate(reader, str(i.get("code")), period, scope) for i, scope in wanted
    )
    year = parse_or_none(period)
    for (indicator, scope), figure in zip(wanted, figures, strict=True):
        target = target_for(indicator.get("targets") or [], year.year if year else 0)
        value = (figure or {}).get("value")
        add_goal_row(
            table,
            indicator,
            scope=scope,
            value=value,
            target=target,
            progress=None,
            band=None,
            status=None,
            lang=lang,
        )
