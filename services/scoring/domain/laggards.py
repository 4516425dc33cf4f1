"""Laggards (SCORING.md §6): agencies with missing or late reports, or figures off track."""

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, datetime
from enum import StrEnum

from services.scoring.domain.bands import Band, band_for
from services.scoring.domain.completeness import days_late, local_day
from services.scoring.domain.explain import Language, explain_band, explain_trajectory
from services.scoring.domain.targets import Direction, ObservedValue, Target
from services.scoring.domain.trajectory import Trajectory, TrajectoryStatus


class LaggardKind(StrEnum):
    """Why an agency is lagging on one indicator."""

    MISSING = "missing"
    LATE = "late"
    OFF_TRACK = "off_track"


@dataclass(frozen=True, slots=True)
class Standing:
    """Where one agency stands on one indicator in one period: its report and its figure."""

    agency: str
    indicator: str
    period: str
    due: date
    target: Target
    direction: Direction
    value: ObservedValue | None = None
    reported_at: datetime | None = None
    trajectory: Trajectory | None = None


@dataclass(frozen=True, slots=True)
class LaggardReason:
    """One reason, naming the indicator and the figure behind it."""

    indicator: str
    kind: LaggardKind
    detail: str


@dataclass(frozen=True, slots=True)
class Laggard:
    """An agency and every reason it is lagging."""

    agency: str
    reasons: tuple[LaggardReason, ...]

    @property
    def indicators(self) -> int:
        """How many indicators it lags on, each counted once whatever its reasons."""
        return len({reason.indicator for reason in self.reasons})

    @property
    def missing(self) -> int:
        """How many of them it has not reported at all."""
        return sum(reason.kind is LaggardKind.MISSING for reason in self.reasons)

    def order(self) -> tuple[int, int, str]:
        """Most behind first (docs/scoring.md §6): an indicator counts once, missing or weak
        alike, so a report not sent weighs at least as much as a late or weak one; then the
        most missing, then agency code."""
        return (-self.indicators, -self.missing, self.agency)


_DETAILS = {
    Language.EN: {
        LaggardKind.MISSING: "no value for {period} (due {due})",
        LaggardKind.LATE: "reported {day}, {days} day(s) after the due date {due}",
    },
    Language.VI: {
        LaggardKind.MISSING: "chưa có số liệu kỳ {period} (hạn {due})",
        LaggardKind.LATE: "báo cáo ngày {day}, chậm {days} ngày so với hạn {due}",
    },
}


def _day(day: date, language: Language) -> str:
    return day.strftime("%d/%m/%Y") if language is Language.VI else day.isoformat()


def _reasons(standing: Standing, language: Language) -> list[LaggardReason]:
    indicator, due = standing.indicator, _day(standing.due, language)
    details = _DETAILS[language]
    if standing.value is None:
        # A missing figure is the whole story; calling it also "off track" would count it twice.
        detail = details[LaggardKind.MISSING].format(period=standing.period, due=due)
        return [LaggardReason(indicator, LaggardKind.MISSING, detail)]
    reasons: list[LaggardReason] = []
    if standing.reported_at is not None and days_late(standing.reported_at, standing.due) > 0:
        detail = details[LaggardKind.LATE].format(
            day=_day(local_day(standing.reported_at), language),
            days=days_late(standing.reported_at, standing.due),
            due=due,
        )
        reasons.append(LaggardReason(indicator, LaggardKind.LATE, detail))
    figures: list[str] = []
    if band_for(standing.value, standing.target, direction=standing.direction) is Band.UNDER_HALF:
        figures.append(
            explain_band(
                standing.value,
                target=standing.target,
                direction=standing.direction,
                language=language,
            )
        )
    if standing.trajectory is not None and standing.trajectory.status is TrajectoryStatus.HARD:
        figures.append(
            explain_trajectory(standing.trajectory, target=standing.target, language=language)
        )
    if figures:
        reasons.append(LaggardReason(indicator, LaggardKind.OFF_TRACK, "; ".join(figures)))
    return reasons


def find_laggards(
    standings: Iterable[Standing], *, language: Language = Language.EN
) -> list[Laggard]:
    """Agencies with at least one reason, most behind first; reasons by indicator, then kind."""
    by_agency: dict[str, list[LaggardReason]] = {}
    for standing in standings:
        reasons = _reasons(standing, language)
        if reasons:
            by_agency.setdefault(standing.agency, []).extend(reasons)
    kinds = list(LaggardKind)
    laggards = [
        Laggard(
            agency=agency,
            reasons=tuple(
                sorted(reasons, key=lambda reason: (reason.indicator, kinds.index(reason.kind)))
            ),
        )
        for agency, reasons in by_agency.items()
    ]
    return sorted(laggards, key=Laggard.order)
