"""Optional kinds: the objects around the workloads that the configuration failure classes read
(Services, Endpoints, Ingresses, PDBs, storage, webhooks, Gateway API routes).

Optional because a bot installed with the older ClusterRole (or on a cluster without the Gateway
API) must keep working: each kind is probed once with a one-item list, and a 403 or 404 drops
that kind with one note, never the pass. Secrets are never listed: a missing Secret is known by
name only, from the kubelet's and the controllers' events. ConfigMaps are not listed either (their
data may be sensitive and would land in snapshots): a missing one is named by FailedMount events.
"""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING

from .api import ApiError, Kind

if TYPE_CHECKING:
    from .api import RawClient

log = logging.getLogger(__name__)

OPTIONAL_KINDS = (
    Kind("", "v1", "services", "Service"),
    Kind("", "v1", "endpoints", "Endpoints"),
    Kind("", "v1", "persistentvolumes", "PersistentVolume", namespaced=False),
    Kind("networking.k8s.io", "v1", "ingresses", "Ingress"),
    Kind("networking.k8s.io", "v1", "ingressclasses", "IngressClass", namespaced=False),
    Kind("policy", "v1", "poddisruptionbudgets", "PodDisruptionBudget"),
    Kind("storage.k8s.io", "v1", "storageclasses", "StorageClass", namespaced=False),
    Kind("admissionregistration.k8s.io", "v1", "validatingwebhookconfigurations",
         "ValidatingWebhookConfiguration", namespaced=False),
    Kind("admissionregistration.k8s.io", "v1", "mutatingwebhookconfigurations",
         "MutatingWebhookConfiguration", namespaced=False),
    Kind("gateway.networking.k8s.io", "v1", "httproutes", "HTTPRoute"),
    Kind("gateway.networking.k8s.io", "v1", "gateways", "Gateway"),
)

#: the kind names a snapshot keeps (cluster/snapshot.py)
OPTIONAL_KIND_NAMES = frozenset(k.kind for k in OPTIONAL_KINDS)


def readable_optional_kinds(raw: RawClient) -> tuple[list[Kind], list[str]]:
    """The optional kinds this identity may list here, and one note per kind it may not."""
    found: list[Kind] = []
    notes: list[str] = []
    for kind in OPTIONAL_KINDS:
        try:
            raw.get(kind.path(), {"limit": "1"})
        except ApiError as exc:
            if exc.status in (401, 403):
                notes.append(f"{kind.kind} ({kind.api_version}) not readable (HTTP {exc.status}):"
                             " its configuration failures are not detected; see the ClusterRole")
            elif exc.status == 404:
                notes.append(f"{kind.kind} ({kind.api_version}) not served: not watched")
            else:
                raise
            log.info("optional kind skipped: %s", notes[-1])
            continue
        found.append(kind)
    return found, notes
