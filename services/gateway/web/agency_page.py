"""One agency: what it must report, what it reported, its ranking, and the reminders it was sent."""

from __future__ import annotations

import asyncio
import re
from datetime import date

from libs.common.periods import parse_period
from services.gateway.web import data
from services.gateway.web.data import Record, ServiceReader
from services.gateway.web.formatting import (
    DASH,
    as_int,
    default_period,
    parse_or_none,
    period_choices,
    rank_change,
    score_number,
    show_date,
    show_target,
    target_for,
    value_cell,
)
from services.gateway.web.indicator_page import counting_values
from services.gateway.web.labels import AGENCY_KINDS, Lang, assessment, named, text
from services.gateway.web.overview import published_periods
from services.gateway.web.page import Choice, Fact, Page, name_of, not_found
from services.gateway.web.rankings import ranking_table, reasons_table
from services.gateway.web.tables import Cell, Table, text_cell

_AGENCY_CODE = re.compile(r"^[A-Z][A-Z0-9]*$")


def expected_of(code: str, catalogue: list[Record], members: dict[str, set[str]]) -> list[Record]:
    """Indicators the agency reports: it is in their population, or it owns a national one."""
    found = []
    for indicator in catalogue:
        population = indicator.get("population")
        owners = {p.strip() for p in str(indicator.get("owner") or "").split(";")}
        if (population and code in members.get(str(population), set())) or (
            not population and code in {o for o in owners if _AGENCY_CODE.match(o)}
        ):
            found.append(indicator)
    return sorted(found, key=lambda i: str(i.get("code")))


def agency_facts(agency: Record, lang: Lang) -> list[Fact]:
    """Public facts only: names, kind, groups, validity and mergers (contacts are never shown)."""
    facts = [
        Fact(text("kind", lang), named(AGENCY_KINDS, agency.get("kind"), lang)),
        Fact(text("code", lang), str(agency.get("code"))),
    ]
    valid = (agency.get("valid_from"), agency.get("valid_to"))
    if any(valid):
        facts.append(Fact(text("valid", lang), f"{valid[0] or DASH} → {valid[1] or DASH}"))
    if agency.get("successor"):
        successor = str(agency["successor"])
        facts.append(Fact(text("successor", lang), successor, href=f"/agencies/{successor}"))
    for predecessor in agency.get("predecessors") or []:
        facts.append(
            Fact(text("predecessors", lang), str(predecessor), href=f"/agencies/{predecessor}")
        )
    return facts


def reports_tables(
    expected: list[Record], history: list[Record], period: str, lang: Lang
) -> tuple[Table, Table]:
    """Each expected indicator's value for the period, and the reports still missing."""
    asked = parse_period(period)
    values = Table(
        id="indicators",
        caption=text("its_indicators", lang),
        headers=[
            text(h, lang)
            for h in ("indicator", "name", "value", "target", "reported_at", "timeliness")
        ],
        empty=text("no_data", lang),
    )
    missing = Table(
        id="missing",
        caption=text("missing_reports", lang),
        headers=[text(h, lang) for h in ("indicator", "name", "period")],
        empty=text("no_data", lang),
    )
    for indicator in expected:
        code = str(indicator.get("code"))
        frequency = str((indicator.get("reporting") or {}).get("frequency") or "half")
        rows = [r for r in history if r.get("indicator") == code and r.get("scope") == "agency"]
        row = next(iter(counting_values(rows, asked, frequency).values()), None)
        unit = indicator.get("unit")
        target = target_for(indicator.get("targets") or [], asked.year)
        if row is None:
            status = Cell(text("not_reported", lang), badge="missing")
            missing.add(
                text_cell(code, href=f"/indicators/{code}"),
                text_cell(name_of(indicator, lang, fallback=code)),
                text_cell(period),
            )
        else:
            late = bool(row.get("late"))
            status = Cell(
                text("late" if late else "on_time", lang), badge="late" if late else "on_time"
            )
        values.add(
            text_cell(code, href=f"/indicators/{code}"),
            text_cell(name_of(indicator, lang, fallback=code)),
            value_cell(row.get("value") if row else None, unit, lang),
            Cell(show_target(target, unit, lang)),
            Cell(
                show_date((row or {}).get("reported_at"), lang),
                raw=str((row or {}).get("reported_at") or ""),
            ),
            status,
        )
    return values, missing


def notifications_table(entries: list[Record], lang: Lang) -> Table:
    """The delivery log without recipients: kind, status, date and subject only."""
    table = Table(
        id="notifications",
        caption=text("notifications", lang),
        headers=[text(h, lang) for h in ("date", "kind", "delivery", "subject")],
        empty=text("no_data", lang),
    )
    for entry in sorted(entries, key=lambda e: str(e.get("sent_at") or ""), reverse=True):
        table.add(
            Cell(show_date(entry.get("sent_at"), lang), raw=str(entry.get("sent_at") or "")),
            text_cell(entry.get("kind")),
            text_cell(entry.get("status")),
            text_cell(entry.get("subject")),
        )
    return table


async def agency_page(
    reader: ServiceReader, code: str, *, period: str | None, lang: Lang, today: date
) -> Page:
    """The agency's indicators and statuses for a period, its missing reports and reminders."""
    agency = await data.agency(reader, code)
    if agency is None:
        return not_found("agency", lang, code, reader.unavailable)
    catalogue, history = await asyncio.gather(
        data.indicators(reader), data.observations(reader, agency=code, scope="agency")
    )
    reported = [str(r.get("period")) for r in history]
    asked = parse_or_none(period)
    chosen = (
        str(asked) if asked else default_period(reported or published_periods(catalogue), today)
    )
    group = "central" if "central" in (agency.get("groups") or []) else "local"
    members, ranked, lagging, sent, synthetic = await asyncio.gather(
        data.populations(reader, chosen),
        data.rankings(reader, group=group, period=chosen, pillar=None),
        data.laggards(reader, period=chosen, program=None, lang=lang),
        data.notifications(reader, code),
        data.holds_synthetic(reader, chosen),
    )
    page = Page(
        name="agency",
        lang=lang,
        title=name_of(agency, lang, fallback=code),
        subtitle=f"{code} · {text('period', lang)} {chosen}",
        period=chosen,
        periods=[
            Choice(p, p)
            for p in period_choices(
                [*reported, *published_periods(catalogue)], today, chosen=chosen
            )
        ],
        facts=agency_facts(agency, lang),
        synthetic=bool(synthetic),
    )
    mine = [e for e in ranked if e.get("agency") == code]
    if mine:
        entry = mine[0]
        rank, previous = as_int(entry.get("rank")), as_int(entry.get("previous_rank"))
        # Unranked when it reported nothing (the scoring service's rule, scoring.md §6).
        position = (
            f"{rank}/{len(ranked)} · {text('score', lang)} "
            f"{score_number(entry.get('score'), lang)} · {rank_change(rank, previous, lang)[0]}"
            if rank is not None
            else f"{DASH}/{len(ranked)} · {assessment('no_data', lang)}"
        )
        page.facts.append(
            Fact(text("ranking_position", lang), position, href=f"/rankings?period={chosen}")
        )
    values, missing = reports_tables(expected_of(code, catalogue, members), history, chosen, lang)
    reasons = reasons_table([e for e in lagging if e.get("agency") == code], {code: agency}, lang)
    reasons.caption = text("lagging_reasons", lang)
    page.tables = [
        values,
        missing,
        ranking_table(group, mine, {code: agency}, lang),
        reasons,
        notifications_table(sent, lang),
    ]
    page.note_unavailable(reader.unavailable)
    return page
