"""Drafts for the failure classes of issue 18 (rows of the class table, model/classes.py).

Deterministic fixes only where the answer is certain: requests for an HPA target that has none
(measured from usage with a metrics source, else `drafting.requests`; never guessed), a Service
selector value that exactly one workload misses by that value, and the `ingressClassName` of an
Ingress no controller serves when the cluster has one IngressClass. Every other case is a
diagnosis that names the evidence and the field to change: a backend name, a StorageClass or a
second candidate has more than one right answer, and choosing wrongly breaks traffic silently.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from ..kernel.k8s import get_container
from ..model import (
    ClaimFacts,
    FailureClass,
    FieldValue,
    HelmValues,
    HPAFacts,
    IngressFacts,
    PlainManifest,
    Proposal,
    ServiceFacts,
    StatefulSetFacts,
    WebhookFacts,
    facts_as,
)
from .rules import (
    DRAFTER,
    _edit,
    _helm_effective,
    _ops,
    announced,
    diagnose,
    field_name,
    format_memory,
)
from .usage_rules import format_cpu

if TYPE_CHECKING:
    from ..model import (
        Incident,
        Location,
    )
    from ..model.settings import Drafting


def hpa_requests(incident: Incident, loc: Location, settings: Drafting) -> Proposal:
    c = incident.container
    facts = facts_as(incident.evidence.facts, HPAFacts)
    resource = str(facts.resource or "cpu")
    default = getattr(settings.requests, resource, "") if resource in ("cpu", "memory") else ""
    hpa = facts.hpa if facts.hpa is not None else "?"
    if not c:
        return diagnosis(incident)
    # what the repository sets today: for Helm, the values as the layers merge them (the
    # located object is the live one, which may not have synced yet)
    written = _helm_effective(loc, ("resources", "requests", resource)) \
        if isinstance(loc.layer, HelmValues) else \
        ((get_container(loc.rendered, c).get("resources") or {}).get("requests") or {}).get(
            resource)
    if written is not None:
        return diagnose(incident, (
            f"The repository already requests {resource} {written} for {c}: the fix "
            "looks merged and not yet synced. Nothing to propose."),
            "repository already sets the request; waiting for sync")
    measured = facts.measured_request
    if isinstance(measured, int | float) and measured > 0:
        # measured beats a default: utilisation is a share of the request, so a request near
        # real use makes the HPA's target mean what it says
        value = format_cpu(float(measured)) if resource == "cpu" else format_memory(float(measured))
        source = f"measured: {facts.measured_how or 'usage'}"
        why = f"the measured request {value} ({source}) is added"
    elif default:
        value, source = default, f"drafting.requests.{resource}"
        why = f"the configured default request {default} ({source}) is added"
    else:
        return diagnose(incident, (
            f"HorizontalPodAutoscaler {hpa} measures {resource} utilisation as a share of the "
            f"request, and container {c} requests no {resource}: the HPA never scales. Set "
            f"`resources.requests.{resource}` for {c} from its real usage (configure "
            f"`metrics.prometheusUrl` to let remediator measure it, or set "
            f"`drafting.requests.{resource}` for a default)."),
            f"container {c} has no {resource} request; no usage measured, no default configured")
    changes: dict[tuple[str, ...], Any] = {("resources", "requests", resource): value}
    return Proposal(
        drafter=DRAFTER,
        reason=f"HPA {hpa} cannot compute {resource} utilisation: {c} has no {resource} "
               f"request; request {value} added ({source})",
        diagnosis=(
            f"HorizontalPodAutoscaler {hpa} reports ScalingActive=False "
            f"(FailedGetResourceMetric): container {c} has no {resource} request, so "
            f"utilisation cannot be computed and the workload never scales. {why[0].upper()}"
            f"{why[1:]}."),
        edits=_edit(loc, _ops(loc, c, changes)),
        changes=[{"file": loc.target.path,
                  "field": f"{field_name(c)}.resources.requests.{resource}",
                  "old": "", "new": value}],
        title=f"request {value} {resource} for {c} so its HPA can scale",
        announced=announced(c, changes),
        risk=("The scheduler now reserves the request on a node for each pod; pods that do not "
              "fit stay Pending. The HPA starts scaling on the next sync. Rollback: revert "
              "this commit."),
        confidence=0.7,
    )


def service_selector(incident: Incident, loc: Location) -> Proposal:
    """The selector value set to the label of the one workload that misses it by that value
    (`app: carts` → `app: cart`). Anything less certain is a diagnosis: two near matches, a key
    that differs, a selector not written as such in a plain manifest (Helm values, patches)."""
    near = facts_as(incident.evidence.facts, ServiceFacts).near_matches or []
    if len(near) != 1 or "label_value" not in near[0] or not isinstance(loc.layer,
                                                                         PlainManifest):
        return diagnosis(incident)
    key, old, new = near[0]["key"], near[0]["selector_value"], near[0]["label_value"]
    written = ((loc.document.get("spec") or {}).get("selector") or {}).get(key)
    if written != old:
        return diagnosis(incident)  # the repository does not say what the cluster runs
    path = "/spec/selector/" + key.replace("~", "~0").replace("/", "~1")
    return Proposal(
        drafter=DRAFTER,
        reason=f"{incident.workload} selects no pods: selector {key}={old}, and "
               f"{near[0]['workload']} labels its pods {key}={new}; selector set to {new}",
        diagnosis=(
            f"{incident.workload} sends traffic nowhere: its selector {key}={old} matches no "
            f"pod. The only workload in the namespace that misses it by one value is "
            f"{near[0]['workload']}, whose pods are labelled {key}={new}. The selector is "
            "changed, not the labels: that restarts nothing and breaks no other selector."),
        edits=_edit(loc, [{"op": "test", "path": path, "value": old},
                          {"op": "replace", "path": path, "value": new}]),
        changes=[{"file": loc.target.path, "field": f"spec.selector.{key}", "old": old,
                  "new": new}],
        title=f"select {near[0]['workload']}'s pods ({key}={new})",
        announced=[FieldValue("", ("spec", "selector", key), new)],
        risk=("Traffic starts flowing to the selected pods as soon as this syncs: make sure "
              f"{near[0]['workload']} is what {incident.workload} should serve. "
              "Rollback: revert this commit."),
        confidence=0.7,
    )


def ingress_class(incident: Incident, loc: Location) -> Proposal:
    """`spec.ingressClassName` set to the cluster's only IngressClass: with one controller there
    is one answer. Several classes, or a name not written as such in a plain manifest (Helm
    values, patches, variables), is a diagnosis."""
    facts = facts_as(incident.evidence.facts, IngressFacts)
    classes = facts.ingress_classes or []
    live = str(facts.ingress_class or "")
    if len(classes) != 1 or not isinstance(loc.layer, PlainManifest):
        return diagnosis(incident)
    written = (loc.document.get("spec") or {}).get("ingressClassName")
    if (written or "") != live or not isinstance(loc.document.get("spec"), dict):
        return diagnosis(incident)  # the repository does not say what the cluster runs
    new = str(classes[0])
    path = "/spec/ingressClassName"
    ops: list[dict[str, Any]] = ([{"op": "test", "path": path, "value": live},
                                  {"op": "replace", "path": path, "value": new}] if live
                                 else [{"op": "add", "path": path, "value": new}])
    was = f"`ingressClassName: {live}`, a class that does not exist" if live else \
        "no `ingressClassName` and no default IngressClass"
    return Proposal(
        drafter=DRAFTER,
        reason=f"{incident.workload} has {was}; set to {new}, the cluster's only IngressClass",
        diagnosis=(
            f"{incident.workload} is served by no controller: it has {was}. The cluster has "
            f"one IngressClass, {new}: with a single controller that is the one answer."),
        edits=_edit(loc, ops),
        changes=[{"file": loc.target.path, "field": "spec.ingressClassName", "old": live,
                  "new": new}],
        title=f"serve the Ingress with IngressClass {new}",
        announced=[FieldValue("", ("spec", "ingressClassName"), new)],
        risk=(f"The {new} controller starts routing the Ingress's hosts as soon as this syncs: "
              "make sure they should be public through it. Rollback: revert this commit."),
        confidence=0.7,
    )


def _webhook_effect(policy: str | None) -> str:
    """What a webhook that cannot be reached does to the requests it matches."""
    if policy == "Ignore":
        return ("Requests the webhook matches pass unchecked (failurePolicy Ignore): what it "
                "validates or mutates is silently not enforced.")
    return (f"Requests the webhook matches are refused (failurePolicy {policy or 'Fail'}): "
            "creating or updating those objects fails.")


def diagnosis(incident: Incident) -> Proposal:
    """What to change, from the evidence, for the classes without a deterministic fix."""
    cls, d = incident.failure_class, incident.detail
    subject = str(incident.workload)
    facts = incident.evidence.facts
    text = {
        FailureClass.SERVICE_SELECTOR_MISMATCH: lambda: (
            f"{subject} sends traffic nowhere: its {d} matches no pod. " + "".join(
                f"{m['workload']} has `{m.get('label_key', m['key'])}: "
                f"{m.get('label_value', m['selector_value'])}`. "
                for m in facts_as(facts, ServiceFacts).near_matches or [])
            + "Fix the Service's selector or the workload's pod labels (changing the labels "
            "restarts the pods and may break other selectors)."),
        FailureClass.INGRESS_BACKEND_MISSING: lambda: (
            f"{subject} routes to {d}, which does not exist. Services in the namespace: "
            f"{', '.join(facts_as(facts, IngressFacts).existing_services or []) or 'none'}. "
            "Fix the backend's service name or port in the Ingress."),
        FailureClass.INGRESS_CLASS_MISSING: lambda: (
            f"{subject} " + (f"has {d}; no such IngressClass" if facts_as(
                facts, IngressFacts).ingress_class else "names no IngressClass and none is the "
                "default") + " (present: "
            f"{', '.join(facts_as(facts, IngressFacts).ingress_classes or [])}"
            "). No controller serves it: set `spec.ingressClassName` to the class of the "
            "controller that should."),
        FailureClass.INGRESS_TLS_SECRET_MISSING: lambda: (
            f"{subject}: {d} is not found (from the controller's events; Secrets are never "
            "read). Create the Secret (e.g. through cert-manager) or fix `tls[].secretName`."),
        FailureClass.HPA_TARGET_MISSING: lambda: (
            f"{subject} scales {d}, which does not exist: fix `spec.scaleTargetRef.name`."),
        FailureClass.HPA_MISSING_REQUESTS: lambda: incident.message,
        FailureClass.STATEFUL_SET_SERVICE_MISSING: lambda: (
            f"{subject}: {d} does not exist. Add the headless Service (clusterIP: None) next "
            "to the StatefulSet, or fix `spec.serviceName` (immutable: the StatefulSet must be "
            "re-created).") if not facts_as(facts, StatefulSetFacts).not_headless else (
            f"{subject}: {d}: its pods get no per-pod DNS names. Add a headless Service "
            "(clusterIP: None, the same selector) and point `spec.serviceName` at it "
            "(immutable: the StatefulSet must be re-created); clusterIP cannot be changed on "
            "an existing Service either."),
        FailureClass.STORAGE_CLASS_MISSING: lambda: (
            f"{subject}: {d} does not exist (classes: "
            f"{', '.join(facts_as(facts, ClaimFacts).storage_classes or [])}). Fix "
            "`storageClassName` (in volumeClaimTemplates it is immutable: re-create)."),
        FailureClass.PDB_BLOCKS_DISRUPTION: lambda: (
            f"{subject} can never allow an eviction ({d}): every node drain that reaches its "
            "pods hangs. Lower minAvailable below the replicas, use maxUnavailable: 1, or fix "
            "the selector."),
        FailureClass.WEBHOOK_SERVICE_UNAVAILABLE: lambda: (
            f"{subject}: {d}. " + _webhook_effect(facts_as(facts, WebhookFacts).failure_policy)
            + " Restore the webhook's Service and pods, or remove the configuration with its "
            "operator."),
        FailureClass.HTTP_ROUTE_UNRESOLVED: lambda: (
            f"{subject}: {d}. Fix the route's parentRefs / backendRefs, or add the "
            "ReferenceGrant a cross-namespace reference needs."),
        FailureClass.PVC_LOST: lambda: (
            f"{subject}: {d} is Lost, its PersistentVolume is gone. Data may be lost: restore "
            "the volume from a backup, or delete the claim so a new one is provisioned."),
        FailureClass.MISSING_CONFIG_MAP: lambda: (
            f"{subject}: pods cannot start, {d} does not exist. Add it to the repository "
            "next to the workload, or fix the reference (remediator does not invent "
            "configuration)."),
        FailureClass.READINESS_NEVER_READY: lambda: (
            f"{subject}: {incident.message}. The pods never receive traffic and a rollout "
            "never completes. Check the probe's path and port against the application."),
        FailureClass.CONTAINER_START_HOOK_ERROR: lambda: (
            f"{subject}: {incident.message}. Fix the container's lifecycle hook command."),
        FailureClass.STUCK_CONTAINER_CREATING: lambda: (
            f"{subject}: {incident.message}. Sandbox and mount failures come from the node "
            "(its container runtime, CNI or CSI plugin) or from a volume the pod names, rarely "
            "from the workload's own fields: read the event above on the pod's node (`kubectl "
            "describe pod`), fix the plugin or the volume, and the pods start on their own."),
        FailureClass.PENDING_NO_VERDICT: lambda: (
            f"{subject}: {incident.message}. Fix `spec.schedulerName` or deploy that "
            "scheduler."),
        FailureClass.SCHEDULING_GATED: lambda: (
            f"{subject}: {incident.message}. The gate's owner (a queue such as Kueue) has "
            "not released it; check its admission."),
    }.get(cls, lambda: f"{incident.message}. No safe manifest change is known for {cls}.")()
    return diagnose(incident, text, incident.message)
