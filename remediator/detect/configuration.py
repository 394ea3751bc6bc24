"""The detectors of issue 18 together: each is a small function over the cluster state that
returns (subject, finding, pods) triples, grouped by `incidents.detect` like pod findings.

Two kinds: the per-pod ones (a pod's finding is about its own workload) and the object-level
ones (a Service, an Ingress, a claim... read against everything else). A scoped detection
(`incidents.detect_subjects`) runs the first over the pods of its subjects only and the second
over the whole state, which is why they are kept apart."""

from __future__ import annotations

from typing import TYPE_CHECKING

from .autoscaling import hpa_failures
from .classify import parse_time
from .disruption import pdb_blocks
from .gateway import route_failures
from .ingress import ingress_failures
from .references import missing_references
from .services import service_selector_mismatch
from .storage import storage_failures
from .stuck import stuck_pods
from .webhooks import webhook_failures

if TYPE_CHECKING:
    from ..model import JSON, ClusterState, DetectOptions
    from .around import Found


def configuration_failures(state: ClusterState,
                           events: dict[tuple[str, str, str], list[JSON]],
                           options: DetectOptions) -> list[Found]:
    return [*pod_configuration_failures(state, events, options),
            *object_configuration_failures(state, events)]


def pod_configuration_failures(state: ClusterState,
                               events: dict[tuple[str, str, str], list[JSON]],
                               options: DetectOptions) -> list[Found]:
    """Findings of single pods, each about the pod's own workload."""
    now = parse_time(state.now)
    return [*stuck_pods(state, events, now, options), *missing_references(state, events, now)]


def object_configuration_failures(state: ClusterState,
                                  events: dict[tuple[str, str, str], list[JSON]]
                                  ) -> list[Found]:
    """Findings of objects around the workloads, read against every pod and object."""
    now = parse_time(state.now)
    return [
        *service_selector_mismatch(state, now),
        *ingress_failures(state, events, now),
        *hpa_failures(state, now),
        *pdb_blocks(state, now),
        *storage_failures(state, now),
        *webhook_failures(state, now),
        *route_failures(state, now),
    ]
