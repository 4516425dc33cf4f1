"""Event consumers: ingest's replica of the catalogue, and the store's verdicts on submissions."""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable, Sequence

from sqlalchemy import event
from sqlalchemy.ext.asyncio import AsyncSession

from libs.common.bus.base import PermanentEventError
from libs.common.events import (
    CATALOGUE_TOPIC,
    SUBMISSION_STATUS_TOPIC,
    AgencyPublished,
    Envelope,
    IndicatorPublished,
    SubmissionStatusChanged,
)
from libs.common.messaging import dispatch
from libs.common.service import ServiceRuntime
from services.ingest import repository
from services.ingest.metrics import ACCEPT_TO_STORED
from services.ingest.replica import catalogue_copy

log = logging.getLogger(__name__)

VERDICTS = ("stored", "rejected")


# The replica's rows are stamped with the instant of the catalogue change they apply: the
# newest stamp is then the catalogue version the replica holds (CATALOGUE_VERSION_HEADER).


async def _indicator(session: AsyncSession, envelope: Envelope) -> None:
    indicator = IndicatorPublished.model_validate(envelope.payload)
    await repository.upsert_indicator(session, indicator, envelope.occurred_at)


async def _agency(session: AsyncSession, envelope: Envelope) -> None:
    agency = AgencyPublished.model_validate(envelope.payload)
    await repository.upsert_agency(session, agency, envelope.occurred_at)


def verdict_of(envelope: Envelope) -> repository.Verdict | None:
    """The store's verdict an event carries; None for a status that is not a verdict."""
    changed = SubmissionStatusChanged.model_validate(envelope.payload)
    if changed.status not in VERDICTS:
        log.warning("ignoring status %r of submission %s", changed.status, changed.submission)
        return None
    # The store joins its problems with "; " (one string on the bus); give them back one by one.
    errors = [
        {"loc": ["submission"], "msg": part} for part in (changed.detail or "").split("; ") if part
    ]
    rejected = changed.status == "rejected"
    return repository.Verdict(
        changed.submission, changed.status, changed.at, errors if rejected and errors else None
    )


async def _verdicts(session: AsyncSession, envelopes: Sequence[Envelope]) -> None:
    """Effect for a batch of ``dx.submission-status.v1``: every verdict in one write."""
    try:
        verdicts = [
            v
            for envelope in envelopes
            if envelope.type == SubmissionStatusChanged.event_type
            and (v := verdict_of(envelope)) is not None
        ]
    except ValueError as error:
        raise PermanentEventError(f"unusable submission status: {error}") from error
    received = await repository.record_verdicts(session, verdicts)
    for verdict in verdicts:
        if verdict.id not in received:
            log.warning("verdict for unknown or newer submission %s ignored", verdict.id)
    waits = [
        (v.at - received[v.id]).total_seconds()
        for v in verdicts
        if v.status == "stored" and v.id in received
    ]

    def observe(_session: object) -> None:
        # Observed once the verdicts are committed: a retried batch must not count twice.
        for waited in waits:
            ACCEPT_TO_STORED.observe(max(waited, 0.0))

    event.listen(session.sync_session, "after_commit", observe, once=True)


_EFFECTS: dict[str, Callable[[AsyncSession, Envelope], Awaitable[None]]] = {
    IndicatorPublished.event_type: _indicator,
    AgencyPublished.event_type: _agency,
}


def register(runtime: ServiceRuntime) -> None:
    """Consume the catalogue and the submission verdicts."""
    copy = catalogue_copy(runtime)

    async def replica_changed(session: AsyncSession) -> None:
        # Once the batch is committed, validation reads the replica again.
        event.listen(session.sync_session, "after_commit", lambda _s: copy.invalidate(), once=True)

    runtime.consume(CATALOGUE_TOPIC, dispatch(_EFFECTS), finish=replica_changed)
    runtime.consume_batches(SUBMISSION_STATUS_TOPIC, _verdicts)
