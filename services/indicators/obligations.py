"""What an agency owes for a period: each indicator it reports, by when, and what is already in.

Owned by the indicators service: it holds the catalogue (who reports what: the populations and
the owners of national figures) and the observation store (what is in), so it answers alone,
from one read of the agency's values; ingest validates against the same reporter lists, which
it receives from here on ``dx.catalogue.v1``.

Rules, for an agency and an asked period P:

- the reporting periods are every period of the indicator's frequency inside P (P itself for
  a half-yearly indicator asked for a half-year; both halves when asked for the year; none for a
  yearly indicator asked for a half-year, whose obligation is the year's);
- the agency owes a reporting period R when it is one of the indicator's reporters for R, as
  aggregation counts them (``CatalogueView.members``: its population, by group, or the owners of
  a national figure), so an agency absorbed before R ends owes nothing for R;
- R is due ``due_days`` after its end (``ReportingPeriod.due_date``); its status, on today's
  Vietnamese date, is ``received`` (a value is stored), ``open`` (R has not ended), ``due``
  (ended, not yet due) or ``overdue``.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime
from typing import Literal

from sqlalchemy.ext.asyncio import AsyncSession

from libs.common.periods import ReportingPeriod, parse_period, periods_within
from services.indicators import repository
from services.indicators.catalogue_cache import CatalogueView
from services.indicators.domain.catalogue import Indicator

Status = Literal["received", "open", "due", "overdue"]


@dataclass(frozen=True)
class Obligation:
    """One indicator an agency reports for one reporting period, and what it sent."""

    indicator: Indicator
    period: ReportingPeriod
    due_date: date
    status: Status
    value: bool | float | None = None
    note: str | None = None
    reported_at: datetime | None = None
    late: bool | None = None


def reporting_periods(indicator: Indicator, asked: ReportingPeriod) -> list[ReportingPeriod]:
    """The periods of the indicator's frequency inside ``asked``."""
    inside = (parse_period(text) for text in periods_within(asked))
    return sorted(p for p in inside if p.kind == indicator.reporting.frequency)


def status_of(period: ReportingPeriod, due: date, *, received: bool, today: date) -> Status:
    """Where an obligation stands on ``today``."""
    if received:
        return "received"
    if not period.has_ended(today):
        return "open"
    return "due" if today <= due else "overdue"


async def obligations(
    session: AsyncSession,
    catalogue: CatalogueView,
    *,
    agency: str,
    period: ReportingPeriod,
    today: date,
    indicators: Sequence[Indicator] | None = None,
) -> list[Obligation]:
    """What ``agency`` owes for ``period``, by indicator code then reporting period."""
    owed = [
        (indicator, reporting)
        for indicator in sorted(indicators or catalogue.indicators.values(), key=lambda i: i.code)
        for reporting in reporting_periods(indicator, period)
        if agency in catalogue.members(indicator, "national", reporting)
    ]
    rows = await repository.series(
        session,
        indicators=sorted({indicator.code for indicator, _ in owed}),
        agencies=[agency],
        scopes=["agency"],
        periods=sorted({str(reporting) for _, reporting in owed}),
    )
    stored = {(row.indicator, row.period): row for row in rows}
    found = []
    for indicator, reporting in owed:
        row = stored.get((indicator.code, str(reporting)))
        due = reporting.due_date(indicator.reporting.due_days)
        status = status_of(reporting, due, received=row is not None, today=today)
        if row is None:
            found.append(Obligation(indicator, reporting, due, status))
            continue
        found.append(
            Obligation(
                indicator,
                reporting,
                due,
                status,
                value=row.value,
                note=row.note,
                reported_at=row.reported_at,
                late=row.late,
            )
        )
    return found
