"""Indicators as the unit tests need them, with defaults for what a test does not care about."""

from collections.abc import Sequence

from services.scoring.domain.catalogue import Indicator, Reporter
from services.scoring.domain.targets import Comparator, Direction, Target


def create_indicator(
    code: str = "X-1",
    *,
    goal: str | None = None,
    primary: bool = True,
    pillar: str = "data",
    aggregation: str = "national",
    targets: Sequence[tuple[int, str, float]] = ((2025, ">=", 80),),
    reporters: Sequence[str | Reporter] = (),
    direction: Direction = Direction.INCREASE,
    frequency: str = "half",
    weight: float = 1.0,
) -> Indicator:
    return Indicator(
        code=code,
        program="TST",
        goal=goal or code,
        primary=primary,
        pillar=pillar,
        unit="percent",
        direction=direction,
        aggregation=aggregation,
        targets=tuple(Target(year, Comparator(op), value) for year, op, value in targets),
        frequency=frequency,
        weight=weight,
        reporters=tuple(r if isinstance(r, Reporter) else Reporter(r) for r in reporters),
    )
