"""The metrics stage: container usage from Prometheus (untrusted, bounded) for usage-aware
fixes, CPUThrottling and right-sizing."""

from __future__ import annotations

from .prometheus import MetricsError, Prometheus, Sample
from .usage import owner_of_pod, read_usage

__all__ = ["MetricsError", "Prometheus", "Sample", "owner_of_pod", "read_usage"]
