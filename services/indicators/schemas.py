"""Request and response bodies of the indicators API."""

from __future__ import annotations

from datetime import date, datetime
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator

from libs.common.db import aware
from libs.common.events import StoredObservation
from services.indicators.domain.catalogue import Agency, Contact


class AgencyOut(BaseModel):
    """An agency as the API shows it; contacts only to admins."""

    code: str
    name_vi: str
    name_en: str
    kind: str
    groups: list[str]
    parent: str | None = None
    valid_from: date | None = None
    valid_to: date | None = None
    successor: str | None = None
    predecessors: list[str] = Field(default_factory=list)
    contacts: list[Contact] | None = None

    @classmethod
    def of(cls, agency: Agency, *, predecessors: list[str], with_contacts: bool) -> AgencyOut:
        return cls(
            **agency.model_dump(exclude={"contacts", "groups"}),
            groups=list(agency.groups),
            predecessors=predecessors,
            contacts=list(agency.contacts) if with_contacts else None,
        )


class AgencyIn(BaseModel):
    """An agency to create or replace (the code is in the path)."""

    model_config = ConfigDict(extra="forbid")

    name_vi: str = Field(..., min_length=1, max_length=300)
    name_en: str = Field(..., min_length=1, max_length=300)
    kind: str
    groups: list[str] = Field(default_factory=list)
    contacts: list[Contact] = Field(default_factory=list)
    parent: str | None = None
    valid_from: date | None = None
    valid_to: date | None = None
    successor: str | None = None


class PopulationIn(BaseModel):
    """A population: explicit members or a group rule such as ``central22+BHXH+local``."""

    model_config = ConfigDict(extra="forbid")

    members: list[str] | None = None
    rule: str | None = Field(None, max_length=500)
    description: str | None = Field(None, max_length=1000)


class PopulationOut(BaseModel):
    name: str
    members: list[str] | None
    rule: str | None
    period: str
    resolved: list[str] = Field(description="The members for `period`")
    size: int


class ObservationOut(StoredObservation):
    """A stored value with its provenance."""

    source: str
    submission: str | None = None
    note: str | None = None

    @field_validator("recorded_at", "reported_at")
    @classmethod
    def _utc(cls, moment: datetime) -> datetime:
        return aware(moment)  # SQLite gives instants back without their (UTC) offset


class AggregateOut(BaseModel):
    """A national (or group, or population) figure, how it arose and who has not reported."""

    indicator: str
    period: str
    scope: str
    value: float | None
    numerator: float | None
    denominator: float | None
    reported: int
    expected: int
    missing: list[str]
    method: str = Field(description="computed from agencies' values, or published")
    source: str | None = None
    as_of: datetime | None = None


class ProgramOut(BaseModel):
    code: str
    name_vi: str
    name_en: str
    horizon: int
    indicators: int


class ObligationOut(BaseModel):
    """One indicator an agency reports for one period: by when, and what is in."""

    indicator: str
    name_vi: str
    name_en: str | None = None
    program: str
    unit: str
    value_type: str
    period: str = Field(description="The reporting period (of the indicator's frequency)")
    due_date: date
    status: Literal["received", "open", "due", "overdue"]
    value: bool | float | None = Field(None, description="The latest value stored, if any")
    note: str | None = None
    reported_at: datetime | None = None
    late: bool | None = None

    @field_validator("reported_at")
    @classmethod
    def _utc_or_none(cls, moment: datetime | None) -> datetime | None:
        return aware(moment) if moment is not None else None


class ObligationsOut(BaseModel):
    """What an agency owes for a period."""

    agency: str
    name_vi: str
    period: str
    today: date = Field(description="The Vietnamese date the statuses are of")
    due: int = Field(description="Obligations not received yet")
    received: int
    obligations: list[ObligationOut]
