"""The reminder and progress jobs: assess, plan one letter per agency, queue it with its keys."""

from __future__ import annotations

import logging
from collections.abc import Sequence
from datetime import date
from functools import lru_cache

from sqlalchemy.exc import IntegrityError

from libs.common.errors import InvalidInput, ProblemItem
from libs.common.events import utcnow
from libs.common.periods import ReportingPeriod, parse_period
from libs.common.service import ServiceRuntime
from services.notify import repository
from services.notify.domain.calendar import local_day, periods_to_chase
from services.notify.domain.reminders import (
    Assessment,
    Letter,
    Skipped,
    SkipReason,
    assess_progress,
    assess_reports,
    plan_letters,
)
from services.notify.domain.replica import AgencyCard, IndicatorCard
from services.notify.mail import LetterRenderer, new_message_id
from services.notify.metrics import ITEMS_SKIPPED, WITHOUT_CONTACTS, record_last_success
from services.notify.schemas import ReminderRun, SentLetter, SkippedItem
from services.notify.settings import NotifySettings

log = logging.getLogger(__name__)

REMINDERS_JOB = "reminders"
PROGRESS_JOB = "progress"


def _invalid(parameter: str, message: str) -> InvalidInput:
    return InvalidInput(
        f"Bad {parameter}: {message}", errors=[ProblemItem(loc=["query", parameter], msg=message)]
    )


def as_period(period: ReportingPeriod | str) -> ReportingPeriod:
    """A period from its text form, or 422 naming ``period``."""
    if isinstance(period, ReportingPeriod):
        return period
    try:
        return parse_period(period)
    except (ValueError, TypeError) as error:
        raise _invalid("period", str(error)) from error


def _check_filters(
    indicators: Sequence[IndicatorCard],
    period: ReportingPeriod,
    *,
    program: str | None,
    indicator: str | None,
) -> None:
    if indicator is not None and not indicators:
        raise _invalid("indicator", f"no indicator {indicator!r} is known")
    if indicator is not None and indicators[0].frequency != period.kind:
        frequency = indicators[0].frequency
        raise _invalid("period", f"{indicator} is reported per {frequency}, not per {period.kind}")
    if program is not None and not indicators:
        raise _invalid("program", f"no indicator of programme {program!r} is known")


@lru_cache(maxsize=8)
def _renderer(public_url: str) -> LetterRenderer:
    return LetterRenderer(public_url)


async def run_reminders(
    runtime: ServiceRuntime,
    *,
    period: ReportingPeriod | str,
    program: str | None = None,
    indicator: str | None = None,
    dry_run: bool = False,
    today: date | None = None,
    settings: NotifySettings | None = None,
) -> ReminderRun:
    """Chase the missing and late reports of ``period``; each item is sent once, ever."""
    notify = settings or NotifySettings()
    asked = as_period(period)
    day = today or local_day(utcnow())
    async with runtime.db.read() as session:
        indicators = await repository.load_indicators(session, program=program, code=indicator)
        _check_filters(indicators, asked, program=program, indicator=indicator)
        codes = [i.code for i in indicators]
        reports = await repository.load_reports(session, indicators=codes, period=str(asked))
        agencies = await repository.load_agencies(session)
    assessment = assess_reports(
        indicators, reports, period=asked, today=day, policy=notify.policy()
    )
    run = await _dispatch(
        runtime, notify, assessment, agencies, indicators, asked, day=day, dry_run=dry_run
    )
    if not dry_run:
        record_last_success(REMINDERS_JOB, utcnow())
    return run


async def run_due_reminders(
    runtime: ServiceRuntime,
    *,
    today: date,
    settings: NotifySettings,
    dry_run: bool = False,
) -> list[ReminderRun]:
    """The scheduled reminder job: chase every period some indicator's calendar is in on ``today``.

    One run per period, in period order; the in-process scheduler and ``dx reminders run``
    without ``--period`` both run this.
    """
    async with runtime.db.read() as session:
        indicators = await repository.load_indicators(session)
    regimes = [(i.frequency, i.due_days) for i in indicators]
    return [
        await run_reminders(runtime, period=period, today=today, settings=settings, dry_run=dry_run)
        for period in periods_to_chase(regimes, today, settings.policy())
    ]


async def run_progress_letters(
    runtime: ServiceRuntime,
    *,
    period: ReportingPeriod | str,
    program: str | None = None,
    dry_run: bool = False,
    today: date | None = None,
    settings: NotifySettings | None = None,
) -> ReminderRun:
    """Tell agencies (and the standing agency) which indicators are off track in ``period``."""
    notify = settings or NotifySettings()
    asked = as_period(period)
    day = today or local_day(utcnow())
    async with runtime.db.read() as session:
        indicators = await repository.load_indicators(session, program=program)
        _check_filters(indicators, asked, program=program, indicator=None)
        codes = [i.code for i in indicators]
        statuses = await repository.load_statuses(session, indicators=codes, period=str(asked))
        agencies = await repository.load_agencies(session)
    assessment = assess_progress(
        indicators, statuses, period=asked, agencies=agencies.keys(), policy=notify.policy()
    )
    run = await _dispatch(
        runtime, notify, assessment, agencies, indicators, asked, day=day, dry_run=dry_run
    )
    if not dry_run:
        record_last_success(PROGRESS_JOB, utcnow())
    return run


async def _dispatch(
    runtime: ServiceRuntime,
    notify: NotifySettings,
    assessment: Assessment,
    agencies: dict[str, AgencyCard],
    indicators: Sequence[IndicatorCard],
    period: ReportingPeriod,
    *,
    day: date,
    dry_run: bool,
) -> ReminderRun:
    policy = notify.policy()
    codes = [i.code for i in indicators]
    async with runtime.db.read() as session:
        sent = await repository.sent_keys(session, indicators=codes, period=str(period))
    letters, skipped = plan_letters(assessment, agencies, sent, policy=policy)
    run = ReminderRun(period=str(period), dry_run=dry_run, sent=[], skipped=[])
    by_code = {i.code: i for i in indicators}
    for letter in letters:
        if dry_run:
            run.sent.append(SentLetter.of(letter, None))
            continue
        queued, late_skips = await _queue(runtime, notify, letter, by_code, agencies, day)
        run.sent += [SentLetter.of(q, message) for q, message in queued]
        skipped += late_skips
    run.skipped = [SkippedItem.of(s) for s in skipped]
    for item in skipped:
        ITEMS_SKIPPED.labels(item.reason.value).inc()
    run.no_contacts = sorted({s.agency for s in skipped if s.reason is SkipReason.NO_CONTACTS})
    WITHOUT_CONTACTS.set(len(run.no_contacts))
    if run.no_contacts:
        log.warning(
            "no contact for %d agencies owed reminders for %s: %s",
            len(run.no_contacts),
            period,
            ", ".join(run.no_contacts),
        )
    if not dry_run and run.sent:
        log.info("queued %d letter(s) for %s", len(run.sent), period)
    return run


async def _queue(
    runtime: ServiceRuntime,
    notify: NotifySettings,
    letter: Letter,
    indicators: dict[str, IndicatorCard],
    agencies: dict[str, AgencyCard],
    day: date,
) -> tuple[list[tuple[Letter, int]], list[Skipped]]:
    """Queue one letter; if a concurrent run took some keys first, re-plan without them once."""
    standing = agencies.get(notify.standing_agency)
    skipped: list[Skipped] = []
    for _ in range(2):
        rendered = _renderer(runtime.settings.public_url).render(
            letter, indicators, today=day, standing_name=standing.name_vi if standing else None
        )
        try:
            async with runtime.db.transaction() as session:
                message = await repository.queue_letter(
                    session,
                    letter,
                    subject=rendered.subject,
                    text=rendered.text,
                    html=rendered.html,
                    message_id=new_message_id(runtime.settings.mail_from),
                    now=utcnow(),
                )
            return [(letter, message)], skipped
        except IntegrityError:
            log.info("another run queued items for %s first; re-planning", letter.agency.code)
        async with runtime.db.read() as session:
            codes = [item.indicator for item in letter.items]
            taken = await repository.sent_keys(session, indicators=codes, period=letter.period)
        replanned, newly_skipped = plan_letters(
            Assessment(items=list(letter.items)), agencies, taken, policy=notify.policy()
        )
        skipped += newly_skipped
        if not replanned:
            return [], skipped
        letter = replanned[0]
    taken_items = [
        Skipped(i.agency, i.indicator, i.stage, SkipReason.ALREADY_SENT) for i in letter.items
    ]
    return [], skipped + taken_items
