"""Event consumers of the indicators service."""

from collections.abc import Sequence

from sqlalchemy.ext.asyncio import AsyncSession

from libs.common.events import SUBMISSIONS_TOPIC, Envelope, SubmissionUnsettled
from libs.common.service import ServiceRuntime
from services.indicators.reconcile import unsettled_effect
from services.indicators.service import ObservationStore


def register(runtime: ServiceRuntime, store: ObservationStore) -> None:
    """Store every accepted submission exactly once, a batch at a time; settle those ingest
    announces again (``services.indicators.reconcile``)."""
    settle = unsettled_effect(runtime, store)

    async def effect(session: AsyncSession, envelopes: Sequence[Envelope]) -> None:
        await store.store_batch(session, envelopes)  # submission.accepted; others ignored
        for envelope in envelopes:
            if envelope.type == SubmissionUnsettled.event_type:
                await settle(session, envelope)

    runtime.consume_batches(SUBMISSIONS_TOPIC, effect)
