"""§6 laggards: missing, late and off-track reasons, each naming the indicator and figure."""

from datetime import date, datetime

import pytest

from services.scoring.domain.explain import Language
from services.scoring.domain.laggards import (
    Laggard,
    LaggardKind,
    LaggardReason,
    Standing,
    find_laggards,
)
from services.scoring.domain.targets import Comparator, Direction, ObservedValue, Target
from services.scoring.domain.trajectory import Observation, assess_trajectory

DUE = date(2023, 7, 15)
ON_TIME, LATE = datetime(2023, 7, 10), datetime(2023, 7, 20, 9)
TARGET = Target(year=2023, op=Comparator.GT, value=30)


def standing(
    value: ObservedValue | None, reported_at: datetime | None, indicator: str = "KH2023-04"
) -> Standing:
    return Standing(
        agency="P01",
        indicator=indicator,
        period="2023-S1",
        due=DUE,
        target=TARGET,
        direction=Direction.INCREASE,
        value=value,
        reported_at=reported_at,
    )


@pytest.mark.parametrize(
    ("entry", "reasons"),
    [
        pytest.param(standing(40.0, ON_TIME), [], id="on-time-and-met"),
        pytest.param(standing(20.0, ON_TIME), [], id="over-half-is-not-lagging"),
        pytest.param(
            standing(None, None),
            [(LaggardKind.MISSING, "no value for 2023-S1 (due 2023-07-15)")],
            id="missing-only-not-also-off-track",
        ),
        pytest.param(
            standing(40.0, LATE),
            [(LaggardKind.LATE, "reported 2023-07-20, 5 day(s) after the due date 2023-07-15")],
            id="late",
        ),
        pytest.param(
            standing(12.0, ON_TIME),
            [(LaggardKind.OFF_TRACK, "12 of target > 30 → 40% → less than half done")],
            id="under-half",
        ),
        pytest.param(
            standing(False, LATE),
            [
                (LaggardKind.LATE, "reported 2023-07-20, 5 day(s) after the due date 2023-07-15"),
                (LaggardKind.OFF_TRACK, "no → less than half done"),
            ],
            id="late-and-boolean-not-done",
        ),
        pytest.param(
            standing(12.0, None),
            [(LaggardKind.OFF_TRACK, "12 of target > 30 → 40% → less than half done")],
            id="value-without-timestamp-is-not-late",
        ),
    ],
)
def test_reasons(entry: Standing, reasons: list[tuple[LaggardKind, str]]) -> None:
    found = find_laggards([entry])
    assert [(reason.kind, reason.detail) for lag in found for reason in lag.reasons] == reasons


def test_status_hard_is_off_track_even_over_half() -> None:
    target = Target(year=2025, op=Comparator.GE, value=80)
    trajectory = assess_trajectory(
        [Observation("2022", 60), Observation("2023", 50)],
        target=target,
        direction=Direction.INCREASE,
    )
    entry = Standing(
        agency="P01",
        indicator="CL942-A1.1",
        period="2023",
        due=DUE,
        target=target,
        direction=Direction.INCREASE,
        value=50.0,
        reported_at=ON_TIME,
        trajectory=trajectory,
    )
    [laggard] = find_laggards([entry])
    assert laggard.reasons == (
        LaggardReason(
            "CL942-A1.1",
            LaggardKind.OFF_TRACK,
            "from 60, projected 30 by the end of 2025 against target ≥ 80, r = -1.5,"
            " moving away from the target → unlikely",
        ),
    )


def test_laggards_most_behind_first_then_indicator_then_kind() -> None:
    entries = [
        standing(False, LATE, indicator="KH2023-05"),
        standing(None, None, indicator="KH2023-04"),
        Standing("BTTTT", "KH2023-04", "2023-S1", DUE, TARGET, Direction.INCREASE, None, None),
        Standing("P02", "KH2023-04", "2023-S1", DUE, TARGET, Direction.INCREASE, 40.0, ON_TIME),
    ]
    found = find_laggards(entries)
    assert [lag.agency for lag in found] == ["P01", "BTTTT"]  # two indicators behind, then one
    p01 = found[0]
    assert [(reason.indicator, reason.kind) for reason in p01.reasons] == [
        ("KH2023-04", LaggardKind.MISSING),
        ("KH2023-05", LaggardKind.LATE),
        ("KH2023-05", LaggardKind.OFF_TRACK),
    ]


def test_reasons_in_vietnamese() -> None:
    found = find_laggards(
        [standing(12.0, LATE), standing(None, None, "KH2023-05")], language=Language.VI
    )
    assert found == [
        Laggard(
            agency="P01",
            reasons=(
                LaggardReason(
                    "KH2023-04",
                    LaggardKind.LATE,
                    "báo cáo ngày 20/07/2023, chậm 5 ngày so với hạn 15/07/2023",
                ),
                LaggardReason(
                    "KH2023-04",
                    LaggardKind.OFF_TRACK,
                    "12 trên mục tiêu > 30 → 40% → Đã thực hiện dưới 50%",
                ),
                LaggardReason(
                    "KH2023-05", LaggardKind.MISSING, "chưa có số liệu kỳ 2023-S1 (hạn 15/07/2023)"
                ),
            ),
        )
    ]


def lagging(
    agency: str, value: ObservedValue | None, indicator: str, *, late: bool = False
) -> Standing:
    reported = None if value is None else (LATE if late else ON_TIME)
    return Standing(agency, indicator, "2023-S1", DUE, TARGET, Direction.INCREASE, value, reported)


def test_a_silent_agency_is_never_listed_as_less_behind_than_one_that_reported() -> None:
    codes = ("KH2023-04", "KH2023-05", "KH2023-06")
    # P48 reported everything, late and weak: two reasons per indicator, six in all.
    reported = [lagging("P48", 3.0, code, late=True) for code in codes]
    # P01 sent nothing: three reasons, one per indicator; P02 sent one weak figure on time.
    silent = [lagging("P01", None, code) for code in codes]
    partial = [lagging("P02", 3.0, "KH2023-04"), *(lagging("P02", None, c) for c in codes[1:])]
    found = find_laggards([*reported, *partial, *silent])
    assert sum(len(lag.reasons) for lag in found if lag.agency == "P48") == 6
    # Every one lags on three indicators; among equals, the most missing come first.
    assert [(lag.agency, lag.indicators, lag.missing) for lag in found] == [
        ("P01", 3, 3),
        ("P02", 3, 2),
        ("P48", 3, 0),
    ]
