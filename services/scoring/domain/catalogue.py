"""What scoring knows of the catalogue: indicators and agencies, as last published."""

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date
from typing import Any

from libs.common.periods import ReportingPeriod, check_kind
from services.scoring.domain.calendar import reports_for
from services.scoring.domain.targets import Comparator, Direction, Target, target_for_year

# Rankings compare like with like (ministries apart from provinces, as the DTI does).
RANKING_GROUPS = ("central", "local")

# A national figure stands for the country, not for the agency that reports it.
NATIONAL = "national"


def _day(text: str | None) -> date | None:
    return None if text is None else date.fromisoformat(text)


@dataclass(frozen=True, slots=True)
class Reporter:
    """An agency expected to report an indicator, and the days it is expected for."""

    agency: str
    valid_from: date | None = None
    valid_to: date | None = None

    def covers(self, day: date) -> bool:
        """Whether the agency reports for a period ending on `day`."""
        return (self.valid_from is None or self.valid_from <= day) and (
            self.valid_to is None or day <= self.valid_to
        )


@dataclass(frozen=True, slots=True)
class Indicator:
    """An indicator as scoring uses it: targets, goal, pillar, aggregation and reporters."""

    code: str
    program: str
    goal: str
    primary: bool
    pillar: str
    unit: str
    direction: Direction
    aggregation: str
    targets: tuple[Target, ...]
    frequency: str = "half"
    due_days: int = 15
    weight: float = 1.0
    reporters: tuple[Reporter, ...] = ()

    def __post_init__(self) -> None:
        check_kind(self.frequency)
        allowed = {
            Direction.INCREASE: {Comparator.EQ, Comparator.GE, Comparator.GT},
            Direction.DECREASE: {Comparator.EQ, Comparator.LE, Comparator.LT},
        }[self.direction]
        wrong = [t.op.value for t in self.targets if t.op not in allowed]
        if wrong:
            raise ValueError(f"indicator {self.code}: op {wrong} does not fit {self.direction}")
        if self.weight < 0 or self.due_days < 0:
            raise ValueError(f"indicator {self.code}: weight and due_days cannot be negative")

    @classmethod
    def from_mapping(cls, data: Mapping[str, Any]) -> "Indicator":
        """Build from the published fields (JSON form: ISO dates); ValueError if unusable."""
        return cls(
            code=data["code"],
            program=data["program"],
            goal=data["goal"],
            primary=data["primary"],
            pillar=data["pillar"],
            unit=data["unit"],
            direction=Direction(data["direction"]),
            aggregation=data["aggregation"],
            targets=tuple(
                Target(t["year"], Comparator(t["op"]), t["value"]) for t in data["targets"]
            ),
            frequency=data["frequency"],
            due_days=data["due_days"],
            weight=data["weight"],
            reporters=tuple(
                Reporter(r["agency"], _day(r.get("valid_from")), _day(r.get("valid_to")))
                for r in data["reporters"]
            ),
        )

    def target_for(self, period: ReportingPeriod) -> Target | None:
        """The target worked towards in the period's year; None once every deadline passed."""
        return target_for_year(self.targets, period.year)

    @property
    def headline_scopes(self) -> tuple[str, ...]:
        """The scopes whose figures speak for the indicator in the committee's reports (§2)."""
        return RANKING_GROUPS if self.aggregation == "by_group" else (NATIONAL,)

    @property
    def measures_agencies(self) -> bool:
        """Whether each agency's own value is measured (so it enters the agency index)."""
        return self.aggregation != NATIONAL

    def expected_reporters(self, period: ReportingPeriod) -> list[str]:
        """The agencies owing a figure for `period`, by code."""
        if not reports_for(self.frequency, period):
            return []
        end = period.end
        return sorted({r.agency for r in self.reporters if r.covers(end)})


@dataclass(frozen=True, slots=True)
class Agency:
    """An agency: its groups and the days it exists."""

    code: str
    name_vi: str
    kind: str
    groups: tuple[str, ...] = ()
    valid_from: date | None = None
    valid_to: date | None = None

    def exists_on(self, day: date) -> bool:
        """Whether the agency exists on `day`."""
        return (self.valid_from is None or self.valid_from <= day) and (
            self.valid_to is None or day <= self.valid_to
        )

    def ranking_groups(self) -> tuple[str, ...]:
        """The ranking groups (central, local) the agency is ranked in."""
        return tuple(group for group in RANKING_GROUPS if group in self.groups)
