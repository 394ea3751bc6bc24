"""The service right-sizes on its own schedule: the first pass opens one PR for the group (a
file's right-sizing changes, gated as a whole, with a chart per container and resource), the
next pass within `scheduleHours` does not right-size again; idle workloads and orphaned claims
stay listed on the dashboard. A real Prometheus, a real git origin, the local forge."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import git
import pytest

from remediator.forge import LocalForge
from remediator.service.one_pass import run_once
from tests.support import kube
from tests.support.prometheus import RealPrometheus, Series, start
from tests.support.repos import REPO_URL, app, commit

MI = 1024**2
N = 3 * 288

DEPLOYMENTS = "".join(f"""
    ---
    apiVersion: apps/v1
    kind: Deployment
    metadata:
      name: {name}
    spec:
      selector:
        matchLabels: {{app: {name}}}
      template:
        metadata:
          labels: {{app: {name}}}
        spec:
          containers:
            - name: {name}
              image: ghcr.io/acme/{name}:1.0.0
              resources:
                requests: {{memory: 1Gi, cpu: "1"}}
    """ for name in ("api", "worker", "idle"))


def _series(name: str, cores: float = 0.05) -> list[Series]:
    labels = {"namespace": "shop", "pod": f"{name}-7f8d9c6b5-ccccc", "container": name}
    return [Series("container_memory_working_set_bytes", labels, lambda i: 200.0 * MI, N),
            Series("container_cpu_usage_seconds_total", labels, lambda i: cores * 300 * i, N)]


@pytest.fixture(scope="module")
def prom(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RealPrometheus]:
    yield from start(tmp_path_factory.mktemp("prometheus"),
                     [*_series("api"), *_series("worker"), *_series("idle", cores=0.0)])


def _live() -> list[dict]:
    items: list[dict] = []
    for name in ("api", "worker", "idle"):
        d = kube.deployment(name, "shop", [{
            "name": name, "image": f"ghcr.io/acme/{name}:1.0.0",
            "resources": {"requests": {"memory": "1Gi", "cpu": "1"}}}], annotations={
            "argocd.argoproj.io/tracking-id": f"shop:apps/Deployment:shop/{name}"})
        rs = kube.replicaset(d, suffix="7f8d9c6b5", ready=1)
        items += [d, rs, kube.pod(rs, f"{name}-7f8d9c6b5-ccccc",
                                  [kube.running(name, image=f"ghcr.io/acme/{name}:1.0.0")])]
    items.append({"apiVersion": "v1", "kind": "PersistentVolumeClaim",
                  "metadata": kube.meta("old-data", "shop"),
                  "status": {"phase": "Bound", "capacity": {"storage": "50Gi"}}})
    return items


def test_one_pr_per_group_then_not_again_before_the_schedule(prom: RealPrometheus,
                                                              tmp_path: Path) -> None:
    work = tmp_path / "work"
    commit(work, {"apps/shop/workloads.yaml": DEPLOYMENTS.lstrip().removeprefix("---\n"),
                  "argocd/shop.yaml": app("shop", "apps/shop"),
                  ".remediator.yaml": f"repo:\n  url: {REPO_URL}\nmetrics:\n  prometheusUrl: "
                                      f"{prom.url}\nrightsizing:\n  enabled: true\n"}, "shop")
    origin = tmp_path / "origin.git"
    git.Repo.clone_from(str(work), str(origin), bare=True)
    snap = tmp_path / "snap"
    snap.mkdir()
    (snap / "cluster.json").write_text(json.dumps(kube.cluster_list(*_live())))
    state = tmp_path / "state"
    first = run_once(snap, str(origin), state, env={})
    assert [s.outcome for s in first.submissions] == ["opened"], first.plan.warnings
    [pr] = LocalForge(str(origin), state).pulls()
    assert "RightSizing" in pr.signature and "group apps:shop:workloads.yaml" in pr.signature
    assert "right-size requests in apps/shop/workloads.yaml" in pr.title
    assert "Deployment shop/api" in pr.body and "Deployment shop/worker" in pr.body
    assert pr.body.count('cpu: "50m"') >= 2  # both members' changes, in one diff
    # measured numbers and a chart per container and changed resource
    assert pr.body.count("```mermaid\nxychart-beta") == 6, pr.body
    assert "then old request 1024Mi; new request 230Mi." in pr.body
    second = run_once(snap, str(origin), state, env={})
    assert not second.submissions
    forge = LocalForge(str(origin), state)
    assert len(forge.pulls()) == 1
    # listed on the dashboard, pass after pass, never acted on
    dashboard = forge.dashboard()
    assert dashboard is not None
    assert "| orphaned claim | shop | PersistentVolumeClaim old-data |" in dashboard[1]
    assert "| idle workload | shop | Deployment idle |" in dashboard[1], dashboard[1]
    assert "50Gi" in dashboard[1]
