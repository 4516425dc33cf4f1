"""Populations: the default rules match programs.yaml, and membership follows the 2025 mergers."""

from __future__ import annotations

from datetime import date
from pathlib import Path
from typing import Any

import pytest
from pydantic import ValidationError

import services.indicators
from libs.common.periods import parse_period
from services.indicators.domain.catalogue import Agency, Catalogue, load_reference_catalogue
from services.indicators.domain.populations import (
    DEFAULT_POPULATIONS,
    Population,
    documented_size,
    members_in_group,
    parse_rule,
    population_named,
    predecessors,
    resolve_population,
    successor_chain,
    successor_on,
)

REFERENCE = Path(services.indicators.__file__).parent / "reference"


@pytest.fixture(scope="module")
def catalogue() -> Catalogue:
    return load_reference_catalogue(REFERENCE)


def agency(code: str, *groups: str, **fields: Any) -> Agency:
    kind = "province" if "local" in groups else "ministry"
    return Agency.model_validate(
        {"code": code, "name_vi": code, "name_en": code, "kind": kind, "groups": groups, **fields}
    )


def size(catalogue: Catalogue, name: str, period: str) -> int:
    population = DEFAULT_POPULATIONS[name]
    return len(resolve_population(population, catalogue.agencies, parse_period(period)))


@pytest.mark.parametrize(
    ("name", "expected"),
    [
        ("dx86", 86),
        ("dvc83", 83),
        ("all93", 93),
        ("central22+local", 85),
        ("central", 30),
        ("central22", 22),
        ("dvc20", 20),
        ("local", 63),
    ],
)
def test_default_populations_have_the_sizes_programs_yaml_states(
    catalogue: Catalogue, name: str, expected: int
) -> None:
    assert documented_size(catalogue.populations[name]) == expected
    for period in ("2022-S1", "2023-S1", "2023", "2025-S1", "2025-06"):
        assert size(catalogue, name, period) == expected


def test_every_population_in_programs_yaml_has_a_default_rule(catalogue: Catalogue) -> None:
    assert set(DEFAULT_POPULATIONS) == set(catalogue.populations)
    used = {i.population for i in catalogue.indicators if i.population}
    assert used <= set(DEFAULT_POPULATIONS)


def test_central_is_every_ministry_and_agency_kind(catalogue: Catalogue) -> None:
    central = resolve_population(
        DEFAULT_POPULATIONS["central"], catalogue.agencies, parse_period("2023")
    )
    kinds = ("ministry", "ministerial_agency", "government_agency")
    assert central == sorted(a.code for a in catalogue.agencies if a.kind in kinds)


def test_dx86_is_central22_bhxh_and_local(catalogue: Catalogue) -> None:
    period = parse_period("2023-S1")
    dx86 = resolve_population(DEFAULT_POPULATIONS["dx86"], catalogue.agencies, period)
    assert "BHXH" in dx86
    assert "VTV" not in dx86
    assert "P01" in dx86


@pytest.mark.parametrize(
    ("name", "after_mergers"),
    [
        ("local", 34),
        ("dx86", 22 + 1 + 34),
        ("dvc83", 20 + 34),
        ("all93", 30 + 34),
        ("central22+local", 22 + 34),
        ("central", 30),
    ],
)
@pytest.mark.parametrize("period", ["2025-S2", "2025", "2025-Q3", "2025-07", "2026-S1"])
def test_periods_ending_after_the_mergers_resolve_over_34_provinces(
    catalogue: Catalogue, name: str, after_mergers: int, period: str
) -> None:
    assert size(catalogue, name, period) == after_mergers


def test_a_merged_province_is_a_member_until_its_last_day(catalogue: Catalogue) -> None:
    local = DEFAULT_POPULATIONS["local"]
    before = resolve_population(local, catalogue.agencies, parse_period("2025-S1"))
    after = resolve_population(local, catalogue.agencies, parse_period("2025-S2"))
    assert "P02" in before
    assert "P02" not in after
    assert "P08" in after
    assert set(after) <= set(before)


def test_explicit_members_are_replaced_by_their_successor(catalogue: Catalogue) -> None:
    population = Population(name="pilot", members=("P02", "P08", "BTTTT"))
    before = resolve_population(population, catalogue.agencies, parse_period("2023"))
    after = resolve_population(population, catalogue.agencies, parse_period("2025-S2"))
    assert before == ["BTTTT", "P02", "P08"]
    assert after == ["BTTTT", "P08"]


def test_an_agency_that_has_not_started_is_not_a_member() -> None:
    agencies = [
        agency("P01", "local"),
        agency("P99", "local", valid_from=date(2026, 1, 1)),
    ]
    local = DEFAULT_POPULATIONS["local"]
    assert resolve_population(local, agencies, parse_period("2025")) == ["P01"]
    assert resolve_population(local, agencies, parse_period("2026-Q1")) == ["P01", "P99"]


def test_an_agency_ended_without_successor_drops_out() -> None:
    agencies = [agency("A", "central"), agency("B", "central", valid_to=date(2024, 12, 31))]
    central = DEFAULT_POPULATIONS["central"]
    assert resolve_population(central, agencies, parse_period("2024")) == ["A", "B"]
    assert resolve_population(central, agencies, parse_period("2025-01")) == ["A"]


def test_a_successor_outside_the_group_reports_for_its_predecessor() -> None:
    agencies = [
        agency("OLD", "dvc20", valid_to=date(2025, 2, 28), successor="NEW"),
        agency("NEW", "central"),
    ]
    dvc20 = DEFAULT_POPULATIONS["dvc20"]
    assert resolve_population(dvc20, agencies, parse_period("2025-02")) == ["OLD"]
    assert resolve_population(dvc20, agencies, parse_period("2025-03")) == ["NEW"]


@pytest.mark.parametrize(
    ("data", "message"),
    [
        ({"name": "x"}, "exactly one of members or rule"),
        ({"name": "x", "members": ["P01"], "rule": "local"}, "exactly one of members or rule"),
        ({"name": "x", "rule": "central22++local"}, "term '' is neither a group"),
        ({"name": "x", "rule": "central22+Bhxh"}, "term 'Bhxh' is neither a group"),
        ({"name": "x", "rule": "central 22"}, "neither a group"),
        ({"name": "x", "members": ["p01"]}, "members"),
        ({"name": "", "rule": "local"}, "name"),
    ],
)
def test_population_definitions_are_checked(data: dict[str, Any], message: str) -> None:
    with pytest.raises(ValidationError, match=message):
        Population.model_validate(data)


def test_parse_rule_splits_terms() -> None:
    assert parse_rule("central22 + BHXH + local") == ("central22", "BHXH", "local")
    with pytest.raises(ValueError, match="neither a group"):
        parse_rule("")


@pytest.mark.parametrize(
    ("population", "message"),
    [
        (Population(name="x", rule="local+regional"), "no agency is in group 'regional'"),
        (Population(name="x", rule="central22+BHXHX"), "unknown agency 'BHXHX'"),
        (Population(name="x", members=("P99",)), "population 'x': unknown agency 'P99'"),
    ],
)
def test_resolving_names_unknown_groups_and_agencies(
    catalogue: Catalogue, population: Population, message: str
) -> None:
    with pytest.raises(ValueError, match=message):
        resolve_population(population, catalogue.agencies, parse_period("2023"))


def test_an_empty_member_list_is_an_empty_population(catalogue: Catalogue) -> None:
    empty = Population(name="none", members=())
    assert resolve_population(empty, catalogue.agencies, parse_period("2023")) == []


def test_successor_chain_and_standing_agency(catalogue: Catalogue) -> None:
    assert successor_chain("P02", catalogue.agencies) == ["P02", "P08"]
    assert successor_chain("P08", catalogue.agencies) == ["P08"]
    on = {
        day: successor_on("P02", agencies=catalogue.agencies, day=day)
        for day in (
            date(2025, 6, 30),
            date(2025, 7, 1),
        )
    }
    assert on == {date(2025, 6, 30): "P02", date(2025, 7, 1): "P08"}
    with pytest.raises(KeyError, match="unknown agency 'P99'"):
        successor_chain("P99", catalogue.agencies)


def test_a_chain_of_mergers_is_followed() -> None:
    agencies = [
        agency("A", "local", valid_to=date(2025, 6, 30), successor="B"),
        agency("B", "local", valid_to=date(2030, 12, 31), successor="C"),
        agency("C", "local"),
    ]
    assert successor_chain("A", agencies) == ["A", "B", "C"]
    assert successor_on("A", agencies=agencies, day=date(2031, 1, 1)) == "C"
    assert predecessors("C", agencies) == ["A", "B"]
    local = DEFAULT_POPULATIONS["local"]
    assert resolve_population(local, agencies, parse_period("2031")) == ["C"]


def test_a_successor_cycle_is_an_error() -> None:
    agencies = [
        agency("A", "local", valid_to=date(2025, 6, 30), successor="B"),
        agency("B", "local", valid_to=date(2025, 6, 30), successor="A"),
    ]
    with pytest.raises(ValueError, match="successor cycle: A -> B -> A"):
        successor_chain("A", agencies)


def test_predecessors_of_a_successor(catalogue: Catalogue) -> None:
    assert predecessors("P25", catalogue.agencies) == ["P17", "P26"]
    assert predecessors("P79", catalogue.agencies) == ["P74", "P77"]
    assert predecessors("P01", catalogue.agencies) == []


def test_members_in_group_gives_the_central_or_local_scope(catalogue: Catalogue) -> None:
    members = resolve_population(
        DEFAULT_POPULATIONS["central22+local"], catalogue.agencies, parse_period("2022-S1")
    )
    central = members_in_group(members, group="central", agencies=catalogue.agencies)
    local = members_in_group(members, group="local", agencies=catalogue.agencies)
    assert (len(central), len(local)) == (22, 63)


def test_population_named() -> None:
    assert population_named("dx86").rule == "central22+BHXH+local"
    custom = {"dx86": Population(name="dx86", members=("P01",))}
    assert population_named("dx86", custom=custom).members == ("P01",)
    with pytest.raises(KeyError, match="unknown population 'dx99' \\(known: all93, central"):
        population_named("dx99")


@pytest.mark.parametrize(
    ("description", "expected"),
    [("central22 + BHXH + local - 86", 86), ("85", 85), ("provinces", None)],
)
def test_documented_size(description: str, expected: int | None) -> None:
    assert documented_size(description) == expected
