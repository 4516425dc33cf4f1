"""Prometheus metrics shared by every service, and the /metrics endpoint."""

from __future__ import annotations

from fastapi import APIRouter, Response
from prometheus_client import CONTENT_TYPE_LATEST, Counter, Gauge, Histogram, generate_latest

LATENCY_BUCKETS = (0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10)

HTTP_REQUESTS = Counter(
    "dx_http_requests_total", "HTTP requests served", ["service", "method", "route", "status"]
)
HTTP_LATENCY = Histogram(
    "dx_http_request_duration_seconds",
    "Time to serve an HTTP request",
    ["service", "method", "route"],
    buckets=LATENCY_BUCKETS,
)
EVENTS_PUBLISHED = Counter(
    "dx_events_published_total", "Events published to the bus", ["service", "topic"]
)
EVENTS_CONSUMED = Counter(
    "dx_events_consumed_total",
    "Events handled by a consumer, by outcome (processed, duplicate, failed, dead_lettered)",
    ["service", "topic", "outcome"],
)
EVENT_HANDLING = Histogram(
    "dx_event_handling_seconds",
    "Time to handle one event",
    ["service", "topic"],
    buckets=LATENCY_BUCKETS,
)
OUTBOX_BACKLOG = Gauge("dx_outbox_backlog", "Events written but not yet published", ["service"])
OUTBOX_OLDEST_AGE = Gauge(
    "dx_outbox_oldest_age_seconds", "Age of the oldest unpublished event", ["service"]
)
OUTBOX_PUBLISH_FAILURES = Counter(
    "dx_outbox_publish_failures_total", "Relay attempts that failed to reach the bus", ["service"]
)
CONSUMER_LAG = Gauge(
    "dx_consumer_lag", "Messages behind the end of the topic", ["service", "topic", "partition"]
)
CONSUMER_RETRYING = Gauge(
    "dx_consumer_retrying_seconds",
    "How long the consumer has been retrying the event (or batch) it is stuck on; 0 when not",
    ["service", "topic"],
)
BUILD_INFO = Gauge("dx_service_up", "1 while the service runs", ["service"])

metrics_router = APIRouter()


@metrics_router.get("/metrics", include_in_schema=False)
async def metrics() -> Response:
    """Prometheus text exposition of this process's metrics."""
    return Response(generate_latest(), media_type=CONTENT_TYPE_LATEST)
