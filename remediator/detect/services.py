"""ServiceSelectorMismatch: a Service whose selector matches no pod (k8sgpt's Service analyzer).

A label typo sends no traffic anywhere and nothing else complains. Quiet when the Service is new,
when a workload the selector does match is scaled to zero (intentional), and for Services
without a selector (ExternalName, manually managed Endpoints).
"""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING

from ..model import FailureClass, ServiceFacts
from .around import (
    finding,
    labels_of,
    of_kind,
    selects,
    settled,
    template_labels,
)

if TYPE_CHECKING:
    from ..model import JSON, ClusterState, ObjectRef
    from .around import (
        Found,
    )

WORKLOAD_KINDS = ("Deployment", "StatefulSet", "DaemonSet")


def _near_matches(selector: dict[str, str], candidates: list[tuple[ObjectRef, dict[str, str]]]
                  ) -> list[JSON]:
    """Workloads whose pod labels miss the selector by exactly one key: the likely typo."""
    out = []
    for ref, labels in candidates:
        wrong = [k for k, v in selector.items() if labels.get(k) != v]
        if len(wrong) != 1:
            continue
        key = wrong[0]
        if key in labels:  # same key, other value: `app: cart` vs `app: carts`
            out.append({"workload": str(ref), "key": key, "selector_value": selector[key],
                        "label_value": labels[key]})
        else:  # the key itself differs: `app` vs `app.kubernetes.io/name`
            same_value = [k for k, v in labels.items() if v == selector[key]]
            if len(same_value) == 1:
                out.append({"workload": str(ref), "key": key, "selector_value": selector[key],
                            "label_key": same_value[0]})
    return out


def service_selector_mismatch(state: ClusterState, now: datetime | None) -> list[Found]:
    out: list[Found] = []
    # indexed once: a large cluster has thousands of Services and tens of thousands of pods
    pod_labels: dict[str, list[dict[str, str]]] = {}
    for p in state.pods:
        pod_labels.setdefault(str((p.get("metadata") or {}).get("namespace") or ""),
                              []).append(labels_of(p))
    workloads_in: dict[str, list[tuple[ObjectRef, dict[str, str]]]] = {}
    for r, o in state.objects.items():
        if r.kind in WORKLOAD_KINDS:
            workloads_in.setdefault(r.namespace, []).append((r, template_labels(o)))
    for ref, svc in of_kind(state, "Service"):
        spec = svc.get("spec") or {}
        selector = {str(k): str(v) for k, v in (spec.get("selector") or {}).items()}
        if not selector or spec.get("type") == "ExternalName" or not settled(svc, now):
            continue
        if any(selects(selector, labels) for labels in pod_labels.get(ref.namespace, [])):
            continue
        workloads = workloads_in.get(ref.namespace, [])
        if any(selects(selector, labels) for _, labels in workloads):
            continue  # its workload exists (scaled to zero, or pods not created yet)
        near = _near_matches(selector, workloads)
        shown = ",".join(f"{k}={v}" for k, v in sorted(selector.items()))
        hint = f"; {near[0]['workload']} has a near match" if len(near) == 1 else ""
        out.append((ref, finding(
            FailureClass.SERVICE_SELECTOR_MISMATCH, f"selector {shown}",
            f"Service {ref.name} selects no pods (selector {shown}){hint}",
            facts=ServiceFacts(selector=selector, near_matches=near)), []))
    return out
