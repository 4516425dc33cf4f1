"""`dx demo`'s synthetic dataset: labelled, deterministic, only what each agency reports."""

from __future__ import annotations

from datetime import date

from libs.common.events import ReporterSpan
from libs.common.periods import parse_period
from services.demo import NOTE, expected_indicators, latest_period, synthetic_values
from services.ingest.validation import AgencySpec, Catalogue, IndicatorSpec

S1 = parse_period("2023-S1")


def spec(code: str, value_type: str, *reporters: ReporterSpan) -> IndicatorSpec:
    return IndicatorSpec(code, value_type, "half", 15, reporters)


CATALOGUE = Catalogue(
    indicators={
        "KH2023-01": spec("KH2023-01", "boolean_per_agency", ReporterSpan(agency="P01")),
        "KH2023-14a": spec("KH2023-14a", "percent", ReporterSpan(agency="P01")),
        "CL942-A1": spec(
            "CL942-A1",
            "boolean_per_agency",
            ReporterSpan(agency="P01"),
            ReporterSpan(agency="P02", valid_from=date(2025, 7, 1)),
        ),
    },
    agencies={"P01": AgencySpec("P01"), "P02": AgencySpec("P02")},
)


def test_the_latest_period_is_the_one_that_ends_last() -> None:
    assert latest_period(["2022-S1", "2023-S1", "2022"]) == "2023-S1"
    assert latest_period(["2023-S1", "2023"]) == "2023"
    assert latest_period([]) is None


def test_only_yes_no_indicators_the_agency_reports_for_the_period() -> None:
    assert [s.code for s in expected_indicators("P01", CATALOGUE, S1)] == ["CL942-A1", "KH2023-01"]
    assert [s.code for s in expected_indicators("P01", CATALOGUE, S1, "KH2023")] == ["KH2023-01"]
    assert expected_indicators("P02", CATALOGUE, S1) == []  # reports only from 2025-07
    assert [s.code for s in expected_indicators("P02", CATALOGUE, parse_period("2025-S2"))] == [
        "CL942-A1"
    ]


def test_values_are_labelled_and_the_same_on_every_run() -> None:
    chosen = expected_indicators("P01", CATALOGUE, S1)
    first = synthetic_values("P01", chosen)
    assert first == synthetic_values("P01", list(reversed(chosen)))
    assert [code for code, _ in first] == ["CL942-A1", "KH2023-01"]
    assert all(isinstance(value, bool) for _, value in first)
    assert "synthetic" in NOTE
    assert "DỮ LIỆU MẪU" in NOTE
    many = [spec(f"X-{n:02d}", "boolean_per_agency") for n in range(20)]
    spread = {sum(v for _, v in synthetic_values(f"P{n:02d}", many)) for n in range(30)}
    assert len(spread) > 5  # agencies differ, so a ranking has something to rank
