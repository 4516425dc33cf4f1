"""Built pages kept for a few seconds: a public page fans out to many service calls."""

from __future__ import annotations

import time
from collections import OrderedDict
from collections.abc import Hashable

from services.gateway.web.page import Page


class PageCache:
    """At most ``size`` pages, each for ``ttl_seconds``; the least recently used goes first."""

    def __init__(self, *, ttl_seconds: float, size: int = 256) -> None:
        self.ttl_seconds = ttl_seconds
        self.size = size
        self._pages: OrderedDict[Hashable, tuple[float, Page]] = OrderedDict()

    def get(self, key: Hashable, *, now: float | None = None) -> Page | None:
        """The page built for ``key`` if it is fresh enough."""
        found = self._pages.get(key)
        now = time.monotonic() if now is None else now
        if found is None or now - found[0] > self.ttl_seconds:
            self._pages.pop(key, None)
            return None
        self._pages.move_to_end(key)
        return found[1]

    def put(self, key: Hashable, page: Page, *, now: float | None = None) -> None:
        """Keep ``page`` for ``key`` (no-op when caching is off)."""
        if self.ttl_seconds <= 0:
            return
        self._pages[key] = (time.monotonic() if now is None else now, page)
        self._pages.move_to_end(key)
        while len(self._pages) > self.size:
            self._pages.popitem(last=False)
