"""Numbers, targets, periods and dates as a reader of the committee's reports expects them."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from datetime import date, datetime
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

from libs.common.periods import ReportingPeriod, parse_period, period_containing
from services.gateway.web.labels import Lang, text
from services.gateway.web.tables import Cell

DASH = "–"
_OPS = {"=": "", ">=": "≥ ", ">": "> ", "<=": "≤ ", "<": "< "}


def number(value: float | None, lang: Lang, *, digits: int = 2) -> str:
    """``52.3`` as ``52,3`` in Vietnamese (decimal comma, thousands dot), ``52.3`` in English.

    Rounded half-up on the decimals a person reads, as the committee rounds (6.25 → 6,3).
    """
    if value is None:
        return DASH
    rounded = Decimal(repr(float(value))).quantize(Decimal(1).scaleb(-digits), ROUND_HALF_UP)
    shown = f"{rounded:,.{digits}f}"
    if "." in shown:
        shown = shown.rstrip("0").rstrip(".")
    if lang == "vi":
        shown = shown.replace(",", " ").replace(".", ",").replace(" ", ".")
    return shown


def as_number(value: Any) -> float | None:
    """A JSON number as a float; ``None`` for anything else (booleans included)."""
    if isinstance(value, int | float) and not isinstance(value, bool):
        return float(value)
    return None


def as_int(value: Any) -> int | None:
    """A JSON integer (a rank); ``None`` for anything else."""
    return value if isinstance(value, int) and not isinstance(value, bool) else None


def machine(value: float | bool | None) -> str:
    """A value as CSV carries it: ``.`` decimals, no grouping, ``true``/``false``."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    return repr(float(value)).removesuffix(".0") if float(value).is_integer() else repr(value)


def show_value(value: Any, unit: str | None, lang: Lang, *, digits: int = 2) -> str:
    """A figure with its unit: ``52,3%``, ``Có``/``Không`` for an agency's yes/no answer."""
    if value is None:
        return DASH
    if isinstance(value, bool):
        return text("yes" if value else "no", lang)
    if not isinstance(value, int | float):
        return str(value)
    return number(float(value), lang, digits=digits) + ("%" if unit == "percent" else "")


def committee_digits(published: float | None) -> int:
    """How many decimals the committee writes a figure with: as it wrote the published one
    (52.3 → 1, 56.63 → 2), one or two; two when it published nothing."""
    if published is None:
        return 2
    places = Decimal(repr(float(published))).normalize().as_tuple().exponent
    return min(2, max(1, -places if isinstance(places, int) else 2))


def headline(figure: Mapping[str, Any], unit: str | None, lang: Lang) -> str:
    """A national figure as the dashboard states it: the headline first, then the other one.

    ``52,3% (công bố) · 3,5% từ 5/86 báo cáo`` while the published figure is the headline;
    ``92,77% từ 83/83 báo cáo · 92,77% (công bố)`` once the computed one is.
    """
    suffix = "%" if unit == "percent" else ""
    published, computed = as_number(figure.get("published")), as_number(figure.get("computed"))
    digits = committee_digits(published)
    parts = {}
    if published is not None:
        parts["published"] = (
            f"{number(published, lang, digits=2)}{suffix} ({text('published_short', lang)})"
        )
    if computed is not None:
        counts = f"{figure.get('reported')}/{figure.get('expected')}"
        reports = text("from_reports", lang).format(counts=counts)
        parts["computed"] = f"{number(computed, lang, digits=digits)}{suffix} {reports}"
    first = "computed" if figure.get("method") == "computed" else "published"
    ordered = [parts[k] for k in (first, *(k for k in parts if k != first)) if k in parts]
    return " · ".join(ordered) or DASH


def value_cell(value: Any, unit: str | None, lang: Lang, *, digits: int = 2) -> Cell:
    """A right-aligned figure; its CSV form is machine-readable, rounded as it is shown."""
    raw = None
    if isinstance(value, bool):
        raw = machine(value)
    elif isinstance(value, int | float):
        rounded = Decimal(repr(float(value))).quantize(Decimal(1).scaleb(-digits), ROUND_HALF_UP)
        raw = machine(float(rounded))
    return Cell(show_value(value, unit, lang, digits=digits), raw=raw or "", numeric=True)


def target_for(targets: Iterable[Mapping[str, Any]], year: int) -> Mapping[str, Any] | None:
    """The target that applies in ``year``: that year's, else the next one, else the last one."""
    ordered = sorted(targets, key=lambda t: int(t.get("year", 0)))
    if not ordered:
        return None
    return next((t for t in ordered if int(t.get("year", 0)) >= year), ordered[-1])


def show_target(target: Mapping[str, Any] | float | None, unit: str | None, lang: Lang) -> str:
    """``≥ 80%``; a plain ``100%`` for ``=`` (the target value itself is the goal)."""
    if target is None:
        return DASH
    if isinstance(target, int | float):
        return show_value(float(target), unit, lang)
    value = target.get("value")
    if not isinstance(value, int | float):
        return DASH
    shown = _OPS.get(str(target.get("op", "=")), "") + show_value(float(value), unit, lang)
    year = target.get("year")
    return f"{shown} ({year})" if year else shown


def target_value(target: Mapping[str, Any] | float | None) -> float | None:
    """The number a target asks for."""
    if isinstance(target, int | float):
        return float(target)
    if target is None:
        return None
    value = target.get("value")
    return float(value) if isinstance(value, int | float) else None


def bar_fill(
    progress: float | None,
    *,
    value: float | None = None,
    target: float | None = None,
    direction: str = "increase",
) -> float | None:
    """How full a progress bar is (0..1): the score's progress, else value against target."""
    if progress is None and value is not None and target:
        progress = value / target if direction == "increase" else (target / value if value else 1)
    if progress is None:
        return None
    return max(0.0, min(1.0, progress))


def percent_of(part: float | None, whole: float | None, lang: Lang) -> str:
    """``34/40`` as ``85%``."""
    if part is None or not whole:
        return DASH
    return number(100 * part / whole, lang, digits=1) + "%"


def parse_or_none(value: str | None) -> ReportingPeriod | None:
    """A period from a query string; ``None`` for anything malformed (the page picks one)."""
    if not value:
        return None
    try:
        return parse_period(value)
    except (TypeError, ValueError):
        return None


def default_period(published: Iterable[str], today: date) -> str:
    """The latest period with published figures; the last finished half-year when none."""
    periods = [p for p in (parse_or_none(text) for text in published) if p is not None]
    if periods:
        return str(max(periods, key=lambda p: (p.end, p)))
    return str(period_containing(today, "half").previous())


def period_choices(published: Iterable[str], today: date, *, chosen: str) -> list[str]:
    """Half-years from the first published year to now, and each published period; newest first."""
    periods = {p for p in (parse_or_none(text) for text in [*published, chosen]) if p is not None}
    current = period_containing(today, "half")
    first = min((p.year for p in periods), default=current.year)
    half = ReportingPeriod(first, "half", 1)
    while half <= current:
        periods.add(half)
        half = half.next()
    return [str(p) for p in sorted(periods, key=lambda p: (p.end, p), reverse=True)]


def show_date(value: str | None, lang: Lang) -> str:
    """An ISO timestamp as ``23/11/2026`` (Vietnamese) or ``2026-11-23`` (English)."""
    if not value:
        return DASH
    try:
        day = datetime.fromisoformat(value.replace("Z", "+00:00")).date()
    except ValueError:
        return value
    return day.strftime("%d/%m/%Y") if lang == "vi" else day.isoformat()


def rank_change(rank: int | None, previous: int | None, lang: Lang) -> tuple[str, str]:
    """The movement since the previous ranking, in words and as a direction code."""
    if rank is None or previous is None:
        return text("new", lang), "new"
    moved = previous - rank
    if moved > 0:
        return f"▲ {text('up', lang)} {moved}", "up"
    if moved < 0:
        return f"▼ {text('down', lang)} {-moved}", "down"
    return f"= {text('same', lang)}", "same"


def score_number(score: Any, lang: Lang) -> str:
    """An index in [0, 1] shown on the DTI's 0-1 scale with three decimals."""
    if not isinstance(score, int | float):
        return DASH
    return number(float(score), lang, digits=3)
