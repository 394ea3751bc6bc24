"""What a metrics source measured for containers, and what right-sizing recommends.

The usage-driven classes, ``CPUThrottling`` (raised from metrics, not from pod status) and
``RightSizing`` (a recommendation, not a failure), are rows of the class table (classes.py).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from .jsontype import JSON


@dataclass(frozen=True, order=True)
class ContainerKey:
    namespace: str
    pod: str
    container: str


@dataclass
class ContainerUsage:
    """One workload container's usage over the lookback, aggregated over its pods. Values are
    already checked (finite, non-negative, within sane bounds); ``None``: not measured."""

    namespace: str
    workload: str  # top-level owner name ("" when unknown)
    container: str
    memory_peak_bytes: float | None = None
    memory_p95_bytes: float | None = None
    cpu_p95_cores: float | None = None
    cpu_p99_cores: float | None = None
    cpu_max_cores: float | None = None
    #: throttled CFS periods / all periods over the throttling window (0..1)
    throttled_ratio: float | None = None
    #: seconds of history the source holds for the container (its youngest pod)
    history_seconds: float = 0.0
    #: (epoch seconds, bytes) of the memory working set, downsampled for a chart
    memory_series: list[tuple[float, float]] = field(default_factory=list)
    #: the queries that produced these numbers (evidence)
    queries: list[str] = field(default_factory=list)

    def as_json(self) -> JSON:
        return {
            "namespace": self.namespace, "workload": self.workload, "container": self.container,
            "memoryPeakBytes": self.memory_peak_bytes, "memoryP95Bytes": self.memory_p95_bytes,
            "cpuP95Cores": self.cpu_p95_cores, "cpuP99Cores": self.cpu_p99_cores,
            "cpuMaxCores": self.cpu_max_cores, "throttledRatio": self.throttled_ratio,
            "historySeconds": self.history_seconds, "queries": list(self.queries),
        }


@dataclass
class Recommendation:
    """Requests for one container, from its usage (see docs/rightsizing.md)."""

    namespace: str
    workload: str
    container: str
    cpu_request_now: float | None  # cores
    memory_request_now: float | None  # bytes
    cpu_request: float | None  # None: leave as is
    memory_request: float | None
    reason: str
    monthly_saving: float = 0.0  # negative: it costs more (under-provisioned)
    usage: ContainerUsage | None = None

    @property
    def changes(self) -> bool:
        return self.cpu_request is not None or self.memory_request is not None

    def as_json(self) -> JSON:
        return {
            "namespace": self.namespace, "workload": self.workload, "container": self.container,
            "cpuRequestNow": self.cpu_request_now, "memoryRequestNow": self.memory_request_now,
            "cpuRequest": self.cpu_request, "memoryRequest": self.memory_request,
            "reason": self.reason, "monthlySaving": round(self.monthly_saving, 2),
            "usage": self.usage.as_json() if self.usage else None,
        }


@dataclass
class Unused:
    """Listed for a human (dashboard, `rightsize` output), never deleted or scaled by the bot:
    an idle workload (near-zero CPU, no restarts over the lookback) or a claim no pod mounts."""

    kind: str  # "idle workload" | "orphaned claim"
    namespace: str
    name: str
    age: str  # creation time (RFC 3339) as the cluster reports it
    size: str  # the claim's capacity; for a workload, its peak CPU use over the lookback
    why: str

    def as_json(self) -> JSON:
        return {"kind": self.kind, "namespace": self.namespace, "name": self.name,
                "created": self.age, "size": self.size, "why": self.why}
