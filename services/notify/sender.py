"""The mail outbox's sender: delivers queued messages, retries with backoff, gives up as dead."""

from __future__ import annotations

import logging
import re
from dataclasses import dataclass
from datetime import datetime
from email.errors import HeaderParseError

from libs.common.db import aware
from libs.common.events import utcnow
from libs.common.service import ServiceRuntime
from services.notify import repository
from services.notify.delivery import DeliveryFailed, MailTransport
from services.notify.domain.replica import Contact
from services.notify.domain.schedule import retry_delay
from services.notify.mail import OutgoingMail, build_email
from services.notify.metrics import DEAD_LETTERS, EMAILS_FAILED, EMAILS_RETRIED, EMAILS_SENT
from services.notify.models import MessageRow
from services.notify.settings import NotifySettings

log = logging.getLogger(__name__)

_UNSAFE = re.compile(r"[^A-Za-z0-9_-]")


@dataclass(frozen=True)
class Outcome:
    """What one attempt did to a message."""

    status: str
    error: str | None = None


def file_name(row: MessageRow) -> str:
    """A stable, sortable name per message (so a retried file replaces itself)."""
    created = aware(row.created_at)
    return f"{created:%Y%m%d-%H%M%S}-{row.id:06d}-{_UNSAFE.sub('_', row.agency)}"


def outgoing(row: MessageRow) -> OutgoingMail:
    """The stored message as the transports send it."""
    return OutgoingMail(
        message_id=row.message_id,
        to=[Contact(a["email"], a.get("name")) for a in row.to_addrs],
        cc=[Contact(a["email"], a.get("name")) for a in row.cc_addrs],
        subject=row.subject,
        text=row.body_text,
        html=row.body_html,
        date=aware(row.created_at),
        reference=str(row.id),
    )


class Sender:
    """Delivers due messages through a transport and writes each attempt to the delivery log."""

    def __init__(
        self, runtime: ServiceRuntime, settings: NotifySettings, transport: MailTransport
    ) -> None:
        self.runtime = runtime
        self.settings = settings
        self.transport = transport

    async def deliver_due(self, now: datetime | None = None) -> int:
        """Attempt the messages due now; return how many attempts were made.

        A relay that fails transiently ends the pass: the rest would only fail the same way,
        and their attempts are better spent once it is back.
        """
        now = now or utcnow()
        async with self.runtime.db.read() as session:
            due = await repository.due_messages(
                session, now=now, limit=self.settings.sender_batch_size
            )
        attempted = 0
        for row in due:
            attempted += 1
            if (await self._attempt(row)).status == "retrying":
                break
        return attempted

    async def _attempt(self, row: MessageRow) -> Outcome:
        attempts = row.attempts + 1
        try:
            message = build_email(outgoing(row), mail_from=self.runtime.settings.mail_from)
        except (ValueError, IndexError, HeaderParseError) as error:
            return await self._failed(row, attempts, DeliveryFailed(str(error), permanent=True))
        try:
            await self.transport.send(message, name=file_name(row))
        except DeliveryFailed as error:
            return await self._failed(row, attempts, error)
        async with self.runtime.db.transaction() as session:
            await repository.record_attempt(
                session, row.id, status="sent", attempts=attempts, at=utcnow()
            )
        EMAILS_SENT.labels(row.kind).inc()
        return Outcome("sent")

    async def _failed(self, row: MessageRow, attempts: int, error: DeliveryFailed) -> Outcome:
        EMAILS_FAILED.labels(row.kind).inc()
        now = utcnow()
        if error.permanent or attempts >= self.settings.max_attempts:
            async with self.runtime.db.transaction() as session:
                await repository.record_attempt(
                    session, row.id, status="dead", attempts=attempts, at=now, error=str(error)
                )
            DEAD_LETTERS.labels(row.kind).inc()
            log.error("gave up on message %d to %s: %s", row.id, row.agency, error)
            return Outcome("dead", str(error))
        delay = retry_delay(
            attempts,
            base_seconds=self.settings.retry_base_seconds,
            max_seconds=self.settings.retry_max_seconds,
        )
        async with self.runtime.db.transaction() as session:
            await repository.record_attempt(
                session,
                row.id,
                status="retrying",
                attempts=attempts,
                at=now,
                next_attempt_at=now + delay,
                error=str(error),
            )
        EMAILS_RETRIED.labels(row.kind).inc()
        log.warning(
            "message %d to %s failed (%s); retrying in %s", row.id, row.agency, error, delay
        )
        return Outcome("retrying", str(error))
