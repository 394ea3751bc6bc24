"""Builders for Kubernetes objects shaped like `kubectl get -o json` output, for detect tests."""

from __future__ import annotations

import itertools
from typing import Any

NOW = "2026-11-20T10:30:00Z"
_uid = itertools.count(1)


def uid() -> str:
    return f"00000000-0000-0000-0000-{next(_uid):012d}"


def meta(name: str, namespace: str, owner: dict[str, Any] | None = None,
         created: str = "2026-11-20T09:00:00Z", **extra: Any) -> dict[str, Any]:
    m: dict[str, Any] = {"name": name, "namespace": namespace, "uid": uid(),
                         "creationTimestamp": created, **extra}
    if owner is not None:
        m["ownerReferences"] = [{
            "apiVersion": owner["apiVersion"], "kind": owner["kind"],
            "name": owner["metadata"]["name"], "uid": owner["metadata"]["uid"],
            "controller": True, "blockOwnerDeletion": True,
        }]
    return m


def container(name: str = "app", image: str = "ghcr.io/acme/app:1.0.0",
              memory: str = "128Mi", **extra: Any) -> dict[str, Any]:
    return {"name": name, "image": image,
            "resources": {"requests": {"memory": memory, "cpu": "100m"},
                          "limits": {"memory": memory}}, **extra}


def deployment(name: str, namespace: str, containers: list[dict[str, Any]],
               annotations: dict[str, str] | None = None) -> dict[str, Any]:
    return {"apiVersion": "apps/v1", "kind": "Deployment",
            "metadata": meta(name, namespace, annotations=annotations or {}),
            "spec": {"replicas": 1, "selector": {"matchLabels": {"app": name}},
                     "template": {"metadata": {"labels": {"app": name}},
                                  "spec": {"containers": containers}}},
            "status": {}}


def replicaset(owner: dict[str, Any], suffix: str = "5d8f7c9b4", ready: int = 0,
               revision: int = 1) -> dict[str, Any]:
    name = f"{owner['metadata']['name']}-{suffix}"
    return {"apiVersion": "apps/v1", "kind": "ReplicaSet",
            "metadata": meta(name, owner["metadata"]["namespace"], owner,
                             annotations={"deployment.kubernetes.io/revision": str(revision)}),
            "spec": {"template": owner["spec"]["template"]},
            "status": {"replicas": 1, "readyReplicas": ready, "availableReplicas": ready}}


def pod(owner: dict[str, Any], name: str, statuses: list[dict[str, Any]],
        phase: str = "Running", spec_containers: list[dict[str, Any]] | None = None,
        created: str = "2026-11-20T09:00:00Z", conditions: list[dict[str, Any]] | None = None,
        ) -> dict[str, Any]:
    if spec_containers is None:
        tmpl = owner.get("spec", {}).get("template", {}).get("spec", {})
        spec_containers = tmpl.get("containers", [])
    return {"apiVersion": "v1", "kind": "Pod",
            "metadata": meta(name, owner["metadata"]["namespace"], owner, created=created),
            "spec": {"containers": spec_containers, "nodeName": "node-a"},
            "status": {"phase": phase, "containerStatuses": statuses,
                       "conditions": conditions or []}}


def crashing(name: str = "app", reason: str = "OOMKilled", code: int = 137, restarts: int = 5,
             finished: str = "2026-11-20T10:28:00Z", started: str = "2026-11-20T10:27:30Z",
             image: str = "ghcr.io/acme/app:1.0.0") -> dict[str, Any]:
    return {"name": name, "image": image, "ready": False, "restartCount": restarts,
            "started": False,
            "state": {"waiting": {"reason": "CrashLoopBackOff",
                                  "message": f"back-off 5m0s restarting failed container={name}"}},
            "lastState": {"terminated": {"reason": reason, "exitCode": code,
                                         "startedAt": started, "finishedAt": finished}}}


def running(name: str = "app", restarts: int = 0, last: dict[str, Any] | None = None,
            image: str = "ghcr.io/acme/app:1.0.0") -> dict[str, Any]:
    return {"name": name, "image": image, "ready": True, "restartCount": restarts,
            "started": True, "state": {"running": {"startedAt": "2026-11-17T10:00:00Z"}},
            "lastState": {"terminated": last} if last else {}}


def waiting(name: str, reason: str, message: str = "",
            image: str = "ghcr.io/acme/app:1.0.0") -> dict[str, Any]:
    return {"name": name, "image": image, "ready": False, "restartCount": 0, "started": False,
            "state": {"waiting": {"reason": reason, "message": message}}, "lastState": {}}


def event(obj: dict[str, Any], reason: str, message: str, count: int = 1,
          field_path: str = "", last: str = "2026-11-20T10:29:00Z") -> dict[str, Any]:
    inv = {"kind": obj["kind"], "namespace": obj["metadata"]["namespace"],
           "name": obj["metadata"]["name"], "uid": obj["metadata"]["uid"]}
    if field_path:
        inv["fieldPath"] = field_path
    return {"apiVersion": "v1", "kind": "Event",
            "metadata": {"name": f"{obj['metadata']['name']}.{uid()[-6:]}",
                         "namespace": obj["metadata"]["namespace"]},
            "involvedObject": inv, "reason": reason, "message": message, "count": count,
            "type": "Warning", "firstTimestamp": "2026-11-20T09:00:00Z", "lastTimestamp": last}


def cluster_list(*items: dict[str, Any]) -> dict[str, Any]:
    return {"apiVersion": "v1", "kind": "List", "items": list(items),
            "metadata": {"resourceVersion": ""}}
