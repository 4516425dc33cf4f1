"""One indicator's score for a scope and period: band (§2), trajectory status (§3), explanation."""

from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass

from libs.common.periods import ReportingPeriod
from services.scoring.domain.bands import Band, band_for
from services.scoring.domain.calendar import series_up_to
from services.scoring.domain.catalogue import NATIONAL, RANKING_GROUPS, Indicator
from services.scoring.domain.explain import Language, explain_band, explain_trajectory
from services.scoring.domain.targets import Target, progress
from services.scoring.domain.trajectory import TrajectoryStatus, assess_trajectory


@dataclass(frozen=True, slots=True)
class ScoreCard:
    """Where an indicator stands for a scope in a period, with why in both languages."""

    indicator: str
    scope: str
    period: str
    value: float | None
    target: Target
    progress: float | None
    band: Band
    status: TrajectoryStatus
    projected: float | None
    explanation_vi: str
    explanation_en: str

    def explanation(self, language: Language) -> str:
        """The explanation in `language`."""
        return self.explanation_vi if language is Language.VI else self.explanation_en


def score_card(
    indicator: Indicator,
    *,
    scope: str,
    period: ReportingPeriod,
    points: Mapping[ReportingPeriod, float | None],
) -> ScoreCard | None:
    """Score from the scope's figures by period (the asked one's is the value); None: no target."""
    target = indicator.target_for(period)
    if target is None:
        return None
    value = points.get(period)
    direction = indicator.direction
    trajectory = assess_trajectory(
        series_up_to(points, period), target=target, direction=direction, unit=indicator.unit
    )
    explanations = {
        language: "; ".join(
            (
                explain_band(value, target=target, direction=direction, language=language),
                explain_trajectory(trajectory, target=target, language=language),
            )
        )
        for language in Language
    }
    return ScoreCard(
        indicator=indicator.code,
        scope=scope,
        period=str(period),
        value=value,
        target=target,
        progress=None if value is None else progress(value, target, direction=direction),
        band=band_for(value, target, direction=direction),
        status=trajectory.status,
        projected=trajectory.projected,
        explanation_vi=explanations[Language.VI],
        explanation_en=explanations[Language.EN],
    )


def headline_scopes(
    indicator: Indicator,
    period: ReportingPeriod,
    points: Mapping[tuple[str, str], Mapping[ReportingPeriod, float | None]],
) -> tuple[str, ...]:
    """The scopes whose figures speak for the indicator in `period` (§2).

    Its own headline scopes, unless it has no national figure for the period while figures for
    the groups exist (the 2022 plan published central and local shares only): then the groups,
    banded as a `by_group` indicator is, by the worse of them.
    """
    own = indicator.headline_scopes
    if own != (NATIONAL,) or points.get((indicator.code, NATIONAL), {}).get(period) is not None:
        return own
    groups = tuple(
        group
        for group in RANKING_GROUPS
        if points.get((indicator.code, group), {}).get(period) is not None
    )
    return groups or own


def period_cards(
    indicators: Iterable[Indicator],
    *,
    period: ReportingPeriod,
    scope: str | None,
    stored: Mapping[tuple[str, str, str], ScoreCard],
    points: Mapping[tuple[str, str], Mapping[ReportingPeriod, float | None]],
) -> Iterator[tuple[Indicator, ScoreCard]]:
    """Each indicator's score for the period, in its headline scopes or the one asked.

    The stored snapshot when there is one; else scored from the figures, so that an indicator
    nothing was published for still shows, under half done (§2).
    """
    for indicator in indicators:
        if scope is None:
            scopes = headline_scopes(indicator, period, points)
        elif scope in indicator.headline_scopes or (indicator.code, scope) in points:
            scopes = (scope,)
        else:
            continue  # not published for that scope
        for name in scopes:
            card = stored.get((indicator.code, name, str(period))) or score_card(
                indicator, scope=name, period=period, points=points.get((indicator.code, name), {})
            )
            if card is not None:
                yield indicator, card
