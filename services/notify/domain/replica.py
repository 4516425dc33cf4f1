"""Notify's replica of other services' facts, as the pure domain sees them."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from libs.common.events import ReporterSpan


@dataclass(frozen=True)
class Contact:
    """Someone at an agency who receives letters; ``role`` ``head`` marks its leader."""

    email: str
    name: str | None = None
    role: str | None = None


@dataclass(frozen=True)
class AgencyCard:
    """What notify knows of an agency: its name and contacts."""

    code: str
    name_vi: str
    contacts: tuple[Contact, ...] = ()


@dataclass(frozen=True)
class IndicatorCard:
    """What notify knows of an indicator: its name, regime and expected reporters."""

    code: str
    program: str
    name_vi: str
    frequency: str
    due_days: int
    reporters: tuple[ReporterSpan, ...] = ()
    #: The years of its targets; ``None`` when the replica predates them (then it is chased).
    target_years: tuple[int, ...] | None = None


@dataclass(frozen=True)
class Report:
    """An agency's first stored value of an indicator for a period."""

    reported_at: datetime
    late: bool = False


@dataclass(frozen=True)
class ScopeStatus:
    """An indicator's progress status for one scope (agency code or aggregate)."""

    scope: str
    status: str
    band: str
