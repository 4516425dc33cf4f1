"""Work bounded before it starts: a request's size judged from its raw form, not once parsed."""

from __future__ import annotations

from collections.abc import Sequence

from pydantic import JsonValue

from libs.common.errors import PayloadTooLarge
from services.ingest.settings import IngestSettings


def refuse_oversized_batch(raw_items: Sequence[JsonValue], settings: IngestSettings) -> None:
    """413 for a batch carrying more than ``max_request_values`` values, counted in the raw
    items: parsing half a million values only to refuse them took seconds of CPU."""
    total = sum(
        len(values)
        for item in raw_items
        if isinstance(item, dict) and isinstance(values := item.get("values"), list)
    )
    if total > settings.max_request_values:
        raise PayloadTooLarge(
            f"the batch carries {total} values; at most {settings.max_request_values}"
        )
