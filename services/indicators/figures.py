"""National figures: the aggregation of agencies' stored values, or the published figure."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy.ext.asyncio import AsyncSession

from libs.common.events import AggregateValue
from libs.common.periods import ReportingPeriod, parse_period, periods_within
from services.indicators import repository
from services.indicators.catalogue_cache import CatalogueView
from services.indicators.domain.aggregation import (
    AgencyValue,
    Aggregate,
    aggregate,
    latest_values,
)
from services.indicators.domain.catalogue import Indicator
from services.indicators.models import ObservationRow


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
    return await compute_many(
        session, catalogue, [(indicator, period)], scopes=lambda _: scopes, as_of=as_of
    )


async def compute_many(
    session: AsyncSession,
    catalogue: CatalogueView,
    wanted: Sequence[tuple[Indicator, ReportingPeriod]],
    *,
    scopes: Callable[[Indicator], Sequence[str]] = scopes_of,
    as_of: datetime | None = None,
) -> list[Figure]:
    """Every scope's figure of each (indicator, period): one read of the agencies' values for
    all of them, and one of the published figures standing where no agency has reported."""
    values = await repository.agency_values(
        session,
        {(i.code, within) for i, period in wanted for within in periods_within(period)},
        as_of=as_of,
    )
    computed: list[tuple[Indicator, str, ReportingPeriod, Aggregate]] = []
    for indicator, period in wanted:
        latest: dict[str, AgencyValue | None] = latest_values(
            (
                (agency, parse_period(text), value)
                for agency, text, value in values.get(indicator.code, ())
            ),
            asked=period,
            frequency=indicator.reporting.frequency,
        )
        for scope in scopes(indicator):
            members = catalogue.members(indicator, scope, period)
            result = aggregate(indicator, members=members, values=latest, period=period)
            computed.append((indicator, scope, period, result))
    unreported = [(i, s, p) for i, s, p, result in computed if result.reported == 0]
    published = await _published(session, unreported, as_of)
    return [
        _figure(
            indicator, scope, period, result, published.get((indicator.code, scope, str(period)))
        )
        for indicator, scope, period, result in computed
    ]


async def _published(
    session: AsyncSession,
    figures: Sequence[tuple[Indicator, str, ReportingPeriod]],
    as_of: datetime | None,
) -> dict[tuple[str, str, str], ObservationRow]:
    """The figures the committee published for these (indicator, scope, period), where any."""
    if not figures:
        return {}
    found = await repository.series(
        session,
        indicators=sorted({i.code for i, _, _ in figures}),
        scopes=sorted({scope for _, scope, _ in figures}),
        periods=sorted({str(p) for _, _, p in figures}),
        as_of=as_of,
    )
    return {(row.indicator, row.scope, row.period): row for row in found}


def _figure(
    indicator: Indicator,
    scope: str,
    period: ReportingPeriod,
    result: Aggregate,
    published: ObservationRow | None,
) -> Figure:
    if published is not None:
        return Figure(
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
    return Figure(
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
