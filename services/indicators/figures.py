"""National figures: the aggregation of agencies' stored values, beside the published figure.

Each figure carries both what the committee published (from its documents) and what the platform
computes from agencies' reports, with the coverage of the computed one (``reported`` of
``expected`` agencies). The **headline** — the figure ``value`` gives, that scoring scores and the
dashboard shows first — is chosen by one rule (``headline_method``):

- no published figure: the computed one (nothing else to show);
- a published figure: it stays the headline until ``reported / expected`` reaches the coverage
  share the service is configured with (``DX_INDICATORS_HEADLINE_COVERAGE``, default 0.8); from
  then on the computed figure is the headline, and the published one is still shown next to it.

A closed period is not enough on its own: the periods the committee already published are long
over, and five reports out of 86 must not replace its 52.3% with a 3.5%.
"""

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
    """An aggregate for one indicator, scope and period: headline, computed and published."""

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
    computed: float | None = None
    published: float | None = None
    published_note: str | None = None

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
            computed=self.computed,
            published=self.published,
            source=self.source,
        )


def headline_method(*, published: bool, reported: int, expected: int, coverage: float) -> str:
    """``published`` or ``computed``: which figure is the headline (see the module's rule)."""
    if not published:
        return "computed"
    if reported and expected and reported / expected >= coverage:
        return "computed"
    return "published"


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
    """The figure of one scope: computed, published, and the headline of the two."""
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
    all of them, and one of the figures the committee published for them."""
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
    published = await _published(session, [(i, s, p) for i, s, p, _ in computed], as_of)
    return [
        _figure(
            indicator,
            scope,
            period,
            result,
            published.get((indicator.code, scope, str(period))),
            coverage=catalogue.headline_coverage,
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
    found: ObservationRow | None,
    *,
    coverage: float,
) -> Figure:
    """The figure: computed and published side by side, and the headline of the two."""
    method = headline_method(
        published=found is not None,
        reported=result.reported,
        expected=result.expected,
        coverage=coverage,
    )
    computed = result.value if result.reported else None
    return Figure(
        indicator.code,
        scope,
        str(period),
        found.value_number if found is not None and method == "published" else computed,
        result.numerator,
        result.denominator,
        result.reported,
        result.expected,
        result.missing,
        method,
        found.source if found is not None else None,
        computed,
        found.value_number if found is not None else None,
        found.note if found is not None else None,
    )
