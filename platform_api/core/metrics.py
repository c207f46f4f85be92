"""Prometheus metrics of one app instance (its own registry, so tests can build many apps)."""

from __future__ import annotations

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram, generate_latest


class Metrics:
    """Request counts and latencies, chat time to first token, ingestion jobs."""

    def __init__(self) -> None:
        self.registry = CollectorRegistry()
        self.requests = Counter(
            "nexus_http_requests_total", "HTTP requests", ["method", "route", "status"], registry=self.registry
        )
        self.latency = Histogram(
            "nexus_http_request_duration_seconds",
            "HTTP request latency",
            ["method", "route"],
            buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30),
            registry=self.registry,
        )
        self.chat_ttft = Histogram(
            "nexus_aria_time_to_first_token_seconds",
            "Time from the question to the first answer token",
            ["channel"],
            buckets=(0.05, 0.1, 0.25, 0.5, 1, 2, 5, 10, 30),
            registry=self.registry,
        )
        self.chats = Counter("nexus_aria_chats_total", "ARIA answers", ["channel", "outcome"], registry=self.registry)
        self.ingestion_jobs = Counter(
            "nexus_ingestion_jobs_total", "Ingestion jobs finished", ["status"], registry=self.registry
        )
        self.ingestion_queue = Gauge(
            "nexus_ingestion_jobs_current", "Ingestion jobs by status", ["status"], registry=self.registry
        )

    def render(self) -> bytes:
        return generate_latest(self.registry)
