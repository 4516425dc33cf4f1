"""An indicator's chart data, aligned as the vendored uPlot wants it (static/series-chart.js)."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any

from libs.common.periods import ReportingPeriod, parse_period
from services.gateway.web.formatting import as_number, target_for
from services.gateway.web.labels import SCOPES, Lang, named, text

Values = Mapping[tuple[str, str], float | None]


def _moment(period: ReportingPeriod) -> int:
    """A period's place on the time axis: the end of its last day (UTC seconds)."""
    end = period.end
    return int(datetime(end.year, end.month, end.day, 23, 59, 59, tzinfo=UTC).timestamp())


def series_chart(
    indicator: dict[str, Any],
    *,
    periods: list[str],
    scopes: tuple[str, ...],
    values: Values,
    projected: float | None,
    lang: Lang,
) -> dict[str, Any] | None:
    """Figures per period and scope, the target line and the projection; ``None`` without data."""
    observed = {
        (p, s): v for (p, s), v in values.items() if v is not None and p in periods and s in scopes
    }
    if not observed:
        return None
    parsed = {p: parse_period(p) for p in periods}
    # Each point on the time axis: its label and the year whose target applies there.
    points: dict[int, tuple[str, int]] = {
        _moment(parsed[p]): (p, parsed[p].year) for p, _ in observed
    }
    last = max((parsed[p] for p, _ in observed), key=lambda p: p.end)
    targets = [
        t
        for t in indicator.get("targets") or []
        if isinstance(t.get("year"), int) and as_number(t.get("value")) is not None
    ]
    for target in targets:
        year = int(target["year"])
        points.setdefault(_moment(ReportingPeriod(year, "year")), (str(year), year))
    projection: dict[int, float] = {}
    deadline = target_for(targets, last.year)
    start = next((v for s in scopes if (v := observed.get((str(last), s))) is not None), None)
    if projected is not None and deadline is not None and start is not None:
        end = _moment(ReportingPeriod(int(deadline["year"]), "year"))
        if end > _moment(last):
            projection = {_moment(last): start, end: projected}
    xs = sorted(points)
    series: list[dict[str, Any]] = []
    for scope in scopes:
        by_moment = {_moment(parsed[p]): v for (p, s), v in observed.items() if s == scope}
        if by_moment:
            series.append(
                {
                    "label": named(SCOPES, scope, lang),
                    "kind": f"value-{scope}",
                    "values": [by_moment.get(x) for x in xs],
                }
            )
    if targets:
        # The target in force at each point, so the line reads as the level to reach.
        applying = [target_for(targets, points[x][1]) for x in xs]
        series.append(
            {
                "label": text("target", lang),
                "kind": "target",
                "values": [as_number(t["value"]) if t else None for t in applying],
            }
        )
    if projection:
        series.append(
            {
                "label": text("projection", lang),
                "kind": "projection",
                "values": [projection.get(x) for x in xs],
            }
        )
    return {
        "x": xs,
        "labels": [points[x][0] for x in xs],
        "series": series,
        "unit": "%" if indicator.get("unit") == "percent" else "",
        "decimal": "," if lang == "vi" else ".",
    }
