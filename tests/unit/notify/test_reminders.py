"""Who is chased for what, bundled per agency, never twice: the pure reminder logic."""

from __future__ import annotations

from datetime import UTC, date, datetime

import pytest

from libs.common.events import ReporterSpan
from libs.common.periods import parse_period
from services.notify.domain.calendar import ChasePolicy, Stage
from services.notify.domain.reminders import (
    Assessment,
    ChaseItem,
    ItemKind,
    ReminderKey,
    SkipReason,
    assess_progress,
    assess_reports,
    head_contact,
    plan_letters,
    recipients,
)
from services.notify.domain.replica import (
    AgencyCard,
    Contact,
    IndicatorCard,
    Report,
    ScopeStatus,
)

POLICY = ChasePolicy()
S1 = parse_period("2023-S1")  # ends 30/06/2023, due 15/07/2023 with due_days 15


def indicator(code: str, *reporters: str, frequency: str = "half") -> IndicatorCard:
    spans = tuple(ReporterSpan(agency=a) for a in reporters)
    return IndicatorCard(code, "KH2023", f"Chỉ tiêu {code}", frequency, 15, spans)


def agency(code: str, *emails: str, head: str | None = None) -> AgencyCard:
    contacts = tuple(Contact(e, f"Cán bộ {e}", "head" if e == head else None) for e in emails)
    return AgencyCard(code, f"Tỉnh {code}", contacts)


def at(day: int, month: int = 7, hour: int = 3) -> datetime:
    return datetime(2023, month, day, hour, tzinfo=UTC)


AGENCIES = {
    "P01": agency("P01", "a@p01.vn", "b@p01.vn"),
    "P02": agency("P02", "a@p02.vn"),
    "P03": agency("P03"),
    "BTTTT": agency("BTTTT", "cds@mic.gov.vn"),
}


def test_missing_late_and_on_time_reports() -> None:
    indicators = [indicator("I-1", "P01", "P02", "P03"), indicator("I-2", "P01")]
    reports = {
        ("I-1", "P01"): Report(at(10)),  # on time
        ("I-1", "P02"): Report(at(20)),  # five days late
        ("I-2", "P01"): Report(at(14), late=True),  # ingest said late: believed
    }
    found = assess_reports(indicators, reports, period=S1, today=date(2023, 7, 25), policy=POLICY)
    summary = [(i.agency, i.indicator, i.kind, i.stage, i.days_late) for i in found.items]
    assert summary == [
        ("P02", "I-1", ItemKind.LATE, Stage.OVERDUE, 5),
        ("P03", "I-1", ItemKind.MISSING, Stage.OVERDUE, None),
        ("P01", "I-2", ItemKind.LATE, Stage.OVERDUE, 0),
    ]
    assert found.items[0].reported_on == date(2023, 7, 20)
    assert found.skipped == []


def test_nothing_is_due_before_the_reminder_window() -> None:
    found = assess_reports(
        [indicator("I-1", "P01")], {}, period=S1, today=date(2023, 7, 1), policy=POLICY
    )
    assert found.items == []
    assert [(s.agency, s.reason) for s in found.skipped] == [("P01", SkipReason.NOT_YET_DUE)]


def test_reports_due_past_the_calendar_are_never_chased() -> None:
    found = assess_reports(
        [indicator("I-1", "P01")],
        {},
        period=parse_period("9999-S2"),
        today=date(9999, 12, 1),
        policy=POLICY,
    )
    assert found.items == []
    assert [(s.agency, s.reason) for s in found.skipped] == [("P01", SkipReason.NOT_YET_DUE)]


def test_late_reports_are_not_chased_before_the_due_date() -> None:
    reports = {("I-1", "P01"): Report(at(10), late=True)}
    found = assess_reports(
        [indicator("I-1", "P01")], reports, period=S1, today=date(2023, 7, 12), policy=POLICY
    )
    assert found.items == []


def test_only_reporters_covering_the_period_and_indicators_of_its_kind() -> None:
    spans = (
        ReporterSpan(agency="OLD", valid_to=date(2022, 12, 31)),
        ReporterSpan(agency="NEW", valid_from=date(2023, 7, 1)),
        ReporterSpan(agency="P01", valid_from=date(2020, 1, 1), valid_to=date(2025, 6, 30)),
    )
    half = IndicatorCard("I-1", "KH2023", "Chỉ tiêu", "half", 15, spans)
    yearly = indicator("I-Y", "P01", frequency="year")
    found = assess_reports([half, yearly], {}, period=S1, today=date(2023, 7, 20), policy=POLICY)
    assert [(i.agency, i.indicator) for i in found.items] == [("P01", "I-1")]


def test_one_letter_per_agency_bundles_all_its_items() -> None:
    indicators = [indicator("I-2", "P01", "P02"), indicator("I-1", "P01")]
    found = assess_reports(indicators, {}, period=S1, today=date(2023, 7, 20), policy=POLICY)
    letters, skipped = plan_letters(found, AGENCIES, set(), policy=POLICY)
    assert [(x.agency.code, x.indicators, x.stage) for x in letters] == [
        ("P01", ["I-1", "I-2"], Stage.OVERDUE),
        ("P02", ["I-2"], Stage.OVERDUE),
    ]
    assert [c.email for c in letters[0].to] == ["a@p01.vn", "b@p01.vn"]
    assert letters[0].cc == ()
    assert skipped == []


def test_keys_already_taken_are_skipped_and_agencies_without_contacts_too() -> None:
    indicators = [indicator("I-1", "P01", "P02", "P03")]
    found = assess_reports(indicators, {}, period=S1, today=date(2023, 7, 20), policy=POLICY)
    sent = {ReminderKey("P01", "I-1", "2023-S1", Stage.OVERDUE)}
    letters, skipped = plan_letters(found, AGENCIES, sent, policy=POLICY)
    assert [x.agency.code for x in letters] == ["P02"]
    assert {(s.agency, s.reason) for s in skipped} == {
        ("P01", SkipReason.ALREADY_SENT),
        ("P03", SkipReason.NO_CONTACTS),
    }


def test_a_sent_reminder_does_not_hide_the_overdue_stage() -> None:
    found = assess_reports(
        [indicator("I-1", "P01")], {}, period=S1, today=date(2023, 7, 20), policy=POLICY
    )
    sent = {ReminderKey("P01", "I-1", "2023-S1", Stage.REMINDER)}
    letters, _ = plan_letters(found, AGENCIES, sent, policy=POLICY)
    assert [x.stage for x in letters] == [Stage.OVERDUE]


@pytest.mark.parametrize(
    ("stage", "period", "key"),
    [
        (Stage.REMINDER, "2023-S1", ReminderKey("P01", "I-1", "2023-S1", Stage.REMINDER)),
        (Stage.ESCALATION, "2023-S2", ReminderKey("P01", "I-1", "2023-S2", Stage.ESCALATION)),
    ],
)
def test_idempotency_key_is_agency_indicator_period_stage(
    stage: Stage, period: str, key: ReminderKey
) -> None:
    item = ChaseItem("P01", "I-1", period, stage, ItemKind.MISSING, due=date(2023, 7, 15))
    assert item.key == key
    late = ChaseItem("P01", "I-1", period, stage, ItemKind.LATE, days_late=3)
    assert late.key == item.key  # a late notice never repeats a chase at the same stage


def test_the_head_is_the_contact_with_role_head_else_the_first() -> None:
    assert head_contact(agency("P01", "a@x.vn", "b@x.vn", head="b@x.vn").contacts) == Contact(
        "b@x.vn", "Cán bộ b@x.vn", "head"
    )
    assert head_contact(agency("P01", "a@x.vn", "b@x.vn").contacts) == Contact(
        "a@x.vn", "Cán bộ a@x.vn"
    )
    assert head_contact(()) is None


def test_escalations_go_to_the_head_copied_to_the_standing_agency() -> None:
    p01 = agency("P01", "a@p01.vn", "b@p01.vn", head="b@p01.vn")
    to, cc = recipients(p01, {Stage.ESCALATION}, AGENCIES["BTTTT"])
    assert ([c.email for c in to], [c.email for c in cc]) == (["b@p01.vn"], ["cds@mic.gov.vn"])
    # Carrying earlier-stage items too, the letter goes to every contact.
    to, cc = recipients(p01, {Stage.ESCALATION, Stage.OVERDUE}, AGENCIES["BTTTT"])
    assert [c.email for c in to] == ["a@p01.vn", "b@p01.vn"]
    # The standing agency is not copied on its own escalation.
    to, cc = recipients(AGENCIES["BTTTT"], {Stage.ESCALATION}, AGENCIES["BTTTT"])
    assert cc == ()


def test_escalation_stage_in_a_plan() -> None:
    found = assess_reports(
        [indicator("I-1", "P02")], {}, period=S1, today=date(2023, 8, 1), policy=POLICY
    )
    letters, _ = plan_letters(found, AGENCIES, set(), policy=POLICY)
    assert [(x.stage, [c.email for c in x.cc]) for x in letters] == [
        (Stage.ESCALATION, ["cds@mic.gov.vn"])
    ]


def test_off_track_figures_go_to_their_agency_or_the_standing_agency() -> None:
    statuses = {
        "I-1": [
            ScopeStatus("P01", "hard", "over_half"),
            ScopeStatus("P02", "likely", "over_half"),  # on track: no letter
            ScopeStatus("national", "low", "under_half"),
            ScopeStatus("local", "hard", "under_half"),
            ScopeStatus("population:dx86", "likely", "under_half"),
        ]
    }
    found = assess_progress(
        [indicator("I-1")], statuses, period=S1, agencies=AGENCIES.keys(), policy=POLICY
    )
    assert [(i.agency, [s.scope for s in i.statuses]) for i in found.items] == [
        ("BTTTT", ["local", "national", "population:dx86"]),
        ("P01", ["P01"]),
    ]
    assert {i.stage for i in found.items} == {Stage.PROGRESS}
    letters, _ = plan_letters(Assessment(found.items), AGENCIES, set(), policy=POLICY)
    assert [x.stage for x in letters] == [Stage.PROGRESS, Stage.PROGRESS]
