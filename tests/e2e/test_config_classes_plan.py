"""Issue 18's classes through `remediator plan --output json`: an Argo CD app whose Service
selector has a typo and whose HPA target has no CPU request. The HPA gets its requests from
`drafting.requests` as a validated change to the Deployment's manifest; the Service is a
diagnosis naming the near match (two right answers: the selector or the labels)."""

from __future__ import annotations

from pathlib import Path

from tests.support import kube
from tests.support.plan_cli import plan_json
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


def test_plan_proposes_hpa_requests_and_diagnoses_the_service_selector(tmp_path: Path):
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
    assert svc["decision"] == "diagnose" and svc["changes"] == []
    assert svc["workload"]["kind"] == "Service"
    assert "Deployment shop/cart has `app: cart`" in svc["diagnosis"], svc["diagnosis"]
