"""The catalogue as domain objects, read from the database and kept briefly in memory."""

from __future__ import annotations

import time
from dataclasses import dataclass, field

from sqlalchemy.ext.asyncio import AsyncSession

from libs.common.errors import InvalidInput, NotFound, ProblemItem
from libs.common.periods import ReportingPeriod
from services.indicators import repository
from services.indicators.domain.aggregation import national_reporters
from services.indicators.domain.catalogue import Agency, Indicator
from services.indicators.domain.populations import (
    DEFAULT_POPULATIONS,
    Population,
    members_in_group,
    resolve_population,
)
from services.indicators.settings import HEADLINE_COVERAGE, IndicatorsSettings

# Replicas of this service see each other's catalogue edits within this many seconds.
TTL_SECONDS = 5.0

SCOPES = ("national", "central", "local")


@dataclass
class CatalogueView:
    """Agencies, indicators and populations, indexed for aggregation and validation."""

    agencies: dict[str, Agency]
    indicators: dict[str, Indicator]
    populations: dict[str, Population]
    loaded_at: float = field(default_factory=time.monotonic)
    #: Coverage from which computed figures are the headline (``services.indicators.figures``).
    headline_coverage: float = HEADLINE_COVERAGE
    _members: dict[tuple[str, str, ReportingPeriod], list[str]] = field(default_factory=dict)

    def indicator(self, code: str) -> Indicator:
        """The indicator, or 404."""
        try:
            return self.indicators[code]
        except KeyError:
            raise NotFound(f"No indicator {code}") from None

    def population(self, name: str) -> Population:
        """The population, or 404."""
        try:
            return self.populations[name]
        except KeyError:
            raise NotFound(f"No population {name}") from None

    def resolve(self, population: Population, period: ReportingPeriod) -> list[str]:
        """The population's members for ``period``."""
        try:
            return resolve_population(population, self.agencies.values(), period)
        except ValueError as error:
            raise InvalidInput(
                str(error), errors=[ProblemItem(loc=["population"], msg=str(error))]
            ) from error

    def members(self, indicator: Indicator, scope: str, period: ReportingPeriod) -> list[str]:
        """Who is expected to report ``indicator`` for ``scope`` and ``period`` (memoized)."""
        key = (indicator.code, scope, period)
        if key not in self._members:
            self._members[key] = self._resolve_members(indicator, scope, period)
        return self._members[key]

    def _resolve_members(
        self, indicator: Indicator, scope: str, period: ReportingPeriod
    ) -> list[str]:
        if scope.startswith("population:"):
            return self.resolve(self.population(scope.split(":", 1)[1]), period)
        if scope not in SCOPES:
            raise InvalidInput(
                f"Unknown scope {scope!r}",
                errors=[
                    ProblemItem(
                        loc=["query", "scope"],
                        msg="use national, central, local or population:<name>",
                    )
                ],
            )
        if indicator.aggregation == "national":
            return national_reporters(indicator)
        if indicator.population:
            base = self.resolve(self.population(indicator.population), period)
        else:
            base = self.resolve(self.populations["all93"], period)
        if scope == "national":
            return base
        return members_in_group(base, group=scope, agencies=self.agencies.values())


class CatalogueCache:
    """Loads the catalogue at most every few seconds; writers here invalidate it at once."""

    def __init__(self, settings: IndicatorsSettings | None = None) -> None:
        self._view: CatalogueView | None = None
        self.settings = settings or IndicatorsSettings()

    def invalidate(self) -> None:
        """Forget the cached view (after a catalogue write)."""
        self._view = None

    async def get(self, session: AsyncSession) -> CatalogueView:
        """The current catalogue."""
        view = self._view
        if view is None or time.monotonic() - view.loaded_at > TTL_SECONDS:
            view = await load_view(session)
            view.headline_coverage = self.settings.headline_coverage
            self._view = view
        return view


async def load_view(session: AsyncSession) -> CatalogueView:
    """Read the whole catalogue from the database."""
    populations = dict(DEFAULT_POPULATIONS)
    populations.update({p.name: p for p in await repository.load_populations(session)})
    return CatalogueView(
        agencies={a.code: a for a in await repository.load_agencies(session)},
        indicators={i.code: i for i in await repository.load_indicators(session)},
        populations=populations,
    )
