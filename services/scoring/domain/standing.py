"""Agencies' own figures: composite index and rankings (§6), and where each stands for laggards."""

from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from datetime import date, datetime

from libs.common.periods import ReportingPeriod, latest_counting
from services.scoring.domain.calendar import series_up_to
from services.scoring.domain.catalogue import Indicator
from services.scoring.domain.index import (
    RankedAgency,
    agency_index,
    attainment,
    pillar_score,
    rank_agencies,
)
from services.scoring.domain.laggards import Standing
from services.scoring.domain.targets import ObservedValue
from services.scoring.domain.trajectory import assess_trajectory


@dataclass(frozen=True, slots=True)
class Report:
    """An agency's latest figure for one period, and when the period's first report arrived."""

    value: ObservedValue | None
    reported_at: datetime | None = None


# One agency's reports of one indicator, by the period they were made for.
Reports = Mapping[ReportingPeriod, Report]


def report_for(reports: Reports, period: ReportingPeriod, frequency: str) -> Report | None:
    """The report standing for `period`; a withdrawn (null) figure reports nothing."""
    given = [p for p, report in reports.items() if report.value is not None]
    chosen = latest_counting(given, asked=period, frequency=frequency)
    return None if chosen is None else reports[chosen]


@dataclass(frozen=True, slots=True)
class AgencyScore:
    """An agency's composite index for a period, per pillar, and per indicator it reported.

    An indicator owed and not reported counts 0 in its pillar but has no attainment here, so
    the stored index still tells an agency that reported nothing from one that reported zeros.
    """

    agency: str
    index: float
    pillar_scores: dict[str, float] = field(default_factory=dict)
    attainments: dict[str, float] = field(default_factory=dict)

    @property
    def reported(self) -> bool:
        """Whether the agency reported a figure of some indicator its index counts."""
        return bool(self.attainments)


def debtors(indicators: Iterable[Indicator], period: ReportingPeriod) -> set[str]:
    """The agencies owing `period` a figure of some indicator that enters the index."""
    return {
        agency
        for indicator in indicators
        if indicator.measures_agencies and indicator.target_for(period) is not None
        for agency in indicator.expected_reporters(period)
    }


def score_agencies(
    agencies: Iterable[str],
    *,
    period: ReportingPeriod,
    indicators: Iterable[Indicator],
    reports: Mapping[str, Mapping[str, Reports]],
    pillar_weights: Mapping[str, float] | None = None,
) -> dict[str, AgencyScore | None]:
    """Each agency's index over the indicators it owes for `period`; None where it owes none.

    `reports` is by agency, then by indicator code.
    """
    # What each indicator asks of the period is worked out once for all the agencies.
    counted = [
        (indicator, target, frozenset(indicator.expected_reporters(period)))
        for indicator in indicators
        if indicator.measures_agencies and (target := indicator.target_for(period)) is not None
    ]
    scores: dict[str, AgencyScore | None] = {}
    for agency in agencies:
        own = reports.get(agency, {})
        by_pillar: dict[str, dict[str, float]] = {}
        weights: dict[str, dict[str, float]] = {}
        reported: set[str] = set()
        for indicator, target, owing in counted:
            if agency not in owing:
                continue
            report = report_for(own.get(indicator.code, {}), period, indicator.frequency)
            value = None if report is None else report.value
            if value is not None:
                reported.add(indicator.code)
            score = attainment(value, target, direction=indicator.direction)
            by_pillar.setdefault(indicator.pillar, {})[indicator.code] = score
            weights.setdefault(indicator.pillar, {})[indicator.code] = indicator.weight
        scores[agency] = _composite(agency, by_pillar, weights, pillar_weights, reported)
    return scores


def _composite(
    agency: str,
    by_pillar: Mapping[str, Mapping[str, float]],
    weights: Mapping[str, Mapping[str, float]],
    pillar_weights: Mapping[str, float] | None,
    reported: set[str],
) -> AgencyScore | None:
    """The index from attainments by pillar and indicator (§6); None if no pillar counts."""
    pillars: dict[str, float] = {}
    for pillar, attained in sorted(by_pillar.items()):
        if not any(weights[pillar].values()):
            continue  # every weight zero: the pillar does not count
        scored = pillar_score(attained, weights=weights[pillar])
        if scored is not None:
            pillars[pillar] = scored
    index = agency_index(pillars, weights=pillar_weights)
    if index is None:
        return None
    attainments = {
        code: value
        for scores in by_pillar.values()
        for code, value in scores.items()
        if code in reported
    }
    return AgencyScore(agency, index, pillars, dict(sorted(attainments.items())))


def score_agency(
    agency: str,
    *,
    period: ReportingPeriod,
    indicators: Iterable[Indicator],
    reports: Mapping[str, Reports],
    pillar_weights: Mapping[str, float] | None = None,
) -> AgencyScore | None:
    """One agency's index over the indicators it owes for `period` (by code); None if none."""
    return score_agencies(
        [agency],
        period=period,
        indicators=indicators,
        reports={agency: reports},
        pillar_weights=pillar_weights,
    )[agency]


def rank_scores(scores: Iterable[AgencyScore], *, pillar: str | None = None) -> list[RankedAgency]:
    """Competition ranking by index, or by one pillar among the agencies scored on it.

    Agencies that reported nothing the index counts come after every agency that reported,
    in the place after the last one (docs/scoring.md §6): silence never ranks above a figure.
    The API shows them unranked (AgencyScore.reported tells them apart).
    """
    ranked = [s for s in scores if pillar is None or pillar in s.pillar_scores]

    def value(score: AgencyScore) -> float:
        return score.index if pillar is None else score.pillar_scores[pillar]

    ranking = rank_agencies({s.agency: value(s) for s in ranked if s.reported})
    after = len(ranking) + 1
    silent = sorted((s for s in ranked if not s.reported), key=lambda s: s.agency)
    return ranking + [RankedAgency(rank=after, agency=s.agency, score=value(s)) for s in silent]


def laggard_standings(
    indicators: Iterable[Indicator],
    *,
    period: ReportingPeriod,
    reports: Mapping[tuple[str, str], Reports],
    national: Mapping[str, float | None],
    today: date,
) -> Iterator[Standing]:
    """Each expected report of `period`: its figure, arrival and the agency's own trajectory.

    `reports` is by (indicator, agency); `national` the national figure of each indicator.
    A report not yet due is not missing, so it is left out until its due date has passed.
    """
    for indicator in indicators:
        target = indicator.target_for(period)
        if target is None:
            continue
        try:
            due = period.due_date(indicator.due_days)
        except OverflowError:
            continue  # due after the end of the calendar: nothing can be missing or late yet
        for agency in indicator.expected_reporters(period):
            own = reports.get((indicator.code, agency), {})
            report = report_for(own, period, indicator.frequency)
            value = None if report is None else report.value
            if value is None and not indicator.measures_agencies:
                # A national figure the committee published stands for its reporter's report.
                value = national.get(indicator.code)
            if value is None and today <= due:
                continue
            trajectory = None
            if report is not None:
                series = series_up_to({p: r.value for p, r in own.items()}, period)
                trajectory = assess_trajectory(
                    series, target=target, direction=indicator.direction, unit=indicator.unit
                )
            yield Standing(
                agency=agency,
                indicator=indicator.code,
                period=str(period),
                due=due,
                target=target,
                direction=indicator.direction,
                value=value,
                reported_at=None if report is None else report.reported_at,
                trajectory=trajectory,
            )
