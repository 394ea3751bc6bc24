"""Issue 18's remaining classes through `remediator plan --output json`, in a Flux repository:
one Kustomization (`./apps/shop`, a Kustomize folder, `targetNamespace: shop`) applies every
object, and the cluster's objects carry Flux's `kustomize.toolkit.fluxcd.io/*` labels. Each
failure must be located in that folder (a diagnosis, not a skip for "not found") and explained
from its evidence; the Unschedulable detail keeps a taint's commas.

The cluster is one realistic `kubectl get -A -o json` List: healthy neighbours included (the
API server's Service, an IngressClass, a StorageClass, a Gateway), so each class is judged the
way it would be in production (kinds read, objects old enough)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import yaml

from tests.support import kube
from tests.support.plan_cli import diff_lines, plan_json
from tests.support.repos import REPO_URL

OLD = "2026-11-19T10:00:00Z"  # a day before kube.NOW
FLUX = {"kustomize.toolkit.fluxcd.io/name": "shop",
        "kustomize.toolkit.fluxcd.io/namespace": "flux-system"}

KUSTOMIZATION = f"""
apiVersion: kustomize.toolkit.fluxcd.io/v1
kind: Kustomization
metadata: {{name: shop, namespace: flux-system}}
spec:
  interval: 10m
  path: ./apps/shop
  prune: true
  sourceRef: {{kind: GitRepository, name: flux-system}}
  targetNamespace: shop
---
apiVersion: source.toolkit.fluxcd.io/v1
kind: GitRepository
metadata: {{name: flux-system, namespace: flux-system}}
spec: {{interval: 1m, url: {REPO_URL}, ref: {{branch: main}}}}
"""


def _obj(kind: str, name: str, api: str, ns: str = "shop", tracked: bool = True,
         **body: Any) -> dict[str, Any]:
    meta: dict[str, Any] = {"name": name, "uid": kube.uid(), "creationTimestamp": OLD}
    if ns:
        meta["namespace"] = ns
    if tracked:
        meta["labels"] = dict(FLUX)
    return {"apiVersion": api, "kind": kind, "metadata": meta, **body}


def _flux(obj: dict[str, Any]) -> dict[str, Any]:
    obj["metadata"].setdefault("labels", {}).update(FLUX)
    return obj


def _statefulset(name: str, service: str, storage_class: str = "standard") -> dict[str, Any]:
    return _obj("StatefulSet", name, "apps/v1", spec={
        "serviceName": service, "replicas": 1, "selector": {"matchLabels": {"app": name}},
        "template": {"metadata": {"labels": {"app": name}},
                     "spec": {"containers": [kube.container(name)]}},
        "volumeClaimTemplates": [{"metadata": {"name": "data"}, "spec": {
            "storageClassName": storage_class, "accessModes": ["ReadWriteOnce"],
            "resources": {"requests": {"storage": "1Gi"}}}}]}, status={"replicas": 1})


def _service(name: str, selector: dict[str, str], headless: bool = False) -> dict[str, Any]:
    spec: dict[str, Any] = {"selector": selector, "ports": [{"name": "http", "port": 80}]}
    if headless:
        spec["clusterIP"] = "None"
    return _obj("Service", name, "v1", spec=spec)


def _pending(owner: dict[str, Any], name: str, conditions: list[dict[str, Any]],
             **spec: Any) -> dict[str, Any]:
    p = kube.pod(owner, name, [], phase="Pending", conditions=conditions, created=OLD)
    del p["spec"]["nodeName"]
    p["spec"].update(spec)
    return p


def _cluster() -> list[dict[str, Any]]:
    items: list[dict[str, Any]] = []
    # --- workloads
    net = _flux(kube.deployment("net", "shop", [kube.container("net")]))
    net_rs = kube.replicaset(net)
    net_pod = kube.pod(net_rs, "net-5d8f7c9b4-aaaaa", [kube.waiting("net", "ContainerCreating")],
                       phase="Pending", created=OLD)
    items += [net, net_rs, net_pod, kube.event(
        net_pod, "FailedCreatePodSandBox", "Failed to create pod sandbox: rpc error: code = "
        "Unknown desc = failed to setup network for sandbox \"4f1c\": plugin type=\"calico\" "
        "failed (add): error getting ClusterInformation: connection is unauthorized",
        count=120)]
    gated = _flux(kube.deployment("batch", "shop", [kube.container("batch")]))
    gated_rs = kube.replicaset(gated)
    items += [gated, gated_rs, _pending(
        gated_rs, "batch-5d8f7c9b4-aaaaa",
        [{"type": "PodScheduled", "status": "False", "reason": "SchedulingGated",
          "message": "Scheduling is blocked due to non-empty scheduling gates"}],
        schedulingGates=[{"name": "kueue.x-k8s.io/admission"}])]
    gpu = _flux(kube.deployment("gpu", "shop", [kube.container("gpu")]))
    gpu_rs = kube.replicaset(gpu)
    items += [gpu, gpu_rs, _pending(gpu_rs, "gpu-5d8f7c9b4-aaaaa", [{
        "type": "PodScheduled", "status": "False", "reason": "Unschedulable",
        "lastTransitionTime": OLD,
        "message": "0/3 nodes are available: 1 node(s) had untolerated taint "
                   "{nvidia.com/gpu: present}, 2 Insufficient memory. preemption: 0/3 nodes "
                   "are available: 3 No preemption victims found for incoming pod."}])]
    queue = _statefulset("queue", "queue")
    items += [queue, _service("queue", {"app": "queue"}, headless=True),
              _pending(queue, "queue-0", [], schedulerName="volcano")]
    cache = _statefulset("cache", "cache-headless", storage_class="fast-ssd")
    items.append(cache)
    db = _statefulset("db", "db")
    db_pod = kube.pod(db, "db-0", [kube.waiting("db", "ContainerCreating")], phase="Pending",
                      created=OLD)
    db_pod["spec"]["volumes"] = [{"name": "data",
                                  "persistentVolumeClaim": {"claimName": "data-db-0"}}]
    items += [db, _service("db", {"app": "db"}, headless=True), db_pod, _obj(
        "PersistentVolumeClaim", "data-db-0", "v1", tracked=False, spec={
            "accessModes": ["ReadWriteOnce"], "storageClassName": "standard",
            "volumeName": "pvc-0c5e1d7a", "resources": {"requests": {"storage": "1Gi"}}},
        status={"phase": "Lost"})]
    # --- traffic: an Ingress with a class typo and a TLS secret nobody created, a route
    # whose backend does not exist
    web = _flux(kube.deployment("web", "shop", [kube.container("web")]))
    web_rs = kube.replicaset(web, ready=1)
    web_pod = kube.pod(web_rs, "web-5d8f7c9b4-aaaaa", [kube.running("web")])
    web_pod["metadata"]["labels"] = {"app": "web"}
    ingress = _obj("Ingress", "web", "networking.k8s.io/v1", spec={
        "ingressClassName": "ngnix",
        "tls": [{"hosts": ["shop.example.com"], "secretName": "web-tls"}],
        "rules": [{"host": "shop.example.com", "http": {"paths": [{
            "path": "/", "pathType": "Prefix",
            "backend": {"service": {"name": "web", "port": {"number": 80}}}}]}}]})
    route = _obj("HTTPRoute", "web", "gateway.networking.k8s.io/v1", spec={
        "parentRefs": [{"name": "public", "namespace": "gateways"}],
        "rules": [{"backendRefs": [{"name": "web-canary", "port": 80}]}]}, status={
        "parents": [{"parentRef": {"name": "public", "namespace": "gateways"},
                     "controllerName": "gateway.envoyproxy.io/gatewayclass-controller",
                     "conditions": [
                         {"type": "Accepted", "status": "True", "reason": "Accepted"},
                         {"type": "ResolvedRefs", "status": "False",
                          "reason": "BackendNotFound",
                          "message": "Service shop/web-canary not found"}]}]})
    admin = _obj("Ingress", "admin", "networking.k8s.io/v1", spec={  # no class, no default
        "rules": [{"host": "admin.example.com", "http": {"paths": [{
            "path": "/", "pathType": "Prefix",
            "backend": {"service": {"name": "web", "port": {"number": 80}}}}]}}]})
    items += [web, web_rs, web_pod, _service("web", {"app": "web"}), ingress, admin, route,
              kube.event(ingress, "Sync", 'Error getting SSL certificate "shop/web-tls": '
                         'local SSL certificate shop/web-tls was not found. Using default '
                         'certificate'),
              kube.event(ingress, "Sync", 'secret "shop/web-tls" not found')]
    # --- an admission webhook whose Service is gone: every matching request is refused
    items.append(_obj("ValidatingWebhookConfiguration", "shop-policy",
                      "admissionregistration.k8s.io/v1", ns="", webhooks=[{
                          "name": "validate.shop.example.com", "failurePolicy": "Fail",
                          "sideEffects": "None", "admissionReviewVersions": ["v1"],
                          "clientConfig": {"service": {"namespace": "shop",
                                                       "name": "shop-policy-webhook",
                                                       "path": "/validate"}},
                          "rules": [{"apiGroups": ["apps"], "apiVersions": ["v1"],
                                     "operations": ["CREATE", "UPDATE"],
                                     "resources": ["deployments"]}]}]))
    # --- the cluster around them (not tracked: not ours)
    items += [
        _obj("Service", "kubernetes", "v1", ns="default", tracked=False,
             spec={"ports": [{"name": "https", "port": 443}]}),
        _obj("IngressClass", "nginx", "networking.k8s.io/v1", ns="", tracked=False,
             spec={"controller": "k8s.io/ingress-nginx"}),
        _obj("StorageClass", "standard", "storage.k8s.io/v1", ns="", tracked=False,
             provisioner="rancher.io/local-path"),
        _obj("Gateway", "public", "gateway.networking.k8s.io/v1", ns="gateways",
             tracked=False, spec={"gatewayClassName": "envoy", "listeners": [
                 {"name": "http", "port": 80, "protocol": "HTTP"}]}),
        kube.event(net_pod, "Clock", "clock", last=kube.NOW),
        *[{**o, "status": {}} for o in _objects(KUSTOMIZATION)],
    ]
    return items


def _objects(text: str) -> list[dict[str, Any]]:
    return [d for d in yaml.safe_load_all(text) if d]


def _repository(items: list[dict[str, Any]]) -> dict[str, str]:
    """The Kustomize folder Flux applies: each tracked object as the repository writes it
    (no namespace: `targetNamespace` sets it)."""
    files = {".remediator.yaml": f"repo:\n  url: {REPO_URL}\n",
             "clusters/prod/shop.yaml": KUSTOMIZATION}
    names = []
    for o in items:
        if (o["metadata"].get("labels") or {}).get("kustomize.toolkit.fluxcd.io/name") != "shop":
            continue
        doc = {"apiVersion": o["apiVersion"], "kind": o["kind"],
               "metadata": {"name": o["metadata"]["name"]}}
        doc.update({k: v for k, v in o.items() if k not in ("apiVersion", "kind", "metadata",
                                                            "status")})
        name = f"{o['kind'].lower()}-{o['metadata']['name']}.yaml"
        files[f"apps/shop/{name}"] = yaml.safe_dump(doc, sort_keys=False)
        names.append(name)
    files["apps/shop/kustomization.yaml"] = "resources:\n" + "".join(
        f"  - {n}\n" for n in sorted(names))
    return files


#: (kind, name, class) → what the diagnosis must say (draft/config_fixes.py, from evidence)
#: and, for the classes with a certain fix, the lines the validated change writes
EXPECTED = {
    ("Deployment", "net", "StuckContainerCreating"): "FailedCreatePodSandBox",
    ("Deployment", "batch", "SchedulingGated"): "kueue.x-k8s.io/admission",
    ("Deployment", "gpu", "Unschedulable"): "untolerated taint",
    ("StatefulSet", "queue", "PendingNoVerdict"): "schedulerName",
    ("StatefulSet", "cache", "StatefulSetServiceMissing"): "cache-headless",
    ("StatefulSet", "cache", "StorageClassMissing"): "fast-ssd",
    ("StatefulSet", "db", "PVCLost"): "data-db-0",
    ("Ingress", "web", "IngressClassMissing"): "ngnix",
    ("Ingress", "admin", "IngressClassMissing"): "no `ingressClassName`",
    ("Ingress", "web", "IngressTLSSecretMissing"): "web-tls",
    ("HTTPRoute", "web", "HTTPRouteUnresolved"): "BackendNotFound",
    ("ValidatingWebhookConfiguration", "shop-policy", "WebhookServiceUnavailable"):
        "shop/shop-policy-webhook missing",
}


#: the cluster has one IngressClass: the Ingresses no controller serves get it
FIXED = {
    ("Ingress", "web", "IngressClassMissing"): ["-  ingressClassName: ngnix",
                                                "+  ingressClassName: nginx"],
    ("Ingress", "admin", "IngressClassMissing"): ["+  ingressClassName: nginx"],
}


def test_flux_repository_each_remaining_class_located_and_diagnosed(tmp_path: Path):
    items = _cluster()
    out = plan_json(tmp_path, _repository(items), items)
    got = {(r["workload"]["kind"], r["workload"]["name"], r["failure"]["class"]): r
           for r in out["remediations"]}
    assert set(got) == set(EXPECTED), sorted(got)
    for key, says in EXPECTED.items():
        r = got[key]
        assert says in r["diagnosis"], (key, r["diagnosis"])
        if key in FIXED:
            assert r["decision"] == "propose", (key, r["reason"])
            [change] = r["changes"]
            assert change["path"] == f"apps/shop/ingress-{key[1]}.yaml"
            assert diff_lines(change["diff"]) == FIXED[key], change["diff"]
            continue
        # located in the Kustomize folder and diagnosed: not a skip ("not found", "not GitOps")
        assert r["decision"] == "diagnose" and r["changes"] == [], (key, r["reason"])
    unschedulable = got[("Deployment", "gpu", "Unschedulable")]["failure"]["detail"]
    assert unschedulable == ("Insufficient memory; node(s) had untolerated taint "
                             "{nvidia.com/gpu: present}"), unschedulable
    assert got[("StatefulSet", "db", "PVCLost")]["failure"]["pods"] == ["db-0"]
