"""Event consumers of the indicators service."""

from libs.common.events import SUBMISSIONS_TOPIC, SubmissionAccepted
from libs.common.messaging import dispatch
from libs.common.service import ServiceRuntime
from services.indicators.service import ObservationStore


def register(runtime: ServiceRuntime, store: ObservationStore) -> None:
    """Store every accepted submission exactly once."""
    effects = {SubmissionAccepted.event_type: store.store_submission}
    runtime.consume(SUBMISSIONS_TOPIC, dispatch(effects), finish=store.recompute_moved)
