from __future__ import annotations

from remediator.cluster.snapshot import build_state
from remediator.detect import detect
from tests.support import kube


def _incidents(*items):
    return detect(build_state(list(items), "test"))


def test_thirty_oomkilled_pods_of_one_deployment_are_one_incident():
    d = kube.deployment("cart", "shop", [kube.container("cart", memory="128Mi")])
    rs = kube.replicaset(d)
    pods = [kube.pod(rs, f"cart-5d8f7c9b4-{i:05d}", [kube.crashing("cart", restarts=3 + i % 4)])
            for i in range(30)]
    incidents = _incidents(d, rs, *pods)
    assert len(incidents) == 1
    inc = incidents[0]
    assert inc.failure_class == "OOMKilled"
    assert str(inc.workload) == "Deployment shop/cart"
    assert inc.container == "cart"
    assert inc.detail == "memory limit 128Mi"
    assert len(inc.pods) == 30
    assert inc.evidence.last_termination is not None
    assert inc.evidence.last_termination.exit_code == 137
    assert inc.evidence.container_spec["resources"]["limits"]["memory"] == "128Mi"


def test_crashloop_carries_last_reason_and_exit_code():
    d = kube.deployment("api", "shop", [kube.container("api")])
    rs = kube.replicaset(d)
    p = kube.pod(rs, "api-5d8f7c9b4-aaaaa", [kube.crashing("api", reason="Error", code=3)])
    [inc] = _incidents(d, rs, p)
    assert inc.failure_class == "CrashLoopBackOff"
    assert inc.detail == "Error exit code 3"


def test_image_pull_backoff_and_config_error():
    d = kube.deployment("pay", "shop", [kube.container("pay")])
    rs = kube.replicaset(d)
    p1 = kube.pod(rs, "pay-5d8f7c9b4-aaaaa", [kube.waiting(
        "pay", "ImagePullBackOff", 'Back-off pulling image "ghcr.io/acme/app:9"',
        image="ghcr.io/acme/app:9")])
    o = kube.deployment("orders", "shop", [kube.container("orders")])
    ors = kube.replicaset(o)
    p2 = kube.pod(ors, "orders-5d8f7c9b4-bbbbb", [kube.waiting(
        "orders", "CreateContainerConfigError", 'configmap "orders-config" not found')])
    incs = {i.failure_class: i for i in _incidents(d, rs, p1, o, ors, p2)}
    assert incs["ImagePullBackOff"].detail == "ghcr.io/acme/app:9"
    assert incs["CreateContainerConfigError"].detail == 'configmap "orders-config" not found'


def test_liveness_kill_during_startup_is_a_probe_failure_at_startup():
    probe = {"httpGet": {"path": "/health", "port": 8080}, "initialDelaySeconds": 10,
             "periodSeconds": 10, "failureThreshold": 3}
    d = kube.deployment("checkout", "shop", [kube.container("checkout", livenessProbe=probe)])
    rs = kube.replicaset(d)
    p = kube.pod(rs, "checkout-5d8f7c9b4-aaaaa", [kube.crashing(
        "checkout", reason="Error", code=143, started="2026-11-20T10:27:25Z",
        finished="2026-11-20T10:28:00Z")])
    ev = kube.event(p, "Unhealthy", "Liveness probe failed: connection refused", count=12,
                   field_path="spec.containers{checkout}")
    [inc] = _incidents(d, rs, p, ev)
    assert inc.failure_class == "ProbeFailure"
    assert inc.detail == "liveness"
    assert inc.evidence.facts.at_startup is True
    assert inc.evidence.facts.run_seconds == 35


def test_unschedulable_signature_ignores_node_counts():
    d = kube.deployment("search", "search", [kube.container("search")])
    rs = kube.replicaset(d)
    cond = [{"type": "PodScheduled", "status": "False", "reason": "Unschedulable",
             "lastTransitionTime": "2026-11-20T10:00:00Z",
             "message": "0/3 nodes are available: 3 Insufficient memory. preemption: 0/3 nodes "
                        "are available: 3 No preemption victims found for incoming pod."}]
    p = kube.pod(rs, "search-5d8f7c9b4-aaaaa", [], phase="Pending", conditions=cond)
    [inc] = _incidents(d, rs, p)
    assert inc.failure_class == "Unschedulable"
    assert inc.detail == "Insufficient memory"


def test_healthy_noise_raises_nothing():
    d = kube.deployment("web", "shop", [kube.container("web")])
    rs = kube.replicaset(d, ready=2)
    old_restart = kube.pod(rs, "web-5d8f7c9b4-aaaaa", [kube.running("web", restarts=1, last={
        "reason": "Error", "exitCode": 1, "startedAt": "2026-11-17T09:00:00Z",
        "finishedAt": "2026-11-17T10:00:00Z"})])
    starting = kube.pod(rs, "web-5d8f7c9b4-bbbbb", [kube.waiting("web", "ContainerCreating")],
                       phase="Pending", created="2026-11-20T10:29:55Z")
    just_created = kube.pod(rs, "web-5d8f7c9b4-ccccc", [], phase="Pending",
                           created="2026-11-20T10:29:58Z")
    done = kube.pod(rs, "web-5d8f7c9b4-ddddd", [{
        "name": "web", "ready": False, "restartCount": 0,
        "state": {"terminated": {"reason": "Completed", "exitCode": 0}}}], phase="Succeeded")
    assert _incidents(d, rs, old_restart, starting, just_created, done) == []


def test_only_the_newest_job_of_a_cronjob_counts():
    cron = {"apiVersion": "batch/v1", "kind": "CronJob",
            "metadata": kube.meta("reports", "batch"), "spec": {"schedule": "0 * * * *"}}

    def job(name, created, failed):
        j = {"apiVersion": "batch/v1", "kind": "Job",
             "metadata": kube.meta(name, "batch", cron, created=created),
             "spec": {"backoffLimit": 2},
             "status": {"conditions": [{"type": "Failed" if failed else "Complete",
                                        "status": "True",
                                        "reason": "BackoffLimitExceeded" if failed else ""}]}}
        return j

    failed_then_fixed = job("reports-1", "2026-11-20T08:00:00Z", True)
    ok = job("reports-2", "2026-11-20T09:00:00Z", False)
    assert _incidents(cron, failed_then_fixed, ok) == []

    failing = job("reports-3", "2026-11-20T10:00:00Z", True)
    p = kube.pod(failing, "reports-3-abcde", [{
        "name": "reports", "ready": False, "restartCount": 0,
        "state": {"terminated": {"reason": "Error", "exitCode": 1,
                                 "finishedAt": "2026-11-20T10:01:00Z"}}}],
        phase="Failed", spec_containers=[kube.container("reports")])
    [inc] = _incidents(cron, failed_then_fixed, ok, failing, p)
    assert inc.failure_class == "JobFailed"
    assert str(inc.workload) == "CronJob batch/reports"
    assert inc.detail == "BackoffLimitExceeded"
    assert inc.container == "reports"


def test_log_excerpt_is_redacted_and_counted():
    d = kube.deployment("cart", "shop", [kube.container("cart")])
    rs = kube.replicaset(d)
    p = kube.pod(rs, "cart-5d8f7c9b4-aaaaa", [kube.crashing("cart")])
    state = build_state([d, rs, p], "test", {
        ("shop", "cart-5d8f7c9b4-aaaaa", "cart", True):
            "starting\nDATABASE_URL=postgres://cart:s3cr3t@db:5432/cart\nheap grows\n"})
    [inc] = detect(state)
    assert "s3cr3t" not in inc.evidence.log_excerpt
    assert inc.evidence.facts.redactions >= 1
    assert inc.evidence.log_source == "shop/cart-5d8f7c9b4-aaaaa/cart (previous)"


def test_evicted_and_terminating_pods_are_not_crashes():
    d = kube.deployment("web", "shop", [kube.container("web")])
    rs = kube.replicaset(d, ready=1)
    dead = {"name": "web", "ready": False, "restartCount": 0,
            "state": {"terminated": {"reason": "Error", "exitCode": 137,
                                     "finishedAt": "2026-11-20T10:20:00Z"}}}
    evicted = kube.pod(rs, "web-5d8f7c9b4-aaaaa", [dead], phase="Failed")
    evicted["status"]["reason"] = "Evicted"
    evicted["spec"]["restartPolicy"] = "Always"
    leaving = kube.pod(rs, "web-5d8f7c9b4-bbbbb", [dict(dead, state={"terminated": {
        "reason": "Error", "exitCode": 143, "finishedAt": "2026-11-20T10:29:00Z"}})])
    leaving["metadata"]["deletionTimestamp"] = "2026-11-20T10:29:30Z"
    leaving["spec"]["restartPolicy"] = "Always"
    assert _incidents(d, rs, evicted, leaving) == []


def test_malformed_pods_are_skipped_with_a_warning():
    d = kube.deployment("cart", "shop", [kube.container("cart")])
    rs = kube.replicaset(d)
    good = kube.pod(rs, "cart-5d8f7c9b4-aaaaa", [kube.crashing("cart")])
    bad = kube.pod(rs, "cart-5d8f7c9b4-bbbbb", [kube.crashing("cart")])
    bad["status"]["containerStatuses"][0]["restartCount"] = "many"
    odd_time = kube.pod(rs, "cart-5d8f7c9b4-ccccc", [kube.crashing(
        "cart", finished="2026-11-20T10:28:00")])  # no zone: read as UTC
    state = build_state([d, rs, good, bad, odd_time], "test")
    [inc] = detect(state)
    assert inc.pods == ["cart-5d8f7c9b4-aaaaa", "cart-5d8f7c9b4-ccccc"]
    # dropped at the boundary, named, with what is wrong (no stage deeper in sees it)
    assert state.warnings == ["cluster.json: dropped objects of the wrong shape: Pod "
                              "shop/cart-5d8f7c9b4-bbbbb (`restartCount` is a str, not a finite "
                              "integer)"]


def test_oom_evidence_names_the_image_that_ran_before_the_rollout():
    d = kube.deployment("cart", "shop", [kube.container("cart", image="ghcr.io/acme/cart:2.4.1")])
    old = kube.replicaset(d, suffix="7b9c6d5f8", revision=1)
    old["spec"] = {"template": {"spec": {"containers": [
        kube.container("cart", image="ghcr.io/acme/cart:2.4.0")]}}}
    new = kube.replicaset(d, revision=2)
    p = kube.pod(new, "cart-5d8f7c9b4-aaaaa", [kube.crashing("cart")])
    [inc] = _incidents(d, old, new, p)
    assert inc.evidence.facts.previous_image == "ghcr.io/acme/cart:2.4.0"
    assert inc.evidence.facts.previous_memory_limit == "128Mi"
