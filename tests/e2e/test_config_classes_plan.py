"""Issue 18's classes through `remediator plan --output json`: an Argo CD app whose Service
selector has a typo and whose HPA target has no CPU request. The HPA gets its requests from
`drafting.requests` and the Service's selector the one near-matching label, each as a change
validated by the gate; a second near match makes the Service a diagnosis."""

from __future__ import annotations

import json
import re
from pathlib import Path

import git

from tests.support import kube
from tests.support.plan_cli import added, plan_json
from tests.support.repos import REPO_URL, app

OLD = "2026-11-19T10:00:00Z"
TRACK = "cart:{group}/{kind}:shop/{name}"

FILES = {
    ".remediator.yaml": f"""
        repo:
          url: {REPO_URL}
        drafting:
          requests: {{cpu: 100m}}
        detect:
          schedulingGatedSeconds: 7200
        """,
    "apps/cart/deployment.yaml": """
        apiVersion: apps/v1
        kind: Deployment
        metadata:
          name: cart
        spec:
          selector:
            matchLabels: {app: cart}
          template:
            metadata:
              labels: {app: cart}
            spec:
              containers:
                - name: cart
                  image: ghcr.io/acme/cart:1.0.0
                  resources:
                    requests: {memory: 96Mi}
                    limits: {memory: 128Mi}
        """,
    "apps/cart/service.yaml": """
        apiVersion: v1
        kind: Service
        metadata:
          name: cart
        spec:
          selector: {app: carts}
          ports:
            - {name: http, port: 80}
        """,
    "apps/cart/hpa.yaml": """
        apiVersion: autoscaling/v2
        kind: HorizontalPodAutoscaler
        metadata:
          name: cart
        spec:
          scaleTargetRef: {apiVersion: apps/v1, kind: Deployment, name: cart}
          minReplicas: 1
          maxReplicas: 5
        """,
}


def _live() -> list[dict]:
    container = kube.container("cart", image="ghcr.io/acme/cart:1.0.0", memory="128Mi")
    container["resources"] = {"requests": {"memory": "96Mi"}, "limits": {"memory": "128Mi"}}
    d = kube.deployment("cart", "shop", [container], annotations={
        "argocd.argoproj.io/tracking-id": TRACK.format(group="apps", kind="Deployment",
                                                       name="cart")})
    rs = kube.replicaset(d, ready=1)
    p = kube.pod(rs, "cart-5d8f7c9b4-aaaaa", [kube.running("cart")])
    p["metadata"]["labels"] = {"app": "cart"}
    svc = {"apiVersion": "v1", "kind": "Service", "metadata": {
        "name": "cart", "namespace": "shop", "uid": kube.uid(), "creationTimestamp": OLD,
        "annotations": {"argocd.argoproj.io/tracking-id": TRACK.format(
            group="", kind="Service", name="cart")}},
        "spec": {"selector": {"app": "carts"}, "ports": [{"name": "http", "port": 80}]}}
    hpa = {"apiVersion": "autoscaling/v2", "kind": "HorizontalPodAutoscaler", "metadata": {
        "name": "cart", "namespace": "shop", "uid": kube.uid(), "creationTimestamp": OLD},
        "spec": {"scaleTargetRef": {"apiVersion": "apps/v1", "kind": "Deployment",
                                    "name": "cart"}, "minReplicas": 1, "maxReplicas": 5},
        "status": {"conditions": [{
            "type": "ScalingActive", "status": "False", "reason": "FailedGetResourceMetric",
            "lastTransitionTime": OLD,
            "message": "the HPA was unable to compute the replica count: failed to get cpu "
                       "utilization: missing request for cpu in container cart of Pod "
                       "cart-5d8f7c9b4-aaaaa"}]}}
    clock = kube.event(p, "Pulled", "Container image already present on machine",
                       last=kube.NOW)
    application = {"apiVersion": "argoproj.io/v1alpha1", "kind": "Application",
                   "metadata": {"name": "cart", "namespace": "argocd", "uid": kube.uid()},
                   "spec": {"source": {"repoURL": REPO_URL, "path": "apps/cart",
                                       "targetRevision": "main"},
                            "destination": {"namespace": "shop"}}}
    return [d, rs, p, svc, hpa, clock, application]


def test_plan_proposes_hpa_requests_and_the_service_selector(tmp_path: Path):
    assert app  # the Application above has the shape tests.support.repos.app writes
    out = plan_json(tmp_path, FILES, _live())
    by_class = {r["failure"]["class"]: r for r in out["remediations"]}
    assert set(by_class) == {"HPAMissingRequests", "ServiceSelectorMismatch"}, out
    hpa = by_class["HPAMissingRequests"]
    assert hpa["decision"] == "propose", hpa["reason"]
    [change] = hpa["changes"]
    assert change["path"] == "apps/cart/deployment.yaml"
    plus = [ln.strip() for ln in change["diff"].splitlines()
            if ln.startswith("+") and not ln.startswith("+++")]
    assert any("cpu: 100m" in ln for ln in plus), change["diff"]
    svc = by_class["ServiceSelectorMismatch"]
    assert svc["decision"] == "propose", svc["reason"]
    assert svc["workload"]["kind"] == "Service"
    [change] = svc["changes"]
    assert change["path"] == "apps/cart/service.yaml"
    diff = [ln for ln in change["diff"].splitlines()[2:] if ln[:1] in "+-"]
    assert diff == ["-  selector: {app: carts}", "+  selector: {app: cart}"], change["diff"]


def test_two_near_matches_make_the_selector_a_diagnosis(tmp_path: Path):
    items = _live()
    other = kube.deployment("carts2", "shop", [kube.container("carts2")])
    other["spec"]["template"]["metadata"]["labels"] = {"app": "cartz"}
    out = plan_json(tmp_path, FILES, [*items, other])
    svc = next(r for r in out["remediations"]
               if r["failure"]["class"] == "ServiceSelectorMismatch")
    assert svc["decision"] == "diagnose" and svc["changes"] == []
    assert "Deployment shop/cart has `app: cart`" in svc["diagnosis"], svc["diagnosis"]
    assert "Deployment shop/carts2 has `app: cartz`" in svc["diagnosis"]


def _tracked(obj: dict, group: str = "apps") -> dict:
    meta = obj["metadata"]
    meta.setdefault("annotations", {})["argocd.argoproj.io/tracking-id"] = TRACK.format(
        group=group, kind=obj["kind"], name=meta["name"])
    return obj


def _many() -> list[dict]:
    """One cluster with each issue-18 workload miss and several configuration failures."""
    items: list[dict] = []

    def workload(name: str, statuses: list[dict], phase: str = "Running") -> dict:
        d = _tracked(kube.deployment(name, "shop", [kube.container(name)]))
        rs = kube.replicaset(d)
        p = kube.pod(rs, f"{name}-5d8f7c9b4-aaaaa", statuses, phase=phase, created=OLD)
        items.extend([d, rs, p])
        return p

    never = kube.running("ready")
    never.update(ready=False, state={"running": {"startedAt": "2026-11-20T10:00:00Z"}})
    p = workload("ready", [never])
    items.append(kube.event(p, "Unhealthy", "Readiness probe failed: HTTP probe failed with "
                            "statuscode: 503", count=50, field_path="spec.containers{ready}"))
    workload("hook", [kube.waiting("hook", "PreStartHookError", "exec: /bin/warm: not found")],
             phase="Pending")
    loop = kube.crashing("loop", restarts=7)
    loop["lastState"] = {}
    workload("loop", [loop])
    p = workload("mount", [kube.waiting("mount", "ContainerCreating")], phase="Pending")
    items.append(kube.event(p, "FailedMount", 'MountVolume.SetUp failed for volume "config" : '
                            'configmap "mount-config" not found', count=40))
    items.append(kube.event(p, "Clock", "clock", last=kube.NOW))
    hpa = {"apiVersion": "autoscaling/v2", "kind": "HorizontalPodAutoscaler", "metadata": {
        "name": "gone", "namespace": "shop", "uid": kube.uid(), "creationTimestamp": OLD},
        "spec": {"scaleTargetRef": {"apiVersion": "apps/v1", "kind": "Deployment",
                                    "name": "gone"}, "minReplicas": 1, "maxReplicas": 3}}
    pdb = {"apiVersion": "policy/v1", "kind": "PodDisruptionBudget", "metadata": {
        "name": "ready", "namespace": "shop", "uid": kube.uid(), "creationTimestamp": OLD},
        "spec": {"minAvailable": 1, "selector": {"matchLabels": {"app": "ready"}}},
        "status": {"disruptionsAllowed": 0, "expectedPods": 1, "desiredHealthy": 1,
                   "currentHealthy": 0}}
    svc = {"apiVersion": "v1", "kind": "Service", "metadata": {
        "name": "ready", "namespace": "shop", "uid": kube.uid(), "creationTimestamp": OLD},
        "spec": {"selector": {"app": "ready"}, "ports": [{"port": 80}]}}
    ing = {"apiVersion": "networking.k8s.io/v1", "kind": "Ingress", "metadata": {
        "name": "shop", "namespace": "shop", "uid": kube.uid(), "creationTimestamp": OLD},
        "spec": {"rules": [{"http": {"paths": [{"path": "/", "pathType": "Prefix", "backend": {
            "service": {"name": "shop-web", "port": {"number": 80}}}}]}}]}}
    # cluster-scoped: Argo CD's tracking id has an empty namespace, the manifest none
    webhook = {"apiVersion": "admissionregistration.k8s.io/v1",
               "kind": "MutatingWebhookConfiguration", "metadata": {
                   "name": "cart-defaults", "uid": kube.uid(), "creationTimestamp": OLD,
                   "annotations": {"argocd.argoproj.io/tracking-id": "cart:admissionregistration"
                                   ".k8s.io/MutatingWebhookConfiguration:/cart-defaults"}},
               "webhooks": [{"name": "defaults.cart.example.com", "failurePolicy": "Ignore",
                             "sideEffects": "None", "admissionReviewVersions": ["v1"],
                             "clientConfig": {"service": {"namespace": "shop",
                                                          "name": "cart-webhook"}}}]}
    items += [_tracked(hpa, "autoscaling"), _tracked(pdb, "policy"), _tracked(svc, ""),
              _tracked(ing, "networking.k8s.io"), webhook]
    items.append({"apiVersion": "argoproj.io/v1alpha1", "kind": "Application",
                  "metadata": {"name": "cart", "namespace": "argocd", "uid": kube.uid()},
                  "spec": {"source": {"repoURL": REPO_URL, "path": "apps/cart",
                                      "targetRevision": "main"},
                           "destination": {"namespace": "shop"}}})
    return items


def _manifests(items: list[dict]) -> dict[str, str]:
    """The repository's side of the tracked live objects (JSON is YAML)."""
    return {f"apps/cart/{o['kind'].lower()}-{o['metadata']['name']}.yaml": json.dumps(
        {"apiVersion": o["apiVersion"], "kind": o["kind"],
         "metadata": {"name": o["metadata"]["name"]},
         **{k: o[k] for k in ("spec", "webhooks") if k in o}}, indent=2)
        for o in items if "argocd.argoproj.io/tracking-id" in (
            o["metadata"].get("annotations") or {})}


#: what each diagnosis must name (from draft/config_fixes.py, on the evidence)
SAYS = {"ReadinessNeverReady": "never Ready", "ContainerStartHookError": "PreStartHookError",
        "CrashLoopBackOff": "exits repeatedly", "MissingConfigMap": "configmap mount-config",
        "HPATargetMissing": "scaleTargetRef", "PDBBlocksDisruption": "minAvailable 1",
        "IngressBackendMissing": "service shop-web",
        "WebhookServiceUnavailable": "failurePolicy Ignore"}


def test_plan_diagnoses_the_workload_misses_and_configuration_failures(tmp_path: Path):
    items = _many()
    out = plan_json(tmp_path, {".remediator.yaml": f"repo:\n  url: {REPO_URL}\n",
                               **_manifests(items)}, items)
    got = {(r["workload"]["kind"], r["workload"]["name"], r["failure"]["class"]): r
           for r in out["remediations"]}
    assert set(got) == {
        ("Deployment", "ready", "ReadinessNeverReady"),
        ("Deployment", "hook", "ContainerStartHookError"),
        ("Deployment", "loop", "CrashLoopBackOff"),
        ("Deployment", "mount", "MissingConfigMap"),
        ("HorizontalPodAutoscaler", "gone", "HPATargetMissing"),
        ("PodDisruptionBudget", "ready", "PDBBlocksDisruption"),
        ("Ingress", "shop", "IngressBackendMissing"),
        ("MutatingWebhookConfiguration", "cart-defaults", "WebhookServiceUnavailable"),
    }, sorted(got)
    for (_, _, cls), r in got.items():
        assert r["decision"] == "diagnose" and r["changes"] == [], r
        assert SAYS[cls] in r["diagnosis"], (cls, r["diagnosis"])


def _helm_hpa(tmp_path: Path, release_cpu: str) -> list:
    """The Flux HelmRelease layout of tests.support.flux_helm, the chart's HPA unable to scale
    podinfo (no CPU request live), the base release's values requesting ``release_cpu`` (""
    for none)."""
    from remediator.cluster.snapshot import build_state
    from remediator.config import parse_config
    from remediator.pipeline import plan
    from tests.support import flux_helm

    flux_helm.repo(tmp_path)
    release = tmp_path / "apps/base/podinfo/release.yaml"
    release.write_text(re.sub(r"(?m)^( *)cpu: 100m\n", lambda m: f"{m.group(1)}cpu: {release_cpu}\n"
                              if release_cpu else "", release.read_text()))
    git.Repo(tmp_path).git.commit("-qam", "release requests")
    items = flux_helm.live(failing=kube.running("podinfod"))
    items[1]["spec"]["template"]["spec"]["containers"][0]["resources"] = {
        "limits": {"memory": "128Mi"}, "requests": {"memory": "64Mi"}}
    hpa = {"apiVersion": "autoscaling/v2", "kind": "HorizontalPodAutoscaler", "metadata": {
        "name": "podinfo", "namespace": "podinfo", "uid": kube.uid(), "creationTimestamp": OLD},
        "spec": {"scaleTargetRef": {"apiVersion": "apps/v1", "kind": "Deployment",
                                    "name": "podinfo"}, "minReplicas": 1, "maxReplicas": 4},
        "status": {"conditions": [{
            "type": "ScalingActive", "status": "False", "reason": "FailedGetResourceMetric",
            "message": "failed to get cpu utilization: missing request for cpu in container "
                       "podinfod of Pod podinfo-5d8f7c9b4-aaaaa"}]}}
    clock = kube.event(items[3], "Pulled", "already present", last=kube.NOW)
    result = plan(build_state([*items, hpa, clock], "c"), tmp_path, parse_config(
        f"repo:\n  url: {REPO_URL}\ndrafting:\n  requests: {{cpu: 100m}}\n"))
    return [r for r in result.remediations if r.incident.failure_class == "HPAMissingRequests"]


def test_hpa_requests_go_into_the_helm_values_of_the_environment(tmp_path: Path):
    [r] = _helm_hpa(tmp_path, "")
    assert r.decision.value == "propose", r.reason
    [change] = r.changes
    assert change.path == "apps/production/podinfo-values.yaml"
    assert added(change.diff) == ["resources:", "requests:", "cpu: 100m"], change.diff


def test_hpa_requests_already_in_the_base_values_wait_for_the_sync(tmp_path: Path):
    [r] = _helm_hpa(tmp_path, "250m")
    assert r.decision.value == "diagnose" and r.changes == []
    assert r.reason == "repository already sets the request; waiting for sync", r.reason
    assert r.proposal is not None and "already requests cpu 250m" in r.proposal.diagnosis
