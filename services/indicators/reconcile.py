"""The store's side of reconciliation: a submission ingest announces again as unsettled.

Ingest announces ``submission.unsettled`` for a submission that has had no verdict for long
(``services.ingest.reconcile``): its ``submission.accepted`` event or the verdict was lost.

- The store never had the event: the announcement's copy of it is claimed in the inbox under
  the event's own id (so the original, should it still arrive, is a duplicate) and stored as
  the event would have been. Only values no later report has superseded are stored: a lost
  figure arriving late must not undo a correction the agency sent after it.
- The store had it: the verdict was lost, and is given again.
"""

from __future__ import annotations

from prometheus_client import Counter
from sqlalchemy.ext.asyncio import AsyncSession

from libs.common.db import aware
from libs.common.events import (
    SUBMISSIONS_TOPIC,
    Envelope,
    SubmissionAccepted,
    SubmissionStatusChanged,
    SubmissionUnsettled,
    utcnow,
)
from libs.common.messaging import Effect
from libs.common.service import ServiceRuntime
from services.indicators import repository
from services.indicators.service import ObservationStore

RECONCILED = Counter(
    "dx_indicators_reconciled_total",
    "Submissions announced again as unsettled: stored now (the event was lost) or answered "
    "again (the verdict was lost)",
    ["outcome"],
)


async def current_values(session: AsyncSession, accepted: SubmissionAccepted) -> SubmissionAccepted:
    """The submission without the values a report received after it has superseded."""
    keys = [(v.indicator, accepted.agency, accepted.period) for v in accepted.values]
    latest = await repository.latest_agency_revisions(session, keys)
    arrived = aware(accepted.received_at)
    kept = [
        value
        for value, key in zip(accepted.values, keys, strict=True)
        if key not in latest or latest[key].reported_at <= arrived
    ]
    return accepted.model_copy(update={"values": kept})


def unsettled_effect(runtime: ServiceRuntime, store: ObservationStore) -> Effect:
    """The effect of ``submission.unsettled`` (see the module's docstring)."""

    async def settle(session: AsyncSession, envelope: Envelope) -> None:
        accepted = SubmissionUnsettled.model_validate(envelope.payload).accepted
        original = accepted.envelope(producer=envelope.producer, key=envelope.key)
        if await runtime.inbox.claim(session, [original], SUBMISSIONS_TOPIC):
            kept = await current_values(session, accepted)
            await store.store_batch(
                session, [original.model_copy(update={"payload": kept.model_dump(mode="json")})]
            )
            RECONCILED.labels("stored").inc()
            return
        catalogue = await store.cache.get(session)
        known = accepted.agency in catalogue.agencies and all(
            v.indicator in catalogue.indicators for v in accepted.values
        )
        verdict = SubmissionStatusChanged(
            submission=accepted.submission,
            agency=accepted.agency,
            status="stored" if known else "rejected",
            detail=None if known else "the catalogue no longer has its agency or indicators",
            at=utcnow(),
        )
        await store.outbox.add(session, (verdict, accepted.agency))
        RECONCILED.labels("answered_again").inc()

    return settle
