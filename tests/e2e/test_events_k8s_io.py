"""Issue 15, item 2: events as a current cluster prints them. The scheduler (and other
events.k8s.io/v1 writers) leave `count`, `firstTimestamp` and `lastTimestamp` null and record
`eventTime` (the series' start) with `series: {count, lastObservedTime}`. Those must drive the
snapshot's "now" and every count, or a pod unschedulable for ten minutes looks freshly created
(and is left to settle) and a probe failing nine times looks like one failure.

The objects are shaped as `kubectl get pods,events,nodes,... -A -o json` prints them on a 1.31
cluster: events with `"count": null` and microsecond `eventTime`s, `reportingComponent`, and an
empty `source`.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from tests.support import kube
from tests.support.plan_cli import plan, repo
from tests.support.repos import app

SEARCH = """
    apiVersion: apps/v1
    kind: Deployment
    metadata:
      name: search
    spec:
      selector:
        matchLabels: {app: search}
      template:
        metadata:
          labels: {app: search}
        spec:
          containers:
            - name: search
              image: ghcr.io/acme/search:4.2.0
              resources:
                requests: {memory: 64Gi, cpu: 500m}
                limits: {memory: 64Gi}
    """
LIVENESS = {"httpGet": {"path": "/healthz", "port": 8080}, "initialDelaySeconds": 5,
            "periodSeconds": 10, "failureThreshold": 3}
WEB = """
    apiVersion: apps/v1
    kind: Deployment
    metadata:
      name: web
    spec:
      selector:
        matchLabels: {app: web}
      template:
        metadata:
          labels: {app: web}
        spec:
          containers:
            - name: web
              image: ghcr.io/acme/web:2.3.1
              livenessProbe:
                httpGet: {path: /healthz, port: 8080}
                initialDelaySeconds: 5
                periodSeconds: 10
                failureThreshold: 3
              resources:
                requests: {memory: 96Mi}
                limits: {memory: 256Mi}
    """
#: the pods were created at 10:20; the only later times are the events' series
CREATED = "2026-11-20T10:20:00Z"


def series_event(obj: dict[str, Any], reason: str, note: str, component: str, first: str,
                 last: str, count: int, field_path: str = "") -> dict[str, Any]:
    """An events.k8s.io/v1 event as `kubectl get events -o json` (core/v1) prints it."""
    ev = kube.event(obj, reason, note, field_path=field_path)
    ev.update({"count": None, "firstTimestamp": None, "lastTimestamp": None,
               "eventTime": first, "series": {"count": count, "lastObservedTime": last},
               "reportingComponent": component, "reportingInstance": f"{component}-node-a",
               "action": "Scheduling" if reason == "FailedScheduling" else "Killing",
               "source": {}})
    ev["metadata"]["creationTimestamp"] = CREATED
    return ev


def node() -> dict[str, Any]:
    return {"apiVersion": "v1", "kind": "Node",
            "metadata": {"name": "node-a", "uid": kube.uid(),
                         "creationTimestamp": "2026-11-01T08:00:00Z"},
            "spec": {},
            "status": {"allocatable": {"cpu": "4", "memory": "16Gi", "pods": "110"},
                       "capacity": {"cpu": "4", "memory": "16Gi", "pods": "110"},
                       "conditions": [{"type": "Ready", "status": "True",
                                       "lastTransitionTime": "2026-11-01T08:01:00Z"}]}}


def cluster() -> list[dict[str, Any]]:
    tracking = "argocd.argoproj.io/tracking-id"
    c = kube.container("search", image="ghcr.io/acme/search:4.2.0", memory="64Gi")
    search = kube.deployment("search", "shop", [c], annotations={
        tracking: "search:apps/Deployment:shop/search"})
    search_rs = kube.replicaset(search)
    cond = [{"type": "PodScheduled", "status": "False", "reason": "Unschedulable",
             "lastTransitionTime": CREATED,
             "message": "0/1 nodes are available: 1 Insufficient memory. preemption: 0/1 nodes "
                        "are available: 1 No preemption victims found for incoming pod."}]
    pending = kube.pod(search_rs, "search-5d8f7c9b4-q7x2m", [], phase="Pending",
                       created=CREATED, conditions=cond)
    del pending["spec"]["nodeName"]
    scheduling = series_event(
        pending, "FailedScheduling", cond[0]["message"], "default-scheduler",
        first="2026-11-20T10:20:00.412337Z", last="2026-11-20T10:31:12.905113Z", count=14)

    w = kube.container("web", image="ghcr.io/acme/web:2.3.1", memory="256Mi",
                       livenessProbe=LIVENESS)
    web = kube.deployment("web", "shop", [w], annotations={
        tracking: "web:apps/Deployment:shop/web"})
    web_rs = kube.replicaset(web)
    status = kube.crashing("web", reason="Error", code=137, restarts=3,
                           started="2026-11-20T10:20:05Z", finished="2026-11-20T10:20:40Z",
                           image="ghcr.io/acme/web:2.3.1")
    crashing = kube.pod(web_rs, "web-5d8f7c9b4-x2x9k", [status], created=CREATED)
    unhealthy = series_event(
        crashing, "Unhealthy", "Liveness probe failed: HTTP probe failed with statuscode: 503",
        "kubelet", first="2026-11-20T10:20:20.000001Z", last="2026-11-20T10:20:40.5Z", count=9,
        field_path="spec.containers{web}")
    for obj in (search, search_rs, web, web_rs):
        obj["metadata"]["creationTimestamp"] = "2026-11-20T10:19:58Z"
    return [search, search_rs, pending, scheduling, web, web_rs, crashing, unhealthy, node()]


def test_series_events_drive_now_and_counts_through_plan(tmp_path: Path):
    root = repo(tmp_path / "repo", {
        "apps/search/deployment.yaml": SEARCH, "argocd/search.yaml": app("search", "apps/search"),
        "apps/web/deployment.yaml": WEB, "argocd/web.yaml": app("web", "apps/web")})
    got = {r["workload"]["name"]: r for r in plan(root, tmp_path / "snap", cluster())}
    # "now" is the scheduler's lastObservedTime (10:31), not the series' start (10:20:00.4):
    # eleven minutes unschedulable is past the settling time, so the incident is raised
    search = got["search"]
    assert search["failure"]["class"] == "Unschedulable", search
    assert search["failure"]["detail"] == "Insufficient memory"
    assert search["decision"] == "diagnose"
    assert "16Gi" in search["diagnosis"]
    # nine liveness failures counted from series.count (count is null): a probe failure,
    # not a plain crash loop of one failure
    web = got["web"]
    assert web["failure"]["class"] == "ProbeFailure", web
    assert web["failure"]["detail"] == "liveness"
    assert web["decision"] == "propose", web["reason"]
    assert "startupProbe" in web["changes"][0]["diff"]
