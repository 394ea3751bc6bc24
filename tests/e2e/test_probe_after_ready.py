"""Issue 15, item 8: a liveness probe that begins to fail long after the pod started and was
Ready is a hang (or a dependency down), not a slow start: it is diagnosed with its timeline,
never given a startupProbe. Each restart after that fails the same check within one probe
window, which used to look like a slow start.

The pods and events are shaped as `kubectl get pods,events -o json` prints them for a web app
whose liveness endpoint checks its database: healthy for three days, then 503s from 10:00.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from remediator.detect.classify import PodFinding
from remediator.detect.probes import after_ready
from remediator.model import FailureClass, ProbeFacts
from tests.support import kube
from tests.support.plan_cli import check, only, plan, repo
from tests.support.repos import app

LIVENESS = {"httpGet": {"path": "/healthz", "port": 8080}, "periodSeconds": 10,
            "failureThreshold": 3}
READINESS = {"httpGet": {"path": "/ready", "port": 8080}, "periodSeconds": 5}
DEPLOYMENT = """
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
                periodSeconds: 10
                failureThreshold: 3
              readinessProbe:
                httpGet: {path: /ready, port: 8080}
                periodSeconds: 5
              resources:
                requests: {memory: 96Mi}
                limits: {memory: 256Mi}
    """


def cluster(started: str, ready: dict[str, str], first_failure: str) -> list[dict[str, Any]]:
    """The workload, a pod started at ``started`` with its Ready condition, its events."""
    c = kube.container("web", image="ghcr.io/acme/web:2.3.1", memory="256Mi",
                      livenessProbe=LIVENESS, readinessProbe=READINESS)
    d = kube.deployment("web", "shop", [c], annotations={
        "argocd.argoproj.io/tracking-id": "web:apps/Deployment:shop/web"})
    rs = kube.replicaset(d)
    status = kube.crashing("web", reason="Error", code=137, restarts=6,
                          started="2026-11-20T10:25:00Z", finished="2026-11-20T10:25:40Z",
                          image="ghcr.io/acme/web:2.3.1")
    conditions = [
        {"type": "Initialized", "status": "True", "lastTransitionTime": started},
        {"type": "Ready", "reason": "ContainersNotReady", **ready},
        {"type": "ContainersReady", "reason": "ContainersNotReady", **ready},
        {"type": "PodScheduled", "status": "True", "lastTransitionTime": started}]
    pod = kube.pod(rs, "web-5d8f7c9b4-x2x9k", [status], created=started, conditions=conditions)
    pod["status"]["startTime"] = started
    unhealthy = kube.event(pod, "Unhealthy", "Liveness probe failed: HTTP probe failed with "
                          "statuscode: 503", count=42, field_path="spec.containers{web}",
                          last="2026-11-20T10:29:50Z")
    unhealthy["firstTimestamp"] = first_failure
    killing = kube.event(pod, "Killing", "Container web failed liveness probe, will be restarted",
                        count=6, field_path="spec.containers{web}", last="2026-11-20T10:25:40Z")
    return [d, rs, pod, unhealthy, killing]


def files() -> dict[str, str]:
    return {"apps/web/deployment.yaml": DEPLOYMENT, "argocd/web.yaml": app("web", "apps/web")}


def test_a_liveness_probe_failing_after_days_of_readiness_is_diagnosed(tmp_path: Path):
    root = repo(tmp_path / "repo", files())
    items = cluster("2026-11-17T10:00:00Z",
                    {"status": "False", "lastTransitionTime": "2026-11-20T10:00:35Z"},
                    "2026-11-20T10:00:05Z")
    r = only(plan(root, tmp_path / "snap", items))
    assert r["failure"]["class"] == "ProbeFailure"
    assert r["decision"] == "diagnose", r["reason"]
    assert r["changes"] == []
    assert r["reason"] == ("liveness probe of web began failing after it had started (first "
                           "failure 2026-11-20T10:00:05Z); not a slow start")
    assert ("(the pod started at 2026-11-17T10:00:00Z; it was Ready until "
            "2026-11-20T10:00:35Z; its liveness probe began failing at 2026-11-20T10:00:05Z; "
            "the last run lasted 40s before it was killed)") in r["diagnosis"]
    assert "a startupProbe, which only holds the liveness probe back" in r["diagnosis"]


def test_a_liveness_probe_killing_a_slow_start_still_gets_a_startup_probe(tmp_path: Path):
    # the same restarts, but the probe failed from the pod's very start: never Ready
    root = repo(tmp_path / "repo", files())
    items = cluster("2026-11-20T10:20:00Z",
                    {"status": "False", "lastTransitionTime": "2026-11-20T10:20:01Z"},
                    "2026-11-20T10:20:15Z")
    r = only(plan(root, tmp_path / "snap", items))
    assert r["decision"] == "propose", r["reason"]
    assert "added a startupProbe" in r["reason"]
    assert check(r, "post-condition")["passed"]


def test_the_first_failure_of_an_events_k8s_io_event_is_its_event_time():
    # events.k8s.io writers leave `firstTimestamp` null and set `eventTime` and `series`
    pod = {"status": {"startTime": "2026-11-17T10:00:00Z", "conditions": [
        {"type": "Ready", "status": "False", "lastTransitionTime": "2026-11-20T10:00:35Z"}]}}
    event = {"reason": "Unhealthy", "note": "Liveness probe failed: connection refused",
             "regarding": {"kind": "Pod", "fieldPath": "spec.containers{web}"},
             "firstTimestamp": None, "count": None, "eventTime": "2026-11-20T10:00:05.123456Z",
             "series": {"count": 42, "lastObservedTime": "2026-11-20T10:29:50.000000Z"}}
    finding = PodFinding(FailureClass.PROBE_FAILURE, "web", "liveness", facts=ProbeFacts(
        probe="liveness", at_startup=True, run_seconds=40.0, probe_window_seconds=30.0))
    after_ready(finding, pod, [event])
    assert finding.facts.at_startup is False
    assert finding.facts.probe_failing_since == "2026-11-20T10:00:05.123456Z"
    assert finding.facts.ready == "Ready until 2026-11-20T10:00:35Z"
