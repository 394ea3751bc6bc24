"""The detectors of issue 18 together: each is a small function over the cluster state that
returns (subject, finding, pods) triples, grouped by `incidents.detect` like pod findings."""

from __future__ import annotations

from ..model import JSON, ClusterState, DetectOptions
from .around import Found
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


def configuration_failures(state: ClusterState,
                           events: dict[tuple[str, str, str], list[JSON]],
                           options: DetectOptions) -> list[Found]:
    now = parse_time(state.now)
    return [
        *stuck_pods(state, events, now, options),
        *missing_references(state, events, now),
        *service_selector_mismatch(state, now),
        *ingress_failures(state, events, now),
        *hpa_failures(state, now),
        *pdb_blocks(state, now),
        *storage_failures(state, now),
        *webhook_failures(state, now),
        *route_failures(state, now),
    ]
