"""The event envelope and the versioned event payloads every service agrees on."""

from __future__ import annotations

import uuid
from datetime import UTC, date, datetime
from typing import Annotated, Any, ClassVar

from pydantic import AfterValidator, BaseModel, ConfigDict, Field

from libs.common.text import LineText, NoteText

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


#: Read-your-writes for the catalogue. A catalogue edit answers with the instant it was made
#: (microseconds since the epoch); every event it publishes occurred at or after it. A
#: submission carrying the header is validated by ingest only once its replica has applied
#: the catalogue up to that instant (the gateway adds it to the calls it forwards to ingest).
CATALOGUE_VERSION_HEADER = "x-dx-catalogue-version"
#: Every catalogue event goes under one key: one partition, so applied in the order published.
CATALOGUE_KEY = "catalogue"


def catalogue_version(at: datetime) -> str:
    """The header value naming the catalogue as of ``at``."""
    return str(round(at.timestamp() * 1_000_000))


def parse_catalogue_version(value: str | None) -> datetime | None:
    """The instant a version header names; None when absent or not a version."""
    if not value or not value.isdigit() or len(value) > 20:
        return None
    try:
        return datetime.fromtimestamp(int(value) / 1_000_000, UTC)
    except (OverflowError, OSError, ValueError):
        return None


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

    def event_id(self) -> uuid.UUID:
        """The id of this payload's event: a fresh one, unless the payload names its event."""
        return uuid.uuid4()

    def envelope(self, *, producer: str, key: str) -> Envelope:
        """Wrap this payload for publication, keyed (usually by agency) for ordering."""
        return Envelope(
            event_id=self.event_id(),
            type=self.event_type,
            schema_version=self.schema_version,
            producer=producer,
            key=key,
            payload=self.model_dump(mode="json"),
        )


def _absent(value: object) -> bool:
    return value is None


class SubmittedValue(BaseModel):
    """One value of a submission; its text is text the stores can keep (else the event is
    refused as a whole, and dead-lettered)."""

    indicator: LineText
    value: bool | float | None
    note: NoteText | None = None
    # Carried only by a ratio_of_sums value (its value is then None): absent otherwise.
    numerator: float | None = Field(
        None, description="A ratio_of_sums indicator's numerator", exclude_if=_absent
    )
    denominator: float | None = Field(None, description="and its denominator", exclude_if=_absent)


#: Names the one ``submission.accepted`` event of each submission (see ``accepted_event_id``).
ACCEPTED_EVENTS = uuid.UUID("6f1c7f0e-4b8a-5d3e-9a51-2d1e8c0b7a44")


def accepted_event_id(submission: str) -> uuid.UUID:
    """The event id of a submission's ``submission.accepted``: derived from the submission.

    Whoever publishes a submission's event again (reconciliation) publishes the same event, so
    the store's inbox keeps it at most once.
    """
    return uuid.uuid5(ACCEPTED_EVENTS, submission)


class SubmissionAccepted(EventPayload):
    """An agency's figures, durably accepted by ingest (``dx.submissions.v1``)."""

    event_type: ClassVar[str] = "submission.accepted"
    topic: ClassVar[str] = SUBMISSIONS_TOPIC

    submission: str = Field(description="Platform id of the submission")
    agency: LineText
    period: LineText
    values: list[SubmittedValue]
    received_at: datetime
    late: bool = False
    source: str = "api"

    def event_id(self) -> uuid.UUID:
        return accepted_event_id(self.submission)


class SubmissionUnsettled(EventPayload):
    """Ingest has no verdict on a submission long after accepting it (``dx.submissions.v1``).

    Its ``submission.accepted`` event, or the verdict on it, was lost (a broker that lost its
    log). The store keeps the submission if it never did (under the accepted event's own id,
    so that event, should it still arrive, is a duplicate) and gives its verdict again.
    """

    event_type: ClassVar[str] = "submission.unsettled"
    topic: ClassVar[str] = SUBMISSIONS_TOPIC

    accepted: SubmissionAccepted
    announced_at: datetime

    def event_id(self) -> uuid.UUID:
        return uuid.uuid5(ACCEPTED_EVENTS, f"{self.accepted.submission}@{self.announced_at}")


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
    numerator: float | None = Field(None, exclude_if=_absent)  # a ratio's parts
    denominator: float | None = Field(None, exclude_if=_absent)


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
