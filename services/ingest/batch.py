"""Batches: many submissions in one request, each item judged on its own unless ``atomic``.

Items are parsed one by one (not by the request schema), so an item with an unknown field is
that item's problem, not the whole batch's. A key may not act for another agency in any item:
that is a 403 for the whole request, as it is an authorisation error, not bad data.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from pydantic import JsonValue, ValidationError

from libs.common.auth import Principal
from libs.common.errors import Conflict, InvalidInput, PayloadTooLarge, ProblemItem
from libs.common.events import utcnow
from libs.common.service import ServiceRuntime
from services.ingest.intake import Pending, Stored, keep, late
from services.ingest.metrics import BATCH_SIZE, count
from services.ingest.schemas import BatchReport, ItemResult, SubmissionIn
from services.ingest.service import authorize, codes, draft_of, load, problems, rules, tally
from services.ingest.settings import IngestSettings
from services.ingest.validation import Draft, validate


@dataclass
class Item:
    """One batch item on its way: parsed, validated, then kept or refused."""

    index: int
    body: SubmissionIn | None = None
    draft: Draft | None = None
    errors: list[ProblemItem] | None = None
    reason: str = ""


def parse(index: int, raw: JsonValue) -> Item:
    """A batch item parsed as a submission, or its schema errors under ``items.<index>``."""
    try:
        body = SubmissionIn.model_validate(raw)
    except ValidationError as error:
        errors = [
            ProblemItem(loc=["items", index, *e["loc"]], msg=e["msg"])
            for e in error.errors(include_url=False)
        ]
        return Item(index, errors=errors, reason="schema")
    return Item(index, body=body, draft=draft_of(body))


async def submit_batch(
    runtime: ServiceRuntime,
    principal: Principal,
    raw_items: Sequence[JsonValue],
    *,
    atomic: bool,
    settings: IngestSettings,
    at_least: datetime | None = None,
) -> BatchReport:
    """Keep every good item (all or none when ``atomic``); per-item results in input order."""
    if len(raw_items) > settings.max_batch_items:
        raise InvalidInput(
            "Too many items",
            errors=[ProblemItem(loc=["items"], msg=f"at most {settings.max_batch_items} items")],
        )
    items = [parse(index, raw) for index, raw in enumerate(raw_items)]
    drafts = [item.draft for item in items if item.draft is not None]
    total = sum(len(draft.values) for draft in drafts)
    if total > settings.max_request_values:
        raise PayloadTooLarge(
            f"the batch carries {total} values; at most {settings.max_request_values}"
        )
    for draft in drafts:
        authorize(principal, draft.agency)
    BATCH_SIZE.observe(total)
    received_at = utcnow()
    catalogue = await load(runtime, **codes(drafts), settings=settings, at_least=at_least)
    policy = rules(settings, received_at)
    for item in items:
        if item.draft is not None:
            findings = validate(item.draft, catalogue, policy)
            if findings:
                item.errors = problems(findings, ["items", item.index])
                item.reason, item.draft = findings[0].kind, None
    refused = [item for item in items if item.errors]
    for item in refused:
        count("rejected", item.reason)
    if atomic and refused:
        errors = [error for item in refused for error in item.errors or []]
        raise InvalidInput(f"{len(refused)} of {len(items)} items are not valid", errors=errors)
    results: dict[int, ItemResult] = {
        item.index: ItemResult(index=item.index, status="rejected", errors=item.errors)
        for item in refused
    }
    kept_items = [item for item in items if item.draft is not None and item.body is not None]
    pending = [
        Pending(
            item.draft,
            item.body.submission_id,
            "batch",
            received_at,
            late(item.draft, catalogue, received_at),
        )
        for item in kept_items
        if item.draft is not None and item.body is not None
    ]
    async with runtime.db.transaction() as session:
        outcomes = await keep(session, runtime.outbox, pending)
        conflicts = report(kept_items, outcomes, results)
        if atomic and conflicts:
            # Leaving the block by raising rolls back every item kept so far.
            raise Conflict("Some submission ids were used for other values", errors=conflicts)
    for outcome in outcomes:
        if isinstance(outcome, Stored):
            tally(outcome)
        else:
            count("rejected", "conflict")
    ordered = [results[index] for index in sorted(results)]
    return BatchReport(
        accepted=sum(r.status == "accepted" for r in ordered),
        duplicates=sum(r.status == "duplicate" for r in ordered),
        rejected=sum(r.status == "rejected" for r in ordered),
        results=ordered,
    )


def report(
    items: Sequence[Item], outcomes: Sequence[Stored | Conflict], results: dict[int, ItemResult]
) -> list[ProblemItem]:
    """Each kept item's result in ``results``; the problems of those whose id was reused."""
    conflicts: list[ProblemItem] = []
    for item, outcome in zip(items, outcomes, strict=True):
        if isinstance(outcome, Conflict):
            errors = [
                ProblemItem(loc=["items", item.index, *e.loc], msg=e.msg)
                for e in outcome.errors or []
            ]
            conflicts += errors
            results[item.index] = ItemResult(index=item.index, status="rejected", errors=errors)
        else:
            results[item.index] = ItemResult(
                index=item.index,
                status="duplicate" if outcome.duplicate else "accepted",
                id=outcome.submission.id,
                late=outcome.submission.late,
            )
    return conflicts
