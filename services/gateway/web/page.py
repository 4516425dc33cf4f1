"""What a page template receives: only display-ready text and tables, never a service's JSON.

Templates see nothing but what the page builders copied out field by field, so a field a service
adds later (a contact, a note) cannot reach a public page by accident.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from services.gateway.web.labels import Lang, text
from services.gateway.web.tables import Table

if TYPE_CHECKING:
    from services.gateway.web.province_map import ProvinceMap


@dataclass(frozen=True)
class Choice:
    """One option of a page filter (programme, period, pillar)."""

    value: str
    label: str


@dataclass(frozen=True)
class Fact:
    """One line of a definition list."""

    term: str
    detail: str
    href: str | None = None


@dataclass
class Page:
    """A page: its heading, filters, facts, tables, chart and the notices shown above them."""

    name: str
    lang: Lang
    title: str
    subtitle: str = ""
    status_code: int = 200
    period: str | None = None
    periods: list[Choice] = field(default_factory=list)
    program: str | None = None
    programs: list[Choice] = field(default_factory=list)
    pillar: str | None = None
    pillars: list[Choice] = field(default_factory=list)
    facts: list[Fact] = field(default_factory=list)
    tables: list[Table] = field(default_factory=list)
    chart: dict[str, Any] | None = None
    province_map: ProvinceMap | None = None
    notices: list[str] = field(default_factory=list)
    synthetic: bool = False
    found: bool = True

    def table(self, table_id: str) -> Table | None:
        """A table by id (templates place tables where they belong)."""
        return next((t for t in self.tables if t.id == table_id), None)

    def note_unavailable(self, services: set[str]) -> None:
        """Say which services did not answer, so an empty section is not read as 'zero'."""
        if services:
            self.notices.append(f"{text('unavailable', self.lang)}: {', '.join(sorted(services))}")


def name_of(record: dict[str, Any] | None, lang: Lang, *, fallback: str = "") -> str:
    """A record's name in the page language; Vietnamese when there is no English one."""
    if not record:
        return fallback
    if lang == "en" and record.get("name_en"):
        return str(record["name_en"])
    return str(record.get("name_vi") or record.get("name_en") or fallback)


def not_found(name: str, lang: Lang, what: str, unavailable: set[str]) -> Page:
    """An unknown indicator or agency (404), or one the service could not say (no data)."""
    if unavailable:
        page = Page(name=name, lang=lang, title=what, found=False)
        page.note_unavailable(unavailable)
        return page
    return Page(
        name=name,
        lang=lang,
        title=f"{text('not_found', lang)}: {what}",
        status_code=404,
        found=False,
    )
