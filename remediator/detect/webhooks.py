"""WebhookServiceUnavailable: an admission webhook whose Service is missing or has no ready
endpoint. With `failurePolicy: Fail` (the default) every matching create or update in the
cluster is refused, including the controllers' own."""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING

from ..model import FailureClass, WebhookFacts
from .around import finding, of_kind, settled, was_read

if TYPE_CHECKING:
    from ..model import JSON, ClusterState
    from .around import Found

KINDS = ("ValidatingWebhookConfiguration", "MutatingWebhookConfiguration")


def _ready(endpoints: JSON) -> bool:
    return any((s or {}).get("addresses") for s in endpoints.get("subsets") or [])


def webhook_failures(state: ClusterState, now: datetime | None) -> list[Found]:
    if not was_read(state, "Service"):
        return []
    services = {(r.namespace, r.name) for r in state.objects if r.kind == "Service"}
    endpoints = {(r.namespace, r.name): o for r, o in of_kind(state, "Endpoints")}
    out: list[Found] = []
    for kind in KINDS:
        for ref, config in of_kind(state, kind):
            if not settled(config, now):
                continue
            broken: list[str] = []
            policy = "Fail"
            for hook in config.get("webhooks") or []:
                svc = ((hook or {}).get("clientConfig") or {}).get("service") or {}
                if not svc:
                    continue  # a URL webhook: outside the cluster, not ours to judge
                key = (str(svc.get("namespace") or ""), str(svc.get("name") or ""))
                if key not in services:
                    broken.append(f"service {key[0]}/{key[1]} missing")
                elif endpoints and key in endpoints and not _ready(endpoints[key]):
                    broken.append(f"service {key[0]}/{key[1]} has no ready endpoints")
                else:
                    continue
                policy = str(hook.get("failurePolicy") or "Fail")
            if broken:
                broken = sorted(set(broken))
                out.append((ref, finding(
                    FailureClass.WEBHOOK_SERVICE_UNAVAILABLE, "; ".join(broken),
                    f"{kind} {ref.name}: {', '.join(broken)} (failurePolicy {policy}: "
                    + ("matching requests are refused)" if policy == "Fail"
                       else "requests pass unchecked)"),
                    facts=WebhookFacts(failure_policy=policy)), []))
    return out
