"""Readable explanations of bands and trajectory statuses, in both languages."""

import math

import pytest

from services.scoring.domain.bands import Band
from services.scoring.domain.explain import (
    ASSESSMENT_LABELS,
    Language,
    explain_band,
    explain_trajectory,
    format_number,
    label,
)
from services.scoring.domain.targets import Comparator, Direction, ObservedValue, Target
from services.scoring.domain.trajectory import Observation, TrajectoryStatus, assess_trajectory

EN, VI = Language.EN, Language.VI
UP, DOWN = Direction.INCREASE, Direction.DECREASE


def test_every_band_and_status_has_a_label() -> None:
    assert set(ASSESSMENT_LABELS) == {str(key) for key in [*Band, *TrajectoryStatus]}


@pytest.mark.parametrize(
    ("key", "language", "text"),
    [
        pytest.param(Band.OVER_HALF, VI, "Đã thực hiện trên 50%", id="over-half-vi"),
        pytest.param(Band.UNDER_HALF, EN, "less than half done", id="under-half-en"),
        pytest.param(
            TrajectoryStatus.AHEAD, VI, "Có khả năng hoàn thành trước thời hạn", id="ahead"
        ),
        pytest.param(TrajectoryStatus.HARD, VI, "Khó hoàn thành", id="hard-vi"),
        pytest.param(TrajectoryStatus.UNASSESSABLE, VI, "Khó đánh giá", id="unassessable-vi"),
        pytest.param(Band.NO_DATA, VI, "Chưa có số liệu", id="no-data-band-vi"),
        pytest.param(TrajectoryStatus.NO_DATA, EN, "no data", id="no-data-status-en"),
    ],
)
def test_label(key: Band | TrajectoryStatus, language: Language, text: str) -> None:
    assert label(key, language) == text


@pytest.mark.parametrize(
    ("value", "language", "text"),
    [
        pytest.param(52.3, EN, "52.3", id="en-decimal"),
        pytest.param(52.3, VI, "52,3", id="vi-decimal-comma"),
        pytest.param(1234.5, EN, "1,234.5", id="en-grouping"),
        pytest.param(1234.5, VI, "1.234,5", id="vi-grouping"),
        pytest.param(100.0, VI, "100", id="whole-number"),
        pytest.param(56.625, EN, "56.63", id="two-decimals-half-up"),
        pytest.param(0.975, EN, "0.98", id="half-up-despite-binary"),
        pytest.param(-0.001, EN, "0", id="no-negative-zero"),
        pytest.param(-1.5, VI, "-1,5", id="negative"),
        pytest.param(math.inf, EN, "inf", id="infinite-is-not-rounded"),
    ],
)
def test_format_number(value: float, language: Language, text: str) -> None:
    assert format_number(value, language) == text


@pytest.mark.parametrize(
    ("value", "op", "goal", "direction", "language", "text"),
    [
        pytest.param(
            52.3, "=", 100, UP, EN, "52.3 of target 100 → 52% → more than half done", id="spec-en"
        ),
        pytest.param(
            52.3,
            "=",
            100,
            UP,
            VI,
            "52,3 trên mục tiêu 100 → 52% → Đã thực hiện trên 50%",
            id="spec-vi",
        ),
        pytest.param(
            12.0, ">", 30, UP, EN, "12 of target > 30 → 40% → less than half done", id="strict-op"
        ),
        pytest.param(
            85.0, ">=", 80, UP, VI, "85 trên mục tiêu ≥ 80 → 106% → Hoàn thành", id="completed-vi"
        ),
        pytest.param(
            40.0,
            "<=",
            20,
            DOWN,
            EN,
            "40 against target ≤ 20 → 50% → less than half done",
            id="decrease-en",
        ),
        pytest.param(
            30.0,
            "<",
            20,
            DOWN,
            VI,
            "30 so với mục tiêu < 20 → 67% → Đã thực hiện trên 50%",
            id="decrease-vi",
        ),
        pytest.param(
            50.3,
            "=",
            100,
            UP,
            EN,
            "50.3 of target 100 → 50.3% → more than half done",
            id="no-misleading-50",
        ),
        pytest.param(
            99.6,
            "=",
            100,
            UP,
            EN,
            "99.6 of target 100 → 99.6% → more than half done",
            id="no-misleading-100",
        ),
        pytest.param(
            None, "=", 100, UP, EN, "no value reported for the period → no data", id="none"
        ),
        pytest.param(
            None, "=", 100, UP, VI, "không có số liệu của kỳ → Chưa có số liệu", id="none-vi"
        ),
        pytest.param(True, "=", 100, UP, VI, "có → Hoàn thành", id="boolean-yes-vi"),
        pytest.param(False, "=", 100, UP, EN, "no → less than half done", id="boolean-no-en"),
    ],
)
def test_explain_band(
    value: ObservedValue | None,
    op: str,
    goal: float,
    direction: Direction,
    language: Language,
    text: str,
) -> None:
    target = Target(year=2023, op=Comparator(op), value=goal)
    assert explain_band(value, target=target, direction=direction, language=language) == text


@pytest.mark.parametrize(
    ("series", "year", "language", "text"),
    [
        pytest.param(
            [("2022", 40), ("2023", 53)],
            2025,
            EN,
            "from 40, projected 79 by the end of 2025 against target ≥ 80, r = 0.98"
            " → likely to be met",
            id="projected-en",
        ),
        pytest.param(
            [("2022", 40), ("2023", 53)],
            2025,
            VI,
            "từ 40, dự báo 79 vào cuối năm 2025 so với mục tiêu ≥ 80, r = 0,98"
            " → Có khả năng hoàn thành",
            id="projected-vi",
        ),
        pytest.param(
            [("2022", 60), ("2023", 50)],
            2025,
            EN,
            "from 60, projected 30 by the end of 2025 against target ≥ 80, r = -1.5,"
            " moving away from the target → unlikely",
            id="regressing-en",
        ),
        pytest.param(
            [("2022", 60), ("2023", 50)],
            2025,
            VI,
            "từ 60, dự báo 30 vào cuối năm 2025 so với mục tiêu ≥ 80, r = -1,5,"
            " đang đi ngược mục tiêu → Khó hoàn thành",
            id="regressing-vi",
        ),
        pytest.param(
            [("2022", 52.3), ("2023", 52.3)],
            2025,
            EN,
            "unchanged from 52.3: projected 52.3 by the end of 2025 against target ≥ 80, r = 0"
            " → unlikely",
            id="flat-en",
        ),
        pytest.param(
            [("2023", 85)],
            2025,
            VI,
            "số liệu mới nhất 85 đạt mục tiêu ≥ 80 → Hoàn thành",
            id="completed-vi",
        ),
        pytest.param(
            [("2023", 60)],
            2025,
            EN,
            "fewer than two observations, so no trend → hard to assess",
            id="unassessable-en",
        ),
        pytest.param(
            [("2023", 60)],
            2025,
            VI,
            "chưa đủ hai kỳ số liệu để thấy xu hướng → Khó đánh giá",
            id="unassessable-vi",
        ),
        pytest.param([], 2025, VI, "chưa có số liệu kỳ nào → Chưa có số liệu", id="no-data-vi"),
        pytest.param([], 2025, EN, "no value reported for any period → no data", id="no-data-en"),
        pytest.param(
            [("2022", 40), ("2023", 70)],
            2023,
            EN,
            "the 2023 deadline has passed at 70 against target ≥ 80 → unlikely",
            id="deadline-passed-en",
        ),
        pytest.param(
            [("2022", 90), ("2023", 70)],
            2025,
            VI,
            "xuất phát từ 90, đã ở mức mục tiêu ≥ 80; dự báo 30 vào cuối năm 2025,"
            " đang đi ngược mục tiêu → Khó hoàn thành",
            id="baseline-at-target-vi",
        ),
    ],
)
def test_explain_trajectory(
    series: list[tuple[str, float]], year: int, language: Language, text: str
) -> None:
    target = Target(year=year, op=Comparator.GE, value=80)
    observations = [Observation(period, value) for period, value in series]
    trajectory = assess_trajectory(observations, target=target, direction=UP)
    assert explain_trajectory(trajectory, target=target, language=language) == text


def test_explain_boolean_trajectory() -> None:
    target = Target(year=2025, op=Comparator.EQ, value=100)
    observations = [Observation("2022", False), Observation("2023", False)]
    trajectory = assess_trajectory(observations, target=target, direction=UP)
    assert explain_trajectory(trajectory, target=target, language=VI) == (
        "chưa thực hiện, chỉ tiêu có/không không có xu hướng → Khó đánh giá"
    )
