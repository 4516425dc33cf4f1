"""Aggregation of agency values into national figures (SCORING.md §4) and completeness (§5)."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

import pytest

import services.indicators
from libs.common.periods import ReportingPeriod, parse_period
from services.indicators.domain.aggregation import (
    AgencyValue,
    Aggregate,
    Completeness,
    aggregate,
    completeness,
    latest_values,
    meets_target,
    national_reporters,
)
from services.indicators.domain.catalogue import (
    Catalogue,
    Indicator,
    Target,
    load_reference_catalogue,
)
from services.indicators.domain.populations import DEFAULT_POPULATIONS, resolve_population

REFERENCE = Path(services.indicators.__file__).parent / "reference"
S1 = parse_period("2023-S1")


def indicator(**changes: Any) -> Indicator:
    data: dict[str, Any] = {
        "code": "T-01",
        "program": "KH2023",
        "pillar": "data",
        "name_vi": "Tỷ lệ thử nghiệm",
        "unit": "percent",
        "direction": "increase",
        "owner": "Bộ, ngành, địa phương",
        "aggregation": "share_of_agencies",
        "population": "dx86",
        "value_type": "boolean_per_agency",
        "targets": [{"year": 2023, "op": "=", "value": 100}],
    }
    data.update(changes)
    return Indicator.model_validate(data)


BOOLEAN_SHARE = indicator()


def codes(count: int, prefix: str = "A") -> list[str]:
    return [f"{prefix}{n:02d}" for n in range(count)]


@dataclass(frozen=True)
class ShareCase:
    members: list[str]
    values: Mapping[str, AgencyValue | None]
    expected: Aggregate


CASES = {
    "26-true-of-40": ShareCase(
        members=codes(40),
        values={code: n < 26 for n, code in enumerate(codes(36))},  # 26 true, 10 false
        expected=Aggregate(65.0, 26, 40, 36, 40, ("A36", "A37", "A38", "A39")),
    ),
    "45-of-86": ShareCase(
        members=codes(86),
        values={code: n < 45 for n, code in enumerate(codes(86))},
        expected=Aggregate(100 * 45 / 86, 45, 86, 86, 86, ()),  # 52.3255…, published 52.3
    ),
    "nobody-reported": ShareCase(
        members=codes(3),
        values={},
        expected=Aggregate(0.0, 0, 3, 0, 3, ("A00", "A01", "A02")),
    ),
    "none-means-not-reported": ShareCase(
        members=codes(2),
        values={"A00": None, "A01": True},
        expected=Aggregate(50.0, 1, 2, 1, 2, ("A00",)),
    ),
    "all-false-reported-not-met": ShareCase(
        members=codes(4),
        values=dict.fromkeys(codes(4), False),
        expected=Aggregate(0.0, 0, 4, 4, 4, ()),
    ),
    "non-members-ignored": ShareCase(
        members=["A00", "A01"],
        values={"A00": True, "A01": False, "ZZ": True},
        expected=Aggregate(50.0, 1, 2, 2, 2, ()),
    ),
    "empty-population": ShareCase(members=[], values={}, expected=Aggregate(None, 0, 0, 0, 0, ())),
    "missing-sorted": ShareCase(
        members=["P04", "BTTTT", "P01"],
        values={"P04": True},
        expected=Aggregate(100 / 3, 1, 3, 1, 3, ("BTTTT", "P01")),
    ),
    "exact-not-rounded": ShareCase(  # 6.25 stays 6.25; the dashboard shows 6,3
        members=codes(16),
        values={"A00": True},
        expected=Aggregate(6.25, 1, 16, 1, 16, tuple(codes(16)[1:])),
    ),
}


@pytest.mark.parametrize("case", CASES.values(), ids=CASES.keys())
def test_share_of_agencies(case: ShareCase) -> None:
    result = aggregate(BOOLEAN_SHARE, members=case.members, values=case.values, period=S1)
    assert result == case.expected


def test_share_keeps_full_precision() -> None:
    # KH2023-09 was published as 56.63 (47 of dvc83): one decimal (56.6) would lose it.
    values = {code: n < 47 for n, code in enumerate(codes(83))}
    result = aggregate(BOOLEAN_SHARE, members=codes(83), values=values, period=S1)
    assert result.value == 100 * 47 / 83
    assert round(result.value, 2) == 56.63


@pytest.mark.parametrize(
    ("op", "value", "met"),
    [(">", 30, False), (">", 30.1, True), (">=", 30, True), ("=", 30, True), ("=", 29.9, False)],
)
def test_numeric_share_counts_agencies_meeting_the_target(op: str, value: float, met: bool) -> None:
    numeric = indicator(value_type="percent", targets=[{"year": 2023, "op": op, "value": 30}])
    result = aggregate(numeric, members=["A", "B"], values={"A": value, "B": 0}, period=S1)
    assert (result.numerator, result.reported, result.value) == (int(met), 2, 50.0 if met else 0.0)


def test_numeric_share_uses_the_target_of_the_period_year() -> None:
    targets = [{"year": 2023, "op": ">=", "value": 50}, {"year": 2025, "op": ">=", "value": 80}]
    numeric = indicator(value_type="percent", targets=targets)
    values: dict[str, AgencyValue | None] = {"A": 60, "B": 85}
    in_2023 = aggregate(numeric, members=["A", "B"], values=values, period=S1)
    in_2025 = aggregate(numeric, members=["A", "B"], values=values, period=parse_period("2025"))
    assert (in_2023.numerator, in_2025.numerator) == (2, 1)


def test_numeric_share_without_targets_is_an_error() -> None:
    numeric = indicator(value_type="percent", targets=[])
    with pytest.raises(ValueError, match="no target"):
        aggregate(numeric, members=["A"], values={"A": 60}, period=S1)


@pytest.mark.parametrize(
    ("direction", "op", "value", "met"),
    [
        ("increase", "=", 100, True),
        ("increase", "=", 99.9, False),
        ("increase", ">=", 80, True),
        ("increase", ">", 80, False),
        ("increase", ">", 80.01, True),
        ("decrease", "=", 5, True),
        ("decrease", "=", 5.1, False),
        ("decrease", "<=", 4, True),
        ("decrease", "<", 5, False),
        ("decrease", "<", 4.99, True),
    ],
)
def test_meets_target(direction: str, op: str, value: float, met: bool) -> None:
    target_value = 100 if op == "=" and direction == "increase" else 80
    target_value = 5 if direction == "decrease" else target_value
    target = Target.model_validate({"year": 2023, "op": op, "value": target_value})
    assert meets_target(value, target, direction=direction) is met  # type: ignore[arg-type]


def test_mean() -> None:
    mean = indicator(aggregation="mean", value_type="percent", population="local")
    result = aggregate(mean, members=["A", "B", "C"], values={"A": 10, "B": 20.5}, period=S1)
    assert result == Aggregate(15.25, 30.5, 2, 2, 3, ("C",))
    nobody = aggregate(mean, members=["A"], values={}, period=S1)
    assert nobody == Aggregate(None, 0.0, 0, 0, 1, ("A",))


def test_ratio_of_sums_in_percent_and_in_units() -> None:
    ratio = indicator(aggregation="ratio_of_sums", value_type="percent", population="local")
    values: dict[str, AgencyValue | None] = {"A": (3, 4), "B": (1, 6)}
    result = aggregate(ratio, members=["A", "B", "C"], values=values, period=S1)
    assert result == Aggregate(40.0, 4.0, 10.0, 2, 3, ("C",))
    units = indicator(aggregation="ratio_of_sums", unit="services", value_type="number", targets=[])
    assert aggregate(units, members=["A", "B"], values=values, period=S1).value == 0.4
    zero = aggregate(ratio, members=["A"], values={"A": (0, 0)}, period=S1)
    assert (zero.value, zero.reported) == (None, 1)


@pytest.mark.parametrize(
    ("owner", "values", "reporters", "value", "missing"),
    [
        pytest.param("BCT", {"BCT": 7.5}, ["BCT"], 7.5, (), id="owner-reports"),
        pytest.param("BCT", {"BTTTT": 7.5}, ["BCT"], None, ("BCT",), id="owner-silent"),
        pytest.param("VPCP;BCA", {"BCA": 40, "VPCP": 41}, ["VPCP", "BCA"], 41, (), id="lead"),
        pytest.param("VPCP;BCA", {"BCA": 40}, ["VPCP", "BCA"], 40, ("VPCP",), id="co-owner"),
        pytest.param("Bộ, ngành, địa phương", {"BTTTT": 90.66}, ["BTTTT"], 90.66, (), id="prose"),
    ],
)
def test_national_is_the_reporter_value(
    owner: str,
    values: dict[str, AgencyValue | None],
    reporters: list[str],
    value: float | None,
    missing: tuple[str, ...],
) -> None:
    national = indicator(aggregation="national", value_type="percent", owner=owner)
    assert national_reporters(national) == reporters
    result = aggregate(national, members=reporters, values=values, period=S1)
    assert (result.value, result.numerator, result.denominator) == (value, None, None)
    assert (result.expected, result.missing) == (len(reporters), missing)


def test_by_group_is_a_share_for_booleans_and_a_mean_otherwise() -> None:
    booleans = indicator(aggregation="by_group", population=None)
    values: dict[str, AgencyValue | None] = {"A": True, "B": False}
    assert aggregate(booleans, members=["A", "B"], values=values, period=S1).value == 50.0
    percents = indicator(aggregation="by_group", value_type="percent", population=None)
    numbers: dict[str, AgencyValue | None] = {"A": 59.0, "B": 60.78}
    assert aggregate(
        percents, members=["A", "B"], values=numbers, period=S1
    ).value == pytest.approx(59.89)


@pytest.mark.parametrize(
    ("changes", "value", "message"),
    [
        pytest.param({}, 1, "agency A: 1 is not true or false", id="number-for-boolean"),
        pytest.param({}, "yes", "not true or false", id="text-for-boolean"),
        pytest.param(
            {"aggregation": "mean", "value_type": "percent"},
            True,
            "agency A: True is not a finite number",
            id="boolean-for-number",
        ),
        pytest.param(
            {"aggregation": "mean", "value_type": "percent"},
            float("nan"),
            "not a finite number",
            id="nan",
        ),
        pytest.param(
            {"aggregation": "ratio_of_sums", "value_type": "percent"},
            5,
            "not a \\(numerator, denominator\\) pair",
            id="number-for-pair",
        ),
        pytest.param(
            {"aggregation": "ratio_of_sums", "value_type": "percent"},
            (1, -2),
            "denominator >= 0",
            id="negative-denominator",
        ),
        pytest.param(
            {"aggregation": "national", "value_type": "percent"},
            (1, 2),
            "not a finite number",
            id="pair-for-national",
        ),
    ],
)
def test_wrong_value_types_are_named(changes: dict[str, Any], value: Any, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        aggregate(indicator(**changes), members=["A"], values={"A": value}, period=S1)


@pytest.fixture(scope="module")
def catalogue() -> Catalogue:
    return load_reference_catalogue(REFERENCE)


def dx86(catalogue: Catalogue, period: ReportingPeriod) -> list[str]:
    return resolve_population(DEFAULT_POPULATIONS["dx86"], catalogue.agencies, period)


def test_before_the_mergers_an_absorbed_province_is_expected(catalogue: Catalogue) -> None:
    period = parse_period("2025-S1")
    members = dx86(catalogue, period)
    values: dict[str, AgencyValue | None] = dict.fromkeys(members, True)
    del values["P02"]
    result = aggregate(BOOLEAN_SHARE, members=members, values=values, period=period)
    assert (result.expected, result.reported, result.missing) == (86, 85, ("P02",))
    assert result.value == 100 * 85 / 86


def test_after_the_mergers_successors_report_for_themselves_only(catalogue: Catalogue) -> None:
    period = parse_period("2025-S2")
    members = dx86(catalogue, period)
    values: dict[str, AgencyValue | None] = dict.fromkeys(members, True)
    values["P08"] = False  # the successor's value counts once, for itself
    values["P02"] = True  # stored under the absorbed code after it ended: not a member's
    del values["P25"]
    result = aggregate(BOOLEAN_SHARE, members=members, values=values, period=period)
    assert (result.expected, result.reported, result.numerator) == (57, 56, 55)
    assert result.missing == ("P25",)
    assert result.value == 100 * 55 / 57


def test_the_published_figure_of_kh2023_01_is_reproduced(catalogue: Catalogue) -> None:
    kh = catalogue.indicator("KH2023-01")
    members = dx86(catalogue, S1)
    values: dict[str, AgencyValue | None] = {code: n < 45 for n, code in enumerate(members)}
    result = aggregate(kh, members=members, values=values, period=S1)
    assert result.value == 100 * 45 / 86
    assert round(result.value, 1) == kh.published[0].value == 52.3  # its published precision
    assert (result.numerator, result.denominator) == (45, 86)


def test_latest_values_pick_the_value_standing_for_the_period() -> None:
    observations: list[tuple[str, ReportingPeriod, AgencyValue]] = [
        ("A", parse_period("2023-02"), 10),
        ("A", parse_period("2023-05"), 12),
        ("A", parse_period("2023-07"), 14),
        ("B", parse_period("2023-03"), 20),
        ("B", parse_period("2023-03"), 21),  # a later correction of the same month
        ("C", parse_period("2022-12"), 30),
    ]
    assert latest_values(observations, asked=S1, frequency="month") == {"A": 12, "B": 21}
    assert latest_values(observations, asked=S1, frequency="half") == {}
    yearly = [("A", parse_period("2023"), True), ("B", parse_period("2023-S1"), True)]
    assert latest_values(yearly, asked=parse_period("2023"), frequency="year") == {"A": True}


DUE = S1.due_date(15)  # 2023-07-15


@pytest.mark.parametrize(
    ("reported_on", "expected"),
    [
        pytest.param(
            {"A": date(2023, 7, 10), "B": DUE, "C": date(2023, 7, 16), "Z": date(2023, 7, 1)},
            Completeness(4, 3, 2, ("D",), ("C",)),
            id="one-missing-one-late",
        ),
        pytest.param({}, Completeness(4, 0, 0, ("A", "B", "C", "D"), ()), id="nobody"),
        pytest.param(
            {"A": datetime(2023, 7, 15, 16, 59, tzinfo=UTC)},
            Completeness(4, 1, 1, ("B", "C", "D"), ()),
            id="utc-23h59-in-hanoi",
        ),
        pytest.param(
            {"A": datetime(2023, 7, 15, 17, 0, tzinfo=UTC)},
            Completeness(4, 1, 0, ("B", "C", "D"), ("A",)),
            id="utc-midnight-in-hanoi",
        ),
        pytest.param(
            {"A": datetime(2023, 7, 15, 23, 59)},
            Completeness(4, 1, 1, ("B", "C", "D"), ()),
            id="naive-is-local",
        ),
    ],
)
def test_completeness_per_indicator(reported_on: dict[str, date], expected: Completeness) -> None:
    result = completeness(expected=["D", "C", "B", "A", "A"], reported_on=reported_on, due=DUE)
    assert result == expected


def test_completeness_rates() -> None:
    reported_on = {"A": date(2023, 7, 10), "B": DUE, "C": date(2023, 7, 16)}
    result = completeness(expected=["A", "B", "C", "D"], reported_on=reported_on, due=DUE)
    assert (result.reporting_rate, result.on_time_rate) == (75.0, 50.0)
    nothing = completeness(expected=[], reported_on={}, due=DUE)
    assert (nothing.reporting_rate, nothing.on_time_rate) == (None, None)


def test_completeness_per_agency_with_a_due_date_per_indicator() -> None:
    due = {"KH2023-01": DUE, "KH2023-20": parse_period("2023-Q2").due_date(30)}
    reported_on = {"KH2023-01": date(2023, 7, 20), "KH2023-20": date(2023, 7, 20)}
    result = completeness(expected=list(due), reported_on=reported_on, due=due)
    assert result == Completeness(2, 2, 1, (), ("KH2023-01",))


def test_an_agency_is_held_to_the_target_it_set_itself() -> None:
    # Seed 001: agencies "tự đặt ra chỉ tiêu"; the committee's target is the default.
    own = indicator(
        value_type="percent",
        targets=[{"year": 2023, "op": ">=", "value": 80}],
        agency_targets={"B": [{"year": 2023, "op": ">=", "value": 50}]},
    )
    values: dict[str, AgencyValue | None] = {"A": 60, "B": 60}
    result = aggregate(own, members=["A", "B"], values=values, period=S1)
    assert result.numerator == 1  # B meets its own 50; A falls short of the committee's 80
    assert own.target_for(2023, agency="A") == own.target_for(2023)
    with pytest.raises(ValueError, match="agency B: op '<=' does not fit"):
        indicator(
            value_type="percent", agency_targets={"B": [{"year": 2023, "op": "<=", "value": 5}]}
        )
