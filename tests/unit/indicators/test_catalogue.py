"""The catalogue models and the loader, against the real reference files and broken copies."""

from __future__ import annotations

import shutil
from collections import Counter
from datetime import date
from pathlib import Path
from typing import Any

import pytest
from pydantic import ValidationError

import services.indicators
from libs.common.periods import parse_period
from services.indicators.domain.catalogue import (
    Agency,
    Catalogue,
    CatalogueError,
    Indicator,
    Pillar,
    Program,
    load_reference_catalogue,
)

REFERENCE = Path(services.indicators.__file__).parent / "reference"


@pytest.fixture(scope="module")
def catalogue() -> Catalogue:
    return load_reference_catalogue(REFERENCE)


def indicator_data(**changes: Any) -> dict[str, Any]:
    data: dict[str, Any] = {
        "code": "T-01",
        "program": "KH2023",
        "pillar": "data",
        "name_vi": "Tỷ lệ thử nghiệm",
        "unit": "percent",
        "direction": "increase",
        "owner": "BTTTT",
        "aggregation": "national",
        "targets": [{"year": 2023, "op": "=", "value": 100}],
    }
    data.update(changes)
    return data


def small_catalogue(**changes: Any) -> dict[str, Any]:
    data: dict[str, Any] = {
        "agencies": [
            {"code": "BTTTT", "name_vi": "Bộ", "name_en": "M", "kind": "ministry"},
            {"code": "P01", "name_vi": "Hà Nội", "name_en": "Ha Noi", "kind": "city"},
        ],
        "programs": [{"code": "KH2023", "name_vi": "KH", "name_en": "Plan", "horizon": 2023}],
        "pillars": [{"code": "data", "name_vi": "Dữ liệu số", "name_en": "Digital data"}],
        "indicators": [indicator_data()],
        "populations": {"local": "provinces - 63"},
        "sources": {"SK": "a report"},
    }
    data.update(changes)
    return data


def test_the_reference_has_98_indicators_and_93_agencies(catalogue: Catalogue) -> None:
    assert len(catalogue.indicators) == 98
    assert len(catalogue.agencies) == 93
    assert Counter(i.program for i in catalogue.indicators) == {
        "KH2023": 39,
        "CL942": 35,
        "CL411": 17,
        "KH2022": 7,
    }
    assert [p.code for p in catalogue.programs] == ["KH2023", "CL942", "CL411", "KH2022"]
    assert {p.code for p in catalogue.pillars} == {
        "data",
        "gov",
        "economy",
        "society",
        "security",
        "institutions",
    }


def test_vietnamese_text_is_intact(catalogue: Catalogue) -> None:
    assert catalogue.agency("BTTTT").name_vi == "Bộ Thông tin và Truyền thông"
    assert catalogue.agency("P79").name_vi == "TP. Hồ Chí Minh"
    assert catalogue.agency("BVHTTDL").name_vi == "Bộ Văn hóa, Thể thao và Du lịch"
    assert catalogue.pillars[0].name_vi == "Dữ liệu số"
    retail = catalogue.indicator("KH2023-20")
    assert retail.name_vi == "Tỷ trọng thương mại điện tử trong tổng mức bán lẻ"
    assert catalogue.sources["SK942"].startswith("Báo cáo tình hình thực hiện Quyết định 942")


def test_agencies_have_kinds_and_groups(catalogue: Catalogue) -> None:
    kinds = Counter(a.kind for a in catalogue.agencies)
    assert kinds == {
        "ministry": 18,
        "ministerial_agency": 4,
        "government_agency": 8,
        "province": 58,
        "city": 5,
    }
    groups = Counter(g for a in catalogue.agencies for g in a.groups)
    assert groups == {"central": 30, "central22": 22, "dvc20": 20, "local": 63}
    assert catalogue.agency("BHXH").groups == ("central", "dvc20")
    assert catalogue.agency("BLDTBXH").name_en == "Ministry of Labour, Invalids and Social Affairs"


def test_absorbed_provinces_end_on_2025_06_30_with_their_successor(catalogue: Catalogue) -> None:
    absorbed = [a for a in catalogue.agencies if a.successor]
    assert len(absorbed) == 29
    assert {a.valid_to for a in absorbed} == {date(2025, 6, 30)}
    assert catalogue.agency("P02").successor == "P08"
    assert catalogue.agency("P26").successor == "P25"
    assert catalogue.agency("P17").successor == "P25"
    remaining = [a for a in catalogue.agencies if "local" in a.groups and a.valid_to is None]
    assert len(remaining) == 34
    assert catalogue.agency("P08").valid_to is None
    assert catalogue.agency("P02").is_valid_on(date(2025, 6, 30))
    assert not catalogue.agency("P02").is_valid_on(date(2025, 7, 1))


def test_indicator_defaults_and_fields(catalogue: Catalogue) -> None:
    first = catalogue.indicator("KH2023-01")
    assert first.value_type == "boolean_per_agency"
    assert first.population == "dx86"
    assert first.aggregation == "share_of_agencies"
    assert (first.goal, first.primary, first.goal_code) == ("KH2023-01", True, "KH2023-01")
    assert first.published[0].period == parse_period("2023-S1")
    assert first.published[0].value == 52.3
    assert first.name_en is not None
    assert first.name_en.startswith("Share of ministries, agencies and provinces that issued")
    national = catalogue.indicator("KH2023-07")
    assert national.value_type == "percent"  # unit percent and no value_type
    assert (national.reporting.frequency, national.reporting.due_days) == ("half", 15)
    assert national.owner_codes == ("BGDDT",)
    target = catalogue.indicator("KH2023-04").targets[0]
    assert (target.year, target.op, target.value) == (2023, ">", 30)
    sub = catalogue.indicator("KH2023-11b")
    assert (sub.goal_code, sub.primary, sub.aggregation) == ("KH2023-11", False, "by_group")
    assert [(v.scope, v.value) for v in sub.published] == [("central", 28), ("local", 59.89)]


def test_every_reference_indicator_has_an_english_name(catalogue: Catalogue) -> None:
    names = {i.code: i.name_en for i in catalogue.indicators}
    assert len(names) == 98
    assert all(name and name.isascii() for name in names.values()), names
    assert len(set(names.values())) > 90  # the same measure in two programmes shares a name


def test_indicators_without_a_goal_are_their_own_primary_goal(catalogue: Catalogue) -> None:
    cl942 = catalogue.indicator("CL942-A1.1")
    assert (cl942.goal, cl942.goal_code, cl942.primary) == (None, "CL942-A1.1", True)
    assert cl942.published[0].period == parse_period("2022")


def test_official_assessments_and_notes(catalogue: Catalogue) -> None:
    assessment = catalogue.indicator("CL942-B4.1").official_assessment
    assert assessment is not None
    assert (assessment.as_of, assessment.label, assessment.source) == (
        date(2023, 7, 12),
        "unassessable",
        "SK942",
    )
    assert sum(i.official_assessment is not None for i in catalogue.indicators) == 35
    retail = catalogue.indicator("KH2023-20")
    assert retail.note == "published as a range 7.2-7.8%; midpoint recorded"


@pytest.mark.parametrize(
    ("owner", "codes"),
    [
        ("BTTTT", ("BTTTT",)),
        ("VPCP;BCA", ("VPCP", "BCA")),
        ("Bộ, ngành, địa phương", ()),
        ("Cơ quan nhà nước", ()),
    ],
)
def test_owner_codes(owner: str, codes: tuple[str, ...]) -> None:
    assert Indicator.model_validate(indicator_data(owner=owner)).owner_codes == codes


@pytest.mark.parametrize(
    ("year", "target_year"),
    [(2023, 2023), (2022, 2023), (2024, 2025), (2025, 2025), (2027, 2025)],
)
def test_target_for_a_year(year: int, target_year: int) -> None:
    targets = [{"year": 2023, "op": ">", "value": 30}, {"year": 2025, "op": "=", "value": 100}]
    indicator = Indicator.model_validate(indicator_data(targets=targets))
    target = indicator.target_for(year)
    assert target is not None
    assert target.year == target_year
    assert Indicator.model_validate(indicator_data(targets=[])).target_for(2023) is None


def test_ops_mirror_for_a_decreasing_indicator() -> None:
    for op in ("=", "<=", "<"):
        targets = [{"year": 2025, "op": op, "value": 5}]
        indicator = Indicator.model_validate(indicator_data(direction="decrease", targets=targets))
        assert indicator.targets[0].op == op


def test_value_type_defaults_by_unit() -> None:
    assert Indicator.model_validate(indicator_data()).value_type == "percent"
    counted = Indicator.model_validate(indicator_data(unit="services", targets=[]))
    assert counted.value_type == "number"
    given = Indicator.model_validate(indicator_data(unit="services", value_type="number"))
    assert given.value_type == "number"


def test_lookups_name_what_is_unknown(catalogue: Catalogue) -> None:
    with pytest.raises(KeyError, match="unknown indicator 'KH2099-01'"):
        catalogue.indicator("KH2099-01")
    with pytest.raises(KeyError, match="unknown agency 'P99'"):
        catalogue.agency("P99")


def test_the_catalogue_round_trips_through_json(catalogue: Catalogue) -> None:
    dumped = catalogue.model_dump_json()
    assert "Bộ Thông tin và Truyền thông" in dumped
    assert '"period":"2023-S1"' in dumped
    assert Catalogue.model_validate_json(dumped) == catalogue


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        pytest.param({"targets": [{"year": 2023, "op": "≥", "value": 1}]}, "op", id="unknown-op"),
        pytest.param(
            {"targets": [{"year": 2023, "op": "<", "value": 1}]},
            "op '<' does not fit a increase indicator",
            id="op-against-direction",
        ),
        pytest.param(
            {
                "targets": [
                    {"year": 2023, "op": "=", "value": 1},
                    {"year": 2023, "op": "=", "value": 2},
                ]
            },
            "more than one target for 2023",
            id="two-targets-one-year",
        ),
        pytest.param(
            {"targets": [{"year": 2023, "op": "=", "value": 120}]},
            "120.0 is not a percent",
            id="percent-over-100",
        ),
        pytest.param({"aggregation": "total"}, "aggregation", id="unknown-aggregation"),
        pytest.param({"direction": "up"}, "direction", id="unknown-direction"),
        pytest.param(
            {"value_type": "boolean_per_agency"},
            "boolean values cannot be aggregated as national",
            id="boolean-national",
        ),
        pytest.param(
            {"aggregation": "share_of_agencies"},
            "needs a population",
            id="share-without-population",
        ),
        pytest.param(
            {"unit": "services", "value_type": "percent"},
            "value_type percent needs unit percent",
            id="percent-type-other-unit",
        ),
        pytest.param({"reporting": {"frequency": "weekly"}}, "frequency", id="bad-frequency"),
        pytest.param({"reporting": {"due_days": -1}}, "due_days", id="negative-due-days"),
        pytest.param(
            {"published": [{"period": "2023-S3", "scope": "national", "value": 1, "source": "S"}]},
            "impossible period '2023-S3'",
            id="bad-published-period",
        ),
        pytest.param({"colour": "red"}, "colour", id="unknown-field"),
        pytest.param({"code": "has space"}, "code", id="bad-code"),
    ],
)
def test_indicator_rejects_bad_data(changes: dict[str, Any], message: str) -> None:
    with pytest.raises(ValidationError, match=message):
        Indicator.model_validate(indicator_data(**changes))


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        pytest.param(
            {"indicators": [indicator_data(pillar="culture")]},
            "indicator T-01: unknown pillar 'culture' \\(known: data\\)",
            id="unknown-pillar",
        ),
        pytest.param(
            {"indicators": [indicator_data(program="KH2030")]},
            "unknown program 'KH2030'",
            id="unknown-program",
        ),
        pytest.param(
            {"indicators": [indicator_data(), indicator_data()]},
            "duplicate indicator code 'T-01'",
            id="duplicate-indicator",
        ),
        pytest.param(
            {
                "agencies": [
                    {"code": "P01", "name_vi": "A", "name_en": "A", "kind": "city"},
                    {"code": "P01", "name_vi": "B", "name_en": "B", "kind": "city"},
                ]
            },
            "duplicate agency code 'P01'",
            id="duplicate-agency",
        ),
        pytest.param(
            {
                "indicators": [
                    indicator_data(
                        aggregation="share_of_agencies",
                        value_type="boolean_per_agency",
                        population="dx99",
                    )
                ]
            },
            "unknown population 'dx99' \\(known: local\\)",
            id="unknown-population",
        ),
        pytest.param(
            {"indicators": [indicator_data(owner="BXYZ")]},
            "unknown owner agency 'BXYZ'",
            id="unknown-owner",
        ),
        pytest.param(
            {
                "indicators": [
                    indicator_data(
                        published=[
                            {"period": "2023-S1", "scope": "national", "value": 1, "source": "X"}
                        ]
                    )
                ]
            },
            "unknown source 'X'",
            id="unknown-source",
        ),
        pytest.param(
            {
                "indicators": [
                    indicator_data(code="T-01a", goal="T-01"),
                    indicator_data(code="T-01b", goal="T-01"),
                ]
            },
            "goal T-01 has 2 primary indicators",
            id="two-primaries",
        ),
        pytest.param(
            {
                "agencies": [
                    {
                        "code": "P02",
                        "name_vi": "Hà Giang",
                        "name_en": "Ha Giang",
                        "kind": "province",
                        "valid_to": "2025-06-30",
                        "successor": "P08",
                    },
                    {"code": "BTTTT", "name_vi": "Bộ", "name_en": "M", "kind": "ministry"},
                ]
            },
            "agency P02: unknown successor 'P08'",
            id="unknown-successor",
        ),
    ],
)
def test_catalogue_rejects_inconsistent_data(changes: dict[str, Any], message: str) -> None:
    with pytest.raises(ValidationError, match=message):
        Catalogue.model_validate(small_catalogue(**changes))


def test_a_small_catalogue_is_fine() -> None:
    catalogue = Catalogue.model_validate(small_catalogue())
    assert catalogue.indicator("T-01").owner_codes == ("BTTTT",)


@pytest.mark.parametrize(
    ("data", "message"),
    [
        ({"valid_from": "2025-07-01", "valid_to": "2025-06-30"}, "before valid_from"),
        ({"successor": "P01"}, "its own successor"),
        ({"successor": "P08"}, "has a successor but no valid_to"),
        ({"kind": "district"}, "kind"),
        ({"groups": ["Local"]}, "groups"),
        ({"contacts": [{"email": "not-an-address"}]}, "email"),
    ],
)
def test_agency_rejects_bad_data(data: dict[str, Any], message: str) -> None:
    base = {"code": "P01", "name_vi": "Hà Nội", "name_en": "Ha Noi", "kind": "city"}
    with pytest.raises(ValidationError, match=message):
        Agency.model_validate({**base, **data})


def test_agency_contacts() -> None:
    agency = Agency.model_validate(
        {
            "code": "P01",
            "name_vi": "Hà Nội",
            "name_en": "Ha Noi",
            "kind": "city",
            "contacts": [{"email": "cds@hanoi.gov.vn", "name": "Sở TT&TT"}],
        }
    )
    assert agency.contacts[0].email == "cds@hanoi.gov.vn"


def test_models_are_frozen() -> None:
    program = Program(code="KH2023", name_vi="KH", name_en="Plan", horizon=2023)
    with pytest.raises(ValidationError, match="frozen"):
        program.horizon = 2024  # type: ignore[misc]
    assert Pillar(code="gov", name_vi="Chính phủ số", name_en="Digital government").code == "gov"


@pytest.fixture
def reference_copy(tmp_path: Path) -> Path:
    copy = tmp_path / "reference"
    shutil.copytree(REFERENCE, copy)
    return copy


def edit(path: Path, old: str, new: str) -> None:
    text = path.read_text(encoding="utf-8")
    assert old in text
    path.write_text(text.replace(old, new, 1), encoding="utf-8")


@pytest.mark.parametrize(
    ("file", "old", "new", "message"),
    [
        pytest.param(
            "indicators.yaml",
            "    op: '>'\n    value: 30",
            "    op: '=>'\n    value: 30",
            r"indicators.yaml #4 \(KH2023-04\): targets.0.op: Input should be",
            id="unknown-op",
        ),
        pytest.param(
            "indicators.yaml",
            "  pillar: economy",
            "  pillar: economics",
            "unknown pillar 'economics'",
            id="unknown-pillar",
        ),
        pytest.param(
            "indicators.yaml",
            "- code: KH2023-02\n",
            "- code: KH2023-01\n",
            "duplicate indicator code 'KH2023-01'",
            id="duplicate-indicator",
        ),
        pytest.param(
            "agencies.csv",
            "P02,Hà Giang",
            "P01,Hà Giang",
            "agencies.csv line 33: duplicate agency code 'P01'",
            id="duplicate-agency",
        ),
        pytest.param(
            "agencies.csv",
            "Ministry of Information and Communications,ministry",
            "Ministry of Information and Communications,bureau",
            "agencies.csv BTTTT: kind",
            id="bad-kind",
        ),
        pytest.param(
            "province-mergers-2025.csv",
            "P08,P02,",
            "P08,P03,",
            "province-mergers-2025.csv line 2: unknown agency 'P03'",
            id="merger-unknown-agency",
        ),
        pytest.param(
            "province-mergers-2025.csv",
            "P10,P15,",
            "P10,P02,",
            "line 3: P02 is absorbed twice",
            id="absorbed-twice",
        ),
        pytest.param(
            "province-mergers-2025.csv",
            "P08,P02,2025-07-01",
            "P08,P02,1 July",
            "bad effective date '1 July'",
            id="bad-merger-date",
        ),
        pytest.param("programs.yaml", "pillars:", "pillars: [", "not valid YAML", id="bad-yaml"),
    ],
)
def test_loader_names_the_file_and_the_entry(
    reference_copy: Path, file: str, old: str, new: str, message: str
) -> None:
    edit(reference_copy / file, old, new)
    with pytest.raises(CatalogueError, match=message):
        load_reference_catalogue(reference_copy)


def test_loader_accepts_an_unquoted_year_period(reference_copy: Path) -> None:
    edit(reference_copy / "indicators.yaml", "  - period: '2022'\n", "  - period: 2022\n")
    catalogue = load_reference_catalogue(reference_copy)
    assert catalogue.indicator("CL942-A1.1").published[0].period == parse_period("2022")
