"""Prometheus metrics of the ingest service."""

from prometheus_client import Counter, Histogram

SUBMISSIONS = Counter(
    "dx_ingest_submissions",
    "Submissions by outcome (accepted, duplicate, rejected) and the first problem's kind",
    ["outcome", "reason"],
)
BATCH_SIZE = Histogram(
    "dx_ingest_batch_size",
    "Values per request (a submission, a batch or a file)",
    buckets=(1, 5, 10, 25, 50, 100, 250, 500, 1000, 2500, 10_000, 100_000),
)
ACCEPT_TO_STORED = Histogram(
    "dx_ingest_accept_to_stored_seconds",
    "From a submission's acceptance to its values being stored",
    buckets=(0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 300, 900, 3600),
)


def count(outcome: str, reason: str = "", n: int = 1) -> None:
    """Count ``n`` submissions; only a rejection has a reason (dashboards select on it)."""
    SUBMISSIONS.labels(outcome, reason).inc(n)
