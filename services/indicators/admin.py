"""Catalogue edits by the standing agency: validated, stored, and announced to the others."""

from __future__ import annotations

from pydantic import ValidationError
from sqlalchemy.ext.asyncio import AsyncSession

from libs.common.errors import InvalidInput, ProblemItem, validation_items
from libs.common.events import CATALOGUE_KEY, IndicatorPublished
from libs.common.messaging import Outbox
from services.indicators import repository
from services.indicators.catalogue_cache import CatalogueCache, CatalogueView, load_view
from services.indicators.domain.catalogue import Agency, Indicator
from services.indicators.domain.populations import Population
from services.indicators.schemas import AgencyIn, PopulationIn
from services.indicators.service import agency_event, indicator_event


def _invalid(error: ValidationError | ValueError) -> InvalidInput:
    if isinstance(error, ValidationError):
        return InvalidInput(
            "The definition is not valid", errors=validation_items(error.errors(include_url=False))
        )
    return InvalidInput(str(error), errors=[ProblemItem(loc=["body"], msg=str(error))])


class CatalogueAdmin:
    """Upserts that keep the catalogue consistent and every replica of it informed."""

    def __init__(self, cache: CatalogueCache, outbox: Outbox) -> None:
        self.cache = cache
        self.outbox = outbox

    async def save_agency(self, session: AsyncSession, code: str, body: AgencyIn) -> Agency:
        """Create or replace an agency; re-announce the indicators it may report."""
        try:
            agency = Agency(code=code, **body.model_dump())
        except (ValidationError, ValueError) as error:
            raise _invalid(error) from error
        view = await load_view(session)
        for ref in (agency.parent, agency.successor):
            if ref is not None and ref not in view.agencies and ref != code:
                raise InvalidInput(
                    f"Unknown agency {ref}",
                    errors=[
                        ProblemItem(
                            loc=["body", "successor" if ref == agency.successor else "parent"],
                            msg="unknown agency",
                        )
                    ],
                )
        await repository.upsert_agency(session, agency)
        await self.outbox.add(session, (agency_event(agency), CATALOGUE_KEY))
        await self._announce_indicators(session, before=view)
        return agency

    async def save_population(
        self, session: AsyncSession, name: str, body: PopulationIn
    ) -> Population:
        """Create or replace a population; re-announce the indicators that use it."""
        try:
            population = Population(
                name=name,
                members=tuple(body.members) if body.members is not None else None,
                rule=body.rule,
            )
        except (ValidationError, ValueError) as error:
            raise _invalid(error) from error
        view = await load_view(session)
        unknown = sorted(set(population.members or ()) - set(view.agencies))
        if unknown:
            raise InvalidInput(
                "Unknown member agencies",
                errors=[
                    ProblemItem(loc=["body", "members", code], msg="unknown agency")
                    for code in unknown
                ],
            )
        await repository.upsert_population(session, population, body.description)
        await self._announce_indicators(session, before=view, population=name)
        return population

    async def save_indicator(
        self, session: AsyncSession, code: str, body: dict[str, object]
    ) -> Indicator:
        """Create or replace an indicator definition and announce it."""
        try:
            indicator = Indicator.model_validate({**body, "code": code})
        except (ValidationError, ValueError) as error:
            raise _invalid(error) from error
        view = await load_view(session)
        if indicator.population and indicator.population not in view.populations:
            raise InvalidInput(
                f"Unknown population {indicator.population}",
                errors=[ProblemItem(loc=["body", "population"], msg="unknown population")],
            )
        await repository.upsert_indicator(session, indicator)
        await self._announce_indicators(session, code=code)
        return indicator

    async def _announce_indicators(
        self,
        session: AsyncSession,
        *,
        before: CatalogueView | None = None,
        population: str | None = None,
        code: str | None = None,
    ) -> None:
        """Announce the chosen indicators; with ``before``, only those whose event changed.

        An agency's contacts or names change no indicator: a storm of agency edits then
        announces agencies only, not the whole catalogue once per edit.
        """
        await session.flush()
        self.cache.invalidate()
        view = await load_view(session)
        events = [
            (event, CATALOGUE_KEY)
            for i in view.indicators.values()
            if (code is None or i.code == code)
            and (population is None or (i.population or "all93") == population)
            and (event := indicator_event(i, view)) != _former(before, i.code)
        ]
        await self.outbox.add(session, *events)


def _former(view: CatalogueView | None, code: str) -> IndicatorPublished | None:
    """The event that announced indicator ``code`` as of ``view`` (None: announce anyway)."""
    if view is None or code not in view.indicators:
        return None
    return indicator_event(view.indicators[code], view)
