"""The healthy look-alikes of the failure classes of issue 18 (tests/detect/test_config_classes.py
detects each class): a workload starting, a Service with no pods yet, objects of kinds not
read, ... must stay quiet."""

from __future__ import annotations

from tests.support import kube
from tests.support.around import (
    FRESH,
    OLD,
    detected,
    hpa,
    ingress,
    obj,
    pending,
    quiet,
    service,
    statefulset,
    stuck_pod,
    web,
    webhook,
)


# ------------------------------------------------------------------ the quiet look-alikes
def test_workload_misses_wait_out_a_start_and_keep_quiet_on_old_evidence():
    # a start hook failing in the pod's first minute: the kubelet retries it
    d, rs, p = stuck_pod([kube.waiting("cart", "PreStartHookError", "hook failed")],
                          phase="Pending", created=FRESH)
    quiet("ContainerStartHookError", d, rs, p)
    # two restarts without a last state: not yet a loop
    cs = kube.crashing("cart", restarts=2)
    cs["lastState"] = {}
    quiet("CrashLoopBackOff", *stuck_pod([cs]))
    # a minute-old Pending pod without a verdict: the scheduler has not got to it yet
    sts, p = pending({"schedulerName": "custom-scheduler"}, [], created=FRESH)
    quiet("PendingNoVerdict", sts, p, service("db", {"app": "db"}))
    # a FailedMount for a ConfigMap that was missing two hours ago (created since)
    d, rs, p = stuck_pod([kube.waiting("cart", "ContainerCreating")], phase="Pending")
    old = kube.event(p, "FailedMount", 'MountVolume.SetUp failed for volume "config" : '
                     'configmap "cart-config" not found', last="2026-11-20T08:30:00Z")
    quiet("MissingConfigMap", d, rs, p, old)
    # a claim that is Bound
    sts = statefulset()
    quiet("PVCLost", sts, service("db", {"app": "db"}), obj(
        "PersistentVolumeClaim", "data-db-0", spec={"volumeName": "pv-1"},
        status={"phase": "Bound"}))


def test_configuration_classes_judge_only_settled_objects_of_kinds_read():
    d, rs, p = web()
    svc = service("cart", {"app": "cart"})
    fresh_ingress = ingress("cart-svc")
    fresh_ingress["metadata"]["creationTimestamp"] = FRESH
    quiet("IngressBackendMissing", d, rs, p, svc, fresh_ingress)
    fresh_hpa = hpa("kart")
    fresh_hpa["metadata"]["creationTimestamp"] = FRESH
    quiet("HPATargetMissing", d, rs, p, fresh_hpa)
    # no Service read at all (not even `default/kubernetes`): the kind was not readable
    quiet("StatefulSetServiceMissing", statefulset(), services_read=False)
    quiet("WebhookServiceUnavailable", webhook("policy-webhok"), services_read=False)
    # no StorageClass read: a class name is not judged
    quiet("StorageClassMissing", statefulset(storage_class="fast-ssd"),
          service("db", {"app": "db"}))


def test_configuration_classes_healthy_look_alikes():
    d, rs, p = web()
    svc = service("cart", {"app": "cart"})
    # the controller complains about another Ingress's secret, not one this Ingress names
    ing = ingress("cart", tls="shop-tls")
    quiet("IngressTLSSecretMissing", d, rs, p, svc, ing,
           kube.event(ing, "Sync", 'secret "shop/other-tls" not found'))
    # a URL webhook is outside the cluster: not ours to judge
    url = webhook("x")
    url["webhooks"][0]["clientConfig"] = {"url": "https://policy.example.com/validate"}
    quiet("WebhookServiceUnavailable", url)
    # a route its Gateway accepted with every reference resolved
    gw = obj("Gateway", "public", api="gateway.networking.k8s.io/v1", spec={})
    route = obj("HTTPRoute", "cart", api="gateway.networking.k8s.io/v1", spec={
        "parentRefs": [{"name": "public"}],
        "rules": [{"backendRefs": [{"name": "cart", "port": 80}]}]}, status={"parents": [{
            "parentRef": {"name": "public"}, "controllerName": "example.net/gateway",
            "conditions": [{"type": "Accepted", "status": "True", "reason": "Accepted"},
                           {"type": "ResolvedRefs", "status": "True",
                            "reason": "ResolvedRefs"}]}]})
    quiet("HTTPRouteUnresolved", gw, route, svc)
    # a parent Gateway not judged when Gateways were not read
    route["status"] = {}
    route["spec"]["parentRefs"] = [{"name": "pubic"}]
    quiet("HTTPRouteUnresolved", route, svc)


def test_pods_of_a_lost_claim_are_its_incident_not_stuck_creating():
    sts = statefulset()
    pvc = obj("PersistentVolumeClaim", "data-db-0", spec={"volumeName": "pv-1"},
               status={"phase": "Lost"})
    pod = kube.pod(sts, "db-0", [kube.waiting("db", "ContainerCreating")], phase="Pending",
                   created=OLD)
    pod["spec"]["volumes"] = [{"name": "data",
                               "persistentVolumeClaim": {"claimName": "data-db-0"}}]
    found = detected(sts, pvc, pod, service("db", {"app": "db"}))
    assert "PVCLost" in found and "StuckContainerCreating" not in found, set(found)


def test_ingress_without_a_class_when_no_class_is_the_default():
    d, rs, p = web()
    svc = service("cart", {"app": "cart"})
    nginx = obj("IngressClass", "nginx", ns="", api="networking.k8s.io/v1", spec={})
    inc = detected(d, rs, p, svc, nginx, ingress("cart"))["IngressClassMissing"]
    assert inc.detail == "no ingressClassName"
    assert inc.evidence.facts.ingress_classes == ["nginx"]
    # a default class serves it; so does the legacy annotation's controller
    default = obj("IngressClass", "nginx", ns="", api="networking.k8s.io/v1", spec={})
    default["metadata"]["annotations"] = {"ingressclass.kubernetes.io/is-default-class": "true"}
    quiet("IngressClassMissing", d, rs, p, svc, default, ingress("cart"))
    legacy = ingress("cart")
    legacy["metadata"]["annotations"] = {"kubernetes.io/ingress.class": "nginx"}
    quiet("IngressClassMissing", d, rs, p, svc, nginx, legacy)
    # no IngressClass readable: not judged
    quiet("IngressClassMissing", d, rs, p, svc, ingress("cart"))


def test_statefulset_governing_service_that_is_not_headless():
    standard = obj("StorageClass", "standard", ns="", api="storage.k8s.io/v1",
                    provisioner="rancher.io/local-path")
    svc = service("db", {"app": "db"})
    svc["spec"]["clusterIP"] = "10.96.12.7"
    inc = detected(statefulset(), standard, svc)["StatefulSetServiceMissing"]
    assert inc.detail == "serviceName db not headless"
    svc["spec"]["clusterIP"] = "None"
    quiet("StatefulSetServiceMissing", statefulset(), standard, svc)
