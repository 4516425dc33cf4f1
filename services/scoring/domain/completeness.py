"""Reporting completeness and timeliness (SCORING.md §5, as DHIS2 defines them)."""

from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta, timezone

# Due dates are calendar days in Vietnam, which keeps UTC+7 all year (no daylight saving).
VIETNAM = timezone(timedelta(hours=7), "ICT")


def due_date(period_end: date, due_days: int) -> date:
    """The last day a report for a period counts as on time: period end + `due_days`."""
    return period_end + timedelta(days=due_days)


def local_day(moment: datetime) -> date:
    """The Vietnamese calendar day of a timestamp; a naive timestamp is taken as already local."""
    if moment.tzinfo is None:
        return moment.date()
    return moment.astimezone(VIETNAM).date()


def days_late(reported_at: datetime, due: date) -> int:
    """Whole days after the due date (0 or less when on time)."""
    return (local_day(reported_at) - due).days


def reported_on_time(reported_at: datetime, due: date) -> bool:
    """Whether a report arrived by the end of its due day."""
    return days_late(reported_at, due) <= 0


@dataclass(frozen=True, slots=True)
class Completeness:
    """Expected, reported and on-time counts; rates are None when nothing was expected."""

    expected: int
    reported: int
    on_time: int

    @property
    def reporting_rate(self) -> float | None:
        """Reported / expected."""
        return self.reported / self.expected if self.expected else None

    @property
    def on_time_rate(self) -> float | None:
        """Reported by the due date / expected."""
        return self.on_time / self.expected if self.expected else None


def completeness(
    *, members: Iterable[str], reported_at: Mapping[str, datetime], due: date
) -> Completeness:
    """Completeness of one indicator and period: `reported_at` maps agency -> first stored value."""
    expected = set(members)
    # Agencies outside the population may send figures, but they are not expected reports.
    arrivals = [reported_at[agency] for agency in expected if agency in reported_at]
    return Completeness(
        expected=len(expected),
        reported=len(arrivals),
        on_time=sum(reported_on_time(moment, due) for moment in arrivals),
    )


@dataclass(frozen=True, slots=True)
class ExpectedReport:
    """One report an agency owes: an indicator for a period, with its due date and arrival."""

    agency: str
    indicator: str
    due: date
    reported_at: datetime | None = None


def _tally(reports: Sequence[ExpectedReport]) -> Completeness:
    arrivals = [
        (report.reported_at, report.due) for report in reports if report.reported_at is not None
    ]
    return Completeness(
        expected=len(reports),
        reported=len(arrivals),
        on_time=sum(reported_on_time(moment, due) for moment, due in arrivals),
    )


def _tally_by(
    reports: Iterable[ExpectedReport], key: Callable[[ExpectedReport], str]
) -> dict[str, Completeness]:
    grouped: dict[str, list[ExpectedReport]] = {}
    for report in reports:
        grouped.setdefault(key(report), []).append(report)
    return {name: _tally(owed) for name, owed in sorted(grouped.items())}


def completeness_by_agency(reports: Iterable[ExpectedReport]) -> dict[str, Completeness]:
    """Agency -> completeness over all the indicators it is expected to report."""
    return _tally_by(reports, lambda report: report.agency)


def completeness_by_indicator(reports: Iterable[ExpectedReport]) -> dict[str, Completeness]:
    """Indicator -> completeness over the agencies expected to report it."""
    return _tally_by(reports, lambda report: report.indicator)


def overall_completeness(reports: Sequence[ExpectedReport]) -> Completeness:
    """Completeness over every expected report given."""
    return _tally(reports)


def rank_by_completeness(by_agency: Mapping[str, Completeness]) -> list[tuple[int, str]]:
    """(rank, agency), best first: by reporting rate, then on-time rate; equals share a rank."""

    def merit(item: tuple[str, Completeness]) -> tuple[float, float]:
        counts = item[1]
        return (counts.reporting_rate or 0.0, counts.on_time_rate or 0.0)

    ordered = sorted(by_agency.items(), key=lambda item: (tuple(-m for m in merit(item)), item[0]))
    ranking: list[tuple[int, str]] = []
    for position, item in enumerate(ordered, start=1):
        tied = ranking and merit(item) == merit((ranking[-1][1], by_agency[ranking[-1][1]]))
        ranking.append((ranking[-1][0] if tied else position, item[0]))
    return ranking
