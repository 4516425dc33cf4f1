"""Event consumers: ingest's replica of the catalogue, and the store's verdicts on submissions."""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable

from sqlalchemy import event
from sqlalchemy.ext.asyncio import AsyncSession

from libs.common.db import aware
from libs.common.events import (
    CATALOGUE_TOPIC,
    SUBMISSION_STATUS_TOPIC,
    AgencyPublished,
    Envelope,
    IndicatorPublished,
    SubmissionStatusChanged,
    utcnow,
)
from libs.common.messaging import dispatch
from libs.common.service import ServiceRuntime
from services.ingest import repository
from services.ingest.metrics import ACCEPT_TO_STORED
from services.ingest.replica import catalogue_copy

log = logging.getLogger(__name__)

VERDICTS = ("stored", "rejected")


async def _indicator(session: AsyncSession, envelope: Envelope) -> None:
    indicator = IndicatorPublished.model_validate(envelope.payload)
    await repository.upsert_indicator(session, indicator, utcnow())


async def _agency(session: AsyncSession, envelope: Envelope) -> None:
    agency = AgencyPublished.model_validate(envelope.payload)
    await repository.upsert_agency(session, agency, utcnow())


async def _verdict(session: AsyncSession, envelope: Envelope) -> None:
    verdict = SubmissionStatusChanged.model_validate(envelope.payload)
    if verdict.status not in VERDICTS:
        log.warning("ignoring status %r of submission %s", verdict.status, verdict.submission)
        return
    # The store joins its problems with "; " (one string on the bus); give them back one by one.
    errors = (
        [
            {"loc": ["submission"], "msg": part}
            for part in (verdict.detail or "").split("; ")
            if part
        ]
        if verdict.status == "rejected"
        else None
    )
    submission = await repository.record_verdict(
        session, id=verdict.submission, status=verdict.status, at=verdict.at, errors=errors or None
    )
    if submission is None:
        log.warning("verdict for unknown or newer submission %s ignored", verdict.submission)
        return
    if verdict.status != "stored":
        return
    waited = (verdict.at - aware(submission.received_at)).total_seconds()
    # Observed once the verdict is committed: a retried batch must not count twice.
    event.listen(
        session.sync_session,
        "after_commit",
        lambda _session: ACCEPT_TO_STORED.observe(max(waited, 0.0)),
        once=True,
    )


_EFFECTS: dict[str, Callable[[AsyncSession, Envelope], Awaitable[None]]] = {
    IndicatorPublished.event_type: _indicator,
    AgencyPublished.event_type: _agency,
    SubmissionStatusChanged.event_type: _verdict,
}


def register(runtime: ServiceRuntime) -> None:
    """Consume the catalogue and the submission verdicts."""
    copy = catalogue_copy(runtime)

    async def replica_changed(session: AsyncSession) -> None:
        # Once the batch is committed, validation reads the replica again.
        event.listen(session.sync_session, "after_commit", lambda _s: copy.invalidate(), once=True)

    runtime.consume(CATALOGUE_TOPIC, dispatch(_EFFECTS), finish=replica_changed)
    runtime.consume(SUBMISSION_STATUS_TOPIC, dispatch(_EFFECTS))
