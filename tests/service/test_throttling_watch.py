"""CPUThrottling in the service's live path: `remediator run` watching a cluster (the Kubernetes
API emulator) with a real Prometheus (backfilled by promtool) opens the CPU-limit PR on its
first pass. The watcher raises incidents from pod status only after their settle window; a
throttling incident comes from metrics already sustained over `throttlingWindowMinutes`, so it
must not wait for (or be filtered out by) the watcher."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import git
import pytest

from remediator.forge import LocalForge
from tests.support import kube
from tests.support.kube_api import KubeAPI
from tests.support.prometheus import RealPrometheus, Series, start
from tests.support.repos import REPO_URL, app, commit
from tests.support.service import Service

N = 3 * 288  # three days of 5-minute samples
LABELS = {"namespace": "shop", "pod": "api-7f8d9c6b5-ccccc", "container": "api"}

DEPLOYMENT = """
    apiVersion: apps/v1
    kind: Deployment
    metadata:
      name: api
    spec:
      selector:
        matchLabels: {app: api}
      template:
        metadata:
          labels: {app: api}
        spec:
          containers:
            - name: api
              image: ghcr.io/acme/api:1.0.0
              resources:
                requests: {memory: 256Mi, cpu: 500m}
                limits: {memory: 256Mi, cpu: "1"}
    """


@pytest.fixture(scope="module")
def prom(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RealPrometheus]:
    yield from start(tmp_path_factory.mktemp("prometheus"), [
        Series("container_memory_working_set_bytes", LABELS, lambda i: 200.0 * 1024**2, N),
        # at its 1-core limit most of the time, throttled in 60% of its periods
        Series("container_cpu_usage_seconds_total", LABELS, lambda i: 0.95 * 300 * i, N),
        Series("container_cpu_cfs_periods_total", LABELS, lambda i: 3000.0 * i, N),
        Series("container_cpu_cfs_throttled_periods_total", LABELS, lambda i: 1800.0 * i, N),
    ])


def _cluster() -> list[dict]:
    d = kube.deployment("api", "shop", [{
        "name": "api", "image": "ghcr.io/acme/api:1.0.0", "resources": {
            "requests": {"memory": "256Mi", "cpu": "500m"},
            "limits": {"memory": "256Mi", "cpu": "1"}}}], annotations={
        "argocd.argoproj.io/tracking-id": "shop:apps/Deployment:shop/api"})
    rs = kube.replicaset(d, suffix="7f8d9c6b5", ready=1)
    return [{"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": "shop"}}, d, rs,
            kube.pod(rs, "api-7f8d9c6b5-ccccc", [kube.running("api",
                                                              image="ghcr.io/acme/api:1.0.0")])]


def test_watching_service_opens_the_throttling_pr_on_its_first_pass(prom: RealPrometheus,
                                                                     tmp_path: Path) -> None:
    work = tmp_path / "work"
    commit(work, {"apps/shop/api.yaml": DEPLOYMENT, "argocd/shop.yaml": app("shop", "apps/shop"),
                  ".remediator.yaml": f"repo:\n  url: {REPO_URL}\nmetrics:\n  prometheusUrl: "
                                      f"{prom.url}\n"}, "shop")
    origin = tmp_path / "origin.git"
    git.Repo.clone_from(str(work), str(origin), bare=True)
    with KubeAPI() as api:
        api.apply(*_cluster())
        svc = Service(tmp_path, origin, "--kubeconfig", str(api.kubeconfig(tmp_path / "kc")),
                      "--interval", "3600", snapshot=None)
        try:
            pr = svc.wait_for("pull_request")
            done = svc.wait_for("pass")
        finally:
            assert svc.terminate() == 0
    assert pr["outcome"] == "opened", pr
    assert "/shop/Deployment/api/CPUThrottling/" in pr["signature"], pr
    assert done["incidents"] == 1
    [opened] = LocalForge(str(origin), svc.state).pulls()
    assert "throttled" in opened.body and "60%" in opened.body
    assert opened.title.endswith("raise api CPU limit to 1500m")  # 1 core x 1.5
    assert any(ln.startswith("+") and ln.endswith("limits: {memory: 256Mi, cpu: \"1500m\"}")
               for ln in opened.body.splitlines()), opened.body
