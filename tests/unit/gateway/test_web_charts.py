"""An indicator's chart data: aligned series, target line, projection to the deadline."""

from __future__ import annotations

from typing import Any

from services.gateway.web.charts import series_chart

INDICATOR: dict[str, Any] = {
    "unit": "percent",
    "targets": [{"year": 2023, "op": "=", "value": 40}, {"year": 2025, "op": "=", "value": 80}],
}


def test_no_figures_no_chart() -> None:
    values = {("2023-S1", "national"): None}
    chart = series_chart(
        INDICATOR,
        periods=["2023-S1"],
        scopes=("national",),
        values=values,
        projected=None,
        lang="vi",
    )
    assert chart is None


def test_groups_are_separate_lines_with_the_targets_on_the_same_axis() -> None:
    values = {
        ("2022-S1", "central"): 10.0,
        ("2023-S1", "central"): 28.0,
        ("2023-S1", "local"): 59.89,
    }
    chart = series_chart(
        INDICATOR,
        periods=["2022-S1", "2023-S1"],
        scopes=("central", "local"),
        values=values,
        projected=None,
        lang="en",
    )
    assert chart is not None
    assert chart["labels"] == ["2022-S1", "2023-S1", "2023", "2025"]
    assert chart["x"] == sorted(chart["x"])
    by_kind = {s["kind"]: s["values"] for s in chart["series"]}
    assert by_kind == {
        "value-central": [10.0, 28.0, None, None],
        "value-local": [None, 59.89, None, None],
        "target": [40.0, 40.0, 40.0, 80.0],
    }
    assert [s["label"] for s in chart["series"]] == ["Central agencies", "Provinces", "Target"]
    assert (chart["unit"], chart["decimal"]) == ("%", ".")


def test_projection_runs_from_the_last_figure_to_the_deadline() -> None:
    values = {("2024-S1", "national"): 50.0}
    chart = series_chart(
        INDICATOR,
        periods=["2024-S1"],
        scopes=("national",),
        values=values,
        projected=72.5,
        lang="vi",
    )
    assert chart is not None
    projection = next(s for s in chart["series"] if s["kind"] == "projection")
    assert projection["label"] == "Dự báo"
    assert [v for v in projection["values"] if v is not None] == [50.0, 72.5]
    assert chart["labels"][-1] == "2025"
    assert chart["decimal"] == ","
