"""One indicator's score: value, band and status from its figures, explained in two languages."""

import pytest

from libs.common.periods import ReportingPeriod, parse_period
from services.scoring.domain.bands import Band
from services.scoring.domain.explain import Language
from services.scoring.domain.scorecard import period_cards, score_card
from services.scoring.domain.trajectory import TrajectoryStatus
from tests.unit.scoring_service.indicators import create_indicator

S1 = parse_period("2023-S1")


def figures(**by_period: float | None) -> dict[ReportingPeriod, float | None]:
    return {parse_period(text.replace("_", "-")): value for text, value in by_period.items()}


@pytest.mark.parametrize(
    ("points", "band", "status", "progress"),
    [
        pytest.param(figures(), Band.NO_DATA, TrajectoryStatus.NO_DATA, None, id="none"),
        pytest.param(
            figures(**{"2023-S1": 85}), Band.COMPLETED, TrajectoryStatus.COMPLETED, 1.0625, id="met"
        ),
        pytest.param(
            figures(**{"2023-S1": 50}),
            Band.OVER_HALF,
            TrajectoryStatus.UNASSESSABLE,
            0.625,
            id="one-figure",
        ),
        # 20 at 2023.0 and 40 at 2023.5 reach 100 by 2025.0; the 2025 target wants 80 by 2026.0.
        pytest.param(
            figures(**{"2022-S2": 20, "2023-S1": 40}),
            Band.UNDER_HALF,
            TrajectoryStatus.AHEAD,
            0.5,
            id="trend",
        ),
        pytest.param(
            figures(**{"2023-S2": 85}),
            Band.NO_DATA,
            TrajectoryStatus.NO_DATA,
            None,
            id="later-figure-ignored",
        ),
    ],
)
def test_score_card(
    points: dict[ReportingPeriod, float | None],
    band: Band,
    status: TrajectoryStatus,
    progress: float | None,
) -> None:
    card = score_card(create_indicator(), scope="national", period=S1, points=points)
    assert card is not None
    assert (card.band, card.status) == (band, status)
    assert card.progress == (None if progress is None else pytest.approx(progress))


def test_explanations_in_both_languages() -> None:
    card = score_card(
        create_indicator(targets=[(2023, "=", 100)]),
        scope="national",
        period=S1,
        points=figures(**{"2023-S1": 52.3}),
    )
    assert card is not None
    assert card.explanation(Language.EN) == (
        "52.3 of target 100 → 52% → more than half done; "
        "fewer than two observations, so no trend → hard to assess"
    )
    assert card.explanation(Language.VI).startswith("52,3 trên mục tiêu 100 → 52% → Đã thực hiện")


def test_no_card_without_a_target_in_force() -> None:
    indicator = create_indicator(targets=[(2022, "=", 100)])
    assert score_card(indicator, scope="national", period=S1, points={}) is None


def test_period_cards_prefer_the_stored_snapshot_and_fill_the_gaps() -> None:
    national, split = create_indicator("N-1"), create_indicator("G-1", aggregation="by_group")
    stored_card = score_card(
        national, scope="national", period=S1, points=figures(**{"2023-S1": 90})
    )
    assert stored_card is not None
    points = {("G-1", "central"): figures(**{"2023-S1": 70})}
    cards = list(
        period_cards(
            [national, split],
            period=S1,
            scope=None,
            stored={("N-1", "national", "2023-S1"): stored_card},
            points=points,
        )
    )
    assert [(i.code, c.scope, c.value) for i, c in cards] == [
        ("N-1", "national", 90),
        ("G-1", "central", 70),
        ("G-1", "local", None),
    ]
    only_central = period_cards(
        [national, split], period=S1, scope="central", stored={}, points=points
    )
    assert [(i.code, c.scope) for i, c in only_central] == [("G-1", "central")]
