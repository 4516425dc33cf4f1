"""Event consumers of the indicators service."""

from libs.common.events import SUBMISSIONS_TOPIC, SubmissionAccepted, SubmissionUnsettled
from libs.common.messaging import dispatch
from libs.common.service import ServiceRuntime
from services.indicators.reconcile import unsettled_effect
from services.indicators.service import ObservationStore


def register(runtime: ServiceRuntime, store: ObservationStore) -> None:
    """Store every accepted submission exactly once; settle those ingest announces again."""
    effects = {
        SubmissionAccepted.event_type: store.store_submission,
        SubmissionUnsettled.event_type: unsettled_effect(runtime, store),
    }
    runtime.consume(SUBMISSIONS_TOPIC, dispatch(effects), finish=store.recompute_moved)
