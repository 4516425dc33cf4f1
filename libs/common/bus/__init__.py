"""The event bus: one interface, an in-process and a Kafka implementation."""

from libs.common.bus.base import BatchHandler, BusUnavailable, EventBus, PermanentEventError
from libs.common.settings import BusKind, Settings


def create_bus(settings: Settings, *, default: BusKind) -> EventBus:
    """The bus the settings ask for (``DX_BUS``), else the run mode's default."""
    kind = settings.bus or default
    if kind is BusKind.KAFKA:
        from libs.common.bus.kafka import KafkaBus

        return KafkaBus(settings)
    from libs.common.bus.inprocess import InProcessBus

    return InProcessBus()


__all__ = ["BatchHandler", "BusUnavailable", "EventBus", "PermanentEventError", "create_bus"]
