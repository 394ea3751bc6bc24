"""The failure classes of issue 18 (rows of model/classes.py), each from objects shaped like
`kubectl get -o json` prints them, next to the healthy look-alike that must stay quiet."""

from __future__ import annotations

from typing import Any

import pytest

from remediator.cluster.snapshot import build_state
from remediator.detect import detect
from remediator.model import CLASS_TABLE, ROW, DetectOptions, Drafter
from tests.support import kube

CLOCK = {"apiVersion": "v1", "kind": "Event", "metadata": {"name": "clock", "namespace": "x"},
         "involvedObject": {"kind": "Namespace", "name": "x"}, "reason": "Clock",
         "lastTimestamp": kube.NOW}
OLD = "2026-11-19T10:00:00Z"  # a day before kube.NOW
FRESH = "2026-11-20T10:29:00Z"  # a minute before kube.NOW
#: every cluster has the API server's Service: its presence says Services were read
KUBERNETES = {"apiVersion": "v1", "kind": "Service",
              "metadata": {"name": "kubernetes", "namespace": "default", "creationTimestamp": OLD},
              "spec": {"ports": [{"name": "https", "port": 443}]}}


def _classes(*items: Any, options: DetectOptions | None = None) -> dict[str, Any]:
    incidents = detect(build_state([*items, CLOCK, KUBERNETES], "t"), options)
    for i in incidents:  # the facts are of the type the class table names
        assert type(i.evidence.facts) is ROW[i.failure_class].facts, i.failure_class
    return {i.failure_class: i for i in incidents}


def _obj(kind: str, name: str, ns: str = "shop", api: str = "v1", created: str = OLD,
         **body: Any) -> dict[str, Any]:
    meta: dict[str, Any] = {"name": name, "uid": kube.uid(), "creationTimestamp": created}
    if ns:
        meta["namespace"] = ns
    return {"apiVersion": api, "kind": kind, "metadata": meta, **body}


def _service(name: str, selector: dict[str, str], ns: str = "shop", created: str = OLD,
             ports: list[dict[str, Any]] | None = None) -> dict[str, Any]:
    return _obj("Service", name, ns, created=created,
                spec={"selector": selector, "ports": ports or [{"name": "http", "port": 80}]})


def _web():
    d = kube.deployment("cart", "shop", [kube.container("cart")])
    rs = kube.replicaset(d, ready=1)
    p = kube.pod(rs, "cart-5d8f7c9b4-aaaaa", [kube.running("cart")])
    p["metadata"]["labels"] = {"app": "cart"}
    return d, rs, p


# ------------------------------------------------------------------------------ services
def test_service_selector_typo_names_the_near_match():
    d, rs, p = _web()
    inc = _classes(d, rs, p, _service("cart", {"app": "carts"}))["ServiceSelectorMismatch"]
    assert inc.workload.kind == "Service" and inc.detail == "selector app=carts"
    [near] = inc.evidence.facts.near_matches
    assert near == {"workload": "Deployment shop/cart", "key": "app",
                    "selector_value": "carts", "label_value": "cart"}


def test_service_matching_pods_new_or_scaled_to_zero_is_quiet():
    d, rs, p = _web()
    assert "ServiceSelectorMismatch" not in _classes(d, rs, p, _service("cart", {"app": "cart"}))
    assert "ServiceSelectorMismatch" not in _classes(
        d, rs, p, _service("cart", {"app": "carts"}, created=FRESH))
    scaled = kube.deployment("batch", "shop", [kube.container("batch")])
    scaled["spec"]["replicas"] = 0
    assert "ServiceSelectorMismatch" not in _classes(scaled, _service("b", {"app": "batch"}))


# ------------------------------------------------------------------------------- ingress
def _ingress(backend: str, port: int = 80, cls: str | None = None, tls: str = ""):
    spec: dict[str, Any] = {"rules": [{"host": "shop.example.com", "http": {"paths": [
        {"path": "/", "pathType": "Prefix",
         "backend": {"service": {"name": backend, "port": {"number": port}}}}]}}]}
    if cls:
        spec["ingressClassName"] = cls
    if tls:
        spec["tls"] = [{"hosts": ["shop.example.com"], "secretName": tls}]
    return _obj("Ingress", "shop", api="networking.k8s.io/v1", spec=spec)


def test_ingress_backend_service_or_port_missing():
    d, rs, p = _web()
    svc = _service("cart", {"app": "cart"})
    inc = _classes(d, rs, p, svc, _ingress("cart-svc"))["IngressBackendMissing"]
    assert inc.detail == "service cart-svc"
    assert _classes(d, rs, p, svc, _ingress("cart", 8080))[
        "IngressBackendMissing"].detail == "service cart port 8080"
    assert "IngressBackendMissing" not in _classes(d, rs, p, svc, _ingress("cart"))


def test_ingress_class_and_tls_secret_known_by_name_only():
    nginx = _obj("IngressClass", "nginx", ns="", api="networking.k8s.io/v1", spec={})
    svc = _service("cart", {"app": "cart"})
    d, rs, p = _web()
    ing = _ingress("cart", cls="ngnix", tls="shop-tls")
    ev = kube.event(ing, "Sync", 'Error getting SSL certificate "shop/shop-tls": local SSL '
                    'certificate shop/shop-tls was not found')
    ev2 = kube.event(ing, "Sync", 'secret "shop/shop-tls" not found')
    found = _classes(d, rs, p, svc, nginx, ing, ev, ev2)
    assert found["IngressClassMissing"].detail == "ingressClassName ngnix"
    assert found["IngressTLSSecretMissing"].detail == "tls secret shop-tls"
    # without IngressClasses read, a class name is not judged
    assert "IngressClassMissing" not in _classes(d, rs, p, svc, ing)


# ---------------------------------------------------------------------------------- HPAs
def _hpa(target: str, **status: Any):
    return _obj("HorizontalPodAutoscaler", "cart", api="autoscaling/v2", spec={
        "scaleTargetRef": {"apiVersion": "apps/v1", "kind": "Deployment", "name": target},
        "minReplicas": 1, "maxReplicas": 5}, status=status)


def test_hpa_target_missing_and_target_without_requests():
    d, rs, p = _web()
    assert _classes(d, rs, p, _hpa("kart"))["HPATargetMissing"].detail == "Deployment kart"
    inactive = _hpa("cart", conditions=[{
        "type": "ScalingActive", "status": "False", "reason": "FailedGetResourceMetric",
        "message": "the HPA was unable to compute the replica count: failed to get cpu "
                   "utilization: missing request for cpu in container cart of Pod "
                   "cart-5d8f7c9b4-aaaaa", "lastTransitionTime": OLD}])
    inc = _classes(d, rs, p, inactive)["HPAMissingRequests"]
    assert (str(inc.workload), inc.container, inc.detail) == (
        "Deployment shop/cart", "cart", "missing request for cpu")


def test_hpa_metrics_server_down_is_not_a_manifest_problem():
    d, rs, p = _web()
    down = _hpa("cart", conditions=[{
        "type": "ScalingActive", "status": "False", "reason": "FailedGetResourceMetric",
        "message": "unable to get metrics for resource cpu: no metrics returned from resource "
                   "metrics API"}])
    assert not {"HPAMissingRequests", "HPATargetMissing"} & set(_classes(d, rs, p, down))


# ---------------------------------------------------------------------------------- PDBs
def _pdb(spec: dict[str, Any], **status: Any):
    return _obj("PodDisruptionBudget", "cart", api="policy/v1",
                spec={"selector": {"matchLabels": {"app": "cart"}}, **spec}, status=status)


def test_pdb_that_can_never_allow_a_drain():
    d, rs, p = _web()
    inc = _classes(d, rs, p, _pdb({"minAvailable": 1}, disruptionsAllowed=0, expectedPods=1,
                                  desiredHealthy=1, currentHealthy=1))["PDBBlocksDisruption"]
    assert inc.detail == "minAvailable 1"
    assert _classes(_pdb({"maxUnavailable": 1}, disruptionsAllowed=0, expectedPods=0,
                         desiredHealthy=0, currentHealthy=0))[
        "PDBBlocksDisruption"].detail == "selector matches no pods"


def test_pdb_at_zero_during_a_rollout_is_transient():
    d, rs, p = _web()
    assert "PDBBlocksDisruption" not in _classes(d, rs, p, _pdb(
        {"minAvailable": 2}, disruptionsAllowed=0, expectedPods=3, desiredHealthy=2,
        currentHealthy=2))


# ------------------------------------------------------------------------------- storage
def _sts(service: str = "db", storage_class: str = "standard"):
    return _obj("StatefulSet", "db", api="apps/v1", spec={
        "serviceName": service, "replicas": 1, "selector": {"matchLabels": {"app": "db"}},
        "template": {"metadata": {"labels": {"app": "db"}},
                     "spec": {"containers": [kube.container("db")]}},
        "volumeClaimTemplates": [{"metadata": {"name": "data"}, "spec": {
            "storageClassName": storage_class, "accessModes": ["ReadWriteOnce"],
            "resources": {"requests": {"storage": "1Gi"}}}}]}, status={})


def test_statefulset_service_and_storage_class_missing():
    standard = _obj("StorageClass", "standard", ns="", api="storage.k8s.io/v1",
                    provisioner="rancher.io/local-path")
    found = _classes(_sts(storage_class="fast-ssd"), standard)
    assert found["StatefulSetServiceMissing"].detail == "serviceName db"
    assert found["StorageClassMissing"].detail == "storageClass fast-ssd"
    healthy = _classes(_sts(), standard, _service("db", {"app": "db"}))
    assert not {"StatefulSetServiceMissing", "StorageClassMissing"} & set(healthy)


def test_pvc_lost_is_the_workloads_incident():
    sts = _sts()
    pvc = _obj("PersistentVolumeClaim", "data-db-0", spec={"volumeName": "pv-1"},
               status={"phase": "Lost"})
    pod = kube.pod(sts, "db-0", [kube.waiting("db", "ContainerCreating")], phase="Pending")
    pod["spec"]["volumes"] = [{"name": "data",
                               "persistentVolumeClaim": {"claimName": "data-db-0"}}]
    inc = _classes(sts, pvc, pod, _service("db", {"app": "db"}))["PVCLost"]
    assert str(inc.workload) == "StatefulSet shop/db" and inc.pods == ["db-0"]


# ------------------------------------------------------------------------------ webhooks
def _webhook(service: str):
    return _obj("ValidatingWebhookConfiguration", "policy", ns="",
                api="admissionregistration.k8s.io/v1", webhooks=[{
                    "name": "validate.policy.example.com", "failurePolicy": "Fail",
                    "clientConfig": {"service": {"namespace": "policy", "name": service}}}])


def test_webhook_without_service_or_ready_endpoints():
    svc = _service("policy-webhook", {"app": "policy"}, ns="policy")
    empty = _obj("Endpoints", "policy-webhook", ns="policy", subsets=[
        {"notReadyAddresses": [{"ip": "10.0.0.7"}], "ports": [{"port": 443}]}])
    assert _classes(_webhook("policy-webhok"), svc)["WebhookServiceUnavailable"].detail == \
        "service policy/policy-webhok missing"
    assert _classes(_webhook("policy-webhook"), svc, empty)["WebhookServiceUnavailable"
                                                            ].detail == (
        "service policy/policy-webhook has no ready endpoints")
    ready = _obj("Endpoints", "policy-webhook", ns="policy", subsets=[
        {"addresses": [{"ip": "10.0.0.7"}], "ports": [{"port": 443}]}])
    assert "WebhookServiceUnavailable" not in _classes(_webhook("policy-webhook"), svc, ready)


# ------------------------------------------------------------------------------- gateway
def test_httproute_with_unresolved_backend():
    gw = _obj("Gateway", "public", api="gateway.networking.k8s.io/v1", spec={})
    route = _obj("HTTPRoute", "cart", api="gateway.networking.k8s.io/v1", spec={
        "parentRefs": [{"name": "public"}],
        "rules": [{"backendRefs": [{"name": "cart-svc", "port": 80}]}]}, status={"parents": [{
            "parentRef": {"name": "public"}, "controllerName": "example.net/gateway",
            "conditions": [{"type": "Accepted", "status": "True", "reason": "Accepted"},
                           {"type": "ResolvedRefs", "status": "False",
                            "reason": "BackendNotFound"}]}]})
    assert _classes(gw, route)["HTTPRouteUnresolved"].detail == "ResolvedRefs=False BackendNotFound"
    route["spec"]["parentRefs"] = [{"name": "pubic"}]
    route["status"] = {}
    assert _classes(gw, route)["HTTPRouteUnresolved"].detail == \
        "parent Gateway shop/pubic missing"


# ------------------------------------------------------------------------- stuck pods
def _stuck_pod(statuses, phase="Running", created=OLD):
    d = kube.deployment("cart", "shop", [kube.container("cart")])
    rs = kube.replicaset(d)
    return d, rs, kube.pod(rs, "cart-5d8f7c9b4-aaaaa", statuses, phase=phase, created=created)


def test_readiness_never_ready_after_30_minutes_of_failing_probes():
    never = kube.running("cart")
    never.update(ready=False, state={"running": {"startedAt": "2026-11-20T10:00:00Z"}})
    d, rs, p = _stuck_pod([never])
    ev = kube.event(p, "Unhealthy", "Readiness probe failed: HTTP probe failed with "
                    "statuscode: 503", count=50, field_path="spec.containers{cart}")
    inc = _classes(d, rs, p, ev)["ReadinessNeverReady"]
    assert (inc.container, inc.detail) == ("cart", "readiness")
    # five minutes into a rollout: still starting
    never["state"] = {"running": {"startedAt": "2026-11-20T10:25:00Z"}}
    assert "ReadinessNeverReady" not in _classes(d, rs, p, ev)


@pytest.mark.parametrize("reason", ["PreStartHookError", "PreCreateHookError",
                                    "ImageInspectError"])
def test_container_start_hook_errors(reason):
    d, rs, p = _stuck_pod([kube.waiting("cart", reason, "hook failed")], phase="Pending")
    assert _classes(d, rs, p)["ContainerStartHookError"].detail == reason


def test_crashloop_without_last_state():
    cs = kube.crashing("cart", restarts=7)
    cs["lastState"] = {}
    d, rs, p = _stuck_pod([cs])
    assert _classes(d, rs, p)["CrashLoopBackOff"].detail == "no last state"


def test_stuck_container_creating_and_missing_configmap():
    d, rs, p = _stuck_pod([kube.waiting("cart", "ContainerCreating")], phase="Pending")
    sandbox = kube.event(p, "FailedCreatePodSandBox", "Failed to create pod sandbox: rpc "
                         "error: code = Unknown desc = failed to setup network for sandbox")
    assert _classes(d, rs, p, sandbox)["StuckContainerCreating"].detail == \
        "FailedCreatePodSandBox"
    mount = kube.event(p, "FailedMount", 'MountVolume.SetUp failed for volume "config" : '
                       'configmap "cart-config" not found', count=40)
    found = _classes(d, rs, p, mount)
    assert found["MissingConfigMap"].detail == "configmap cart-config"
    assert "StuckContainerCreating" not in found  # one cause, one incident
    # a pod only just created is still mounting
    d, rs, p = _stuck_pod([kube.waiting("cart", "ContainerCreating")], phase="Pending",
                          created=FRESH)
    assert not {"MissingConfigMap", "StuckContainerCreating"} & set(_classes(d, rs, p, mount))


def _pending(spec_extra: dict[str, Any], conditions: list[dict[str, Any]],
             created: str = OLD):
    sts = _sts()
    p = kube.pod(sts, "db-0", [], phase="Pending", conditions=conditions, created=created)
    del p["spec"]["nodeName"]
    p["spec"].update(spec_extra)
    return sts, p


def test_pending_without_a_scheduler_verdict():
    sts, p = _pending({"schedulerName": "custom-scheduler"}, [])
    inc = _classes(sts, p, _service("db", {"app": "db"}))["PendingNoVerdict"]
    assert str(inc.workload) == "StatefulSet shop/db"
    assert inc.detail == "schedulerName custom-scheduler"


def test_scheduling_gated_reported_only_past_the_configured_age():
    gated = [{"type": "PodScheduled", "status": "False", "reason": "SchedulingGated"}]
    sts, p = _pending({"schedulingGates": [{"name": "kueue.x-k8s.io/admission"}]}, gated,
                      created="2026-11-20T10:00:00Z")
    svc = _service("db", {"app": "db"})
    assert "SchedulingGated" not in _classes(sts, p, svc)  # 30 min < the default hour
    assert _classes(sts, p, svc, options=DetectOptions(scheduling_gated_seconds=600))[
        "SchedulingGated"].detail == "gates kueue.x-k8s.io/admission"


def test_unschedulable_taint_message_keeps_its_commas():
    sts, p = _pending({}, [{
        "type": "PodScheduled", "status": "False", "reason": "Unschedulable",
        "message": "0/3 nodes are available: 1 node(s) had untolerated taint "
                   "{node-role.kubernetes.io/control-plane: }, 2 Insufficient memory. "
                   "preemption: 0/3 nodes are available: 3 No preemption victims found."}])
    inc = _classes(sts, p, _service("db", {"app": "db"}))["Unschedulable"]
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


# ------------------------------------------------------------------ the quiet look-alikes
def _quiet(cls: str, *items: Any, services_read: bool = True) -> None:
    base = [CLOCK, KUBERNETES] if services_read else [CLOCK]
    found = {i.failure_class for i in detect(build_state([*items, *base], "t"))}
    assert cls not in found, (cls, found)


def test_workload_misses_wait_out_a_start_and_keep_quiet_on_old_evidence():
    # a start hook failing in the pod's first minute: the kubelet retries it
    d, rs, p = _stuck_pod([kube.waiting("cart", "PreStartHookError", "hook failed")],
                          phase="Pending", created=FRESH)
    _quiet("ContainerStartHookError", d, rs, p)
    # two restarts without a last state: not yet a loop
    cs = kube.crashing("cart", restarts=2)
    cs["lastState"] = {}
    _quiet("CrashLoopBackOff", *_stuck_pod([cs]))
    # a minute-old Pending pod without a verdict: the scheduler has not got to it yet
    sts, p = _pending({"schedulerName": "custom-scheduler"}, [], created=FRESH)
    _quiet("PendingNoVerdict", sts, p, _service("db", {"app": "db"}))
    # a FailedMount for a ConfigMap that was missing two hours ago (created since)
    d, rs, p = _stuck_pod([kube.waiting("cart", "ContainerCreating")], phase="Pending")
    old = kube.event(p, "FailedMount", 'MountVolume.SetUp failed for volume "config" : '
                     'configmap "cart-config" not found', last="2026-11-20T08:30:00Z")
    _quiet("MissingConfigMap", d, rs, p, old)
    # a claim that is Bound
    sts = _sts()
    _quiet("PVCLost", sts, _service("db", {"app": "db"}), _obj(
        "PersistentVolumeClaim", "data-db-0", spec={"volumeName": "pv-1"},
        status={"phase": "Bound"}))


def test_configuration_classes_judge_only_settled_objects_of_kinds_read():
    d, rs, p = _web()
    svc = _service("cart", {"app": "cart"})
    fresh_ingress = _ingress("cart-svc")
    fresh_ingress["metadata"]["creationTimestamp"] = FRESH
    _quiet("IngressBackendMissing", d, rs, p, svc, fresh_ingress)
    fresh_hpa = _hpa("kart")
    fresh_hpa["metadata"]["creationTimestamp"] = FRESH
    _quiet("HPATargetMissing", d, rs, p, fresh_hpa)
    # no Service read at all (not even `default/kubernetes`): the kind was not readable
    _quiet("StatefulSetServiceMissing", _sts(), services_read=False)
    _quiet("WebhookServiceUnavailable", _webhook("policy-webhok"), services_read=False)
    # no StorageClass read: a class name is not judged
    _quiet("StorageClassMissing", _sts(storage_class="fast-ssd"), _service("db", {"app": "db"}))


def test_configuration_classes_healthy_look_alikes():
    d, rs, p = _web()
    svc = _service("cart", {"app": "cart"})
    # the controller complains about another Ingress's secret, not one this Ingress names
    ing = _ingress("cart", tls="shop-tls")
    _quiet("IngressTLSSecretMissing", d, rs, p, svc, ing,
           kube.event(ing, "Sync", 'secret "shop/other-tls" not found'))
    # a URL webhook is outside the cluster: not ours to judge
    url = _webhook("x")
    url["webhooks"][0]["clientConfig"] = {"url": "https://policy.example.com/validate"}
    _quiet("WebhookServiceUnavailable", url)
    # a route its Gateway accepted with every reference resolved
    gw = _obj("Gateway", "public", api="gateway.networking.k8s.io/v1", spec={})
    route = _obj("HTTPRoute", "cart", api="gateway.networking.k8s.io/v1", spec={
        "parentRefs": [{"name": "public"}],
        "rules": [{"backendRefs": [{"name": "cart", "port": 80}]}]}, status={"parents": [{
            "parentRef": {"name": "public"}, "controllerName": "example.net/gateway",
            "conditions": [{"type": "Accepted", "status": "True", "reason": "Accepted"},
                           {"type": "ResolvedRefs", "status": "True",
                            "reason": "ResolvedRefs"}]}]})
    _quiet("HTTPRouteUnresolved", gw, route, svc)
    # a parent Gateway not judged when Gateways were not read
    route["status"] = {}
    route["spec"]["parentRefs"] = [{"name": "pubic"}]
    _quiet("HTTPRouteUnresolved", route, svc)


def test_pods_of_a_lost_claim_are_its_incident_not_stuck_creating():
    sts = _sts()
    pvc = _obj("PersistentVolumeClaim", "data-db-0", spec={"volumeName": "pv-1"},
               status={"phase": "Lost"})
    pod = kube.pod(sts, "db-0", [kube.waiting("db", "ContainerCreating")], phase="Pending",
                   created=OLD)
    pod["spec"]["volumes"] = [{"name": "data",
                               "persistentVolumeClaim": {"claimName": "data-db-0"}}]
    found = _classes(sts, pvc, pod, _service("db", {"app": "db"}))
    assert "PVCLost" in found and "StuckContainerCreating" not in found, set(found)


def test_ingress_without_a_class_when_no_class_is_the_default():
    d, rs, p = _web()
    svc = _service("cart", {"app": "cart"})
    nginx = _obj("IngressClass", "nginx", ns="", api="networking.k8s.io/v1", spec={})
    inc = _classes(d, rs, p, svc, nginx, _ingress("cart"))["IngressClassMissing"]
    assert inc.detail == "no ingressClassName"
    assert inc.evidence.facts.ingress_classes == ["nginx"]
    # a default class serves it; so does the legacy annotation's controller
    default = _obj("IngressClass", "nginx", ns="", api="networking.k8s.io/v1", spec={})
    default["metadata"]["annotations"] = {"ingressclass.kubernetes.io/is-default-class": "true"}
    _quiet("IngressClassMissing", d, rs, p, svc, default, _ingress("cart"))
    legacy = _ingress("cart")
    legacy["metadata"]["annotations"] = {"kubernetes.io/ingress.class": "nginx"}
    _quiet("IngressClassMissing", d, rs, p, svc, nginx, legacy)
    # no IngressClass readable: not judged
    _quiet("IngressClassMissing", d, rs, p, svc, _ingress("cart"))


def test_statefulset_governing_service_that_is_not_headless():
    standard = _obj("StorageClass", "standard", ns="", api="storage.k8s.io/v1",
                    provisioner="rancher.io/local-path")
    svc = _service("db", {"app": "db"})
    svc["spec"]["clusterIP"] = "10.96.12.7"
    inc = _classes(_sts(), standard, svc)["StatefulSetServiceMissing"]
    assert inc.detail == "serviceName db not headless"
    svc["spec"]["clusterIP"] = "None"
    _quiet("StatefulSetServiceMissing", _sts(), standard, svc)
