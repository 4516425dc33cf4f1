"""Request and response bodies of the submissions API."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any, Literal

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    JsonValue,
    PlainValidator,
    StringConstraints,
    WithJsonSchema,
    model_validator,
)

from libs.common.errors import ProblemItem
from services.ingest.settings import MAX_VALUES_CEILING
from services.ingest.validation import Ratio

Status = Literal["accepted", "stored", "rejected"]
ItemStatus = Literal["accepted", "duplicate", "rejected"]
Code = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=64)]


def _figure(value: object) -> bool | float | Ratio:
    # A JSON boolean stays a boolean and a number a number; "true" or "23.5" as text are type
    # errors, never coerced, so that a client's bug does not become a stored figure. A ratio of
    # sums comes as its two parts, {"numerator": …, "denominator": …}.
    if isinstance(value, bool):
        return value
    if isinstance(value, int | float):
        try:
            return float(value)
        except OverflowError as error:
            raise ValueError("the number is too large") from error
    if isinstance(value, dict) and set(value) == {"numerator", "denominator"}:
        parts = [value["numerator"], value["denominator"]]
        if all(isinstance(p, int | float) and not isinstance(p, bool) for p in parts):
            try:
                return Ratio(float(parts[0]), float(parts[1]))
            except OverflowError as error:
                raise ValueError("the number is too large") from error
    raise ValueError(
        "a value is true, false, a number, or {numerator, denominator} for a ratio of sums"
    )


RATIO_SCHEMA = {
    "type": "object",
    "properties": {"numerator": {"type": "number"}, "denominator": {"type": "number"}},
    "required": ["numerator", "denominator"],
    "additionalProperties": False,
}

Figure = Annotated[
    bool | float | Ratio,
    PlainValidator(_figure),
    WithJsonSchema({"anyOf": [{"type": "boolean"}, {"type": "number"}, RATIO_SCHEMA]}),
]


class ValueIn(BaseModel):
    """One indicator's value."""

    model_config = ConfigDict(extra="forbid")

    indicator: Code = Field(examples=["KH2023-14a"])
    value: Figure = Field(
        description="true/false for boolean_per_agency, a number for percent and number, and "
        "{numerator, denominator} for a ratio_of_sums indicator (summed apart nationally)"
    )
    note: str | None = Field(None, max_length=2000)


class SubmissionIn(BaseModel):
    """An agency's values for one period."""

    model_config = ConfigDict(extra="forbid")

    submission_id: str = Field(
        min_length=1,
        max_length=200,
        pattern=r"^[^\x00-\x1f\x7f]+$",
        description="Client-chosen idempotency key, unique per agency",
    )
    agency: Code = Field(examples=["P01"])
    period: str = Field(
        max_length=16, examples=["2023-S1"], description="2023, 2023-S1, 2023-Q3, 2023-06"
    )
    values: list[ValueIn] = Field(min_length=1, max_length=MAX_VALUES_CEILING)


class BatchIn(BaseModel):
    """Several submissions; a bare JSON list of submissions is accepted as well."""

    model_config = ConfigDict(extra="forbid")

    items: list[JsonValue] = Field(description="Submissions, each as for POST /submissions")

    @model_validator(mode="before")
    @classmethod
    def _bare_list(cls, data: Any) -> Any:
        return {"items": data} if isinstance(data, list) else data


class Receipt(BaseModel):
    """The answer to an accepted submission (and to its repeats)."""

    id: str
    status: Status
    status_url: str
    received_at: datetime
    late: bool
    duplicate: bool = Field(False, description="A repeat of an earlier submission")


class SubmissionOut(BaseModel):
    """A submission's state."""

    id: str
    submission_id: str
    agency: str
    period: str
    status: Status
    source: str
    errors: list[ProblemItem] | None = None
    received_at: datetime
    stored_at: datetime | None = None
    late: bool


class ItemResult(BaseModel):
    """What became of one batch item."""

    index: int
    status: ItemStatus
    id: str | None = None
    late: bool | None = None
    errors: list[ProblemItem] | None = None


class BatchReport(BaseModel):
    """Per-item results of a batch."""

    accepted: int
    duplicates: int
    rejected: int
    results: list[ItemResult]


class UploadReport(BaseModel):
    """Per-row report of an uploaded (or imported) sheet."""

    accepted_rows: int
    rejected_rows: int
    submissions: list[str] = Field(description="Ids of the submissions made (or repeated)")
    errors: list[ProblemItem]
    skipped: list[ProblemItem] = Field(
        default_factory=list,
        description="Rows not read as values: titles above the header, and what follows the "
        "table (signatures, notes)",
    )
