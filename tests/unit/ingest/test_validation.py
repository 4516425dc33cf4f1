"""Validation of submissions against the catalogue replica: every rule, table-driven."""

from __future__ import annotations

from datetime import UTC, date, datetime

import pytest

from libs.common.events import ReporterSpan
from libs.common.periods import parse_period
from services.ingest.validation import (
    AgencySpec,
    Catalogue,
    Draft,
    DraftValue,
    Finding,
    IndicatorSpec,
    Rules,
    is_late,
    validate,
    vietnam_day,
)

TODAY = date(2026, 11, 23)
RULES = Rules(today=TODAY)
REPORTERS = (
    ReporterSpan(agency="P01"),
    ReporterSpan(agency="P08", valid_to=date(2025, 6, 30)),
    ReporterSpan(agency="P02"),
)
CATALOGUE = Catalogue(
    indicators={
        "B": IndicatorSpec("B", "boolean_per_agency", "half", 15, REPORTERS),
        "PCT": IndicatorSpec("PCT", "percent", "half", 15, REPORTERS),
        "NUM": IndicatorSpec("NUM", "number", "quarter", 30, REPORTERS),
        "YEAR": IndicatorSpec("YEAR", "number", "year", 90, REPORTERS),
        "BTTTT-ONLY": IndicatorSpec("BTTTT-ONLY", "number", "half", 15, ()),
    },
    agencies={
        "P01": AgencySpec("P01"),
        "P02": AgencySpec("P02"),
        "P08": AgencySpec("P08", valid_to=date(2025, 6, 30), successor="P02"),
        "P99": AgencySpec("P99", valid_from=date(2026, 1, 1)),
    },
)


def draft(*values: tuple[str, object], agency: str = "P01", period: str = "2023-S1") -> Draft:
    return Draft(agency, period, [DraftValue(code, value) for code, value in values])


def kinds(findings: list[Finding]) -> list[tuple[str, list[str | int]]]:
    return [(f.kind, f.loc()) for f in findings]


@pytest.mark.parametrize(
    ("submission", "expected"),
    [
        (draft(("B", True), ("PCT", 52.3), ("NUM", 7.0)), []),
        (
            draft(("B", False), ("PCT", 0), ("PCT2", 1)),
            [("unknown_indicator", ["values", 2, "indicator"])],
        ),
        (draft(("B", True), agency="P77"), [("unknown_agency", ["agency"])]),
        (draft(("B", 1.0)), [("wrong_type", ["values", 0, "value"])]),
        (draft(("B", "true")), [("wrong_type", ["values", 0, "value"])]),
        (draft(("PCT", True)), [("wrong_type", ["values", 0, "value"])]),
        (draft(("NUM", False)), [("wrong_type", ["values", 0, "value"])]),
        (draft(("NUM", "12")), [("wrong_type", ["values", 0, "value"])]),
        (draft(("PCT", 100.0001)), [("out_of_range", ["values", 0, "value"])]),
        (draft(("PCT", -0.5)), [("out_of_range", ["values", 0, "value"])]),
        (draft(("PCT", 100)), []),
        (draft(("NUM", -3.5)), []),
        (draft(("NUM", float("nan"))), [("not_finite", ["values", 0, "value"])]),
        (draft(("PCT", float("inf"))), [("not_finite", ["values", 0, "value"])]),
        (draft(("NUM", float("-inf"))), [("not_finite", ["values", 0, "value"])]),
        (draft(("B", True), period="2023-H1"), [("malformed_period", ["period"])]),
        (draft(("B", True), period="2023-S3"), [("malformed_period", ["period"])]),
        (draft(("B", True), period="2023-13"), [("malformed_period", ["period"])]),
        (draft(("B", True), period=""), [("malformed_period", ["period"])]),
        (draft(("B", True), period="2027-S1"), [("period_not_ended", ["period"])]),
        (draft(("B", True), period="2026-S2"), [("period_not_ended", ["period"])]),
        (
            draft(("B", True), ("B", False)),
            [
                ("duplicate_indicator", ["values", 0, "indicator"]),
                ("duplicate_indicator", ["values", 1, "indicator"]),
            ],
        ),
        (draft(("B", True), period="2023-06"), [("wrong_frequency", ["values", 0, "indicator"])]),
        (draft(("B", True), period="2023-Q2"), [("wrong_frequency", ["values", 0, "indicator"])]),
        (draft(("B", True), period="2023"), []),
        (draft(("NUM", 1), period="2023-S1"), []),
        (draft(("YEAR", 1), period="2023-S1"), [("wrong_frequency", ["values", 0, "indicator"])]),
        (draft(("BTTTT-ONLY", 1)), [("not_a_reporter", ["values", 0, "indicator"])]),
        (draft(("B", True), agency="P08", period="2025-S1"), []),
        (draft(("B", True), agency="P08", period="2025-S2"), [("agency_not_valid", ["agency"])]),
        (
            draft(("B", True), agency="P99", period="2025-S2"),
            [
                ("agency_not_valid", ["agency"]),
            ],
        ),
        (draft(), [("no_values", ["values"])]),
    ],
)
def test_rules(submission: Draft, expected: list[tuple[str, list[str | int]]]) -> None:
    assert kinds(validate(submission, CATALOGUE, RULES)) == expected


def test_every_problem_is_reported_at_once_submission_level_first() -> None:
    submission = draft(
        ("B", 3.0), ("NOPE", 1), ("PCT", 140), ("NUM", float("nan")), agency="P77", period="2023-S9"
    )
    assert kinds(validate(submission, CATALOGUE, RULES)) == [
        ("unknown_agency", ["agency"]),
        ("malformed_period", ["period"]),
        ("wrong_type", ["values", 0, "value"]),
        ("unknown_indicator", ["values", 1, "indicator"]),
        ("out_of_range", ["values", 2, "value"]),
        ("not_finite", ["values", 3, "value"]),
    ]


def test_an_absorbed_province_is_told_its_successor() -> None:
    [finding] = validate(draft(("B", True), agency="P08", period="2025"), CATALOGUE, RULES)
    assert "P02" in finding.msg
    assert "2025-07-01" in finding.msg


def test_open_periods_are_accepted_when_the_policy_says_so() -> None:
    rules = Rules(today=TODAY, accept_open_periods=True)
    assert validate(draft(("B", True), period="2026-S2"), CATALOGUE, rules) == []


def test_a_period_is_over_the_day_after_its_last_day() -> None:
    on_last_day = Rules(today=date(2023, 6, 30))
    day_after = Rules(today=date(2023, 7, 1))
    assert kinds(validate(draft(("B", True)), CATALOGUE, on_last_day)) == [
        ("period_not_ended", ["period"])
    ]
    assert validate(draft(("B", True)), CATALOGUE, day_after) == []


def test_too_many_values() -> None:
    rules = Rules(today=TODAY, max_values=2)
    submission = draft(("B", True), ("PCT", 1), ("NUM", 2))
    assert kinds(validate(submission, CATALOGUE, rules)) == [("too_many_values", ["values"])]


@pytest.mark.parametrize(
    ("period", "due_days", "received", "expected"),
    [
        ("2023-S1", [15], datetime(2023, 7, 15, 16, 59, tzinfo=UTC), False),  # 23:59 in Hà Nội
        ("2023-S1", [15], datetime(2023, 7, 15, 17, 0, tzinfo=UTC), True),  # 00:00 on the 16th
        ("2023-S1", [15, 60], datetime(2023, 7, 20, tzinfo=UTC), True),  # any value late
        ("2023-S1", [30, 60], datetime(2023, 7, 20, tzinfo=UTC), False),
        ("2023", [90], datetime(2024, 3, 30, tzinfo=UTC), False),
        ("2023", [], datetime(2030, 1, 1, tzinfo=UTC), False),
    ],
)
def test_lateness(period: str, due_days: list[int], received: datetime, expected: bool) -> None:
    assert is_late(parse_period(period), due_days, received) is expected


def test_vietnam_day_treats_naive_instants_as_utc() -> None:
    assert vietnam_day(datetime(2023, 6, 30, 18, 0)) == date(2023, 7, 1)
    assert vietnam_day(datetime(2023, 6, 30, 16, 59, tzinfo=UTC)) == date(2023, 6, 30)


def test_validation_stops_at_the_first_value_past_the_limit() -> None:
    submission = draft(*[("NOPE", "x")] * 10_000)
    findings = validate(submission, CATALOGUE, Rules(today=TODAY, max_values=3))
    assert kinds(findings)[0] == ("too_many_values", ["values"])
    # Only the first three values were looked at (each unknown and repeated).
    assert {f.value for f in findings if f.value is not None} == {0, 1, 2}


@pytest.mark.parametrize(
    ("text", "where"),
    [
        ("a\x00b", "U+0000"),
        ("\x1b[31m", "U+001B"),
        ("del\x7f", "U+007F"),
        ("c1\x85", "U+0085"),
        ("half \ud800", "U+D800"),
    ],
)
def test_text_the_store_cannot_keep_is_refused_naming_the_field(text: str, where: str) -> None:
    submission = Draft(
        "P01", "2023-S1", [DraftValue("B", True, note=text), DraftValue(f"PCT{text}", 5.0)]
    )
    findings = validate(submission, CATALOGUE, RULES)
    control = [f for f in findings if f.kind == "control_character"]
    assert [f.loc() for f in control] == [["values", 0, "note"], ["values", 1, "indicator"]]
    assert all(where in f.msg for f in control)
    assert kinds(validate(Draft(f"P01{text}", f"2023{text}", []), CATALOGUE, RULES))[:2] == [
        ("control_character", ["agency"]),
        ("control_character", ["period"]),
    ]


def test_a_note_may_hold_tabs_and_line_breaks() -> None:
    note = "Theo công văn số 12:\r\n\t- đã triển khai\n- đang làm"
    submission = Draft("P01", "2023-S1", [DraftValue("B", True, note=note)])
    assert validate(submission, CATALOGUE, RULES) == []


@pytest.mark.parametrize("period", ["1000", "1023-S1", "1999-12"])
def test_a_period_before_the_programme_is_refused(period: str) -> None:
    assert kinds(validate(draft(("B", True), period=period), CATALOGUE, RULES)) == [
        ("period_too_early", ["period"])
    ]
