"""The Prometheus metrics `pystd serve` and `pystd worker` share: what a process that runs
reviews knows (reviews by conclusion, GitHub requests, the queue's gauges as last read from
its store), and one registry with the review latency histogram and the process's own
collectors (CPU, memory, open files, garbage collection)."""

from __future__ import annotations

from prometheus_client import (
    CollectorRegistry,
    GCCollector,
    Histogram,
    PlatformCollector,
    ProcessCollector,
)
from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily
from prometheus_client.registry import Collector

from pystd.bot.services import Services

LATENCY_BUCKETS = (0.25, 0.5, 1, 2, 5, 10, 20, 30, 60, 120, 300, 600)
Family = CounterMetricFamily | GaugeMetricFamily


def service_metrics(services: Services) -> list[Family]:
    """Reviews by conclusion, GitHub requests by method, and the queue's gauges."""
    reviews = CounterMetricFamily("pystd_reviews", "Reviews by check-run conclusion",
                                  labels=["conclusion"])
    for conclusion, n in sorted(services.env.stats.items()):
        reviews.add_metric([conclusion], n)
    calls = CounterMetricFamily("pystd_github_requests", "GitHub API requests",
                                labels=["method"])
    for method, n in sorted(services.access.calls.items()):
        calls.add_metric([method], n)
    stats = services.queue.stats
    jobs = GaugeMetricFamily("pystd_queue_jobs", "Jobs in the queue's store by state",
                             labels=["state"])
    for state, n in sorted(stats.by_state.items()):
        jobs.add_metric([state], n)
    return [
        reviews, calls,
        GaugeMetricFamily("pystd_queue_depth", "Jobs waiting", value=stats.waiting),
        jobs,
        GaugeMetricFamily("pystd_queue_oldest_waiting_seconds",
                          "Age of the oldest job due and not started",
                          value=stats.oldest_waiting_seconds),
        GaugeMetricFamily("pystd_queue_stalled_jobs",
                          "Running jobs whose worker stopped renewing its lease",
                          value=stats.stalled),
    ]


def new_registry(collector: Collector) -> tuple[CollectorRegistry, Histogram]:
    """A registry holding `collector`, the review latency histogram (returned: the queue
    feeds it) and the process collectors."""
    registry = CollectorRegistry()
    registry.register(collector)
    histogram = Histogram(
        "pystd_review_seconds", "Seconds from a delivery being queued to its job's end "
        "(the check run completed)", buckets=LATENCY_BUCKETS, registry=registry)
    ProcessCollector(registry=registry)
    PlatformCollector(registry=registry)
    GCCollector(registry=registry)
    return registry, histogram
