"""Reporting periods: a year, a half-year, a quarter or a month, as every service writes them.

Text forms (and nothing else): ``2023`` (year), ``2023-S1``/``2023-S2`` (half-year),
``2023-Q1``..``2023-Q4`` (quarter), ``2023-06`` (month). ``str(period)`` gives the same text back.

Which reported value stands for a period asked for (``counts_for``):

- a value reported for exactly the period asked for always counts;
- a value reported for a finer period (month, quarter, half) counts toward a coarser period that
  contains it only if the indicator's reporting frequency is that finer kind. A monthly indicator's
  latest month inside ``2023-S1`` stands for ``2023-S1`` (and for ``2023``); a half-yearly
  indicator's ``2023-S2`` stands for ``2023``; but a yearly indicator needs a value for ``2023``
  itself, and a half-yearly indicator ignores monthly or quarterly values, because an off-frequency
  figure is a partial or provisional one, not the figure the reporting regime asks for;
- a value never counts for a period finer than its own (an ``S1`` figure says nothing of ``Q1``).

Among the values that count, the one whose period ends last stands for the period asked for; a
value for exactly the period asked for wins a tie (``latest_counting``).

Pure: no I/O, no clock (callers pass ``today``), standard library only. Pydantic models may use
``ReportingPeriod`` as a field type: it validates from the text form (or a bare year number, as YAML
and JSON write ``2023``) and serialises as text.
"""

from __future__ import annotations

import calendar
import re
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, timedelta
from functools import cached_property, lru_cache, total_ordering
from typing import TYPE_CHECKING, Any, Literal, get_args

if TYPE_CHECKING:
    from pydantic import GetCoreSchemaHandler
    from pydantic_core import CoreSchema

PeriodKind = Literal["year", "half", "quarter", "month"]

#: From the coarsest kind to the finest.
PERIOD_KINDS: tuple[PeriodKind, ...] = get_args(PeriodKind)

_MONTHS_PER: dict[PeriodKind, int] = {"year": 12, "half": 6, "quarter": 3, "month": 1}
_PATTERN = re.compile(
    r"(?P<year>[0-9]{4})(?:-(?:S(?P<half>[0-9])|Q(?P<quarter>[0-9])|(?P<month>[0-9]{2})))?"
)
_FORMS = "expected YYYY, YYYY-S1..S2, YYYY-Q1..Q4 or YYYY-MM (e.g. 2023, 2023-S1, 2023-Q3, 2023-06)"
_MIN_YEAR, _MAX_YEAR = 1000, 9999  # four digits, so that str() round-trips


def check_kind(kind: str) -> PeriodKind:
    """Return ``kind`` as a period kind, or raise ``ValueError`` naming the known kinds."""
    for known in PERIOD_KINDS:
        if kind == known:
            return known
    raise ValueError(f"unknown period kind {kind!r}: expected one of {', '.join(PERIOD_KINDS)}")


@total_ordering
@dataclass(frozen=True)
class ReportingPeriod:
    """A reporting period; ``index`` is 1 for a year, 1-2 for a half, 1-4 a quarter, 1-12 a month.

    Periods sort by start date, and a longer period before a shorter one starting the same day
    (``2023 < 2023-S1 < 2023-Q1 < 2023-01 < 2023-02``), so a container precedes its parts.
    """

    year: int
    kind: PeriodKind
    index: int = 1

    def __post_init__(self) -> None:
        check_kind(self.kind)
        if not _MIN_YEAR <= self.year <= _MAX_YEAR:
            raise ValueError(f"year {self.year} is out of range {_MIN_YEAR}..{_MAX_YEAR}")
        count = 12 // _MONTHS_PER[self.kind]
        if not 1 <= self.index <= count:
            raise ValueError(f"a {self.kind} index must be 1..{count}, not {self.index}")

    def __str__(self) -> str:
        if self.kind == "year":
            return f"{self.year}"
        if self.kind == "half":
            return f"{self.year}-S{self.index}"
        if self.kind == "quarter":
            return f"{self.year}-Q{self.index}"
        return f"{self.year}-{self.index:02d}"

    @classmethod
    def __get_pydantic_core_schema__(cls, source: Any, handler: GetCoreSchemaHandler) -> CoreSchema:
        """Validate from text, serialise as text, when a pydantic model holds a period."""
        from pydantic_core import core_schema  # imported here so this module needs no pydantic

        return core_schema.no_info_plain_validator_function(
            _from_any,
            serialization=core_schema.to_string_ser_schema(),
            json_schema_input_schema=core_schema.str_schema(pattern=_PATTERN.pattern),
        )

    def __lt__(self, other: object) -> bool:
        if not isinstance(other, ReportingPeriod):
            return NotImplemented
        return self._sort_key() < other._sort_key()

    def _sort_key(self) -> tuple[date, int]:
        return (self.start, -self.end.toordinal())

    @cached_property
    def start(self) -> date:
        """First day of the period."""
        return date(self.year, self._first_month, 1)

    @cached_property
    def end(self) -> date:
        """Last day of the period (inclusive)."""
        last_month = self._first_month + _MONTHS_PER[self.kind] - 1
        return date(self.year, last_month, calendar.monthrange(self.year, last_month)[1])

    @property
    def _first_month(self) -> int:
        return (self.index - 1) * _MONTHS_PER[self.kind] + 1

    def contains(self, other: ReportingPeriod) -> bool:
        """Whether ``other`` lies wholly inside this period (a period contains itself)."""
        return self.start <= other.start and other.end <= self.end

    def due_date(self, due_days: int) -> date:
        """The day reports are due: the period's end plus ``due_days`` days (``date.max`` if that
        is past the end of the calendar: never)."""
        if due_days < 0:
            raise ValueError(f"due_days must not be negative, got {due_days}")
        if due_days > (date.max - self.end).days:
            return date.max
        return self.end + timedelta(days=due_days)

    def has_ended(self, today: date) -> bool:
        """Whether the period is over on ``today`` (its last day is not over yet)."""
        return today > self.end

    def next(self) -> ReportingPeriod:
        """The period of the same kind right after this one."""
        return period_containing(self.end + timedelta(days=1), self.kind)

    def previous(self) -> ReportingPeriod:
        """The period of the same kind right before this one."""
        return period_containing(self.start - timedelta(days=1), self.kind)


def parse_period(text: str) -> ReportingPeriod:
    """Parse '2023', '2023-S1', '2023-Q3' or '2023-06'; ``ValueError`` says what is wrong."""
    if not isinstance(text, str):
        raise TypeError(f"a period is text, not {type(text).__name__}")
    return _parse(text)


@lru_cache(maxsize=4096)  # periods are immutable: every reader of '2023-S1' may share one
def _parse(text: str) -> ReportingPeriod:
    match = _PATTERN.fullmatch(text)
    if match is None:
        raise ValueError(f"malformed period {text!r}: {_FORMS}")
    year = int(match["year"])
    if not _MIN_YEAR <= year <= _MAX_YEAR:
        raise ValueError(f"impossible period {text!r}: year must be {_MIN_YEAR}..{_MAX_YEAR}")
    if match["half"] is not None:
        return _checked(text, year, "half", match["half"], "halves S1..S2, not S")
    if match["quarter"] is not None:
        return _checked(text, year, "quarter", match["quarter"], "quarters Q1..Q4, not Q")
    if match["month"] is not None:
        return _checked(text, year, "month", match["month"], "months 01..12, not ")
    return ReportingPeriod(year, "year")


def _from_any(value: object) -> ReportingPeriod:
    if isinstance(value, ReportingPeriod):
        return value
    if isinstance(value, int) and not isinstance(value, bool):
        return parse_period(str(value))
    if not isinstance(value, str):
        raise ValueError(f"a period is text such as '2023-S1', not {value!r}")
    return parse_period(value)


def _checked(text: str, year: int, kind: PeriodKind, digits: str, what: str) -> ReportingPeriod:
    index = int(digits)
    if not 1 <= index <= 12 // _MONTHS_PER[kind]:
        raise ValueError(f"impossible period {text!r}: a year has {what}{digits}")
    return ReportingPeriod(year, kind, index)


def period_containing(day: date, kind: str) -> ReportingPeriod:
    """The period of the given kind ('year', 'half', 'quarter', 'month') that contains ``day``."""
    checked = check_kind(kind)
    return ReportingPeriod(day.year, checked, (day.month - 1) // _MONTHS_PER[checked] + 1)


def periods_within(period: ReportingPeriod) -> tuple[str, ...]:
    """The period and every finer period inside it, as text (where values counting for it live)."""
    return _within(period)


@lru_cache(maxsize=1024)
def _within(period: ReportingPeriod) -> tuple[str, ...]:
    found, frontier = {period}, [period]
    while frontier:
        current = frontier.pop()
        finer = _FINER.get(current.kind)
        if finer is None:
            continue
        parts = _MONTHS_PER[current.kind] // _MONTHS_PER[finer]
        first = (current.index - 1) * parts + 1
        children = [ReportingPeriod(current.year, finer, i) for i in range(first, first + parts)]
        found.update(children)
        frontier.extend(children)
    return tuple(sorted(str(p) for p in found))


_FINER: dict[PeriodKind, PeriodKind] = {"year": "half", "half": "quarter", "quarter": "month"}


def counts_for(reported: ReportingPeriod, asked: ReportingPeriod, frequency: str) -> bool:
    """Whether a value reported for ``reported`` stands for ``asked`` (rule in module docstring)."""
    if reported == asked:
        return True
    return reported.kind == check_kind(frequency) and asked.contains(reported)


def latest_counting(
    periods: Iterable[ReportingPeriod], *, asked: ReportingPeriod, frequency: str
) -> ReportingPeriod | None:
    """Of ``periods``, the one whose value stands for ``asked``; ``None`` when none counts."""
    candidates = [p for p in periods if counts_for(p, asked, frequency)]
    if not candidates:
        return None
    return max(candidates, key=lambda p: (p.end, p == asked))


def programme_runs(target_years: Iterable[int], period: ReportingPeriod) -> bool:
    """Whether figures are still owed for ``period``: some target is for its year or a later one.

    Once the year of an indicator's last target has passed, its programme is over: nobody is
    chased for it, listed as lagging for it, or counted as missing it. An indicator without any
    target is followed without an end.
    """
    years = list(target_years)
    return not years or any(year >= period.year for year in years)
