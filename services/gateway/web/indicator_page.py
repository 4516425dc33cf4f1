"""One indicator: its definition, its series against the target, and who reported what."""

from __future__ import annotations

import asyncio
from datetime import date

from libs.common.periods import ReportingPeriod, latest_counting, parse_period
from services.gateway.web import data
from services.gateway.web.charts import series_chart
from services.gateway.web.data import DEMO_SOURCE, Record, ServiceReader, is_synthetic
from services.gateway.web.formatting import (
    DASH,
    as_number,
    default_period,
    parse_or_none,
    percent_of,
    period_choices,
    show_date,
    show_target,
    target_for,
    value_cell,
)
from services.gateway.web.labels import (
    AGGREGATIONS,
    FREQUENCIES,
    PILLARS,
    SCOPES,
    SOURCES,
    UNITS,
    Lang,
    assessment,
    glyph,
    named,
    text,
)
from services.gateway.web.overview import figure_scopes, published_periods
from services.gateway.web.page import Choice, Fact, Page, name_of, not_found
from services.gateway.web.province_map import province_map
from services.gateway.web.tables import Cell, Table, text_cell


def counting_values(
    rows: list[Record], period: ReportingPeriod, frequency: str
) -> dict[str, Record]:
    """Agency -> its observation that stands for ``period`` (libs.common.periods rules)."""
    by_agency: dict[str, dict[ReportingPeriod, Record]] = {}
    for row in rows:
        parsed = parse_or_none(str(row.get("period") or ""))
        if parsed is not None and row.get("agency"):
            by_agency.setdefault(str(row["agency"]), {})[parsed] = row
    chosen: dict[str, Record] = {}
    for agency_code, periods in by_agency.items():
        found = latest_counting(periods, asked=period, frequency=frequency)
        if found is not None:
            chosen[agency_code] = periods[found]
    return chosen


def definition_facts(indicator: Record, program: Record | None, lang: Lang) -> list[Fact]:
    """What the indicator measures and how, without the catalogue's internal notes."""
    reporting = indicator.get("reporting") or {}
    unit = indicator.get("unit")
    return [
        Fact(
            text("programme", lang), name_of(program, lang, fallback=str(indicator.get("program")))
        ),
        Fact(text("goal", lang), str(indicator.get("goal") or indicator.get("code"))),
        Fact(text("pillar", lang), named(PILLARS, indicator.get("pillar"), lang)),
        Fact(text("unit", lang), named(UNITS, str(unit or DASH), lang)),
        Fact(text("direction", lang), text(str(indicator.get("direction") or "increase"), lang)),
        Fact(text("owner", lang), str(indicator.get("owner") or DASH)),
        Fact(text("aggregation", lang), named(AGGREGATIONS, indicator.get("aggregation"), lang)),
        Fact(text("population", lang), str(indicator.get("population") or DASH)),
        Fact(
            text("reporting", lang),
            f"{named(FREQUENCIES, reporting.get('frequency'), lang)}, "
            + text("due", lang).format(days=reporting.get("due_days", DASH)),
        ),
        Fact(
            text("targets", lang),
            "; ".join(show_target(t, unit, lang) for t in indicator.get("targets") or []) or DASH,
        ),
    ]


def official_fact(indicator: Record, score: Record | None, lang: Lang) -> list[Fact]:
    """The standing agency's assessment: the period's (scoring), else the published one.

    Only the label: an assessment's note is the standing agency's working text.
    """
    scored = (score or {}).get("official") or {}
    published = indicator.get("official_assessment") or {}
    label = scored.get("label") or published.get("label")
    if not label:
        return []
    when = "" if scored.get("label") else f" ({published.get('as_of', DASH)})"
    return [Fact(text("official", lang), f"{glyph(label)} {assessment(label, lang)}{when}")]


def score_facts(score: Record | None, lang: Lang) -> list[Fact]:
    """The scoring service's band, status, projection and explanation, when it has them."""
    if not score:
        return [Fact(text("band", lang), text("no_data_scores", lang))]
    facts = [
        Fact(
            text("band", lang), f"{glyph(score.get('band'))} {assessment(score.get('band'), lang)}"
        ),
        Fact(
            text("status", lang),
            f"{glyph(score.get('status'))} {assessment(score.get('status'), lang)}",
        ),
    ]
    if score.get("explanation"):
        facts.append(Fact(text("explanation", lang), str(score["explanation"])))
    return facts


async def indicator_page(
    reader: ServiceReader, code: str, *, period: str | None, lang: Lang, today: date
) -> Page:
    """Definition, series chart (target, projection), completeness and agency breakdown."""
    indicator = await data.indicator(reader, code)
    if indicator is None:
        return not_found("indicator", lang, code, reader.unavailable)
    program_code = str(indicator.get("program") or "")
    known, history, names = await asyncio.gather(
        data.programs(reader), data.observations(reader, indicator=code), data.agencies(reader)
    )
    published = sorted({*published_periods([indicator]), *(str(r.get("period")) for r in history)})
    asked = parse_or_none(period)
    shown_period = str(asked) if asked else default_period(published_periods([indicator]), today)
    scopes = figure_scopes(indicator)
    series_periods = sorted({p for p in published if parse_or_none(p)}, key=parse_period)
    wanted = [(p, s) for p in series_periods for s in scopes]
    figures, current, scored, synthetic = await asyncio.gather(
        reader.all(data.aggregate(reader, code, p, s) for p, s in wanted),
        reader.all(data.aggregate(reader, code, shown_period, s) for s in scopes),
        data.scores(reader, program=program_code, period=shown_period, lang=lang),
        data.holds_synthetic(reader, shown_period),
    )
    score = _own_score(scored, code, scopes)
    program = next((p for p in known if p.get("code") == program_code), None)
    page = Page(
        name="indicator",
        lang=lang,
        title=f"{code} · {name_of(indicator, lang, fallback=code)}",
        subtitle=f"{text('period', lang)} {shown_period}",
        period=shown_period,
        periods=[Choice(p, p) for p in period_choices(published, today, chosen=shown_period)],
        program=program_code,
        facts=definition_facts(indicator, program, lang)
        + official_fact(indicator, score, lang)
        + score_facts(score, lang),
        synthetic=bool(synthetic),
    )
    values = {
        (p, s): as_number((f or {}).get("value")) for (p, s), f in zip(wanted, figures, strict=True)
    }
    page.chart = series_chart(
        indicator,
        periods=series_periods,
        scopes=scopes,
        values=values,
        projected=as_number((score or {}).get("projected")),
        lang=lang,
    )
    asked_period = parse_period(shown_period)
    frequency = str((indicator.get("reporting") or {}).get("frequency") or "half")
    agency_rows = [r for r in history if r.get("scope") == "agency"]
    reported = counting_values(agency_rows, asked_period, frequency)
    missing = {str(m) for f in current if f for m in f.get("missing") or []} - set(reported)
    page.tables = [
        _series_table(indicator, series_periods, scopes, values, lang),
        _completeness_table(scopes, current, lang),
        _breakdown_table(indicator, reported, missing, names, lang),
    ]
    drawn = province_map(
        indicator,
        reported=reported,
        missing=missing,
        agencies=names,
        period_end=asked_period.end,
        target=target_for(indicator.get("targets") or [], asked_period.year),
        lang=lang,
    )
    if drawn is not None:
        page.province_map, map_table = drawn
        page.tables.append(map_table)
    page.note_unavailable(reader.unavailable)
    return page


def _own_score(scored: list[Record], code: str, scopes: tuple[str, ...]) -> Record | None:
    mine = [s for s in scored if s.get("indicator") == code]
    return next((s for s in mine if s.get("scope") in scopes), mine[0] if mine else None)


def _series_table(
    indicator: Record,
    periods: list[str],
    scopes: tuple[str, ...],
    values: dict[tuple[str, str], float | None],
    lang: Lang,
) -> Table:
    unit = indicator.get("unit")
    table = Table(
        id="series",
        caption=text("series", lang),
        headers=[
            text("period", lang),
            text("scope", lang),
            text("value", lang),
            text("target", lang),
        ],
        empty=text("no_data", lang),
    )
    for period in periods:
        target = target_for(indicator.get("targets") or [], parse_period(period).year)
        for scope in scopes:
            table.add(
                text_cell(period),
                text_cell(named(SCOPES, scope, lang)),
                value_cell(values.get((period, scope)), unit, lang),
                Cell(show_target(target, unit, lang)),
            )
    return table


def _completeness_table(scopes: tuple[str, ...], figures: list[Record | None], lang: Lang) -> Table:
    table = Table(
        id="completeness",
        caption=text("completeness", lang),
        headers=[text(h, lang) for h in ("scope", "reported", "expected", "rate", "source")],
        empty=text("no_data", lang),
    )
    for scope, figure in zip(scopes, figures, strict=True):
        if not figure:
            continue
        reported, expected = figure.get("reported"), figure.get("expected")
        method = "published" if figure.get("method") == "published" else "computed"
        source = str(figure.get("source") or "").removeprefix("reference:")
        table.add(
            text_cell(named(SCOPES, scope, lang)),
            Cell(str(reported), numeric=True),
            Cell(str(expected), numeric=True),
            Cell(percent_of(as_number(reported), as_number(expected), lang), numeric=True),
            text_cell(text(method, lang) + (f" ({source})" if source else "")),
        )
    return table


def _breakdown_table(
    indicator: Record,
    reported: dict[str, Record],
    missing: set[str],
    names: list[Record],
    lang: Lang,
) -> Table:
    """Every expected agency: its value for the period and whether it came on time."""
    named_agencies = {str(a.get("code")): a for a in names}
    table = Table(
        id="agencies",
        caption=text("breakdown", lang),
        headers=[
            text(h, lang)
            for h in ("agency", "name", "value", "reported_at", "timeliness", "source")
        ],
        empty=text("no_data", lang),
    )
    unit = indicator.get("unit")
    for code in sorted(reported):
        row = reported[code]
        late = bool(row.get("late"))
        source = DEMO_SOURCE if is_synthetic(row) else str(row.get("source") or "")
        table.add(
            text_cell(code, href=f"/agencies/{code}"),
            text_cell(name_of(named_agencies.get(code), lang, fallback=code)),
            value_cell(row.get("value"), unit, lang),
            Cell(show_date(row.get("reported_at"), lang), raw=str(row.get("reported_at") or "")),
            Cell(text("late" if late else "on_time", lang), badge="late" if late else "on_time"),
            Cell(
                named(SOURCES, source, lang),
                raw=source,
                badge="synthetic" if source == DEMO_SOURCE else None,
            ),
        )
    for code in sorted(missing):
        table.add(
            text_cell(code, href=f"/agencies/{code}"),
            text_cell(name_of(named_agencies.get(code), lang, fallback=code)),
            value_cell(None, unit, lang),
            Cell(DASH, raw=""),
            Cell(text("not_reported", lang), badge="missing"),
            Cell(""),
        )
    return table
