"""The failure classes of issue 18 (rows of model/classes.py), each from objects shaped like
`kubectl get -o json` prints them, next to the healthy look-alike that must stay quiet."""

from __future__ import annotations

import pytest

from remediator.model import CLASS_TABLE, DetectOptions, Drafter
from tests.support import kube
from tests.support.around import (
    FRESH,
    OLD,
    detected,
    hpa,
    ingress,
    obj,
    pdb,
    pending,
    service,
    statefulset,
    stuck_pod,
    web,
    webhook,
)


# ------------------------------------------------------------------------------ services
def test_service_selector_typo_names_the_near_match():
    d, rs, p = web()
    inc = detected(d, rs, p, service("cart", {"app": "carts"}))["ServiceSelectorMismatch"]
    assert inc.workload.kind == "Service" and inc.detail == "selector app=carts"
    [near] = inc.evidence.facts.near_matches
    assert near == {"workload": "Deployment shop/cart", "key": "app",
                    "selector_value": "carts", "label_value": "cart"}


def test_service_matching_pods_new_or_scaled_to_zero_is_quiet():
    d, rs, p = web()
    assert "ServiceSelectorMismatch" not in detected(d, rs, p, service("cart", {"app": "cart"}))
    assert "ServiceSelectorMismatch" not in detected(
        d, rs, p, service("cart", {"app": "carts"}, created=FRESH))
    scaled = kube.deployment("batch", "shop", [kube.container("batch")])
    scaled["spec"]["replicas"] = 0
    assert "ServiceSelectorMismatch" not in detected(scaled, service("b", {"app": "batch"}))


# ------------------------------------------------------------------------------- ingress
def test_ingress_backend_service_or_port_missing():
    d, rs, p = web()
    svc = service("cart", {"app": "cart"})
    inc = detected(d, rs, p, svc, ingress("cart-svc"))["IngressBackendMissing"]
    assert inc.detail == "service cart-svc"
    assert detected(d, rs, p, svc, ingress("cart", 8080))[
        "IngressBackendMissing"].detail == "service cart port 8080"
    assert "IngressBackendMissing" not in detected(d, rs, p, svc, ingress("cart"))


def test_ingress_class_and_tls_secret_known_by_name_only():
    nginx = obj("IngressClass", "nginx", ns="", api="networking.k8s.io/v1", spec={})
    svc = service("cart", {"app": "cart"})
    d, rs, p = web()
    ing = ingress("cart", cls="ngnix", tls="shop-tls")
    ev = kube.event(ing, "Sync", 'Error getting SSL certificate "shop/shop-tls": local SSL '
                    'certificate shop/shop-tls was not found')
    ev2 = kube.event(ing, "Sync", 'secret "shop/shop-tls" not found')
    found = detected(d, rs, p, svc, nginx, ing, ev, ev2)
    assert found["IngressClassMissing"].detail == "ingressClassName ngnix"
    assert found["IngressTLSSecretMissing"].detail == "tls secret shop-tls"
    # without IngressClasses read, a class name is not judged
    assert "IngressClassMissing" not in detected(d, rs, p, svc, ing)


# ---------------------------------------------------------------------------------- HPAs
def test_hpa_target_missing_and_target_without_requests():
    d, rs, p = web()
    assert detected(d, rs, p, hpa("kart"))["HPATargetMissing"].detail == "Deployment kart"
    inactive = hpa("cart", conditions=[{
        "type": "ScalingActive", "status": "False", "reason": "FailedGetResourceMetric",
        "message": "the HPA was unable to compute the replica count: failed to get cpu "
                   "utilization: missing request for cpu in container cart of Pod "
                   "cart-5d8f7c9b4-aaaaa", "lastTransitionTime": OLD}])
    inc = detected(d, rs, p, inactive)["HPAMissingRequests"]
    assert (str(inc.workload), inc.container, inc.detail) == (
        "Deployment shop/cart", "cart", "missing request for cpu")


def test_hpa_metrics_server_down_is_not_a_manifest_problem():
    d, rs, p = web()
    down = hpa("cart", conditions=[{
        "type": "ScalingActive", "status": "False", "reason": "FailedGetResourceMetric",
        "message": "unable to get metrics for resource cpu: no metrics returned from resource "
                   "metrics API"}])
    assert not {"HPAMissingRequests", "HPATargetMissing"} & set(detected(d, rs, p, down))


# ---------------------------------------------------------------------------------- PDBs
def test_pdb_that_can_never_allow_a_drain():
    d, rs, p = web()
    inc = detected(d, rs, p, pdb({"minAvailable": 1}, disruptionsAllowed=0, expectedPods=1,
                                  desiredHealthy=1, currentHealthy=1))["PDBBlocksDisruption"]
    assert inc.detail == "minAvailable 1"
    assert detected(pdb({"maxUnavailable": 1}, disruptionsAllowed=0, expectedPods=0,
                         desiredHealthy=0, currentHealthy=0))[
        "PDBBlocksDisruption"].detail == "selector matches no pods"


def test_pdb_at_zero_during_a_rollout_is_transient():
    d, rs, p = web()
    assert "PDBBlocksDisruption" not in detected(d, rs, p, pdb(
        {"minAvailable": 2}, disruptionsAllowed=0, expectedPods=3, desiredHealthy=2,
        currentHealthy=2))


# ------------------------------------------------------------------------------- storage
def test_statefulset_service_and_storage_class_missing():
    standard = obj("StorageClass", "standard", ns="", api="storage.k8s.io/v1",
                    provisioner="rancher.io/local-path")
    found = detected(statefulset(storage_class="fast-ssd"), standard)
    assert found["StatefulSetServiceMissing"].detail == "serviceName db"
    assert found["StorageClassMissing"].detail == "storageClass fast-ssd"
    healthy = detected(statefulset(), standard, service("db", {"app": "db"}))
    assert not {"StatefulSetServiceMissing", "StorageClassMissing"} & set(healthy)


def test_pvc_lost_is_the_workloads_incident():
    sts = statefulset()
    pvc = obj("PersistentVolumeClaim", "data-db-0", spec={"volumeName": "pv-1"},
               status={"phase": "Lost"})
    pod = kube.pod(sts, "db-0", [kube.waiting("db", "ContainerCreating")], phase="Pending")
    pod["spec"]["volumes"] = [{"name": "data",
                               "persistentVolumeClaim": {"claimName": "data-db-0"}}]
    inc = detected(sts, pvc, pod, service("db", {"app": "db"}))["PVCLost"]
    assert str(inc.workload) == "StatefulSet shop/db" and inc.pods == ["db-0"]


# ------------------------------------------------------------------------------ webhooks
def test_webhook_without_service_or_ready_endpoints():
    svc = service("policy-webhook", {"app": "policy"}, ns="policy")
    empty = obj("Endpoints", "policy-webhook", ns="policy", subsets=[
        {"notReadyAddresses": [{"ip": "10.0.0.7"}], "ports": [{"port": 443}]}])
    assert detected(webhook("policy-webhok"), svc)["WebhookServiceUnavailable"].detail == \
        "service policy/policy-webhok missing"
    assert detected(webhook("policy-webhook"), svc, empty)["WebhookServiceUnavailable"
                                                            ].detail == (
        "service policy/policy-webhook has no ready endpoints")
    ready = obj("Endpoints", "policy-webhook", ns="policy", subsets=[
        {"addresses": [{"ip": "10.0.0.7"}], "ports": [{"port": 443}]}])
    assert "WebhookServiceUnavailable" not in detected(webhook("policy-webhook"), svc, ready)


# ------------------------------------------------------------------------------- gateway
def test_httproute_with_unresolved_backend():
    gw = obj("Gateway", "public", api="gateway.networking.k8s.io/v1", spec={})
    route = obj("HTTPRoute", "cart", api="gateway.networking.k8s.io/v1", spec={
        "parentRefs": [{"name": "public"}],
        "rules": [{"backendRefs": [{"name": "cart-svc", "port": 80}]}]}, status={"parents": [{
            "parentRef": {"name": "public"}, "controllerName": "example.net/gateway",
            "conditions": [{"type": "Accepted", "status": "True", "reason": "Accepted"},
                           {"type": "ResolvedRefs", "status": "False",
                            "reason": "BackendNotFound"}]}]})
    assert detected(gw, route)["HTTPRouteUnresolved"].detail == "ResolvedRefs=False BackendNotFound"
    route["spec"]["parentRefs"] = [{"name": "pubic"}]
    route["status"] = {}
    assert detected(gw, route)["HTTPRouteUnresolved"].detail == \
        "parent Gateway shop/pubic missing"


# ------------------------------------------------------------------------- stuck pods
def test_readiness_never_ready_after_30_minutes_of_failing_probes():
    never = kube.running("cart")
    never.update(ready=False, state={"running": {"startedAt": "2026-11-20T10:00:00Z"}})
    d, rs, p = stuck_pod([never])
    ev = kube.event(p, "Unhealthy", "Readiness probe failed: HTTP probe failed with "
                    "statuscode: 503", count=50, field_path="spec.containers{cart}")
    inc = detected(d, rs, p, ev)["ReadinessNeverReady"]
    assert (inc.container, inc.detail) == ("cart", "readiness")
    # five minutes into a rollout: still starting
    never["state"] = {"running": {"startedAt": "2026-11-20T10:25:00Z"}}
    assert "ReadinessNeverReady" not in detected(d, rs, p, ev)


@pytest.mark.parametrize("reason", ["PreStartHookError", "PreCreateHookError",
                                    "ImageInspectError"])
def test_container_start_hook_errors(reason):
    d, rs, p = stuck_pod([kube.waiting("cart", reason, "hook failed")], phase="Pending")
    assert detected(d, rs, p)["ContainerStartHookError"].detail == reason


def test_crashloop_without_last_state():
    cs = kube.crashing("cart", restarts=7)
    cs["lastState"] = {}
    d, rs, p = stuck_pod([cs])
    assert detected(d, rs, p)["CrashLoopBackOff"].detail == "no last state"


def test_stuck_container_creating_and_missing_configmap():
    d, rs, p = stuck_pod([kube.waiting("cart", "ContainerCreating")], phase="Pending")
    sandbox = kube.event(p, "FailedCreatePodSandBox", "Failed to create pod sandbox: rpc "
                         "error: code = Unknown desc = failed to setup network for sandbox")
    assert detected(d, rs, p, sandbox)["StuckContainerCreating"].detail == \
        "FailedCreatePodSandBox"
    mount = kube.event(p, "FailedMount", 'MountVolume.SetUp failed for volume "config" : '
                       'configmap "cart-config" not found', count=40)
    found = detected(d, rs, p, mount)
    assert found["MissingConfigMap"].detail == "configmap cart-config"
    assert "StuckContainerCreating" not in found  # one cause, one incident
    # a pod only just created is still mounting
    d, rs, p = stuck_pod([kube.waiting("cart", "ContainerCreating")], phase="Pending",
                          created=FRESH)
    assert not {"MissingConfigMap", "StuckContainerCreating"} & set(detected(d, rs, p, mount))


def test_pending_without_a_scheduler_verdict():
    sts, p = pending({"schedulerName": "custom-scheduler"}, [])
    inc = detected(sts, p, service("db", {"app": "db"}))["PendingNoVerdict"]
    assert str(inc.workload) == "StatefulSet shop/db"
    assert inc.detail == "schedulerName custom-scheduler"


def test_scheduling_gated_reported_only_past_the_configured_age():
    gated = [{"type": "PodScheduled", "status": "False", "reason": "SchedulingGated"}]
    sts, p = pending({"schedulingGates": [{"name": "kueue.x-k8s.io/admission"}]}, gated,
                      created="2026-11-20T10:00:00Z")
    svc = service("db", {"app": "db"})
    assert "SchedulingGated" not in detected(sts, p, svc)  # 30 min < the default hour
    assert detected(sts, p, svc, options=DetectOptions(scheduling_gated_seconds=600))[
        "SchedulingGated"].detail == "gates kueue.x-k8s.io/admission"


def test_unschedulable_taint_message_keeps_its_commas():
    sts, p = pending({}, [{
        "type": "PodScheduled", "status": "False", "reason": "Unschedulable",
        "message": "0/3 nodes are available: 1 node(s) had untolerated taint "
                   "{node-role.kubernetes.io/control-plane: }, 2 Insufficient memory. "
                   "preemption: 0/3 nodes are available: 3 No preemption victims found."}])
    inc = detected(sts, p, service("db", {"app": "db"}))["Unschedulable"]
    assert inc.detail == ("Insufficient memory; node(s) had untolerated taint "
                          "{node-role.kubernetes.io/control-plane: }")


def test_every_new_class_is_detected_here():
    import ast
    import pathlib
    source = pathlib.Path(__file__).read_text()
    quoted = {n.value for n in ast.walk(ast.parse(source)) if isinstance(n, ast.Constant)}
    # issue 18's classes: those draft/config_fixes.py writes the diagnosis (or the fix) of
    new = {r.name.value for r in CLASS_TABLE if r.drafter in (
        Drafter.CONFIG_DIAGNOSIS, Drafter.HPA_REQUESTS, Drafter.SERVICE_SELECTOR,
        Drafter.INGRESS_CLASS)}
    assert len(new) == 18
    assert new <= quoted, new - quoted
