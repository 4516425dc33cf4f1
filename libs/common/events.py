"""The event envelope and the versioned event payloads every service agrees on."""

from __future__ import annotations

import uuid
from datetime import UTC, date, datetime
from typing import Annotated, Any, ClassVar

from pydantic import AfterValidator, BaseModel, ConfigDict, Field

SUBMISSIONS_TOPIC = "dx.submissions.v1"
OBSERVATIONS_TOPIC = "dx.observations.v1"
SCORES_TOPIC = "dx.scores.v1"
CATALOGUE_TOPIC = "dx.catalogue.v1"
SUBMISSION_STATUS_TOPIC = "dx.submission-status.v1"
TOPICS = (
    SUBMISSIONS_TOPIC,
    OBSERVATIONS_TOPIC,
    SCORES_TOPIC,
    CATALOGUE_TOPIC,
    SUBMISSION_STATUS_TOPIC,
)


def utcnow() -> datetime:
    """The current instant, timezone-aware."""
    return datetime.now(UTC)


def as_utc(moment: datetime) -> datetime:
    """A client's instant in UTC, as stored instants are: a bare one is read as UTC, and one
    beyond either end of the calendar once in UTC (0001-01-01T00:00+07:00) is that end."""
    if moment.tzinfo is None:
        return moment.replace(tzinfo=UTC)
    try:
        return moment.astimezone(UTC)
    except OverflowError:
        end = datetime.min if moment.year == datetime.min.year else datetime.max
        return end.replace(tzinfo=UTC)


#: An instant parameter of the API, in UTC (see ``as_utc``).
UtcInstant = Annotated[datetime, AfterValidator(as_utc)]


class Envelope(BaseModel):
    """What travels on the bus: identity and routing around a typed payload."""

    model_config = ConfigDict(frozen=True)

    event_id: uuid.UUID = Field(default_factory=uuid.uuid4)
    type: str
    schema_version: int = 1
    occurred_at: datetime = Field(default_factory=utcnow)
    producer: str
    key: str
    payload: dict[str, Any]

    def to_bytes(self) -> bytes:
        """The wire form (UTF-8 JSON)."""
        return self.model_dump_json().encode()

    @classmethod
    def from_bytes(cls, raw: bytes) -> Envelope:
        """Parse the wire form; raises ``pydantic.ValidationError`` on garbage."""
        return cls.model_validate_json(raw)


class EventPayload(BaseModel):
    """Base of typed payloads; each names its event type, topic and schema version."""

    event_type: ClassVar[str]
    topic: ClassVar[str]
    schema_version: ClassVar[int] = 1

    def envelope(self, *, producer: str, key: str) -> Envelope:
        """Wrap this payload for publication, keyed (usually by agency) for ordering."""
        return Envelope(
            type=self.event_type,
            schema_version=self.schema_version,
            producer=producer,
            key=key,
            payload=self.model_dump(mode="json"),
        )


class SubmittedValue(BaseModel):
    indicator: str
    value: bool | float | None
    note: str | None = None


class SubmissionAccepted(EventPayload):
    """An agency's figures, durably accepted by ingest (``dx.submissions.v1``)."""

    event_type: ClassVar[str] = "submission.accepted"
    topic: ClassVar[str] = SUBMISSIONS_TOPIC

    submission: str = Field(description="Platform id of the submission")
    agency: str
    period: str
    values: list[SubmittedValue]
    received_at: datetime
    late: bool = False
    source: str = "api"


class StoredObservation(BaseModel):
    indicator: str
    agency: str
    scope: str = Field("agency", description="agency, or the scope of a published figure")
    period: str
    value: bool | float | None
    revision: int
    recorded_at: datetime
    reported_at: datetime = Field(description="When the agency submitted it (timeliness)")
    late: bool = False


class AggregateValue(BaseModel):
    """A national figure (per scope) as it stands after the observations changed.

    ``value`` is the headline figure, the one to score: ``method`` says whether it is the one
    computed from agencies' values or the one the committee published. ``computed`` and
    ``published`` (optional, absent from older producers) carry both; ``numerator``,
    ``denominator``, ``reported`` and ``expected`` always describe the computed one.
    """

    indicator: str
    scope: str = Field(description="national, central, local or population:<name>")
    period: str
    value: float | None
    numerator: float | None = None
    denominator: float | None = None
    reported: int | None = None
    expected: int | None = None
    method: str = Field(description="computed from agencies' values, or published")
    computed: float | None = Field(None, description="The figure from agencies' values")
    published: float | None = Field(None, description="The figure the committee published")
    source: str | None = Field(None, description="Where the published figure comes from")


class ObservationsStored(EventPayload):
    """Values stored, and the national figures they moved (``dx.observations.v1``)."""

    event_type: ClassVar[str] = "observations.stored"
    topic: ClassVar[str] = OBSERVATIONS_TOPIC

    submission: str | None
    agency: str
    period: str
    observations: list[StoredObservation]
    aggregates: list[AggregateValue] = Field(default_factory=list)
    recorded_at: datetime


class SubmissionStatusChanged(EventPayload):
    """The indicators service's verdict on a submission, back to ingest."""

    event_type: ClassVar[str] = "submission.status"
    topic: ClassVar[str] = SUBMISSION_STATUS_TOPIC

    submission: str
    agency: str
    status: str = Field(description="stored or rejected")
    detail: str | None = None
    at: datetime


class ReporterSpan(BaseModel):
    """An agency expected to report an indicator, and the dates it is expected for."""

    agency: str
    valid_from: date | None = None
    valid_to: date | None = None

    def covers(self, day: date) -> bool:
        """Whether the agency is expected to report for a period ending on ``day``."""
        return (self.valid_from is None or self.valid_from <= day) and (
            self.valid_to is None or day <= self.valid_to
        )


class TargetSpec(BaseModel):
    year: int
    op: str
    value: float


class OfficialAssessmentSpec(BaseModel):
    as_of: date
    label: str
    source: str | None = None
    note: str | None = None


class IndicatorPublished(EventPayload):
    """An indicator's definition as other services need it (``dx.catalogue.v1``).

    Carries the resolved reporters, so consumers need not know how populations are defined.
    """

    event_type: ClassVar[str] = "catalogue.indicator"
    topic: ClassVar[str] = CATALOGUE_TOPIC

    code: str
    program: str
    goal: str
    primary: bool
    pillar: str
    name_vi: str
    name_en: str | None = None
    unit: str
    direction: str
    value_type: str = Field(description="percent, number or boolean_per_agency")
    aggregation: str
    population: str | None = None
    targets: list[TargetSpec]
    frequency: str
    due_days: int
    weight: float = 1.0
    reporters: list[ReporterSpan]
    official_assessment: OfficialAssessmentSpec | None = Field(
        None, description="The standing agency's published assessment, if any"
    )


class AgencyPublished(EventPayload):
    """An agency's master data as other services need it (``dx.catalogue.v1``)."""

    event_type: ClassVar[str] = "catalogue.agency"
    topic: ClassVar[str] = CATALOGUE_TOPIC

    code: str
    name_vi: str
    name_en: str | None = None
    kind: str
    groups: list[str]
    contacts: list[dict[str, str | None]] = Field(default_factory=list)
    valid_from: date | None = None
    valid_to: date | None = None
    successor: str | None = None


class ScoreChanged(EventPayload):
    """An indicator's status for a scope and period changed (``dx.scores.v1``)."""

    event_type: ClassVar[str] = "score.changed"
    topic: ClassVar[str] = SCORES_TOPIC

    indicator: str
    scope: str
    period: str
    band: str
    status: str
    previous_band: str | None = None
    previous_status: str | None = None
    computed_at: datetime
