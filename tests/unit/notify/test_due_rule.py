"""Reminders and laggards agree on what is due: the same fixtures, through both services' rule."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta

import pytest

from libs.common.events import ReporterSpan
from libs.common.periods import ReportingPeriod, parse_period
from services.notify.domain.calendar import ChasePolicy
from services.notify.domain.reminders import assess_reports
from services.notify.domain.replica import IndicatorCard
from services.scoring.domain.catalogue import Indicator
from services.scoring.domain.standing import laggard_standings, owed_reports
from tests.unit.scoring_service.indicators import create_indicator


@dataclass(frozen=True)
class Regime:
    code: str
    target_years: tuple[int, ...]
    reporters: tuple[str, ...]


FIXTURES = [
    Regime("KH2022-X", (2022,), ("P01", "P02")),  # the 2022 plan
    Regime("KH2023-X", (2023,), ("P01", "P02", "P03")),  # the 2023 plan
    Regime("CL942-X", (2024, 2025), ("P01",)),  # runs to 2025
    Regime("CL411-X", (2025, 2030), ("BTTTT",)),
    Regime("OPEN-X", (), ("P02",)),  # no target: followed without an end
]
PERIODS = ["2022-S2", "2023-S1", "2023-S2", "2024-S1", "2025-S2", "2026-S1"]


def notify_owes(period: ReportingPeriod, today: date) -> set[tuple[str, str]]:
    cards = [
        IndicatorCard(
            r.code,
            r.code.split("-")[0],
            r.code,
            "half",
            15,
            tuple(ReporterSpan(agency=a) for a in r.reporters),
            r.target_years,
        )
        for r in FIXTURES
    ]
    found = assess_reports(cards, {}, period=period, today=today, policy=ChasePolicy())
    return {(i.indicator, i.agency) for i in found.items}


def scoring_indicators() -> list[Indicator]:
    return [
        create_indicator(
            r.code,
            aggregation="share_of_agencies",
            targets=tuple((year, ">=", 80) for year in r.target_years),
            reporters=r.reporters,
        )
        for r in FIXTURES
    ]


@pytest.mark.parametrize("text", PERIODS)
def test_reminders_and_laggards_chase_the_same_reports(text: str) -> None:
    period = parse_period(text)
    today = period.due_date(15) + timedelta(days=19)  # overdue, within the chase window
    owed = {(i.code, agency) for i, agency, _ in owed_reports(scoring_indicators(), period)}
    lagging = {
        (s.indicator, s.agency)
        for s in laggard_standings(
            scoring_indicators(), period=period, reports={}, national={}, today=today
        )
    }
    assert notify_owes(period, today) == owed == lagging


def test_a_programme_past_its_last_target_year_is_not_chased() -> None:
    period = parse_period("2024-S1")
    chased = notify_owes(period, date(2024, 8, 1))
    assert {code for code, _ in chased} == {"CL942-X", "CL411-X", "OPEN-X"}


def test_a_replica_without_target_years_still_chases() -> None:
    card = IndicatorCard("OLD", "KH2023", "OLD", "half", 15, (ReporterSpan(agency="P01"),))
    period = parse_period("2024-S1")
    found = assess_reports([card], {}, period=period, today=date(2024, 8, 1), policy=ChasePolicy())
    assert [(i.indicator, i.agency) for i in found.items] == [("OLD", "P01")]
