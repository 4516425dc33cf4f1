"""Populations: the named sets of agencies expected to report an indicator (a share's denominator).

A population is either an explicit member list or a rule: terms joined by '+', each term a group
(lower case: ``central``, ``central22``, ``dvc20``, ``local``) or an agency code (upper case:
``BHXH``). Membership is decided per period, at the period's end date: an agency counts if it is
valid that day; an agency that has ended by then is replaced by its successor (the successor
reports for its predecessors from its start date), and an agency that has not started yet is left
out. So a period ending by 2025-06-30 resolves over the 63 provinces and a later one over the 34.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from datetime import date
from types import MappingProxyType
from typing import Annotated, Self

from pydantic import BaseModel, ConfigDict, Field, model_validator

from libs.common.periods import ReportingPeriod
from services.indicators.domain.catalogue import AGENCY_CODE, GROUP_NAME, Agency, AgencyCode


class Population(BaseModel):
    """A named set of agencies: explicit ``members``, or a ``rule`` like 'central22+BHXH+local'."""

    model_config = ConfigDict(frozen=True, extra="forbid", str_strip_whitespace=True)

    name: Annotated[str, Field(min_length=1)]
    members: tuple[AgencyCode, ...] | None = None
    rule: str | None = None

    @model_validator(mode="after")
    def _one_definition(self) -> Self:
        if (self.members is None) == (self.rule is None):
            raise ValueError(f"population {self.name!r}: give exactly one of members or rule")
        if self.rule is not None:
            parse_rule(self.rule)
        return self


def parse_rule(rule: str) -> tuple[str, ...]:
    """Split a rule into its terms; ``ValueError`` for an empty or unrecognisable term."""
    terms = tuple(term.strip() for term in rule.split("+"))
    for term in terms:
        if not (re.fullmatch(GROUP_NAME, term) or re.fullmatch(AGENCY_CODE, term)):
            raise ValueError(
                f"rule {rule!r}: term {term!r} is neither a group (lower case, e.g. 'local') "
                "nor an agency code (upper case, e.g. 'BHXH')"
            )
    return terms


def _rule(name: str, rule: str) -> Population:
    return Population(name=name, rule=rule)


#: The populations programs.yaml describes, as rules (sizes checked in the unit tests).
DEFAULT_POPULATIONS: Mapping[str, Population] = MappingProxyType(
    {
        "central": _rule("central", "central"),
        "central22": _rule("central22", "central22"),
        "dvc20": _rule("dvc20", "dvc20"),
        "local": _rule("local", "local"),
        "dx86": _rule("dx86", "central22+BHXH+local"),
        "dvc83": _rule("dvc83", "dvc20+local"),
        "all93": _rule("all93", "central+local"),
        "central22+local": _rule("central22+local", "central22+local"),
    }
)


def population_named(name: str, *, custom: Mapping[str, Population] | None = None) -> Population:
    """The population called ``name``, ``custom`` ones taking precedence over the defaults."""
    known = {**DEFAULT_POPULATIONS, **(custom or {})}
    try:
        return known[name]
    except KeyError:
        raise KeyError(f"unknown population {name!r} (known: {', '.join(sorted(known))})") from None


def resolve_population(
    population: Population, agencies: Iterable[Agency], period: ReportingPeriod
) -> list[str]:
    """The sorted codes of the agencies that make up ``population`` for ``period``."""
    by_code = {agency.code: agency for agency in agencies}
    selected = _selected_codes(population, by_code)
    members = {_standing_for(code, by_code, period.end) for code in selected}
    return sorted(code for code in members if code is not None)


def _selected_codes(population: Population, by_code: Mapping[str, Agency]) -> set[str]:
    if population.members is not None:
        terms: tuple[str, ...] = population.members
    else:
        terms = parse_rule(population.rule or "")
    selected: set[str] = set()
    for term in terms:
        if re.fullmatch(AGENCY_CODE, term):
            if term not in by_code:
                raise ValueError(f"population {population.name!r}: unknown agency {term!r}")
            selected.add(term)
            continue
        in_group = {code for code, agency in by_code.items() if term in agency.groups}
        if not in_group:
            raise ValueError(f"population {population.name!r}: no agency is in group {term!r}")
        selected |= in_group
    return selected


def members_in_group(
    members: Iterable[str], *, group: str, agencies: Iterable[Agency]
) -> list[str]:
    """The sorted ``members`` that belong to ``group`` (scope ``central`` or ``local``)."""
    in_group = {agency.code for agency in agencies if group in agency.groups}
    return sorted(code for code in set(members) if code in in_group)


def successor_chain(code: str, agencies: Iterable[Agency]) -> list[str]:
    """``code`` followed by its successor, that one's successor, and so on."""
    by_code = {agency.code: agency for agency in agencies}
    return _chain(code, by_code)


def _chain(code: str, by_code: Mapping[str, Agency]) -> list[str]:
    chain = [code]
    while (successor := _agency(chain[-1], by_code).successor) is not None:
        if successor in chain:
            raise ValueError(f"successor cycle: {' -> '.join([*chain, successor])}")
        chain.append(successor)
    return chain


def successor_on(code: str, *, agencies: Iterable[Agency], day: date) -> str | None:
    """The agency standing for ``code`` on ``day``: itself, a successor, or ``None``."""
    return _standing_for(code, {agency.code: agency for agency in agencies}, day)


def _standing_for(code: str, by_code: Mapping[str, Agency], day: date) -> str | None:
    for candidate in _chain(code, by_code):
        agency = by_code[candidate]
        if agency.valid_from is not None and day < agency.valid_from:
            return None  # not started yet (nor, then, any of its successors)
        if agency.is_valid_on(day):
            return candidate
    return None  # ended with no successor


def predecessors(code: str, agencies: Iterable[Agency]) -> list[str]:
    """The sorted codes of every agency whose successor chain leads to ``code``."""
    by_code = {agency.code: agency for agency in agencies}
    _agency(code, by_code)
    return sorted(c for c in by_code if c != code and code in _chain(c, by_code))


def documented_size(description: str) -> int | None:
    """The size written at the end of a programs.yaml description ('dvc20 + local - 83' → 83)."""
    match = re.search(r"([0-9]+)\s*$", description)
    return int(match.group(1)) if match else None


def _agency(code: str, by_code: Mapping[str, Agency]) -> Agency:
    try:
        return by_code[code]
    except KeyError:
        raise KeyError(f"unknown agency {code!r}") from None
