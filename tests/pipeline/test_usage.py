"""Snapshot + repository + a REAL Prometheus (backfilled by promtool) → usage-aware OOMKilled
fix with a chart, a CPUThrottling fix, and right-sizing changes gated per group as a whole."""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path

import pytest

from remediator.cli.app import main
from remediator.cluster.snapshot import build_state
from remediator.config import parse_config
from remediator.model import Decision
from remediator.pipeline import plan
from remediator.pipeline.rightsize import as_pull_request, gate_group, rightsize
from tests.support import kube
from tests.support.hostile_prometheus import serve
from tests.support.prometheus import RealPrometheus, Series, start
from tests.support.repos import REPO_URL, app, commit
from tests.support.usage import MI, shop_live

N = 3 * 288  # three days of 5-minute samples

WORKLOADS = """
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
                limits: {memory: 128Mi}
    ---
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
                requests: {memory: 1Gi, cpu: "1"}
                limits: {memory: 2Gi, cpu: "2"}
    """ + "".join(f"""
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
    """ for name in ("worker", "batch"))


def _labels(pod: str, c: str) -> dict[str, str]:
    return {"namespace": "shop", "pod": pod, "container": c}


SERIES = [
    # web ran at 200Mi under an older ReplicaSet (a larger limit then), now OOMs at 128Mi
    Series("container_memory_working_set_bytes", _labels("web-6c9f7d8b5-bbbbb", "web"),
           lambda i: 150 * MI + (50 * MI if i % 40 == 0 else 0), N),
    Series("container_cpu_usage_seconds_total", _labels("web-6c9f7d8b5-bbbbb", "web"),
           lambda i: 0.5 * 300 * i, N),
    # api: steady and far below its requests; throttled in half its periods
    Series("container_memory_working_set_bytes", _labels("api-7f8d9c6b5-ccccc", "api"),
           lambda i: 200.0 * MI, N),
    Series("container_cpu_usage_seconds_total", _labels("api-7f8d9c6b5-ccccc", "api"),
           lambda i: 0.05 * 300 * i, N),
    Series("container_cpu_cfs_periods_total", _labels("api-7f8d9c6b5-ccccc", "api"),
           lambda i: 3000.0 * i, N),
    Series("container_cpu_cfs_throttled_periods_total", _labels("api-7f8d9c6b5-ccccc", "api"),
           lambda i: 1500.0 * i, N),
    # worker: steady; batch: idle (no CPU at all)
    Series("container_memory_working_set_bytes", _labels("worker-7f8d9c6b5-ddddd", "worker"),
           lambda i: 300.0 * MI, N),
    Series("container_cpu_usage_seconds_total", _labels("worker-7f8d9c6b5-ddddd", "worker"),
           lambda i: 0.2 * 300 * i, N),
    Series("container_memory_working_set_bytes", _labels("batch-7f8d9c6b5-eeeee", "batch"),
           lambda i: 50.0 * MI, N),
    Series("container_cpu_usage_seconds_total", _labels("batch-7f8d9c6b5-eeeee", "batch"),
           lambda i: 1.0, N),
]


@pytest.fixture(scope="module")
def prom(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RealPrometheus]:
    yield from start(tmp_path_factory.mktemp("prometheus"), SERIES)


@pytest.fixture
def repo(tmp_path: Path) -> Path:
    commit(tmp_path, {"apps/shop/workloads.yaml": WORKLOADS,
                      "argocd/shop.yaml": app("shop", "apps/shop")}, "shop")
    return tmp_path


def _config(prom: RealPrometheus, extra: str = "") -> str:
    return f"repo:\n  url: {REPO_URL}\nmetrics:\n  prometheusUrl: {prom.url}\n{extra}"


def test_oom_limit_from_measured_peak_with_chart_and_throttling_fix(
        prom: RealPrometheus, repo: Path) -> None:
    result = plan(build_state(shop_live(), "c"), repo, parse_config(_config(prom)))
    by_class = {r.incident.failure_class: r for r in result.remediations}
    oom = by_class["OOMKilled"]
    assert oom.decision == Decision.PROPOSE, oom.reason
    # peak 200Mi x headroom 1.2 = 240Mi, above the factor rule's 192Mi
    assert "raised to 240Mi" in oom.reason
    assert oom.proposal is not None
    assert "peak working set 200Mi" in oom.proposal.diagnosis
    assert "```mermaid\nxychart-beta" in oom.proposal.diagnosis
    assert "max_over_time(container_memory_working_set_bytes" in oom.proposal.diagnosis
    throttled = by_class["CPUThrottling"]
    assert throttled.decision == Decision.PROPOSE, throttled.reason
    assert "raised to 3" in throttled.reason  # limit 2 x 1.5
    assert 'title "api CPU"' in throttled.proposal.diagnosis
    assert "then old limit 2000m; new limit 3000m." in throttled.proposal.diagnosis
    # how 3 was found, and what a higher limit risks: not "more CPU under contention" (the
    # request decides that share, and it does not change)
    assert "(1.5 × the larger of the old limit and the measured p99)" in \
        throttled.proposal.diagnosis
    assert throttled.proposal.risk.startswith(
        "The container may use up to 3 of its node's idle CPU; under contention its request, "
        "unchanged, still decides its share")
    [change] = throttled.changes
    assert '+            limits: {memory: 2Gi, cpu: "3"}' in change.diff.splitlines()


def test_without_metrics_the_oom_fix_is_the_factor_rule(repo: Path) -> None:
    result = plan(build_state(shop_live(), "c"), repo, parse_config(f"repo:\n  url: {REPO_URL}\n"))
    [oom] = result.remediations
    assert "raised to 192Mi" in oom.reason


def test_rightsize_groups_the_file_and_gates_it_as_a_whole(
        prom: RealPrometheus, repo: Path) -> None:
    result = rightsize(build_state(shop_live(), "c"), repo, parse_config(_config(prom)))
    assert result.queries == 9  # 7 measures + 2 range queries for the charts, for all of them
    proposed = {r.incident.workload.name: r for r in result.remediations
                if r.decision == Decision.PROPOSE}
    # web restarts (OOMKilled): its usage is not steady, the failure fix comes first
    assert set(proposed) == {"api", "worker", "batch"}, [r.reason for r in result.remediations]
    [web] = [rec for rec in result.recommendations if rec.workload == "web"]
    assert not web.changes and "restart" in web.reason
    # a chart per resource that changes: usage against the old and the new request
    api_says = proposed["api"].proposal.diagnosis
    assert api_says.count("```mermaid\nxychart-beta") == 2, api_says
    assert 'title "api memory working set"' in api_says and 'title "api CPU"' in api_says
    assert "then old request 1024Mi; new request 230Mi." in api_says
    assert "then old request 1000m; new request 50m." in api_says
    assert "    line [200, 200," in api_says  # the measured working set, MiB
    assert "    line [50, 50," in api_says  # the measured CPU, millicores
    api_diff = proposed["api"].changes[0].diff
    assert '+            requests: {memory: 230Mi, cpu: "50m"}' in api_diff.splitlines()
    [group] = result.groups
    assert group.key == "apps/shop/workloads.yaml"
    assert group.validation.passed, group.validation.as_json()
    assert len(group.members) == 3
    # api 0.95 + worker 0.8 + batch 0.99 vCPU, and ~2.3 GiB, less: OpenCost default prices
    assert 65 < group.as_json()["monthlySaving"] < 75
    # the group's PR says what the total means, not "negative: costs more" beside a saving
    pr = as_pull_request(repo, group)
    assert pr is not None and pr.proposal is not None
    assert pr.proposal.diagnosis.startswith(
        "Requests measured against usage, grouped by apps/shop/workloads.yaml (an estimated $")
    assert "/month less reserved in all):" in pr.proposal.diagnosis
    assert "negative" not in pr.proposal.diagnosis
    assert [(u.kind, u.name) for u in result.unused] == [
        ("idle workload", "Deployment batch"),
        ("orphaned claim", "PersistentVolumeClaim old-data")]
    # the same members, one of them drafted twice: the second copy changes an object another
    # member already changed, and the group as a whole is refused
    api = proposed["api"]
    twice = replace(proposed["worker"], proposal=replace(api.proposal), location=api.location)
    refused = gate_group(repo, [api, twice], parse_config(_config(prom)))
    assert not refused.passed
    assert refused.checks[0].name == "group"


def test_rightsize_command_json(prom: RealPrometheus, repo: Path, tmp_path_factory) -> None:
    from click.testing import CliRunner

    snap = tmp_path_factory.mktemp("snap")
    (snap / "cluster.json").write_text(json.dumps(kube.cluster_list(*shop_live())))
    (repo / ".remediator.yaml").write_text(f"repo:\n  url: {REPO_URL}\n")
    out = CliRunner().invoke(main, ["rightsize", "--snapshot", str(snap), "--repo", str(repo),
                                    "--prometheus", prom.url, "--output", "json"])
    assert out.exit_code == 0, out.output
    doc = json.loads(out.stdout)
    assert {r["failure"]["class"] for r in doc["remediations"]} == {"RightSizing"}
    assert doc["groups"][0]["validation"]["passed"]
    bad = CliRunner().invoke(main, ["rightsize", "--snapshot", str(snap), "--repo", str(repo),
                                    "--prometheus", "file:///etc"])
    assert bad.exit_code == 2 and "Traceback" not in bad.output


def test_a_broken_metrics_source_is_a_warning_and_the_factor_rule(repo: Path) -> None:
    with serve(b"<html>not prometheus</html>") as url:
        result = plan(build_state(shop_live(), "c"), repo, parse_config(
            f"repo:\n  url: {REPO_URL}\nmetrics:\n  prometheusUrl: {url}\n"))
    [oom] = result.remediations
    assert "raised to 192Mi" in oom.reason
    assert any(w.startswith("metrics not used: Prometheus answer is not JSON")
               for w in result.warnings), result.warnings


def test_group_by_application_makes_one_group_per_gitops_app(
        prom: RealPrometheus, tmp_path: Path) -> None:
    """`rightsizing.groupBy: application`: the members of one Argo CD Application share a group
    (one PR) across files; another Application is another group. `file` splits by file."""
    docs = WORKLOADS.split("\n    ---\n")
    by_name = {n: next(d for d in docs if f"name: {n}\n" in d) for n in ("api", "worker", "batch")}
    commit(tmp_path, {"apps/shop/api.yaml": by_name["api"],
                      "apps/shop/worker.yaml": by_name["worker"],
                      "apps/batch/batch.yaml": by_name["batch"],
                      "argocd/shop.yaml": app("shop", "apps/shop"),
                      "argocd/batch.yaml": app("batch", "apps/batch")}, "three files, two apps")
    live = shop_live()
    for o in live:
        if o["kind"] == "Deployment" and o["metadata"]["name"] == "batch":
            o["metadata"]["annotations"]["argocd.argoproj.io/tracking-id"] = \
                "batch:apps/Deployment:shop/batch"

    def groups(by: str) -> dict[str, list[str]]:
        result = rightsize(build_state(live, "c"), tmp_path, parse_config(
            _config(prom, f"rightsizing:\n  groupBy: {by}\n")))
        assert all(g.validation.passed for g in result.groups), result.warnings
        return {g.key: sorted(m.incident.workload.name for m in g.members)
                for g in result.groups}

    assert groups("application") == {"argocd:argocd/shop": ["api", "worker"],
                                     "argocd:argocd/batch": ["batch"]}
    assert groups("file") == {"apps/shop/api.yaml": ["api"], "apps/shop/worker.yaml": ["worker"],
                              "apps/batch/batch.yaml": ["batch"]}


HPA_REPO = """
    apiVersion: apps/v1
    kind: Deployment
    metadata:
      name: worker
    spec:
      selector:
        matchLabels: {app: worker}
      template:
        metadata:
          labels: {app: worker}
        spec:
          containers:
            - name: worker
              image: ghcr.io/acme/worker:1.0.0
              resources:
                requests: {memory: 1Gi}
    ---
    apiVersion: autoscaling/v2
    kind: HorizontalPodAutoscaler
    metadata:
      name: worker
    spec:
      scaleTargetRef: {apiVersion: apps/v1, kind: Deployment, name: worker}
      minReplicas: 1
      maxReplicas: 5
      metrics:
        - type: Resource
          resource: {name: cpu, target: {type: Utilization, averageUtilization: 80}}
    """


def test_hpa_target_without_requests_gets_its_measured_request(
        prom: RealPrometheus, tmp_path: Path) -> None:
    """Issue 18's HPAMissingRequests with a metrics source: the request is the container's
    measured p95 (as right-sizing computes it), ahead of any configured default."""
    commit(tmp_path, {"apps/shop/worker.yaml": HPA_REPO,
                      "argocd/shop.yaml": app("shop", "apps/shop")}, "worker")
    d = kube.deployment("worker", "shop", [{
        "name": "worker", "image": "ghcr.io/acme/worker:1.0.0",
        "resources": {"requests": {"memory": "1Gi"}}}], annotations={
        "argocd.argoproj.io/tracking-id": "shop:apps/Deployment:shop/worker"})
    rs = kube.replicaset(d, suffix="7f8d9c6b5", ready=1)
    pod = kube.pod(rs, "worker-7f8d9c6b5-ddddd", [kube.running("worker")])
    hpa = {"apiVersion": "autoscaling/v2", "kind": "HorizontalPodAutoscaler",
           "metadata": kube.meta("worker", "shop", created="2026-11-19T10:00:00Z"),
           "spec": {"scaleTargetRef": {"apiVersion": "apps/v1", "kind": "Deployment",
                                       "name": "worker"}, "minReplicas": 1, "maxReplicas": 5},
           "status": {"conditions": [{
               "type": "ScalingActive", "status": "False", "reason": "FailedGetResourceMetric",
               "message": "the HPA was unable to compute the replica count: failed to get cpu "
                          "utilization: missing request for cpu in container worker of Pod "
                          "worker-7f8d9c6b5-ddddd"}]}}
    clock = kube.event(pod, "Pulled", "already present", last=kube.NOW)
    state = build_state([d, rs, pod, hpa, clock], "c")
    config = parse_config(_config(prom, "drafting:\n  requests: {cpu: 100m}\n"))
    [r] = [r for r in plan(state, tmp_path, config).remediations
           if r.incident.failure_class == "HPAMissingRequests"]
    assert r.decision == Decision.PROPOSE, r.reason
    assert "request 200m added (measured: p95 of its CPU use over 3.0 days" in r.reason
    [change] = r.changes
    assert "+            requests: {memory: 1Gi, cpu: 200m}" in change.diff.splitlines()
    # without metrics: the configured default
    [r] = [r for r in plan(state, tmp_path, parse_config(
        f"repo:\n  url: {REPO_URL}\ndrafting:\n  requests: {{cpu: 100m}}\n")).remediations
        if r.incident.failure_class == "HPAMissingRequests"]
    assert r.decision == Decision.PROPOSE and "(drafting.requests.cpu)" in r.reason, r.reason


def test_throttling_fix_remove_drops_the_cpu_limit(prom: RealPrometheus, repo: Path,
                                                   tmp_path_factory) -> None:
    """`metrics.throttlingFix: remove`: the CPU limit goes, the request stays, and the gate's
    post-condition proves the render has no CPU limit. Where a base still sets it under the
    overlay's patch, the removal changes nothing rendered: refused, nothing proposed."""
    config = parse_config(_config(prom, "  throttlingFix: remove\n"))
    [r] = [r for r in plan(build_state(shop_live(), "c"), repo, config).remediations
           if r.incident.failure_class == "CPUThrottling"]
    assert r.decision == Decision.PROPOSE, r.reason
    assert "limit removed (metrics.throttlingFix: remove)" in r.reason
    [change] = r.changes
    assert [ln for ln in change.diff.splitlines() if ln[:1] in "+-" and ln[:3] not in (
        "+++", "---")] == ['-            limits: {memory: 2Gi, cpu: "2"}',
                           "+            limits: {memory: 2Gi}"], change.diff
    layered = tmp_path_factory.mktemp("layered")
    api = WORKLOADS.split("\n    ---\n")[1]
    commit(layered, {
        "apps/base/api/kustomization.yaml": "resources: [api.yaml]\n",
        "apps/base/api/api.yaml": api,
        "apps/shop/kustomization.yaml": "resources: [../base/api]\npatches:\n  - path: cpu.yaml\n",
        "apps/shop/cpu.yaml": """
            apiVersion: apps/v1
            kind: Deployment
            metadata: {name: api}
            spec:
              template:
                spec:
                  containers:
                    - name: api
                      resources:
                        limits: {cpu: "2"}
            """,
        "argocd/shop.yaml": app("shop", "apps/shop")}, "layered")
    [r] = [r for r in plan(build_state(shop_live(), "c"), layered, config).remediations
           if r.incident.failure_class == "CPUThrottling"]
    assert r.decision == Decision.DIAGNOSE, r.reason
    assert "not proposed, validation failed (render: the change has no effect" in r.reason
