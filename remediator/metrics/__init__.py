"""The metrics stage: container usage from Prometheus (untrusted, bounded) for usage-aware
fixes, CPUThrottling and right-sizing."""

from __future__ import annotations

from .prometheus import MetricsError, Prometheus, Sample
from .usage import chart_series, memory_series, owner_of_pod, promql_regex, read_usage

__all__ = [
    "MetricsError",
    "Prometheus",
    "Sample",
    "chart_series",
    "memory_series",
    "owner_of_pod",
    "promql_regex",
    "read_usage",
]
