"""Scan cost: load + index + detect on a generated 10,000-pod / 20,000-event snapshot.

Prints ratios against baselines measured in the same run on the same bytes:
- scan_vs_json_loads: our whole scan / `json.loads` of cluster.json alone;
- scan_vs_typed_models: our whole scan / the naive baseline: `json.loads` plus deserialising every
  object into the `kubernetes` client's typed models (V1Pod, CoreV1Event, ...), which is what a
  watcher built on the typed API pays before doing any work (the live source reads raw JSON).
peak_rss_mb is the process's peak after the scan, before the typed baseline runs.
Run from the repo root: `python bench/scan.py [--pods N]`.
"""

from __future__ import annotations

import argparse
import json
import random
import resource
import tempfile
import time
from pathlib import Path

import _root  # noqa: F401  (repo root on sys.path; first)

from remediator.cluster import load_snapshot
from remediator.detect import detect


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
        rs_uid = f"rs-{d}"
        items.append({"apiVersion": "apps/v1", "kind": "ReplicaSet",
                      "metadata": {"name": f"{name}-abc12", "namespace": ns, "uid": rs_uid,
                                   "ownerReferences": [{
                                       "apiVersion": "apps/v1", "kind": "Deployment",
                                       "name": name, "uid": duid, "controller": True}]},
                      "spec": {"replicas": per_deploy, "selector": selector,
                               "template": template},
                      "status": {"replicas": per_deploy, "readyReplicas": per_deploy}})
        failing = rnd.random() < 0.03
        for p in range(per_deploy):
            pod = f"{name}-abc12-{p:05d}"
            status = {"name": "app", "ready": not failing, "restartCount": 6 if failing else 0,
                      "image": "ghcr.io/acme/app:1.0", "imageID": "ghcr.io/acme/app@sha256:00",
                      "state": {"waiting": {"reason": "CrashLoopBackOff"}} if failing
                      else {"running": {"startedAt": "2026-11-20T09:00:00Z"}},
                      "lastState": {"terminated": {"reason": "OOMKilled", "exitCode": 137,
                                                   "finishedAt": "2026-11-20T10:20:00Z"}}
                      if failing else {}}
            items.append({
                "apiVersion": "v1", "kind": "Pod",
                "metadata": {"name": pod, "namespace": ns, "uid": f"p-{d}-{p}",
                             "creationTimestamp": "2026-11-20T09:00:00Z",
                             "labels": {"app": name, "pod-template-hash": "abc12"},
                             "ownerReferences": [{"apiVersion": "apps/v1", "kind": "ReplicaSet",
                                                  "name": f"{name}-abc12",
                                                  "uid": rs_uid, "controller": True}]},
                "spec": {"nodeName": f"node-{p}", "containers": [{
                    "name": "app", "image": "ghcr.io/acme/app:1.0",
                    "resources": {"limits": {"memory": "256Mi"}, "requests": {"cpu": "100m"}},
                    "livenessProbe": {"httpGet": {"path": "/healthz", "port": 8080}}}]},
                "status": {"phase": "Running", "containerStatuses": [status],
                           "conditions": [{"type": "Ready", "status": str(not failing),
                                           "lastTransitionTime": "2026-11-20T09:01:00Z"}]},
            })
            for e in range(2):
                items.append({"apiVersion": "v1", "kind": "Event",
                              "metadata": {"name": f"{pod}.{e}", "namespace": ns},
                              "involvedObject": {"kind": "Pod", "name": pod, "namespace": ns},
                              "reason": "BackOff" if failing else "Pulled",
                              "message": "Back-off restarting failed container" if failing
                              else "Container image already present on machine",
                              "count": 3, "lastTimestamp": "2026-11-20T10:29:00Z"})
    return {"apiVersion": "v1", "kind": "List", "items": items}


def best_of(fn, repeat: int = 3) -> float:  # type: ignore[no-untyped-def]
    best = float("inf")
    for _ in range(repeat):
        t = time.perf_counter()
        fn()
        best = min(best, time.perf_counter() - t)
    return best


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--pods", type=int, default=10_000)
    args = ap.parse_args()
    data = generate(args.pods)
    with tempfile.TemporaryDirectory() as tmp:
        snap = Path(tmp)
        raw = json.dumps(data).encode()
        (snap / "cluster.json").write_bytes(raw)
        t_json = best_of(lambda: json.loads(raw))
        t_scan = best_of(lambda: detect(load_snapshot(snap)))
        incidents = len(detect(load_snapshot(snap)))

    rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024

    from kubernetes.client import ApiClient

    client = ApiClient()
    pods = [i for i in data["items"] if i["kind"] == "Pod"]
    models = {"Pod": "V1Pod", "Event": "CoreV1Event", "ReplicaSet": "V1ReplicaSet",
              "Deployment": "V1Deployment"}

    def typed() -> None:
        for item in json.loads(raw)["items"]:
            client._ApiClient__deserialize(item, models[item["kind"]])  # type: ignore[attr-defined]

    t_typed = best_of(typed, repeat=1)
    print(f"pods={len(pods)}")
    print(f"events={sum(1 for i in data['items'] if i['kind'] == 'Event')}")
    print(f"bytes={len(raw)}")
    print(f"incidents={incidents}")
    print(f"json_loads_ms={t_json * 1000:.1f}")
    print(f"scan_ms={t_scan * 1000:.1f}")
    print(f"typed_models_ms={t_typed * 1000:.1f}")
    print(f"scan_vs_json_loads={t_scan / t_json:.2f}")
    print(f"scan_vs_typed_models={t_scan / t_typed:.3f}")
    print(f"peak_rss_mb={rss:.0f}")


if __name__ == "__main__":
    main()
