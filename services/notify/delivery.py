"""Mail transports: an SMTP relay (aiosmtplib), or ``.eml`` files when no relay is configured."""

from __future__ import annotations

import asyncio
import logging
import os
import tempfile
from email.message import EmailMessage
from pathlib import Path
from typing import Protocol

import aiosmtplib

from libs.common.settings import Settings
from services.notify.mail import envelope_of, serialize
from services.notify.settings import NotifySettings

log = logging.getLogger(__name__)

IMPLICIT_TLS_PORT = 465


class DeliveryFailed(Exception):
    """An attempt failed; ``permanent`` when retrying cannot help (the relay refused for good)."""

    def __init__(self, reason: str, *, permanent: bool = False) -> None:
        super().__init__(reason)
        self.permanent = permanent


class MailTransport(Protocol):
    """Hands one message on; raises ``DeliveryFailed`` when it could not."""

    async def send(self, message: EmailMessage, *, name: str) -> None:
        """Deliver ``message``; ``name`` is stable per message (used for file names)."""


class SmtpTransport:
    """Delivers through an SMTP relay, with implicit TLS on 465, STARTTLS otherwise if asked."""

    def __init__(self, settings: Settings, *, timeout: float) -> None:
        self.settings = settings
        self.timeout = timeout

    async def send(self, message: EmailMessage, *, name: str) -> None:
        """Send over SMTP; 5xx refusals of the recipients or content are permanent."""
        s = self.settings
        implicit = s.smtp_tls and s.smtp_port == IMPLICIT_TLS_PORT
        sender, recipients = envelope_of(message)
        try:
            refused, _ = await aiosmtplib.send(
                serialize(message),
                sender=sender,
                recipients=recipients,
                hostname=s.smtp_host,
                port=s.smtp_port,
                username=s.smtp_user,
                password=s.smtp_password.get_secret_value() if s.smtp_password else None,
                use_tls=implicit,
                start_tls=s.smtp_tls and not implicit,
                timeout=self.timeout,
            )
        except aiosmtplib.SMTPRecipientsRefused as error:
            permanent = all(r.code >= 500 for r in error.recipients)
            raise DeliveryFailed(f"recipients refused: {error}", permanent=permanent) from error
        except aiosmtplib.SMTPDataError as error:
            permanent = error.code >= 550
            raise DeliveryFailed(f"message refused: {error}", permanent=permanent) from error
        except (aiosmtplib.SMTPException, OSError, TimeoutError) as error:
            raise DeliveryFailed(f"{type(error).__name__}: {error}") from error
        if refused:
            # Some recipients took it: resending would duplicate it for them.
            log.warning("message %s refused for %s", name, ", ".join(sorted(refused)))


class FileTransport:
    """Writes each message as ``<name>.eml`` (RFC 5322, CRLF) under a directory.

    Rewriting the same name replaces the file, so a retry after a crash never makes a copy.
    """

    def __init__(self, directory: Path) -> None:
        self.directory = directory

    async def send(self, message: EmailMessage, *, name: str) -> None:
        """Write the message file atomically."""
        try:
            await asyncio.to_thread(self._write, serialize(message), name)
        except OSError as error:
            raise DeliveryFailed(f"cannot write {name}.eml: {error}") from error

    def _write(self, raw: bytes, name: str) -> None:
        self.directory.mkdir(parents=True, exist_ok=True)
        handle, temporary = tempfile.mkstemp(dir=self.directory, suffix=".part")
        try:
            with os.fdopen(handle, "wb") as file:
                file.write(raw)
            os.replace(temporary, self.directory / f"{name}.eml")
        except BaseException:
            Path(temporary).unlink(missing_ok=True)
            raise


def transport_for(settings: Settings, notify: NotifySettings) -> MailTransport:
    """SMTP when ``DX_SMTP_HOST`` is set, else files under ``DX_DATA_DIR/mail``."""
    if settings.smtp_host:
        return SmtpTransport(settings, timeout=notify.smtp_timeout_seconds)
    return FileTransport(settings.data_dir / "mail")
