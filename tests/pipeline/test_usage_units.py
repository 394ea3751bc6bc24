"""Usage reads and HPA requests without a real Prometheus: the service's cache of one read, and
the measured request HPAMissingRequests gets (tests/pipeline/test_usage.py has the real
Prometheus)."""

from __future__ import annotations

from remediator.cluster.snapshot import build_state
from remediator.config import parse_config
from tests.support import kube
from tests.support.hostile_prometheus import serve
from tests.support.repos import REPO_URL
from tests.support.usage import MI, shop_live


def test_the_service_reuses_a_read_of_usage_for_one_step() -> None:
    """Passes every minute do not resend the seven lookback-wide queries: a read is reused for
    `metrics.stepSeconds`; a changed metrics setting or an older read asks again, and a failed
    read is never kept."""
    from remediator.pipeline.usage import UsageCache, read
    from tests.support.hostile_prometheus import vector

    clock = [0.0]
    cache = UsageCache(clock=lambda: clock[0])
    state = build_state(shop_live(), "c")
    seen: list[dict[str, str]] = []
    with serve(vector(["1"]), seen=seen) as url:
        config = parse_config(f"repo:\n  url: {REPO_URL}\nmetrics:\n  prometheusUrl: {url}\n")
        first, _ = read(state, config, [], cache=cache)
        assert len(seen) == 7 and first
        clock[0] = 299.0
        assert read(state, config, [], cache=cache)[0] is first and len(seen) == 7
        clock[0] = 300.0  # one step (stepSeconds 300) later
        read(state, config, [], cache=cache)
        assert len(seen) == 14
        config.metrics.lookback_days = 3.0  # another setting: not the same read
        read(state, config, [], cache=cache)
        assert len(seen) == 21
    asked: list[dict[str, str]] = []
    with serve(b"<html>", seen=asked) as url:
        broken = parse_config(f"repo:\n  url: {REPO_URL}\nmetrics:\n  prometheusUrl: {url}\n")
        warnings: list[str] = []
        assert read(state, broken, warnings, cache=cache) == ({}, None) and warnings
        assert read(state, broken, [], cache=cache) == ({}, None)
        assert len(asked) == 2  # the first query failed each time: asked again, not cached


def test_measured_hpa_request_memory_and_history() -> None:
    """Memory is sized like right-sizing sizes it (peak × headroom); a container with less
    history than `rightsizing.minHistoryHours` gets no measured request (the default, if any,
    then applies)."""
    from remediator.detect import detect
    from remediator.model import ContainerUsage
    from remediator.pipeline.usage import enrich_hpa

    d = kube.deployment("worker", "shop", [kube.container("worker")])
    rs = kube.replicaset(d, suffix="7f8d9c6b5", ready=1)
    pod = kube.pod(rs, "worker-7f8d9c6b5-ddddd", [kube.running("worker")])
    hpa = {"apiVersion": "autoscaling/v2", "kind": "HorizontalPodAutoscaler",
           "metadata": kube.meta("worker", "shop", created="2026-11-19T10:00:00Z"),
           "spec": {"scaleTargetRef": {"apiVersion": "apps/v1", "kind": "Deployment",
                                       "name": "worker"}},
           "status": {"conditions": [{
               "type": "ScalingActive", "status": "False", "reason": "FailedGetResourceMetric",
               "message": "failed to get memory utilization: missing request for memory in "
                          "container worker of Pod worker-7f8d9c6b5-ddddd"}]}}
    clock = kube.event(pod, "Pulled", "already present", last=kube.NOW)
    config = parse_config("rightsizing:\n  memoryHeadroom: 1.5\n")
    for days, expected in ((4, 450 * MI), (1, None)):
        [i] = [i for i in detect(build_state([d, rs, pod, hpa, clock], "c"))
               if i.failure_class == "HPAMissingRequests"]
        u = ContainerUsage("shop", "worker", "worker", memory_peak_bytes=300.0 * MI,
                           history_seconds=days * 86400.0)
        enrich_hpa([i], {("shop", "worker", "worker"): u}, config)
        assert i.evidence.facts.measured_request == expected, days
