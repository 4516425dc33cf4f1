"""National figures from agency values (SCORING.md §4) and reporting completeness (§5). Pure.

Inputs: the indicator; the members of its population for the period (``resolve_population``);
the latest value per member for that period (``latest_values``, by ``counts_for``). A value is:
``bool`` for ``boolean_per_agency``; a number for ``percent``/``number``; and, whatever the value
type, a ``(numerator, denominator)`` pair for ``ratio_of_sums`` (e.g. services integrated, services
offered). ``None`` or no entry means not reported.

- ``share_of_agencies``: numerator = members whose value is true or meets the indicator's target
  for them (§1: the target an agency set itself, else the committee's); denominator = members;
  value = 100 × numerator / denominator (45/86 → 52.3255…); a false value is reported but not
  met; non-reporters are ``missing``.
- ``by_group``: one group's figure (call once per group with that group's members): a share for
  boolean values, else a mean.
- ``mean``: Σ values / reporting members (numerator = Σ, denominator = count).
- ``ratio_of_sums``: Σ numerators / Σ denominators over reporting members (× 100 for percent).
- ``national``: members are the reporters (``national_reporters``); the first that reported gives
  the value.

Values are exact (full float precision): rounding to the committee's one or two decimals is
presentation, done where figures are shown (the dashboard, its CSV downloads).

Mergers need nothing here: the member list of a period already holds only agencies valid at its
end, with successors in place of the agencies they absorbed. A successor's value counts once, for
itself; a value stored under an absorbed agency for a period after it ended is not a member's and
is ignored.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta, timezone
from typing import TypeGuard, TypeVar

from libs.common.periods import ReportingPeriod, latest_counting
from services.indicators.domain.catalogue import Direction, Indicator, Target

AgencyValue = bool | float | tuple[float, float]
V = TypeVar("V")

STANDING_AGENCY = "BTTTT"  # reports national figures whose owner is not one agency
# Due dates are Vietnamese calendar days; Vietnam keeps UTC+7 all year round.
VIETNAM_TIME = timezone(timedelta(hours=7), "ICT")


@dataclass(frozen=True)
class Aggregate:
    """A national (or group) figure with how it arose and who is missing."""

    value: float | None
    numerator: float | None
    denominator: float | None
    reported: int
    expected: int
    missing: tuple[str, ...]


def meets_target(value: float, target: Target, *, direction: Direction) -> bool:
    """Whether ``value`` meets ``target`` (SCORING.md §1; '=' means at least/at most)."""
    if direction == "increase":
        return value > target.value if target.op == ">" else value >= target.value
    return value < target.value if target.op == "<" else value <= target.value


def national_reporters(indicator: Indicator) -> list[str]:
    """Who reports a national figure: the owner agencies, else the standing agency."""
    return list(indicator.owner_codes) or [STANDING_AGENCY]


def aggregate(
    indicator: Indicator,
    *,
    members: Sequence[str],
    values: Mapping[str, AgencyValue | None],
    period: ReportingPeriod,
) -> Aggregate:
    """Aggregate the members' latest values for ``period`` as the indicator says (§4)."""
    order = list(dict.fromkeys(members))  # national keeps the caller's order; dedupe only
    reported = {code: value for code in order if (value := values.get(code)) is not None}
    missing = tuple(sorted(code for code in order if code not in reported))
    counts = (len(reported), len(order), missing)
    kind = indicator.aggregation
    if kind == "by_group":
        boolean = indicator.value_type == "boolean_per_agency"
        kind = "share_of_agencies" if boolean else "mean"
    if kind == "share_of_agencies":
        met = sum(_is_met(indicator, code, value, period) for code, value in reported.items())
        return Aggregate(_share(met, len(order)), met, len(order), *counts)
    if kind == "ratio_of_sums":
        pairs = [_pair(indicator, code, value) for code, value in reported.items()]
        num, den = math.fsum(p[0] for p in pairs), math.fsum(p[1] for p in pairs)
        scale = 100 if indicator.unit == "percent" else 1
        return Aggregate(scale * num / den if den else None, num, den, *counts)
    numbers = [_number(indicator, code, value) for code, value in reported.items()]
    if kind == "national":
        return Aggregate(numbers[0] if numbers else None, None, None, *counts)
    total = math.fsum(numbers)
    mean = total / len(numbers) if numbers else None
    return Aggregate(mean, total, len(numbers), *counts)


def latest_values(
    observations: Iterable[tuple[str, ReportingPeriod, V]],
    *,
    asked: ReportingPeriod,
    frequency: str,
) -> dict[str, V]:
    """Per agency, the value that stands for ``asked`` (one (agency, period, value) per period)."""
    by_agency: dict[str, dict[ReportingPeriod, V]] = {}
    for agency, period, value in observations:
        by_agency.setdefault(agency, {})[period] = value  # a later duplicate is a correction
    latest: dict[str, V] = {}
    for agency, periods in by_agency.items():
        chosen = latest_counting(periods, asked=asked, frequency=frequency)
        if chosen is not None:
            latest[agency] = periods[chosen]
    return latest


@dataclass(frozen=True)
class Completeness:
    """Reporting completeness and timeliness, as DHIS2 defines them (§5)."""

    expected: int
    reported: int
    on_time: int
    missing: tuple[str, ...]
    late: tuple[str, ...]

    @property
    def reporting_rate(self) -> float | None:
        """Percent of expected reports that arrived (``None`` when nothing is expected)."""
        return _share(self.reported, self.expected)

    @property
    def on_time_rate(self) -> float | None:
        """Percent of expected reports that arrived by their due date."""
        return _share(self.on_time, self.expected)


def completeness(
    *,
    expected: Iterable[str],
    reported_on: Mapping[str, date],
    due: date | Mapping[str, date],
) -> Completeness:
    """Count expected, reported, on-time, missing and late reports.

    Items are agencies (one indicator's population) or indicators (one agency's duties);
    ``reported_on`` gives when each item's value was first stored (a correction later does not
    make a report late); ``due`` is one due date for all or one per item (period end + due_days).
    """
    items = sorted(set(expected))
    arrived = {item: _local_day(reported_on[item]) for item in items if item in reported_on}
    late = tuple(
        item
        for item, day in arrived.items()
        if day > (due[item] if isinstance(due, Mapping) else due)
    )
    missing = tuple(item for item in items if item not in arrived)
    return Completeness(len(items), len(arrived), len(arrived) - len(late), missing, late)


def _local_day(moment: date) -> date:
    # An aware timestamp (recorded_at, UTC) falls on the Vietnamese calendar day it happened.
    if isinstance(moment, datetime):
        if moment.tzinfo is not None:
            moment = moment.astimezone(VIETNAM_TIME)
        return moment.date()
    return moment


def _is_met(indicator: Indicator, code: str, value: AgencyValue, period: ReportingPeriod) -> bool:
    if indicator.value_type == "boolean_per_agency":
        if not isinstance(value, bool):
            raise _bad_value(indicator, code, value, "true or false")
        return value
    target = indicator.target_for(period.year, agency=code)  # its own, else the committee's
    if target is None:
        raise ValueError(f"indicator {indicator.code} has no target to decide who meets it")
    number = _number(indicator, code, value)
    return meets_target(number, target, direction=indicator.direction)


def _number(indicator: Indicator, code: str, value: AgencyValue) -> float:
    if not _is_number(value):
        raise _bad_value(indicator, code, value, "a finite number")
    return float(value)


def _is_number(value: object) -> TypeGuard[float]:
    # bool is an int to Python, but true/false is not a figure.
    if isinstance(value, bool) or not isinstance(value, int | float):
        return False
    return math.isfinite(value)


def _pair(indicator: Indicator, code: str, value: AgencyValue) -> tuple[float, float]:
    if isinstance(value, tuple) and len(value) == 2 and all(_is_number(v) for v in value):
        numerator, denominator = value
        if denominator >= 0:
            return float(numerator), float(denominator)
    expected = "a (numerator, denominator) pair of finite numbers, denominator >= 0"
    raise _bad_value(indicator, code, value, expected)


def _bad_value(indicator: Indicator, code: str, value: object, expected: str) -> ValueError:
    return ValueError(f"indicator {indicator.code}, agency {code}: {value!r} is not {expected}")


def _share(part: int, whole: int) -> float | None:
    return 100 * part / whole if whole else None
