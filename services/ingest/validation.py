"""Pure validation of a submission against ingest's replica of the catalogue.

Rules (each problem is a ``Finding``; every problem of a submission is reported at once):

- the agency must be known, and exist on the period's last day (an absorbed province is told
  its successor);
- the period must be one of the forms of ``libs.common.periods``, not before
  ``FIRST_REPORTING_YEAR`` and, unless the policy allows it, over (a figure for a period still
  running is provisional);
- each indicator must be known and appear once; its value must have the indicator's type:
  ``boolean_per_agency`` takes true/false, ``percent`` and ``number`` take a finite number (a
  boolean is not a number here) and a percent lies in 0..100;
- the period's kind must be the indicator's reporting frequency or coarser: a yearly figure
  of a half-yearly indicator stands for that year (``counts_for``), while a monthly figure of a
  half-yearly indicator would count for nothing, so it is refused rather than silently ignored;
- the agency must be one of the indicator's reporters for the period's last day;
- text must be what the stores can keep (``libs.common.text``): no control character in the
  agency, period or indicator, none but tab and line breaks in a note.

Work is bounded: past ``max_values`` the values are not looked at (one problem says so).

Pure: no I/O and no clock; the caller passes ``today`` in ``Rules``.
"""

from __future__ import annotations

import math
from collections import Counter
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta, timezone

from libs.common.events import ReporterSpan
from libs.common.periods import PERIOD_KINDS, ReportingPeriod, parse_period
from libs.common.text import forbidden_in_line, forbidden_in_note

#: No figure of the national programme is older (the first plans date from 2020): an earlier
#: period is a typing error (``1023`` for ``2023``), never a report.
FIRST_REPORTING_YEAR = 2000

#: Periods end, and reports fall due, at midnight in Vietnam (UTC+7 all year, no daylight saving).
VIETNAM = timezone(timedelta(hours=7), "ICT")


def vietnam_day(moment: datetime) -> date:
    """The calendar day in Vietnam at ``moment`` (naive means UTC)."""
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return moment.astimezone(VIETNAM).date()


@dataclass(frozen=True)
class IndicatorSpec:
    """What validation needs of an indicator."""

    code: str
    value_type: str
    frequency: str
    due_days: int
    reporters: tuple[ReporterSpan, ...] = ()
    aggregation: str = ""

    def expects(self, agency: str, day: date) -> bool:
        """Whether ``agency`` is expected to report for a period ending on ``day``."""
        return any(span.agency == agency and span.covers(day) for span in self.reporters)


@dataclass(frozen=True)
class AgencySpec:
    """What validation needs of an agency."""

    code: str
    valid_from: date | None = None
    valid_to: date | None = None
    successor: str | None = None

    def exists_on(self, day: date) -> bool:
        """Whether the agency exists on ``day``."""
        return (self.valid_from is None or self.valid_from <= day) and (
            self.valid_to is None or day <= self.valid_to
        )


@dataclass(frozen=True)
class Catalogue:
    """The indicators and agencies a submission may name."""

    indicators: Mapping[str, IndicatorSpec] = field(default_factory=dict)
    agencies: Mapping[str, AgencySpec] = field(default_factory=dict)


@dataclass(frozen=True)
class DraftValue:
    indicator: str
    value: object
    note: str | None = None


@dataclass(frozen=True)
class Ratio:
    """A ``ratio_of_sums`` indicator's value: numerator and denominator, summed apart
    nationally (1.949/3.094 information systems)."""

    numerator: float
    denominator: float


@dataclass(frozen=True)
class Draft:
    """A submission as received, before validation."""

    agency: str
    period: str
    values: Sequence[DraftValue]


@dataclass(frozen=True)
class Rules:
    """The policy a submission is held to."""

    today: date
    accept_open_periods: bool = False
    max_values: int = 1000


@dataclass(frozen=True)
class Finding:
    """One problem: its kind (a metric label), the field, and which value (None: the whole)."""

    kind: str
    field: str
    msg: str
    value: int | None = None

    def loc(self) -> list[str | int]:
        """Where the problem is, inside one JSON submission."""
        return [self.field] if self.value is None else ["values", self.value, self.field]


def validate(draft: Draft, catalogue: Catalogue, rules: Rules) -> list[Finding]:
    """Every problem of ``draft``, submission-level first, then value by value."""
    findings = [
        Finding("control_character", name, f"{name} may not contain {problem}")
        for name, text in (("agency", draft.agency), ("period", draft.period))
        if (problem := forbidden_in_line(text)) is not None
    ]
    agency = catalogue.agencies.get(draft.agency)
    if agency is None:
        findings.append(Finding("unknown_agency", "agency", f"unknown agency {draft.agency!r}"))
    period = _period(draft.period, rules, findings)
    if period is not None and agency is not None and not agency.exists_on(period.end):
        findings.append(Finding("agency_not_valid", "agency", _not_existing(agency, period)))
        agency = None  # its reporter spans end with it: say it once, not per value
    if not draft.values:
        findings.append(Finding("no_values", "values", "a submission needs at least one value"))
    if len(draft.values) > rules.max_values:
        findings.append(
            Finding(
                "too_many_values", "values", f"at most {rules.max_values} values per submission"
            )
        )
    checked = draft.values[: rules.max_values]
    repeated = {code for code, n in Counter(v.indicator for v in checked).items() if n > 1}
    for index, value in enumerate(checked):
        findings += _text_findings(value, index)
        spec = catalogue.indicators.get(value.indicator)
        if value.indicator in repeated:
            message = f"{value.indicator} appears more than once in this submission"
            findings.append(Finding("duplicate_indicator", "indicator", message, index))
        if spec is None:
            message = f"unknown indicator {value.indicator!r}"
            findings.append(Finding("unknown_indicator", "indicator", message, index))
            continue
        findings += _value_findings(spec, value.value, index)
        if period is not None:
            findings += _regime_findings(spec, period, agency, index)
    return findings


def is_late(period: ReportingPeriod, due_days: Iterable[int], received_at: datetime) -> bool:
    """Whether a submission received at ``received_at`` came after any of its values was due."""
    days = list(due_days)
    if not days:
        return False
    return vietnam_day(received_at) > period.due_date(min(days))


def _period(text: str, rules: Rules, findings: list[Finding]) -> ReportingPeriod | None:
    try:
        period = parse_period(text)
    except (ValueError, TypeError) as error:
        findings.append(Finding("malformed_period", "period", str(error)))
        return None
    if period.year < FIRST_REPORTING_YEAR:
        message = f"period {period} is before {FIRST_REPORTING_YEAR}: no report is that old"
        findings.append(Finding("period_too_early", "period", message))
        return None
    if not rules.accept_open_periods and not period.has_ended(rules.today):
        message = f"period {period} ends on {period.end.isoformat()}; report it after it ended"
        findings.append(Finding("period_not_ended", "period", message))
    return period


def _not_existing(agency: AgencySpec, period: ReportingPeriod) -> str:
    message = (
        f"agency {agency.code} does not exist on {period.end.isoformat()}, the end of {period}"
    )
    if agency.successor and agency.valid_to is not None and agency.valid_to < period.end:
        message += f"; from {agency.valid_to + timedelta(days=1)} it reports as {agency.successor}"
    return message


def _text_findings(value: DraftValue, index: int) -> list[Finding]:
    findings = []
    if (problem := forbidden_in_line(value.indicator)) is not None:
        message = f"indicator may not contain {problem}"
        findings.append(Finding("control_character", "indicator", message, index))
    if value.note is not None and (problem := forbidden_in_note(value.note)) is not None:
        message = f"note may not contain {problem}"
        findings.append(Finding("control_character", "note", message, index))
    return findings


def _value_findings(spec: IndicatorSpec, value: object, index: int) -> list[Finding]:
    def found(kind: str, message: str) -> list[Finding]:
        return [Finding(kind, "value", message, index)]

    if spec.aggregation == "ratio_of_sums":
        if not isinstance(value, Ratio):
            message = f"{spec.code} is a ratio of sums: send numerator and denominator"
            return found("ratio_needs_parts", message)
        return _ratio_findings(spec, value, found)
    if isinstance(value, Ratio):
        message = f"{spec.code} takes one value; numerator and denominator are for ratios"
        return found("not_a_ratio", message)
    if spec.value_type == "boolean_per_agency":
        if not isinstance(value, bool):
            return found("wrong_type", f"{spec.code} takes true or false, not {value!r}")
        return []
    if isinstance(value, bool) or not isinstance(value, int | float):
        return found("wrong_type", f"{spec.code} takes a number ({spec.value_type}), not {value!r}")
    if not math.isfinite(value):
        return found("not_finite", f"{spec.code} takes a finite number, not {value!r}")
    if spec.value_type == "percent" and not 0 <= value <= 100:
        return found("out_of_range", f"{spec.code} is a percent: 0 to 100, not {value!r}")
    return []


def _ratio_findings(
    spec: IndicatorSpec, ratio: Ratio, found: Callable[[str, str], list[Finding]]
) -> list[Finding]:
    """Both parts finite and at least 0, a denominator above 0, and for a share (a percent)
    a numerator no larger than its denominator."""
    for name in ("numerator", "denominator"):
        part = getattr(ratio, name)
        if not math.isfinite(part) or part < 0:
            return found("out_of_range", f"{spec.code}: the {name} is a count, not {part!r}")
    if ratio.denominator == 0:
        return found("out_of_range", f"{spec.code}: the denominator must be above 0")
    if spec.value_type == "percent" and ratio.numerator > ratio.denominator:
        message = f"{spec.code} is a share: the numerator is at most the denominator"
        return found("out_of_range", message)
    return []


def _regime_findings(
    spec: IndicatorSpec, period: ReportingPeriod, agency: AgencySpec | None, index: int
) -> list[Finding]:
    findings = []
    if spec.frequency in PERIOD_KINDS and PERIOD_KINDS.index(period.kind) > PERIOD_KINDS.index(
        spec.frequency
    ):
        message = (
            f"{spec.code} is reported per {spec.frequency}; a {period.kind} figure ({period}) "
            f"does not count for it"
        )
        findings.append(Finding("wrong_frequency", "indicator", message, index))
    if agency is not None and not spec.expects(agency.code, period.end):
        message = f"agency {agency.code} is not expected to report {spec.code} for {period}"
        findings.append(Finding("not_a_reporter", "indicator", message, index))
    return findings
