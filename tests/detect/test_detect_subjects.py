"""`detect_subjects`: a detection scoped to some workloads gives, for every subject it covers,
exactly the incidents a full `detect` of the same state gives (what the live detection relies
on), whichever workloads are asked for; a scope classifies only its own pods."""

from __future__ import annotations

import json
import random
from pathlib import Path
from typing import Any

from remediator.cli.demo import example_paths
from remediator.cluster.snapshot import build_state
from remediator.detect import detect, detect_subjects
from remediator.model import ClusterState, ObjectRef
from tests.support import kube
from tests.support.scale import make_snapshot

OLD = "2026-11-19T10:00:00Z"
#: the clock of the state (detect's "now" is the newest time it holds)
CLOCK = {"apiVersion": "v1", "kind": "Event", "metadata": {"name": "clock", "namespace": "x"},
         "involvedObject": {"kind": "Namespace", "name": "x"}, "reason": "Clock",
         "lastTimestamp": kube.NOW}


def _obj(kind: str, name: str, ns: str = "shop", api: str = "v1", **body: Any) -> dict:
    meta: dict[str, Any] = {"name": name, "uid": kube.uid(), "creationTimestamp": OLD}
    if ns:
        meta["namespace"] = ns
    return {"apiVersion": api, "kind": kind, "metadata": meta, **body}


def _service(name: str, selector: dict[str, str], ns: str = "shop") -> dict:
    return _obj("Service", name, ns, spec={"selector": selector,
                                           "ports": [{"name": "http", "port": 80}]})


def _sts(storage_class: str) -> dict:
    return _obj("StatefulSet", "db", api="apps/v1", spec={
        "serviceName": "db", "replicas": 1, "selector": {"matchLabels": {"app": "db"}},
        "template": {"metadata": {"labels": {"app": "db"}},
                     "spec": {"containers": [kube.container("db")]}},
        "volumeClaimTemplates": [{"metadata": {"name": "data"}, "spec": {
            "storageClassName": storage_class, "accessModes": ["ReadWriteOnce"],
            "resources": {"requests": {"storage": "1Gi"}}}}]}, status={})


def _webhook(service: str) -> dict:
    return _obj("ValidatingWebhookConfiguration", "policy", ns="",
                api="admissionregistration.k8s.io/v1", webhooks=[{
                    "name": "validate.policy.example.com", "failurePolicy": "Fail",
                    "clientConfig": {"service": {"namespace": "policy", "name": service}}}])


def _state(tmp_path: Path) -> ClusterState:
    """The example cluster, 40 generated failing workloads, and configuration failures: a claim
    whose volume is lost, a missing StorageClass, a webhook without its Service, a Service
    selecting nothing, a pod its Service does select."""
    _, example = example_paths()
    items = json.loads((example / "cluster.json").read_text())["items"]
    items += json.loads((make_snapshot(tmp_path / "scale", 40) / "cluster.json").read_text())[
        "items"]
    sts = _sts(storage_class="fast-ssd")
    pvc = _obj("PersistentVolumeClaim", "data-db-0", spec={"volumeName": "pv-1"},
               status={"phase": "Lost"})
    pod = kube.pod(sts, "db-0", [kube.waiting("db", "ContainerCreating")], phase="Pending")
    pod["spec"]["volumes"] = [{"name": "data",
                               "persistentVolumeClaim": {"claimName": "data-db-0"}}]
    standard = _obj("StorageClass", "standard", ns="", api="storage.k8s.io/v1",
                    provisioner="rancher.io/local-path")
    web = kube.deployment("web", "shop", [kube.container("web")])
    web_rs = kube.replicaset(web, ready=1)
    web_pod = kube.pod(web_rs, "web-5d8f7c9b4-aaaaa", [kube.running("web")])
    web_pod["metadata"]["labels"] = {"app": "web"}
    items += [sts, pvc, pod, standard, _webhook("policy-webhok"), CLOCK,
              _service("kubernetes", {}, ns="default"),
              _service("ghost", {"app": "ghost"}), _service("web", {"app": "web"}),
              web, web_rs, web_pod]
    return build_state(items, "default")


def _subjects(state: ClusterState) -> list[ObjectRef]:
    return sorted(set(state.pod_owner.values()) | {i.workload for i in detect(state)}, key=str)


def test_every_scope_gives_what_a_full_detect_gives_for_the_subjects_it_covers(tmp_path):
    state = _state(tmp_path)
    full = detect(state)
    classes = {i.failure_class for i in full}
    assert {"PVCLost", "StorageClassMissing", "WebhookServiceUnavailable",
            "ServiceSelectorMismatch", "OOMKilled", "JobFailed"} <= classes
    subjects = _subjects(state)
    scopes: list[set[ObjectRef]] = [set(), *({s} for s in subjects)]
    rng = random.Random(20)
    scopes += [set(rng.sample(subjects, k)) for k in (2, 5, 20) for _ in range(5)]
    for scope in scopes:
        got = detect_subjects(state, None, scope)
        assert got.subjects is not None and scope <= got.subjects
        assert got.object_subjects <= got.subjects
        assert got.incidents == [i for i in full if i.workload in got.subjects], scope


def test_a_scope_classifies_only_its_own_pods(tmp_path):
    state = _state(tmp_path)
    web = next(s for s in _subjects(state) if s.name == "web")
    got = detect_subjects(state, None, {web})
    assert web in got.subjects
    # the subjects of object-level findings come along; the other workloads do not
    assert got.subjects == {web} | got.object_subjects
    assert len(got.subjects) < len(set(state.pod_owner.values()))
    assert detect_subjects(state).subjects is None
