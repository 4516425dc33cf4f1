"""Figures from samples, and the table the harness prints."""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass


def percentile(samples: Sequence[float], fraction: float) -> float:
    """The nearest-rank percentile (``fraction`` in 0..1) of the samples."""
    if not samples:
        return math.nan
    ordered = sorted(samples)
    rank = max(1, math.ceil(fraction * len(ordered)))
    return ordered[rank - 1]


@dataclass(frozen=True)
class Row:
    """One measured figure, with the raw limit it is compared with (if any)."""

    scenario: str
    metric: str
    value: float
    unit: str
    limit: float | None = None
    limit_name: str = ""

    @property
    def ratio(self) -> float | None:
        """The figure as a fraction of the raw limit."""
        return self.value / self.limit if self.limit else None


def render(rows: Sequence[Row]) -> str:
    """A plain-text table of the rows."""
    header = ("scenario", "metric", "value", "unit", "raw limit", "ratio")
    lines = [header]
    for row in rows:
        lines.append(
            (
                row.scenario,
                row.metric,
                f"{row.value:,.1f}",
                row.unit,
                f"{row.limit:,.0f} ({row.limit_name})" if row.limit else "",
                f"{row.ratio:.1%}" if row.ratio is not None else "",
            )
        )
    widths = [max(len(line[i]) for line in lines) for i in range(len(header))]
    out = [
        "  ".join(cell.ljust(width) for cell, width in zip(line, widths, strict=True))
        for line in lines
    ]
    out.insert(1, "  ".join("-" * width for width in widths))
    return "\n".join(out)
