"""Prometheus metrics of the notify service."""

from prometheus_client import Counter, Gauge

EMAILS_SENT = Counter("dx_notify_emails_sent", "E-mails delivered", ["kind"])
EMAILS_FAILED = Counter("dx_notify_emails_failed", "Delivery attempts that failed", ["kind"])
EMAILS_RETRIED = Counter(
    "dx_notify_emails_retried", "Failed e-mails scheduled for another attempt", ["kind"]
)
DEAD_LETTERS = Counter(
    "dx_notify_dead_letters", "E-mails given up on after the last attempt", ["kind"]
)
LAST_SUCCESSFUL_RUN = Gauge(
    "dx_notify_last_successful_run_timestamp_seconds",
    "When a job last ran to completion (Unix time)",
    ["job"],
)
