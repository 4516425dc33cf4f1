"""Dependencies of the notify API: the service's parts, built once per app."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Annotated

from fastapi import Depends, Request

from services.notify.scheduler import NotifyWorker
from services.notify.settings import NotifySettings


@dataclass(frozen=True)
class NotifyParts:
    """What the notify API works with."""

    settings: NotifySettings
    worker: NotifyWorker


async def parts_of(request: Request) -> NotifyParts:
    """The parts of the app serving the request."""
    parts: NotifyParts = request.app.state.notify
    return parts


PartsDep = Annotated[NotifyParts, Depends(parts_of)]
