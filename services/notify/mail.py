"""Letters as e-mail: Vietnamese subject and bodies from the templates, and the RFC 5322 message."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from email.header import Header
from email.headerregistry import Address
from email.message import EmailMessage
from email.policy import EmailPolicy
from email.utils import format_datetime, formataddr, make_msgid, parseaddr
from pathlib import Path

from jinja2 import Environment, FileSystemLoader, StrictUndefined, select_autoescape

from services.notify.domain.calendar import Stage, format_day
from services.notify.domain.reminders import ChaseItem, ItemKind, Letter
from services.notify.domain.replica import Contact, IndicatorCard

TEMPLATES = Path(__file__).parent / "templates"

SUBJECTS = {
    Stage.REMINDER: "Nhắc báo cáo chỉ tiêu chuyển đổi số",
    Stage.OVERDUE: "Quá hạn báo cáo chỉ tiêu chuyển đổi số",
    Stage.ESCALATION: "Đôn đốc báo cáo chỉ tiêu chuyển đổi số",
    Stage.PROGRESS: "Tiến độ thực hiện chỉ tiêu chuyển đổi số",
}

# GLOSSARY.md: the committee's own words for statuses and bands.
STATUS_LABELS = {
    "completed": "Hoàn thành",
    "ahead": "Có khả năng hoàn thành trước thời hạn",
    "likely": "Có khả năng hoàn thành",
    "low": "Có khả năng hoàn thành thấp",
    "hard": "Khó hoàn thành",
    "unassessable": "Khó đánh giá",
    "over_half": "Đã thực hiện trên 50%",
    "under_half": "Đã thực hiện dưới 50%",
    "no_data": "Chưa có số liệu",  # scoring's own band and status (docs/scoring.md §7)
}
SCOPE_LABELS = {"national": "Toàn quốc", "central": "Khối bộ, ngành", "local": "Khối địa phương"}


@dataclass(frozen=True)
class RenderedLetter:
    """A letter's subject and its two bodies."""

    subject: str
    text: str
    html: str


@dataclass(frozen=True)
class OutgoingMail:
    """What the transports send: addressed, rendered, with a stable Message-ID and date."""

    message_id: str
    to: Sequence[Contact]
    cc: Sequence[Contact]
    subject: str
    text: str
    html: str
    date: datetime
    reference: str


def subject_of(letter: Letter) -> str:
    """E.g. ``[DX Tracker] Nhắc báo cáo chỉ tiêu chuyển đổi số kỳ 2023-S1 — Hà Nội``."""
    return f"[DX Tracker] {SUBJECTS[letter.stage]} kỳ {letter.period} — {letter.agency.name_vi}"


def _scope_label(scope: str, agency: str) -> str:
    if scope == agency:
        return "Quý cơ quan"
    if scope.startswith("population:"):
        return f"Nhóm {scope.removeprefix('population:')}"
    return SCOPE_LABELS.get(scope, scope)


def item_state(item: ChaseItem, today: date) -> str:
    """The item's situation in a few Vietnamese words, with its figures."""
    if item.kind is ItemKind.LATE:
        day = format_day(item.reported_on) if item.reported_on else "?"
        return f"Đã báo cáo ngày {day}, chậm {item.days_late} ngày so với hạn."
    if item.kind is ItemKind.OFF_TRACK:
        parts = []
        for status in item.statuses:
            labels = [STATUS_LABELS.get(status.status, status.status)]
            if status.band in STATUS_LABELS:
                labels.append(STATUS_LABELS[status.band])
            parts.append(f"{_scope_label(status.scope, item.agency)}: {', '.join(labels)}")
        return "; ".join(parts) + "."
    assert item.due is not None
    left = (item.due - today).days
    if left > 0:
        return f"Chưa báo cáo (còn {left} ngày đến hạn)."
    if left == 0:
        return "Chưa báo cáo (hôm nay là hạn cuối)."
    return f"Chưa báo cáo, quá hạn {-left} ngày."


class LetterRenderer:
    """Renders letters with the Jinja2 templates in ``templates/``."""

    def __init__(self, public_url: str, templates: Path = TEMPLATES) -> None:
        base = public_url.rstrip("/")
        self.links = {
            "submit_url": f"{base}/api/v1/submissions",
            "upload_url": f"{base}/api/v1/submissions/upload",
            "docs_url": f"{base}/docs",
        }
        self.env = Environment(
            loader=FileSystemLoader(templates),
            autoescape=select_autoescape(["html"], default_for_string=False),
            undefined=StrictUndefined,
            trim_blocks=True,
            lstrip_blocks=True,
            keep_trailing_newline=True,
        )

    def render(
        self,
        letter: Letter,
        indicators: Mapping[str, IndicatorCard],
        *,
        today: date,
        standing_name: str | None = None,
    ) -> RenderedLetter:
        """The letter's subject, plain text and HTML."""
        rows = [
            {
                "code": item.indicator,
                "name": indicators[item.indicator].name_vi
                if item.indicator in indicators
                else item.indicator,
                "due": format_day(item.due) if item.due else "",
                "state": item_state(item, today),
            }
            for item in letter.items
        ]
        subject = subject_of(letter)
        context = {
            **self.links,
            "subject": subject,
            "stage": letter.stage.value,
            "period": letter.period,
            "agency": letter.agency.name_vi,
            "copied": standing_name if letter.cc else None,
            "rows": rows,
            # The introduction names what is really owed: reports missing and reports late.
            "counts": {kind.value: sum(i.kind is kind for i in letter.items) for kind in ItemKind},
        }
        text = self.env.get_template("letter.txt").render(context)
        html = self.env.get_template("letter.html").render(context)
        return RenderedLetter(subject, text, html)


def new_message_id(mail_from: str) -> str:
    """A Message-ID in the sender's domain, fixed when queued so retries keep it."""
    domain = parseaddr(mail_from)[1].rpartition("@")[2] or "dx-tracker.local"
    return make_msgid("dx", domain=domain)


_ADDRESS_HEADERS = ("from", "to", "cc", "reply-to")


class MailPolicy(EmailPolicy):
    """The SMTP policy, but encoding non-ASCII Subject and names as ``email.header`` does.

    Python 3.11's folder drops the space between two encoded words it splits a line into, so
    readers saw 'chỉ tiêuchuyển'; ``email.header`` splits inside the encoded text instead.
    """

    def fold_binary(self, name: str, value: str) -> bytes:
        """One header, folded and encoded for the wire."""
        lower = name.lower()
        if lower == "subject" and not value.isascii():
            encoded = Header(value, "utf-8", header_name=name).encode(
                linesep=self.linesep, maxlinelen=76
            )
            return f"{name}: {encoded}{self.linesep}".encode("ascii")
        addresses = getattr(value, "addresses", None)
        if lower in _ADDRESS_HEADERS and addresses is not None and not value.isascii():
            # One encoded word per name: the stdlib parser reads split names back with spaces.
            parts = [formataddr((a.display_name, a.addr_spec), "utf-8") for a in addresses]
            joined = f",{self.linesep} ".join(parts)
            return f"{name}: {joined}{self.linesep}".encode("ascii")
        return super().fold_binary(name, value)


MAIL_POLICY = MailPolicy(linesep="\r\n")


def serialize(message: EmailMessage) -> bytes:
    """The message's wire form (CRLF, 7-bit headers)."""
    return message.as_bytes(policy=MAIL_POLICY)


def envelope_of(message: EmailMessage) -> tuple[str, list[str]]:
    """The SMTP envelope: sender and every To/Cc address."""
    sender = message["From"].addresses[0].addr_spec
    recipients = [
        address.addr_spec
        for name in ("To", "Cc")
        if message[name] is not None
        for address in message[name].addresses
    ]
    return sender, recipients


def _address(contact: Contact) -> Address:
    return Address(display_name=contact.name or "", addr_spec=contact.email)


def build_email(mail: OutgoingMail, *, mail_from: str) -> EmailMessage:
    """The RFC 5322 message: UTF-8 headers, plain text with an HTML alternative."""
    message = EmailMessage(policy=MAIL_POLICY)
    message["From"] = mail_from
    message["To"] = [_address(c) for c in mail.to]
    if mail.cc:
        message["Cc"] = [_address(c) for c in mail.cc]
    message["Subject"] = mail.subject
    message["Date"] = format_datetime(mail.date)
    message["Message-ID"] = mail.message_id
    message["Auto-Submitted"] = "auto-generated"  # RFC 3834: autoresponders stay quiet
    message["X-DX-Notification"] = mail.reference
    # Quoted-printable keeps the message 7-bit for relays without 8BITMIME.
    message.set_content(mail.text, charset="utf-8", cte="quoted-printable")
    message.add_alternative(mail.html, subtype="html", charset="utf-8", cte="quoted-printable")
    return message
