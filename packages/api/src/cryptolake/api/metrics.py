"""Prometheus metrics of the API process (``/metrics``)."""

from __future__ import annotations

from prometheus_client import Counter, Gauge, Histogram

REQUESTS = Counter("cryptolake_api_requests_total", "GraphQL operations", ["operation", "outcome"])
LATENCY = Histogram(
    "cryptolake_api_request_seconds", "GraphQL operation latency", ["operation"],
    buckets=(0.002, 0.005, 0.01, 0.02, 0.05, 0.1, 0.2, 0.5, 1, 2, 5, 10),
)
CACHE = Counter("cryptolake_api_cache_total", "read cache lookups", ["result"])
TRINO_SECONDS = Histogram(
    "cryptolake_api_trino_seconds", "time spent in Trino statements",
    buckets=(0.01, 0.02, 0.05, 0.1, 0.2, 0.5, 1, 2, 5, 10, 30),
)
SUBSCRIPTIONS = Gauge("cryptolake_api_subscriptions", "active subscriptions", ["field"])
KAFKA_RECORDS = Counter("cryptolake_api_kafka_records_total", "records fanned out", ["topic"])
