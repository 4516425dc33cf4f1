"""Keeping a valid submission exactly once, with its event, in the caller's transaction.

Idempotency: (agency, submission_id) names one submission. A repeat with the same values (same
digest of the canonical payload) gets the first receipt with its current status; other values
under a used id are a 409, because silently replacing a figure would hide a client's bug.

Lateness: a submission is late when it arrives (Vietnam date) after the due date of any of its
values' indicators, i.e. after the earliest one; the event carries one flag per submission.
"""

from __future__ import annotations

import hashlib
import json
import uuid
from dataclasses import dataclass
from datetime import datetime
from typing import cast

from sqlalchemy.ext.asyncio import AsyncSession

from libs.common.db import aware
from libs.common.errors import Conflict, ProblemItem
from libs.common.events import SubmissionAccepted, SubmittedValue
from libs.common.messaging import Outbox
from libs.common.periods import parse_period
from services.ingest import repository
from services.ingest.models import Submission
from services.ingest.schemas import Receipt, Status
from services.ingest.validation import Catalogue, Draft, is_late


@dataclass(frozen=True)
class Stored:
    """A submission kept (or found again): the row and whether it was a repeat."""

    submission: Submission
    duplicate: bool


def canonical(draft: Draft) -> str:
    """The payload as stored and digested: key order and spacing fixed, text as written."""
    values = [{"indicator": v.indicator, "value": v.value, "note": v.note} for v in draft.values]
    document = {"agency": draft.agency, "period": draft.period, "values": values}
    return json.dumps(document, ensure_ascii=False, sort_keys=True, separators=(",", ":"))


def digest(draft: Draft) -> str:
    """The SHA-256 of the canonical payload."""
    return hashlib.sha256(canonical(draft).encode()).hexdigest()


def late(draft: Draft, catalogue: Catalogue, received_at: datetime) -> bool:
    """Whether a valid draft arrived after one of its values was due."""
    due = [catalogue.indicators[v.indicator].due_days for v in draft.values]
    return is_late(parse_period(draft.period), due, received_at)


async def store(
    session: AsyncSession,
    outbox: Outbox,
    *,
    draft: Draft,
    submission_id: str,
    source: str,
    received_at: datetime,
    late: bool,
) -> Stored:
    """Keep a valid draft and its event, or find its first receipt; 409 for other values."""
    payload = canonical(draft)
    fingerprint = hashlib.sha256(payload.encode()).hexdigest()
    existing = await repository.find_submission(
        session, agency=draft.agency, submission_id=submission_id
    )
    if existing is None:
        row = Submission(
            id=str(uuid.uuid4()),
            agency=draft.agency,
            submission_id=submission_id,
            digest=fingerprint,
            payload=payload,
            period=draft.period,
            status="accepted",
            received_at=received_at,
            late=late,
            source=source,
        )
        if await repository.add_submission(session, row):
            await outbox.add(session, (accepted_event(row, draft), draft.agency))
            return Stored(row, duplicate=False)
        # A concurrent repeat committed the same (agency, id) first: answer as a repeat.
        existing = await repository.find_submission(
            session, agency=draft.agency, submission_id=submission_id
        )
        assert existing is not None
    if existing.digest != fingerprint:
        message = f"submission_id {submission_id!r} of {draft.agency} was used for other values"
        raise Conflict(
            f"{message} (submission {existing.id})",
            errors=[ProblemItem(loc=["submission_id"], msg=message)],
        )
    return Stored(existing, duplicate=True)


def receipt(stored: Stored) -> Receipt:
    """The receipt of a kept submission."""
    row = stored.submission
    return Receipt(
        id=row.id,
        status=cast(Status, row.status),
        status_url=f"/api/v1/submissions/{row.id}",
        received_at=aware(row.received_at),
        late=row.late,
        duplicate=stored.duplicate,
    )


def accepted_event(row: Submission, draft: Draft) -> SubmissionAccepted:
    """The event announcing a kept submission (the same whenever it is built again)."""
    return SubmissionAccepted(
        submission=row.id,
        agency=row.agency,
        period=row.period,
        values=[
            SubmittedValue(indicator=v.indicator, value=cast(bool | float, v.value), note=v.note)
            for v in draft.values
        ],
        received_at=row.received_at,
        late=row.late,
        source=row.source,
    )
