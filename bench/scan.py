"""Scan cost: load + check + index + detect on a generated snapshot of realistically sized pods.

Each pod is what `kubectl get pods -o json` prints for a real Deployment's pod: an app
container (env, ports, a probe, resources, mounts) and a log-shipper sidecar, a projected
volume, tolerations, four conditions, two container statuses, and the `managedFields` the API
server keeps (about 5.7 KB of compact JSON per pod); each pod has two events, each Deployment
its ReplicaSet.

Prints ratios against baselines measured in the same run on the same bytes:
- scan_vs_json_loads: our whole scan (`load_snapshot` + `detect`, the production path from
  the file to incidents) / `json.loads` of the same cluster.json alone (goal: <= 1.5);
- scan_vs_json_loads_gc_paused: the same scan / `json.loads` with the cycle collector paused,
  as `load_snapshot` parses: the stricter figure, what our own checking, indexing and detection
  cost over parsing (the goal's baseline above spends most of its time in the collector);
- scan_vs_typed_models: our whole scan / `json.loads` plus deserialising every object into the
  `kubernetes` client's typed models (V1Pod, CoreV1Event, ...), what a watcher built on the typed
  API pays before doing any work.
Times are medians of --runs rounds after a cold first round (printed on its own), wall and CPU;
the three take turns in every round.
peak_rss_mb is the process's peak after the scan, before the typed baseline runs.
Run from the repo root: `python bench/scan.py [--pods N] [--runs N]`.
"""

from __future__ import annotations

import argparse
import gc
import json
import random
import resource
import statistics
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import _root  # noqa: F401  (repo root on sys.path; first)

from remediator.cluster import load_snapshot
from remediator.detect import detect

STAMP = "2026-11-20T09:00:00Z"


def _fields_v1(node: Any) -> Any:
    """The `fieldsV1` set the API server records for ``node`` (named list items as `k:`)."""
    if isinstance(node, dict):
        return {f"f:{k}": _fields_v1(v) for k, v in node.items()} | {".": {}}
    if isinstance(node, list) and node and all(isinstance(i, dict) and "name" in i
                                               for i in node):
        return {"k:" + json.dumps({"name": i["name"]}, separators=(",", ":")): _fields_v1(i)
                for i in node}
    return {}


def _container(name: str, image: str, port: int, secret: str) -> dict:
    return {
        "name": name, "image": image, "imagePullPolicy": "IfNotPresent",
        "env": [{"name": "POD_NAME", "valueFrom": {"fieldRef": {
                    "apiVersion": "v1", "fieldPath": "metadata.name"}}},
                {"name": "DATABASE_URL", "valueFrom": {"secretKeyRef": {
                    "name": secret, "key": "url"}}}],
        "ports": [{"name": "http", "containerPort": port, "protocol": "TCP"}],
        "resources": {"limits": {"memory": "256Mi"},
                      "requests": {"cpu": "100m", "memory": "128Mi"}},
        "readinessProbe": {"httpGet": {"path": "/ready", "port": port, "scheme": "HTTP"},
                           "timeoutSeconds": 1, "periodSeconds": 5, "successThreshold": 1,
                           "failureThreshold": 3},
        "volumeMounts": [{"name": "kube-api-access", "readOnly": True,
                          "mountPath": "/var/run/secrets/kubernetes.io/serviceaccount"}],
        "terminationMessagePath": "/dev/termination-log", "terminationMessagePolicy": "File",
    }


def _status(name: str, image: str, failing: bool) -> dict:
    return {"name": name, "ready": not failing, "started": not failing,
            "restartCount": 6 if failing else 0, "image": image,
            "imageID": image.split(":")[0] + "@sha256:" + "0" * 64,
            "containerID": "containerd://" + "f" * 64,
            "state": {"waiting": {"reason": "CrashLoopBackOff",
                                  "message": "back-off 5m0s restarting failed container"}}
            if failing else {"running": {"startedAt": STAMP}},
            "lastState": {"terminated": {"reason": "OOMKilled", "exitCode": 137,
                                         "startedAt": "2026-11-20T10:19:00Z",
                                         "finishedAt": "2026-11-20T10:20:00Z",
                                         "containerID": "containerd://" + "e" * 64}}
            if failing else {}}


def _pod(name: str, ns: str, app: str, rs: tuple[str, str], node: int, failing: bool) -> dict:
    image, sidecar = "ghcr.io/acme/app:1.0", "fluent/fluent-bit:3.1.4"
    labels = {"app": app, "pod-template-hash": "abc12"}
    spec = {
        "nodeName": f"node-{node}", "serviceAccountName": app, "restartPolicy": "Always",
        "dnsPolicy": "ClusterFirst", "schedulerName": "default-scheduler",
        "terminationGracePeriodSeconds": 30, "securityContext": {"runAsUser": 1000},
        "containers": [_container("app", image, 8080, f"db-{app}"),
                       # a log shipper: no env, no probe
                       {"name": "logs", "image": sidecar, "imagePullPolicy": "IfNotPresent",
                        "resources": {"requests": {"cpu": "10m", "memory": "32Mi"}},
                        "volumeMounts": [{"name": "kube-api-access", "readOnly": True,
                                          "mountPath": "/var/log/pods"}]}],
        "volumes": [{"name": "kube-api-access", "projected": {"defaultMode": 420, "sources": [
            {"serviceAccountToken": {"expirationSeconds": 3607, "path": "token"}}]}}],
        "tolerations": [{"key": f"node.kubernetes.io/{t}", "operator": "Exists",
                         "effect": "NoExecute", "tolerationSeconds": 300}
                        for t in ("not-ready", "unreachable")],
    }
    status = {
        "phase": "Running", "hostIP": "10.0.1.7", "podIP": "10.244.3.17",
        "podIPs": [{"ip": "10.244.3.17"}], "qosClass": "Burstable", "startTime": STAMP,
        "conditions": [{"type": t, "status": "False" if failing and t in (
                            "Ready", "ContainersReady") else "True",
                        "lastProbeTime": None, "lastTransitionTime": "2026-11-20T09:01:00Z"}
                       for t in ("Initialized", "Ready", "ContainersReady", "PodScheduled")],
        "containerStatuses": [_status("app", image, failing), _status("logs", sidecar, False)],
    }
    meta = {"name": name, "generateName": name[:-5], "namespace": ns,
            "uid": f"p-{name}", "resourceVersion": "123456789",
            "creationTimestamp": STAMP, "labels": labels,
            "annotations": {"kubectl.kubernetes.io/restartedAt": STAMP},
            "ownerReferences": [{"apiVersion": "apps/v1", "kind": "ReplicaSet", "name": rs[0],
                                 "uid": rs[1], "controller": True,
                                 "blockOwnerDeletion": True}]}
    meta["managedFields"] = [
        {"manager": "kube-controller-manager", "operation": "Update", "apiVersion": "v1",
         "time": STAMP, "fieldsType": "FieldsV1", "fieldsV1": {
             "f:metadata": _fields_v1({k: meta[k] for k in (
                 "generateName", "labels", "annotations", "ownerReferences")}),
             "f:spec": _fields_v1(spec)}},
        {"manager": "kubelet", "operation": "Update", "apiVersion": "v1", "time": STAMP,
         "fieldsType": "FieldsV1", "subresource": "status",
         "fieldsV1": {"f:status": _fields_v1({k: v for k, v in status.items()
                                              if k not in ("containerStatuses",)})}}]
    return {"apiVersion": "v1", "kind": "Pod", "metadata": meta, "spec": spec,
            "status": status}


def generate(n_pods: int, seed: int = 7) -> dict:
    rnd = random.Random(seed)
    items: list[dict] = []
    per_deploy = 10
    for d in range(n_pods // per_deploy):
        ns, name = f"team-{d % 50}", f"svc-{d}"
        duid = f"d-{d}"
        template = {"metadata": {"labels": {"app": name}}, "spec": {"containers": [
            {"name": "app", "image": "ghcr.io/acme/app:1.0",
             "resources": {"limits": {"memory": "256Mi"}}}]}}
        selector = {"matchLabels": {"app": name}}
        items.append({"apiVersion": "apps/v1", "kind": "Deployment",
                      "metadata": {"name": name, "namespace": ns, "uid": duid,
                                   "annotations": {"argocd.argoproj.io/tracking-id":
                                                   f"{name}:apps/Deployment:{ns}/{name}"}},
                      "spec": {"replicas": per_deploy, "selector": selector,
                               "template": template}})
        rs = (f"{name}-abc12", f"rs-{d}")
        items.append({"apiVersion": "apps/v1", "kind": "ReplicaSet",
                      "metadata": {"name": rs[0], "namespace": ns, "uid": rs[1],
                                   "ownerReferences": [{
                                       "apiVersion": "apps/v1", "kind": "Deployment",
                                       "name": name, "uid": duid, "controller": True}]},
                      "spec": {"replicas": per_deploy, "selector": selector,
                               "template": template},
                      "status": {"replicas": per_deploy, "readyReplicas": per_deploy}})
        failing = rnd.random() < 0.03
        for p in range(per_deploy):
            pod = f"{name}-abc12-{p:05d}"
            items.append(_pod(pod, ns, name, rs, p, failing))
            for e in range(2):
                items.append({"apiVersion": "v1", "kind": "Event",
                              "metadata": {"name": f"{pod}.{e}", "namespace": ns},
                              "involvedObject": {"kind": "Pod", "name": pod, "namespace": ns},
                              "reason": "BackOff" if failing else "Pulled",
                              "message": "Back-off restarting failed container" if failing
                              else "Container image already present on machine",
                              "count": 3, "lastTimestamp": "2026-11-20T10:29:00Z"})
    return {"apiVersion": "v1", "kind": "List", "items": items}


def _loads_paused(raw: bytes) -> object:
    """`json.loads` with the cycle collector paused, as `load_snapshot` parses: the stricter
    baseline (what is left once the collector's walks are gone is parsing)."""
    gc.disable()
    try:
        return json.loads(raw)
    finally:
        gc.enable()


def timed(fns: dict[str, Callable[[], object]], runs: int) -> dict[str, dict[str, float]]:
    """Per name: the cold first run and the medians of the ``runs`` after it, wall and CPU
    (seconds). The functions take turns in every round, so that a change of load on a shared
    machine touches each alike; CPU time is the steadier figure there."""
    wall: dict[str, list[float]] = {name: [] for name in fns}
    cpu: dict[str, list[float]] = {name: [] for name in fns}
    for _ in range(runs + 1):
        for name, fn in fns.items():
            t, c = time.perf_counter(), time.process_time()
            fn()
            wall[name].append(time.perf_counter() - t)
            cpu[name].append(time.process_time() - c)
    return {name: {"cold": wall[name][0], "wall": statistics.median(wall[name][1:]),
                   "cpu": statistics.median(cpu[name][1:])} for name in fns}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--pods", type=int, default=10_000, help="pods in the snapshot")
    ap.add_argument("--runs", type=int, default=5, help="timed runs after the cold one")
    args = ap.parse_args()
    data = generate(args.pods)
    counts = {k: sum(1 for i in data["items"] if i["kind"] == k) for k in ("Pod", "Event")}
    pod_bytes = len(json.dumps(next(i for i in data["items"] if i["kind"] == "Pod")))
    raw = json.dumps(data).encode()
    del data  # not on the heap the baselines' collector walks
    gc.collect()
    with tempfile.TemporaryDirectory() as tmp:
        snap = Path(tmp)
        (snap / "cluster.json").write_bytes(raw)
        t = timed({"scan": lambda: detect(load_snapshot(snap)),
                   "json_loads": lambda: json.loads(raw),
                   "json_loads_gc_paused": lambda: _loads_paused(raw)}, args.runs)
        state = load_snapshot(snap)
        incidents = len(detect(state))
        kept = len(state.pods)
        del state

    rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024

    from kubernetes.client import ApiClient

    client = ApiClient()
    models = {"Pod": "V1Pod", "Event": "CoreV1Event", "ReplicaSet": "V1ReplicaSet",
              "Deployment": "V1Deployment"}

    def typed() -> None:
        for item in json.loads(raw)["items"]:
            client._ApiClient__deserialize(item, models[item["kind"]])  # type: ignore[attr-defined]

    t_typed = timed({"typed": typed}, runs=1)["typed"]["wall"]
    scan, loads, paused = t["scan"], t["json_loads"], t["json_loads_gc_paused"]
    print(f"pods={counts['Pod']} (kept {kept})")
    print(f"pod_bytes={pod_bytes}")
    print(f"events={counts['Event']}")
    print(f"bytes={len(raw)}")
    print(f"incidents={incidents}")
    for name, m in t.items():
        print(f"{name}_ms={m['wall'] * 1000:.1f} (cpu {m['cpu'] * 1000:.1f}, "
              f"cold {m['cold'] * 1000:.1f})")
    print(f"typed_models_ms={t_typed * 1000:.1f}")
    print(f"scan_vs_json_loads={scan['wall'] / loads['wall']:.2f} (goal <= 1.5; cpu "
          f"{scan['cpu'] / loads['cpu']:.2f}, cold {scan['cold'] / loads['cold']:.2f})")
    print(f"scan_vs_json_loads_gc_paused={scan['wall'] / paused['wall']:.2f} (cpu "
          f"{scan['cpu'] / paused['cpu']:.2f}, cold {scan['cold'] / paused['cold']:.2f})")
    print(f"scan_vs_typed_models={scan['wall'] / t_typed:.3f}")
    print(f"peak_rss_mb={rss:.0f}")


if __name__ == "__main__":
    main()
