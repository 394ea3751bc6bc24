"""The optional kinds (cluster/config_kinds.py) through the real client against the API
emulator: listed when allowed, dropped with one note when forbidden or not served, and the
configuration failures they reveal detected from the live state."""

from __future__ import annotations

from datetime import UTC, datetime

from remediator.cluster.api import RawClient, connect
from remediator.cluster.live import LiveCluster, LiveOptions
from remediator.detect import detect
from tests.support import kube
from tests.support.kube_api import KubeAPI

OLD = "2026-11-19T10:00:00Z"


def _objects():
    d = kube.deployment("cart", "shop", [kube.container("cart")])
    rs = kube.replicaset(d, ready=1)
    p = kube.pod(rs, "cart-5d8f7c9b4-aaaaa", [kube.running("cart")])
    p["metadata"]["labels"] = {"app": "cart"}
    svc = {"apiVersion": "v1", "kind": "Service",
           "metadata": {"name": "cart", "namespace": "shop", "creationTimestamp": OLD},
           "spec": {"selector": {"app": "carts"}, "ports": [{"port": 80}]}}
    pdb = {"apiVersion": "policy/v1", "kind": "PodDisruptionBudget",
           "metadata": {"name": "cart", "namespace": "shop", "creationTimestamp": OLD},
           "spec": {"minAvailable": 1, "selector": {"matchLabels": {"app": "cart"}}},
           "status": {"disruptionsAllowed": 0, "expectedPods": 1, "desiredHealthy": 1,
                      "currentHealthy": 1}}
    return d, rs, p, svc, pdb


def test_optional_kinds_listed_forbidden_or_absent(tmp_path):
    with KubeAPI(crds=()) as api:
        api.apply(*_objects())
        api.forbidden = {"poddisruptionbudgets"}  # an older ClusterRole
        client = connect(kubeconfig=str(api.kubeconfig(tmp_path / "kubeconfig")))
        live = LiveCluster(RawClient(client), "emu", LiveOptions(
            clock=lambda: datetime(2026, 11, 20, 10, 30, tzinfo=UTC)))
        live.list_once()
        state = live.state()
    classes = {i.failure_class: i for i in detect(state)}
    assert classes["ServiceSelectorMismatch"].detail == "selector app=carts"
    assert "PDBBlocksDisruption" not in classes  # not readable: not claimed either way
    notes = "\n".join(live.notes)
    assert "PodDisruptionBudget (policy/v1) not readable (HTTP 403)" in notes
    assert "HTTPRoute (gateway.networking.k8s.io/v1) not served" in notes
    assert not [p for p in api.paths() if "secrets" in p or "configmaps" in p]


def test_snapshot_captures_the_configuration_kinds(tmp_path):
    """`remediator snapshot` keeps what the configuration classes read, so a plan on the
    snapshot finds the same failures (and still no Secret or ConfigMap)."""
    import json

    from remediator.cluster.snapshot import load_snapshot
    from remediator.service.watcher import capture_snapshot

    ingress = {"apiVersion": "networking.k8s.io/v1", "kind": "Ingress",
               "metadata": {"name": "shop", "namespace": "shop", "creationTimestamp": OLD},
               "spec": {"rules": [{"http": {"paths": [{"path": "/", "pathType": "Prefix",
                                                        "backend": {"service": {
                                                            "name": "cart", "port": {
                                                                "number": 80}}}}]}}]}}
    with KubeAPI(crds=()) as api:
        api.apply(*_objects(), ingress, {"apiVersion": "v1", "kind": "ConfigMap", "metadata": {
            "name": "cart", "namespace": "shop"}, "data": {"k": "v"}})
        client = connect(kubeconfig=str(api.kubeconfig(tmp_path / "kubeconfig")))
        live = LiveCluster(RawClient(client), "emu", LiveOptions(
            clock=lambda: datetime(2026, 11, 20, 10, 30, tzinfo=UTC)))
        capture_snapshot(live, tmp_path / "snap")
    kinds = {i["kind"] for i in json.loads((tmp_path / "snap" / "cluster.json").read_text())[
        "items"]}
    assert {"Service", "PodDisruptionBudget", "Ingress"} <= kinds, kinds
    assert not {"Secret", "ConfigMap"} & kinds
    state = load_snapshot(tmp_path / "snap")
    found = {i.failure_class for i in detect(state)}
    assert {"ServiceSelectorMismatch", "PDBBlocksDisruption"} <= found, found
