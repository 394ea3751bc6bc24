"""Right-sizing lands in the right layer, like every other fix (issue 22): snapshot + repository
+ a REAL Prometheus (backfilled by promtool) → the requests change in the overlay patch that
already sets them (Kustomize), and in the environment's values patch of a Flux HelmRelease
(Helm), with the measured numbers."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from remediator.cluster.snapshot import build_state
from remediator.config import parse_config
from remediator.model import Decision
from remediator.pipeline.rightsize import rightsize
from tests.support import flux_helm, kube
from tests.support.plan_cli import added
from tests.support.prometheus import RealPrometheus, Series, start
from tests.support.repos import REPO_URL, app, commit

MI = 1024**2
N = 3 * 288  # three days of 5-minute samples


def _series(ns: str, pod: str, container: str, memory: float, cores: float) -> list[Series]:
    labels = {"namespace": ns, "pod": pod, "container": container}
    return [Series("container_memory_working_set_bytes", labels, lambda i: memory, N),
            Series("container_cpu_usage_seconds_total", labels, lambda i: cores * 300 * i, N)]


@pytest.fixture(scope="module")
def prom(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RealPrometheus]:
    yield from start(tmp_path_factory.mktemp("prometheus"), [
        *_series("shop", "web-5d8f7c9b4-aaaaa", "web", 200.0 * MI, 0.05),  # over-requested
        *_series("podinfo", "podinfo-5d8f7c9b4-aaaaa", "podinfod", 100.0 * MI, 0.5),  # under
    ])


def _config(prom: RealPrometheus) -> object:
    return parse_config(f"repo:\n  url: {REPO_URL}\nmetrics:\n  prometheusUrl: {prom.url}\n"
                        "rightsizing:\n  enabled: true\n")


BASE = """
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
              image: ghcr.io/acme/web:1.0.0
              resources:
                requests: {memory: 128Mi, cpu: 100m}
    """

OVERLAY = """
    resources: [../../base/web]
    patches:
      - path: resources.yaml
    """

PATCH = """
    apiVersion: apps/v1
    kind: Deployment
    metadata:
      name: web
    spec:
      template:
        spec:
          containers:
            - name: web
              resources:
                requests:
                  memory: 1Gi
                  cpu: "1"
    """


def test_requests_change_in_the_overlay_patch_that_sets_them(prom: RealPrometheus,
                                                              tmp_path: Path) -> None:
    commit(tmp_path, {"apps/base/web/kustomization.yaml": "resources: [deployment.yaml]\n",
                      "apps/base/web/deployment.yaml": BASE,
                      "apps/web/prod/kustomization.yaml": OVERLAY,
                      "apps/web/prod/resources.yaml": PATCH,
                      "argocd/web.yaml": app("web", "apps/web/prod")}, "overlay")
    d = kube.deployment("web", "shop", [{
        "name": "web", "image": "ghcr.io/acme/web:1.0.0",
        "resources": {"requests": {"memory": "1Gi", "cpu": "1"}}}], annotations={
        "argocd.argoproj.io/tracking-id": "web:apps/Deployment:shop/web"})
    rs = kube.replicaset(d, ready=1)
    pod = kube.pod(rs, "web-5d8f7c9b4-aaaaa", [kube.running("web", image="ghcr.io/acme/web:1.0.0")])
    result = rightsize(build_state([d, rs, pod], "c"), tmp_path, _config(prom))
    [r] = result.remediations
    assert r.decision == Decision.PROPOSE, r.reason
    [change] = r.changes
    assert change.path == "apps/web/prod/resources.yaml"  # not the base
    assert added(change.diff) == ["memory: 230Mi", 'cpu: "50m"'], change.diff
    assert "CPU request 1000m → 50m" in r.reason and "memory request 1024Mi → 230Mi" in r.reason
    [group] = result.groups
    assert group.validation.passed, group.validation.as_json()


def test_requests_change_in_the_helm_values_patch_of_the_environment(
        prom: RealPrometheus, tmp_path: Path) -> None:
    flux_helm.repo(tmp_path)
    items = flux_helm.live(failing=kube.running("podinfod",
                                                image="ghcr.io/stefanprodan/podinfo:6.5.0"))
    result = rightsize(build_state(items, "c"), tmp_path, _config(prom))
    [r] = result.remediations
    assert r.decision == Decision.PROPOSE, r.reason
    [change] = r.changes
    assert change.path == "apps/production/podinfo-values.yaml"
    # under-provisioned: CPU used above its request goes up; memory (100Mi × 1.15 against
    # 128Mi requested) is within the thresholds and stays
    assert added(change.diff) == ["resources:", "requests:", "cpu: 500m"], change.diff
    assert "CPU request 100m → 500m" in r.reason and "memory" not in r.reason
    assert r.incident.evidence.facts.recommendation["monthlySaving"] < 0
