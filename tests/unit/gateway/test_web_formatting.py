"""How the dashboard writes numbers, targets, periods, dates and rank movements."""

from __future__ import annotations

from datetime import date
from typing import Any

import pytest

from services.gateway.web.formatting import (
    as_int,
    as_number,
    bar_fill,
    committee_digits,
    default_period,
    headline,
    machine,
    number,
    percent_of,
    period_choices,
    rank_change,
    score_number,
    show_date,
    show_target,
    show_value,
    target_for,
    value_cell,
)
from services.gateway.web.labels import Lang, assessment, choose_lang, glyph, text


@pytest.mark.parametrize(
    ("value", "lang", "digits", "expected"),
    [
        (52.3, "vi", 2, "52,3"),
        (52.3, "en", 2, "52.3"),
        (23.56, "vi", 2, "23,56"),
        (100.0, "vi", 2, "100"),
        (1234567.5, "vi", 2, "1.234.567,5"),
        (1234567.5, "en", 2, "1,234,567.5"),
        (-0.5, "vi", 2, "-0,5"),
        (0.7345, "en", 3, "0.735"),
        (None, "vi", 2, "–"),
    ],
)
def test_number(value: float | None, lang: Lang, digits: int, expected: str) -> None:
    assert number(value, lang, digits=digits) == expected


@pytest.mark.parametrize(
    ("value", "expected"),
    [(52.3, "52.3"), (100.0, "100"), (7, "7"), (True, "true"), (False, "false"), (None, "")],
)
def test_machine_form_for_csv(value: float | bool | None, expected: str) -> None:
    assert machine(value) == expected


@pytest.mark.parametrize(
    ("value", "unit", "lang", "expected"),
    [
        (52.3, "percent", "vi", "52,3%"),
        (57.0, "tx/s", "en", "57"),
        (True, "percent", "vi", "Có"),
        (False, None, "en", "No"),
        (None, "percent", "vi", "–"),
        ("n/a", None, "vi", "n/a"),
    ],
)
def test_show_value(value: Any, unit: str | None, lang: Lang, expected: str) -> None:
    assert show_value(value, unit, lang) == expected


@pytest.mark.parametrize(
    ("target", "expected"),
    [
        ({"year": 2023, "op": "=", "value": 100}, "100% (2023)"),
        ({"year": 2025, "op": ">=", "value": 80}, "≥ 80% (2025)"),
        ({"year": 2023, "op": ">", "value": 30}, "> 30% (2023)"),
        ({"op": "<=", "value": 5.5}, "≤ 5,5%"),
        (40.0, "40%"),
        (None, "–"),
        ({"op": "="}, "–"),
    ],
)
def test_show_target(target: Any, expected: str) -> None:
    assert show_target(target, "percent", "vi") == expected


def test_target_for_takes_that_years_else_the_next_else_the_last() -> None:
    targets = [{"year": 2025, "value": 80}, {"year": 2023, "value": 50}]
    assert target_for(targets, 2023) == {"year": 2023, "value": 50}
    assert target_for(targets, 2024) == {"year": 2025, "value": 80}
    assert target_for(targets, 2030) == {"year": 2025, "value": 80}
    assert target_for([], 2023) is None


@pytest.mark.parametrize(
    ("progress", "value", "target", "direction", "expected"),
    [
        (0.52, None, None, "increase", 0.52),
        (1.4, None, None, "increase", 1.0),
        (-0.2, None, None, "increase", 0.0),
        (None, 52.3, 100.0, "increase", 0.523),
        (None, 10.0, 5.0, "decrease", 0.5),
        (None, 0.0, 5.0, "decrease", 1.0),
        (None, None, 100.0, "increase", None),
        (None, 5.0, 0.0, "increase", None),
    ],
)
def test_bar_fill(
    progress: float | None,
    value: float | None,
    target: float | None,
    direction: str,
    expected: float | None,
) -> None:
    found = bar_fill(progress, value=value, target=target, direction=direction)
    assert found == pytest.approx(expected)


def test_default_period_is_the_latest_published_one() -> None:
    assert default_period(["2022", "2023-S1", "2022-S1"], date(2026, 11, 23)) == "2023-S1"
    assert default_period(["2023", "2023-S1"], date(2026, 11, 23)) == "2023"
    assert default_period(["bad"], date(2026, 11, 23)) == "2026-S1"


def test_period_choices_cover_half_years_to_now_newest_first() -> None:
    choices = period_choices(["2023-S1"], date(2024, 8, 1), chosen="2023-Q3")
    assert choices == ["2024-S2", "2024-S1", "2023-S2", "2023-Q3", "2023-S1"]


@pytest.mark.parametrize(
    ("value", "lang", "expected"),
    [
        ("2026-11-23T16:05:51.081446", "vi", "23/11/2026"),
        ("2026-11-23T16:05:51Z", "en", "2026-11-23"),
        ("not a date", "vi", "not a date"),
        (None, "vi", "–"),
    ],
)
def test_show_date(value: str | None, lang: Lang, expected: str) -> None:
    assert show_date(value, lang) == expected


@pytest.mark.parametrize(
    ("rank", "previous", "expected"),
    [
        (2, 5, ("▲ lên 3", "up")),
        (5, 2, ("▼ xuống 3", "down")),
        (4, 4, ("= giữ nguyên", "same")),
        (1, None, ("mới", "new")),
    ],
)
def test_rank_change(rank: int, previous: int | None, expected: tuple[str, str]) -> None:
    assert rank_change(rank, previous, "vi") == expected


def test_small_conversions() -> None:
    assert (as_number(3), as_number(True), as_number("3")) == (3.0, None, None)
    assert (as_int(2), as_int(True), as_int(2.0)) == (2, None, None)
    assert percent_of(34, 40, "vi") == "85%"
    assert percent_of(1, 0, "vi") == "–"
    assert score_number(0.7345, "vi") == "0,735"
    assert score_number(None, "vi") == "–"


def test_labels_are_the_committees_words() -> None:
    assert assessment("over_half", "vi") == "Đã thực hiện trên 50%"
    assert assessment("hard", "en") == "Unlikely"
    assert assessment(None, "vi") == "Chưa đánh giá"
    assert assessment("strange", "vi") == "strange"
    assert glyph("completed") == "✔"
    assert glyph(None) == "–"
    assert text("missing-key", "vi") == "missing-key"
    assert (choose_lang("en"), choose_lang("EN-gb"), choose_lang(None), choose_lang("fr")) == (
        "en",
        "en",
        "vi",
        "vi",
    )


@pytest.mark.parametrize(
    ("value", "digits", "expected"),
    [(6.25, 1, "6,3"), (100 * 77 / 83, 2, "92,77"), (100 * 45 / 86, 1, "52,3"), (2.675, 2, "2,68")],
)
def test_number_rounds_half_up_as_the_committee(value: float, digits: int, expected: str) -> None:
    assert number(value, "vi", digits=digits) == expected


@pytest.mark.parametrize(
    ("published", "digits"), [(52.3, 1), (56.63, 2), (14.0, 1), (100.0, 1), (None, 2)]
)
def test_committee_digits_follow_the_published_figure(published: float | None, digits: int) -> None:
    assert committee_digits(published) == digits


def test_headline_shows_published_first_until_computed_takes_over() -> None:
    early = {
        "method": "published",
        "published": 52.3,
        "computed": 100 * 3 / 86,
        "reported": 5,
        "expected": 86,
    }
    assert headline(early, "percent", "vi") == "52,3% (công bố) · 3,5% từ 5/86 báo cáo"
    assert headline(early, "percent", "en") == "52.3% (published) · 3.5% from 5/86 reports"
    full = {**early, "method": "computed", "computed": 100 * 45 / 86, "reported": 86}
    assert headline(full, "percent", "vi") == "52,3% từ 86/86 báo cáo · 52,3% (công bố)"
    assert headline({"method": "published", "published": 14.0}, "percent", "vi") == "14% (công bố)"
    none = {"method": "computed", "published": None, "computed": None}
    assert headline(none, "percent", "vi") == "–"


def test_exports_round_as_shown() -> None:
    cell = value_cell(100 * 77 / 83, "percent", "vi")
    assert (cell.text, cell.raw) == ("92,77%", "92.77")
