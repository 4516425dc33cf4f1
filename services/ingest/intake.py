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
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any, cast

from sqlalchemy.ext.asyncio import AsyncSession

from libs.common.db import aware
from libs.common.errors import Conflict, ProblemItem
from libs.common.events import SubmissionAccepted, SubmittedValue
from libs.common.messaging import Outbox
from libs.common.periods import parse_period
from services.ingest import repository
from services.ingest.repository import KeptSubmission
from services.ingest.schemas import Receipt, Status
from services.ingest.validation import Catalogue, Draft, is_late


@dataclass(frozen=True)
class Pending:
    """A valid draft on its way to be kept, with what its receipt will say."""

    draft: Draft
    submission_id: str
    source: str
    received_at: datetime
    late: bool


@dataclass(frozen=True)
class Stored:
    """A submission kept (or found again): its record and whether it was a repeat."""

    submission: KeptSubmission
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


async def keep(
    session: AsyncSession, outbox: Outbox, items: Sequence[Pending]
) -> list[Stored | Conflict]:
    """Keep valid drafts and their events set-wise, or find their first receipts.

    One read of the (agency, submission_id) pairs already used, one insert of the new
    submissions, one outbox write. Items of one call that share an (agency, id) are judged in
    order, as if they had come one after the other. Each item gets its ``Stored``, or the
    ``Conflict`` (409) of an id used for other values.
    """
    payloads = [canonical(item.draft) for item in items]
    fingerprints = [hashlib.sha256(payload.encode()).hexdigest() for payload in payloads]
    keys = [(item.draft.agency, item.submission_id) for item in items]
    known = await repository.find_submissions(session, keys)
    fresh: dict[tuple[str, str], dict[str, Any]] = {}
    for item, key, payload, fingerprint in zip(items, keys, payloads, fingerprints, strict=True):
        if key not in known and key not in fresh:
            fresh[key] = _row(item, payload, fingerprint)
    inserted = await repository.insert_submissions(session, list(fresh.values()))
    if len(inserted) < len(fresh):
        # A concurrent repeat (another ingest replica) committed some of the same ids first.
        raced = [key for key, row in fresh.items() if row["id"] not in inserted]
        known.update(await repository.find_submissions(session, raced))
    events = []
    results: list[Stored | Conflict] = []
    for item, key, fingerprint in zip(items, keys, fingerprints, strict=True):
        row = fresh.get(key)
        if row is not None and row["id"] in inserted and key not in known:
            # The first item under this id: kept now; later ones in the call repeat it.
            known[key] = _kept(row)
            events.append((accepted_event(row, item.draft), item.draft.agency))
            results.append(Stored(known[key], duplicate=False))
            continue
        first = known[key]
        if first.digest != fingerprint:
            results.append(_conflict(item, first.id))
        else:
            results.append(Stored(first, duplicate=True))
    await outbox.add(session, *events)
    return results


def _row(item: Pending, payload: str, fingerprint: str) -> dict[str, Any]:
    return {
        "id": str(uuid.uuid4()),
        "agency": item.draft.agency,
        "submission_id": item.submission_id,
        "digest": fingerprint,
        "payload": payload,
        "period": item.draft.period,
        "status": "accepted",
        "received_at": item.received_at,
        "late": item.late,
        "source": item.source,
    }


def _kept(row: dict[str, Any]) -> KeptSubmission:
    return KeptSubmission(row["id"], row["status"], row["received_at"], row["late"], row["digest"])


def _conflict(item: Pending, first: str) -> Conflict:
    message = (
        f"submission_id {item.submission_id!r} of {item.draft.agency} was used for other values"
    )
    return Conflict(
        f"{message} (submission {first})",
        errors=[ProblemItem(loc=["submission_id"], msg=message)],
    )


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


def accepted_event(row: Mapping[str, Any], draft: Draft) -> SubmissionAccepted:
    """The event announcing a kept submission (its columns), the same whenever it is built
    again: its event id derives from the submission's (see ``accepted_event_id``)."""
    return SubmissionAccepted(
        submission=row["id"],
        agency=row["agency"],
        period=row["period"],
        values=[
            SubmittedValue(indicator=v.indicator, value=cast(bool | float, v.value), note=v.note)
            for v in draft.values
        ],
        received_at=row["received_at"],
        late=row["late"],
        source=row["source"],
    )
