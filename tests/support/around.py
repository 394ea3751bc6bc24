"""Objects around the workloads (Services, Ingresses, HPAs, PDBs, StatefulSets, webhooks) and
stuck or pending pods, shaped like `kubectl get -o json` prints them, for the tests of the
failure classes of issue 18 (tests/detect/test_config_classes.py, test_config_quiet.py)."""

from __future__ import annotations

from typing import Any

from remediator.cluster.snapshot import build_state
from remediator.detect import detect
from remediator.model import ROW, DetectOptions
from tests.support import kube

CLOCK = {"apiVersion": "v1", "kind": "Event", "metadata": {"name": "clock", "namespace": "x"},
         "involvedObject": {"kind": "Namespace", "name": "x"}, "reason": "Clock",
         "lastTimestamp": kube.NOW}
OLD = "2026-11-19T10:00:00Z"  # a day before kube.NOW
FRESH = "2026-11-20T10:29:00Z"  # a minute before kube.NOW
#: every cluster has the API server's Service: its presence says Services were read
KUBERNETES = {"apiVersion": "v1", "kind": "Service",
              "metadata": {"name": "kubernetes", "namespace": "default", "creationTimestamp": OLD},
              "spec": {"ports": [{"name": "https", "port": 443}]}}


def detected(*items: Any, options: DetectOptions | None = None) -> dict[str, Any]:
    incidents = detect(build_state([*items, CLOCK, KUBERNETES], "t"), options)
    for i in incidents:  # the facts are of the type the class table names
        assert type(i.evidence.facts) is ROW[i.failure_class].facts, i.failure_class
    return {i.failure_class: i for i in incidents}


def obj(kind: str, name: str, ns: str = "shop", api: str = "v1", created: str = OLD,
         **body: Any) -> dict[str, Any]:
    meta: dict[str, Any] = {"name": name, "uid": kube.uid(), "creationTimestamp": created}
    if ns:
        meta["namespace"] = ns
    return {"apiVersion": api, "kind": kind, "metadata": meta, **body}


def service(name: str, selector: dict[str, str], ns: str = "shop", created: str = OLD,
             ports: list[dict[str, Any]] | None = None) -> dict[str, Any]:
    return obj("Service", name, ns, created=created,
                spec={"selector": selector, "ports": ports or [{"name": "http", "port": 80}]})


def web():
    d = kube.deployment("cart", "shop", [kube.container("cart")])
    rs = kube.replicaset(d, ready=1)
    p = kube.pod(rs, "cart-5d8f7c9b4-aaaaa", [kube.running("cart")])
    p["metadata"]["labels"] = {"app": "cart"}
    return d, rs, p


def ingress(backend: str, port: int = 80, cls: str | None = None, tls: str = ""):
    spec: dict[str, Any] = {"rules": [{"host": "shop.example.com", "http": {"paths": [
        {"path": "/", "pathType": "Prefix",
         "backend": {"service": {"name": backend, "port": {"number": port}}}}]}}]}
    if cls:
        spec["ingressClassName"] = cls
    if tls:
        spec["tls"] = [{"hosts": ["shop.example.com"], "secretName": tls}]
    return obj("Ingress", "shop", api="networking.k8s.io/v1", spec=spec)


def hpa(target: str, **status: Any):
    return obj("HorizontalPodAutoscaler", "cart", api="autoscaling/v2", spec={
        "scaleTargetRef": {"apiVersion": "apps/v1", "kind": "Deployment", "name": target},
        "minReplicas": 1, "maxReplicas": 5}, status=status)


def pdb(spec: dict[str, Any], **status: Any):
    return obj("PodDisruptionBudget", "cart", api="policy/v1",
                spec={"selector": {"matchLabels": {"app": "cart"}}, **spec}, status=status)


def statefulset(service: str = "db", storage_class: str = "standard"):
    return obj("StatefulSet", "db", api="apps/v1", spec={
        "serviceName": service, "replicas": 1, "selector": {"matchLabels": {"app": "db"}},
        "template": {"metadata": {"labels": {"app": "db"}},
                     "spec": {"containers": [kube.container("db")]}},
        "volumeClaimTemplates": [{"metadata": {"name": "data"}, "spec": {
            "storageClassName": storage_class, "accessModes": ["ReadWriteOnce"],
            "resources": {"requests": {"storage": "1Gi"}}}}]}, status={})


def webhook(service: str):
    return obj("ValidatingWebhookConfiguration", "policy", ns="",
                api="admissionregistration.k8s.io/v1", webhooks=[{
                    "name": "validate.policy.example.com", "failurePolicy": "Fail",
                    "clientConfig": {"service": {"namespace": "policy", "name": service}}}])


def stuck_pod(statuses, phase="Running", created=OLD):
    d = kube.deployment("cart", "shop", [kube.container("cart")])
    rs = kube.replicaset(d)
    return d, rs, kube.pod(rs, "cart-5d8f7c9b4-aaaaa", statuses, phase=phase, created=created)


def pending(spec_extra: dict[str, Any], conditions: list[dict[str, Any]],
             created: str = OLD):
    sts = statefulset()
    p = kube.pod(sts, "db-0", [], phase="Pending", conditions=conditions, created=created)
    del p["spec"]["nodeName"]
    p["spec"].update(spec_extra)
    return sts, p


def quiet(cls: str, *items: Any, services_read: bool = True) -> None:
    base = [CLOCK, KUBERNETES] if services_read else [CLOCK]
    found = {i.failure_class for i in detect(build_state([*items, *base], "t"))}
    assert cls not in found, (cls, found)
