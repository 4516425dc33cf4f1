"""Prometheus metrics of the notify service."""

from datetime import datetime

from prometheus_client import Counter, Gauge

from services.notify.domain.calendar import Stage
from services.notify.domain.reminders import SkipReason

EMAILS_SENT = Counter("dx_notify_emails_sent", "E-mails delivered", ["kind"])
EMAILS_FAILED = Counter("dx_notify_emails_failed", "Delivery attempts that failed", ["kind"])
EMAILS_RETRIED = Counter(
    "dx_notify_emails_retried", "Failed e-mails scheduled for another attempt", ["kind"]
)
DEAD_LETTERS = Counter(
    "dx_notify_dead_letters", "E-mails given up on after the last attempt", ["kind"]
)
ITEMS_SKIPPED = Counter(
    "dx_notify_items_skipped",
    "Reminder items a run (dry or not) considered and did not send, by reason",
    ["reason"],
)
WITHOUT_CONTACTS = Gauge(
    "dx_notify_agencies_without_contacts",
    "Agencies the last reminder run had something to send to but no contact for",
)
LAST_SUCCESSFUL_RUN = Gauge(
    "dx_notify_last_successful_run_timestamp_seconds",
    "When a job last ran to completion (Unix time); before its first run, when its schedule began",
    ["job"],
)

# Every kind of letter is exported from the start, at 0: the SMTP alerts and dashboards read
# rates of these counters, which need a series before the first e-mail goes out.
for _kind in Stage:
    for _counter in (EMAILS_SENT, EMAILS_FAILED, EMAILS_RETRIED, DEAD_LETTERS):
        _counter.labels(_kind.value)
for _reason in SkipReason:
    ITEMS_SKIPPED.labels(_reason.value)

_last_success: dict[str, float] = {}


def record_last_success(job: str, at: datetime) -> None:
    """Export ``at`` as ``job``'s last successful run, unless a later one is exported already.

    The database and this process may know different runs (a run by hand on this replica, one
    by the leader elsewhere); the latest wins.
    """
    timestamp = at.timestamp()
    if timestamp > _last_success.get(job, float("-inf")):
        _last_success[job] = timestamp
        LAST_SUCCESSFUL_RUN.labels(job).set(timestamp)
