"""Scoring's view of indicators and agencies: targets in force, reporters owed, groups."""

from datetime import date

import pytest

from libs.common.periods import parse_period
from services.scoring.domain.catalogue import Agency, Indicator, Reporter
from services.scoring.domain.targets import Comparator, Target
from tests.unit.scoring_service.indicators import create_indicator

PUBLISHED = {
    "code": "KH2023-11b",
    "program": "KH2023",
    "goal": "KH2023-11",
    "primary": False,
    "pillar": "gov",
    "unit": "percent",
    "direction": "increase",
    "aggregation": "by_group",
    "targets": [{"year": 2023, "op": "=", "value": 40}],
    "frequency": "half",
    "due_days": 15,
    "weight": 1.0,
    "reporters": [{"agency": "P01", "valid_from": None, "valid_to": "2025-06-30"}],
    "name_vi": "not used by scoring",
}


def test_an_indicator_is_built_from_its_published_fields() -> None:
    indicator = Indicator.from_mapping(PUBLISHED)
    assert indicator.targets == (Target(2023, Comparator.EQ, 40.0),)
    assert indicator.reporters == (Reporter("P01", None, date(2025, 6, 30)),)
    assert indicator.headline_scopes == ("central", "local")
    assert indicator.measures_agencies


@pytest.mark.parametrize(
    "change",
    [
        pytest.param({"direction": "sideways"}, id="unknown-direction"),
        pytest.param(
            {"targets": [{"year": 2023, "op": "<", "value": 4}]}, id="op-against-direction"
        ),
        pytest.param({"frequency": "weekly"}, id="unknown-frequency"),
        pytest.param({"weight": -1}, id="negative-weight"),
    ],
)
def test_an_indicator_scoring_cannot_use_is_refused(change: dict[str, object]) -> None:
    with pytest.raises(ValueError, match=r"."):
        Indicator.from_mapping(PUBLISHED | change)


@pytest.mark.parametrize(
    ("period", "year"),
    [
        pytest.param("2022-S1", 2023, id="next-target"),
        pytest.param("2023", 2023, id="target-of-the-year"),
        pytest.param("2025-S2", 2025, id="later-target"),
    ],
)
def test_the_target_in_force(period: str, year: int) -> None:
    indicator = create_indicator(targets=[(2023, "=", 100), (2025, "=", 100)])
    target = indicator.target_for(parse_period(period))
    assert target is not None
    assert target.year == year


def test_no_target_in_force_once_every_deadline_passed() -> None:
    assert create_indicator(targets=[(2023, "=", 100)]).target_for(parse_period("2024-S1")) is None


def test_expected_reporters_follow_validity_and_frequency() -> None:
    merged = Reporter("P02", valid_to=date(2025, 6, 30))
    successor = Reporter("P03", valid_from=date(2025, 7, 1))
    indicator = create_indicator(reporters=["P01", merged, successor])
    assert indicator.expected_reporters(parse_period("2025-S1")) == ["P01", "P02"]
    assert indicator.expected_reporters(parse_period("2025-S2")) == ["P01", "P03"]
    assert indicator.expected_reporters(parse_period("2025-Q1")) == []  # half-yearly


def test_national_figures_are_not_agency_measures() -> None:
    assert not create_indicator(aggregation="national").measures_agencies
    assert create_indicator(aggregation="national").headline_scopes == ("national",)
    assert create_indicator(aggregation="share_of_agencies").headline_scopes == ("national",)


def test_agencies_rank_in_central_or_local_while_they_exist() -> None:
    absorbed = Agency("P02", "Hà Giang", "province", ("local",), valid_to=date(2025, 6, 30))
    assert absorbed.ranking_groups() == ("local",)
    assert absorbed.exists_on(date(2025, 6, 30))
    assert not absorbed.exists_on(date(2025, 12, 31))
    ministry = Agency("BYT", "Bộ Y tế", "ministry", ("central", "central22", "dvc20"))
    assert ministry.ranking_groups() == ("central",)
