"""Who is chased for what: missing and late reports, off-track figures, bundled per agency.

Pure: the caller loads the replica (agencies, indicators, reports, statuses, keys already sent)
and passes ``today``; nothing here reads a clock or a database.
"""

from __future__ import annotations

from collections.abc import Collection, Iterable, Mapping
from dataclasses import dataclass, field
from datetime import date
from enum import StrEnum

from libs.common.periods import ReportingPeriod, programme_runs
from services.notify.domain.calendar import (
    ChasePolicy,
    Stage,
    days_late,
    highest,
    local_day,
    missing_stage,
)
from services.notify.domain.replica import AgencyCard, Contact, IndicatorCard, Report, ScopeStatus

#: Scopes of national and group figures; any other scope of a score is an agency code.
AGGREGATE_SCOPES = ("national", "central", "local")


class ItemKind(StrEnum):
    """Why an agency hears about one indicator."""

    MISSING = "missing"
    LATE = "late"
    OFF_TRACK = "off_track"


class SkipReason(StrEnum):
    """Why an item was considered but not sent."""

    ALREADY_SENT = "already_sent"
    NOT_YET_DUE = "not_yet_due"
    NO_CONTACTS = "no_contacts"


@dataclass(frozen=True)
class ReminderKey:
    """The idempotency key: one letter item per agency, indicator, period and stage, ever."""

    agency: str
    indicator: str
    period: str
    stage: Stage


@dataclass(frozen=True)
class ChaseItem:
    """One indicator an agency is told about, at one stage."""

    agency: str
    indicator: str
    period: str
    stage: Stage
    kind: ItemKind
    due: date | None = None
    reported_on: date | None = None
    days_late: int | None = None
    statuses: tuple[ScopeStatus, ...] = ()

    @property
    def key(self) -> ReminderKey:
        """The item's idempotency key."""
        return ReminderKey(self.agency, self.indicator, self.period, self.stage)


@dataclass(frozen=True)
class Skipped:
    """An item considered and not sent, with the reason."""

    agency: str
    indicator: str
    stage: Stage
    reason: SkipReason


@dataclass(frozen=True)
class Letter:
    """One e-mail to one agency bundling all its items of a run."""

    agency: AgencyCard
    period: str
    stage: Stage
    items: tuple[ChaseItem, ...]
    to: tuple[Contact, ...]
    cc: tuple[Contact, ...] = ()

    @property
    def indicators(self) -> list[str]:
        """Indicator codes the letter names, in order."""
        return sorted({item.indicator for item in self.items})


@dataclass
class Assessment:
    """Items to send and items left out."""

    items: list[ChaseItem] = field(default_factory=list)
    skipped: list[Skipped] = field(default_factory=list)


def assess_reports(
    indicators: Iterable[IndicatorCard],
    reports: Mapping[tuple[str, str], Report],
    *,
    period: ReportingPeriod,
    today: date,
    policy: ChasePolicy,
) -> Assessment:
    """Missing and late reports of ``period``; ``reports`` maps (indicator, agency) to a report."""
    found = Assessment()
    label = str(period)
    for indicator in sorted(indicators, key=lambda i: i.code):
        if indicator.frequency != period.kind:
            continue  # not reported per this kind of period: nothing is due for it
        if indicator.target_years is not None and not programme_runs(
            indicator.target_years, period
        ):
            continue  # its programme is over: nobody is chased for it
        due = period.due_date(indicator.due_days)
        for agency in sorted({r.agency for r in indicator.reporters if r.covers(period.end)}):
            report = reports.get((indicator.code, agency))
            if report is None:
                stage = missing_stage(today, due, policy)
                if stage is None:
                    found.skipped.append(
                        Skipped(agency, indicator.code, Stage.REMINDER, SkipReason.NOT_YET_DUE)
                    )
                    continue
                found.items.append(
                    ChaseItem(agency, indicator.code, label, stage, ItemKind.MISSING, due=due)
                )
                continue
            lateness = days_late(report.reported_at, due)
            if (report.late or lateness > 0) and today > due:
                found.items.append(
                    ChaseItem(
                        agency,
                        indicator.code,
                        label,
                        Stage.OVERDUE,
                        ItemKind.LATE,
                        due=due,
                        reported_on=local_day(report.reported_at),
                        days_late=max(lateness, 0),
                    )
                )
    return found


def is_off_track(status: ScopeStatus) -> bool:
    """Off track as the laggard rule says: band ``under_half`` or status ``hard``."""
    return status.band == "under_half" or status.status == "hard"


def assess_progress(
    indicators: Iterable[IndicatorCard],
    statuses: Mapping[str, Iterable[ScopeStatus]],
    *,
    period: ReportingPeriod,
    agencies: Collection[str],
    policy: ChasePolicy,
) -> Assessment:
    """Off-track figures: an agency's own go to it, aggregate ones to the standing agency."""
    found = Assessment()
    for indicator in sorted(indicators, key=lambda i: i.code):
        by_agency: dict[str, list[ScopeStatus]] = {}
        for status in statuses.get(indicator.code, ()):
            if not is_off_track(status):
                continue
            own = status.scope in agencies and status.scope not in AGGREGATE_SCOPES
            addressee = status.scope if own else policy.standing_agency
            by_agency.setdefault(addressee, []).append(status)
        for agency, off_track in sorted(by_agency.items()):
            found.items.append(
                ChaseItem(
                    agency,
                    indicator.code,
                    str(period),
                    Stage.PROGRESS,
                    ItemKind.OFF_TRACK,
                    statuses=tuple(sorted(off_track, key=lambda s: s.scope)),
                )
            )
    return found


def head_contact(contacts: Iterable[Contact]) -> Contact | None:
    """The agency's head: the contact with role ``head``, else the first one."""
    listed = list(contacts)
    heads = [c for c in listed if (c.role or "").lower() == "head"]
    if heads:
        return heads[0]
    return listed[0] if listed else None


def recipients(
    agency: AgencyCard, stages: Collection[Stage], standing: AgencyCard | None
) -> tuple[tuple[Contact, ...], tuple[Contact, ...]]:
    """To and Cc of a letter: escalations go to the head, copied to the standing agency.

    A letter also carrying earlier-stage items goes to every contact, since those are theirs.
    """
    if Stage.ESCALATION not in stages:
        return agency.contacts, ()
    head = head_contact(agency.contacts)
    only_escalated = all(stage is Stage.ESCALATION for stage in stages)
    to = ((head,) if head else ()) if only_escalated else agency.contacts
    if standing is None or standing.code == agency.code:
        return to, ()
    seen = {c.email.lower() for c in to}
    cc = tuple(c for c in standing.contacts if c.email.lower() not in seen)
    return to, cc


def plan_letters(
    assessment: Assessment,
    agencies: Mapping[str, AgencyCard],
    sent: Collection[ReminderKey],
    *,
    policy: ChasePolicy,
) -> tuple[list[Letter], list[Skipped]]:
    """One letter per agency with everything not sent before; the rest skipped with a reason."""
    skipped = list(assessment.skipped)
    by_agency: dict[str, list[ChaseItem]] = {}
    for item in assessment.items:
        if item.key in sent:
            skipped.append(
                Skipped(item.agency, item.indicator, item.stage, SkipReason.ALREADY_SENT)
            )
        else:
            by_agency.setdefault(item.agency, []).append(item)
    letters = []
    standing = agencies.get(policy.standing_agency)
    for code, items in sorted(by_agency.items()):
        agency = agencies.get(code)
        stages = {item.stage for item in items}
        to, cc = recipients(agency, stages, standing) if agency else ((), ())
        if agency is None or not to:
            skipped += [
                Skipped(i.agency, i.indicator, i.stage, SkipReason.NO_CONTACTS) for i in items
            ]
            continue
        ordered = tuple(sorted(items, key=lambda i: (i.indicator, i.stage)))
        letters.append(Letter(agency, items[0].period, highest(stages), ordered, to, cc))
    return letters, skipped
