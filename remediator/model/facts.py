"""Typed facts of an incident's evidence: what detect (and the metrics side) saw that a drafter,
the PR body or a reviewer may use, one dataclass per family of failure classes.

`Facts` holds what any incident may carry; each class's row in the class table names its facts
type (`ClassRow.facts`). ``as_json`` gives the same keys the facts had as a plain dict (a fact
that was never set is left out), for digests and anything that prints them.
"""

from __future__ import annotations

from dataclasses import dataclass, fields
from typing import TYPE_CHECKING, Any, TypeVar

if TYPE_CHECKING:
    from .jsontype import JSON


@dataclass
class Facts:
    """What any incident may carry. ``None``: not observed (left out of ``as_json``)."""

    #: secrets masked in the log excerpt (the PR's provenance counts them)
    redactions: int = 0
    restart_rate_per_hour: float | None = None
    #: the workload's status conditions (type, status, reason, message, time)
    conditions: list[JSON] | None = None
    #: when the incident was first raised, and whether it cleared and came back (the watcher)
    first_seen: str | None = None
    flapping: bool | None = None

    def as_json(self) -> JSON:
        return {f.name: v for f in fields(self) if (v := getattr(self, f.name)) is not None}


FactsT = TypeVar("FactsT", bound=Facts)


def facts_as(facts: Facts, kind: type[FactsT]) -> FactsT:
    """``facts`` as the type a drafter expects; an empty one when the incident carries another
    (a hand-built incident, a class whose detector changed): a rule then finds nothing to use."""
    return facts if isinstance(facts, kind) else kind(redactions=facts.redactions)


# ------------------------------------------------------------------------- pod and workload


@dataclass
class MemoryFacts(Facts):
    """OOMKilled: the limit it died at, what ran before, and the measured usage (metrics)."""

    memory_limit: str | None = None
    #: image and memory limit of the newest earlier ReplicaSet with another image
    previous_image: str | None = None
    previous_memory_limit: str | None = None
    memory_peak_bytes: float | None = None
    memory_headroom: float | None = None
    metrics_lookback_days: str | None = None
    metrics_queries: list[str] | None = None
    memory_series: list[Any] | None = None


@dataclass
class ProbeFacts(Facts):
    """ProbeFailure: which probe, and whether it kills the container while it starts."""

    probe: str = ""
    at_startup: bool = False
    run_seconds: float | None = None
    probe_window_seconds: float = 0.0
    #: the timeline of a failure that began after the start
    started_at: str | None = None
    probe_failing_since: str | None = None
    ready: str | None = None
    began_after_start: bool | None = None


@dataclass
class ImagePullFacts(Facts):
    waiting_reason: str = ""
    image: str = ""


@dataclass
class SchedulingFacts(Facts):
    """Unschedulable: the scheduler's verdict and what the nodes offer."""

    scheduler_message: str = ""
    nodes: list[JSON] | None = None
    largest_node_memory_bytes: float | None = None
    largest_node_cpu: float | None = None
    #: what one of the pods requests: memory in bytes, cpu in cores (its containers summed)
    pod_requests: dict[str, float] | None = None


@dataclass
class JobFacts(Facts):
    job: str = ""


@dataclass
class RolloutFacts(Facts):
    """ProgressDeadlineExceeded, ReplicaFailure: the controller's FailedCreate message."""

    failed_create: str | None = None


@dataclass
class EvictionFacts(Facts):
    eviction_message: str = ""
    evictions: int = 0
    #: what the kubelet said the container used, and its request
    usage: str | None = None
    request: str | None = None


@dataclass
class StuckPodFacts(Facts):
    """Pods that never get going: readiness never reached, scheduling gates, no scheduler."""

    readiness_failures: int | None = None
    gates: list[str] | None = None
    scheduler: str | None = None


# ----------------------------------------------------------- the objects around the workloads


@dataclass
class HPAFacts(Facts):
    """HPAMaxedOut: the HPA as evidence; HPAMissingRequests: its name, the resource and the
    message; HPATargetMissing: the target it names."""

    hpa: JSON | str | None = None
    resource: str | None = None
    hpa_message: str | None = None
    target: JSON | None = None
    #: HPAMissingRequests with metrics: the request right-sizing would give, and how
    measured_request: float | None = None
    measured_how: str | None = None
    usage: JSON | None = None


@dataclass
class ClaimFacts(Facts):
    """PVCPending: the claim as evidence (and its events); PVCLost, StorageClassMissing: the
    claim's name, its volume, the StorageClasses there are."""

    pvc: JSON | str | None = None
    #: claims whose events belong to the incident (read by detect, never kept)
    pvc_events: list[str] | None = None
    volume: str | None = None
    storage_classes: list[str] | None = None


@dataclass
class ServiceFacts(Facts):
    selector: dict[str, str] | None = None
    #: workloads whose labels nearly match the selector (one differing value)
    near_matches: list[JSON] | None = None


@dataclass
class IngressFacts(Facts):
    missing: list[str] | None = None
    existing_services: list[str] | None = None
    ingress_classes: list[str] | None = None
    #: IngressClassMissing: the class the Ingress names ("": none)
    ingress_class: str | None = None
    secret_name: str | None = None


@dataclass
class StatefulSetFacts(Facts):
    """StatefulSetServiceMissing: the governing Service exists but is not headless."""

    not_headless: bool | None = None


@dataclass
class DisruptionFacts(Facts):
    selector: JSON | None = None
    expected_pods: int | None = None
    desired_healthy: int | None = None


@dataclass
class WebhookFacts(Facts):
    failure_policy: str | None = None


@dataclass
class RouteFacts(Facts):
    parents: list[JSON] | None = None


@dataclass
class ReferenceFacts(Facts):
    """MissingConfigMap: the kind and name of what the pod references."""

    kind: str | None = None
    name: str | None = None


# ------------------------------------------------------------------------------------- usage


@dataclass
class UsageFacts(Facts):
    """CPUThrottling and RightSizing: what the metrics source measured."""

    throttled_ratio: float | None = None
    cpu_p99_cores: float | None = None
    recommendation: JSON | None = None
    usage: JSON | None = None
    #: CPUThrottling: `metrics.throttlingFix` (raise | remove)
    throttling_fix: str | None = None
    #: (epoch seconds, value) series for the PR's charts
    cpu_series: list[Any] | None = None
    memory_series: list[Any] | None = None
