"""National figures: the aggregation of agencies' stored values, or the published figure."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy.ext.asyncio import AsyncSession

from libs.common.events import AggregateValue
from libs.common.periods import ReportingPeriod, parse_period, periods_within
from services.indicators import repository
from services.indicators.catalogue_cache import CatalogueView
from services.indicators.domain.aggregation import AgencyValue, aggregate, latest_values
from services.indicators.domain.catalogue import Indicator


@dataclass(frozen=True)
class Figure:
    """An aggregate for one indicator, scope and period, and where it came from."""

    indicator: str
    scope: str
    period: str
    value: float | None
    numerator: float | None
    denominator: float | None
    reported: int
    expected: int
    missing: tuple[str, ...]
    method: str
    source: str | None = None

    def event(self) -> AggregateValue:
        """The figure as carried on ``dx.observations.v1``."""
        return AggregateValue(
            indicator=self.indicator,
            scope=self.scope,
            period=self.period,
            value=self.value,
            numerator=self.numerator,
            denominator=self.denominator,
            reported=self.reported,
            expected=self.expected,
            method=self.method,
        )


def scopes_of(indicator: Indicator) -> tuple[str, ...]:
    """The scopes a national figure of this indicator is published for."""
    if indicator.aggregation == "by_group":
        return ("central", "local")
    if indicator.aggregation == "share_of_agencies":
        return ("national", "central", "local")
    return ("national",)


async def compute_figure(
    session: AsyncSession,
    catalogue: CatalogueView,
    *,
    indicator: Indicator,
    scope: str,
    period: ReportingPeriod,
    as_of: datetime | None = None,
) -> Figure:
    """The figure from agencies' values; the published one when no agency has reported."""
    figures = await compute_figures(
        session, catalogue, indicator=indicator, scopes=[scope], period=period, as_of=as_of
    )
    return figures[0]


async def compute_figures(
    session: AsyncSession,
    catalogue: CatalogueView,
    *,
    indicator: Indicator,
    scopes: Sequence[str],
    period: ReportingPeriod,
    as_of: datetime | None = None,
) -> list[Figure]:
    """The figure of each scope, from one read of the agencies' values for the period."""
    members = {scope: catalogue.members(indicator, scope, period) for scope in scopes}
    rows = await repository.series(
        session,
        indicators=[indicator.code],
        agencies=sorted(set().union(*members.values())),
        scopes=["agency"],
        periods=periods_within(period),
        as_of=as_of,
    )
    values: dict[str, AgencyValue | None] = latest_values(
        ((row.agency, parse_period(row.period), row.value) for row in rows),
        asked=period,
        frequency=indicator.reporting.frequency,
    )
    figures = []
    for scope in scopes:
        result = aggregate(indicator, members=members[scope], values=values, period=period)
        published = None
        if result.reported == 0:
            found = await repository.series(
                session,
                indicators=[indicator.code],
                scopes=[scope],
                periods=[str(period)],
                as_of=as_of,
            )
            published = found[-1] if found else None
        if published is not None:
            figures.append(
                Figure(
                    indicator.code,
                    scope,
                    str(period),
                    published.value_number,
                    None,
                    None,
                    0,
                    result.expected,
                    result.missing,
                    "published",
                    published.source,
                )
            )
        else:
            figures.append(
                Figure(
                    indicator.code,
                    scope,
                    str(period),
                    result.value,
                    result.numerator,
                    result.denominator,
                    result.reported,
                    result.expected,
                    result.missing,
                    "computed",
                )
            )
    return figures
