"""The event envelope and the versioned event payloads every service agrees on."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime
from typing import Any, ClassVar

from pydantic import BaseModel, ConfigDict, Field

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
    period: str
    value: bool | float | None
    revision: int
    previous: bool | float | None = None


class ObservationsStored(EventPayload):
    """Values written to the observation store (``dx.observations.v1``)."""

    event_type: ClassVar[str] = "observations.stored"
    topic: ClassVar[str] = OBSERVATIONS_TOPIC

    submission: str | None
    agency: str
    period: str
    observations: list[StoredObservation]
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


class CatalogueChanged(EventPayload):
    """Master data changed; caches of the catalogue refresh (``dx.catalogue.v1``)."""

    event_type: ClassVar[str] = "catalogue.changed"
    topic: ClassVar[str] = CATALOGUE_TOPIC

    entity: str = Field(description="agency, population or indicator")
    code: str


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
