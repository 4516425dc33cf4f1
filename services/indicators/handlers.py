"""Event consumers of the indicators service."""

from libs.common.events import SUBMISSIONS_TOPIC
from libs.common.service import ServiceRuntime
from services.indicators.service import ObservationStore


def register(runtime: ServiceRuntime, store: ObservationStore) -> None:
    """Store every accepted submission exactly once, a batch at a time."""
    runtime.consume_batches(SUBMISSIONS_TOPIC, store.store_batch)
