"""The live source against the API emulator (tests/support/kube_api.py), through the real client."""

from __future__ import annotations

import threading
from pathlib import Path

import pytest

from remediator.cluster.api import ClusterError, RawClient, connect
from remediator.cluster.live import LiveCluster, LiveOptions, LogLimits
from remediator.cluster.reflector import WatchOptions, backoff
from tests.support import kube
from tests.support.kube_api import KubeAPI

WAIT = 20.0  # generous upper bound for a background thread to catch up; never a timing assert


class Sleeps:
    """Injected sleep: records what the backoff asked for, waits only a moment."""

    def __init__(self) -> None:
        self.calls: list[float] = []
        self._event = threading.Event()

    def __call__(self, seconds: float) -> None:
        self.calls.append(seconds)
        self._event.wait(0.01)


def _live(api: KubeAPI, tmp_path: Path, sleeps: Sleeps | None = None, **options) -> LiveCluster:
    client = connect(kubeconfig=str(api.kubeconfig(tmp_path / "kubeconfig")))
    watch = WatchOptions(watch_timeout_seconds=30, sleep=sleeps or Sleeps(),
                         jitter=lambda: 0.5)
    return LiveCluster(RawClient(client), "emu", LiveOptions(watch=watch, **options))


def _cart():
    d = kube.deployment("cart", "shop", [kube.container("cart")])
    rs = kube.replicaset(d, ready=1)
    p = kube.pod(rs, "cart-5d8f7c9b4-aaaaa", [kube.running("cart")])
    return d, rs, p


def _names(live: LiveCluster, kind: str) -> set[str]:
    return {f"{o['metadata'].get('namespace', '')}/{o['metadata']['name']}"
            for o in live.items() if o["kind"] == kind}


def test_list_builds_the_snapshot_state_and_never_reads_secrets(tmp_path):
    with KubeAPI(crds=("argo",)) as api:
        d, rs, p = _cart()
        app = {"apiVersion": "argoproj.io/v1alpha1", "kind": "Application",
               "metadata": {"name": "shop", "namespace": "argocd"}, "spec": {}}
        secret = {"apiVersion": "v1", "kind": "Secret",
                  "metadata": {"name": "db", "namespace": "shop"}, "data": {"p": "aHVudGVy"}}
        api.apply(d, rs, p, app, secret, {"apiVersion": "v1", "kind": "Node",
                                          "metadata": {"name": "node-a"}})
        live = _live(api, tmp_path)
        live.list_once()
        state = live.state()
    assert [x["metadata"]["name"] for x in state.pods] == ["cart-5d8f7c9b4-aaaaa"]
    assert state.pods[0]["kind"] == "Pod"  # list items come without kind: set by the source
    assert str(state.pod_owner[("shop", "cart-5d8f7c9b4-aaaaa")]) == "Deployment shop/cart"
    assert [o["kind"] for o in state.gitops_objects()] == ["Application"]
    assert len(state.nodes) == 1
    assert not [p for p in api.paths() if "secrets" in p]
    assert any("Kustomization (kustomize.toolkit.fluxcd.io) not served" in n for n in live.notes)


def test_lists_are_paged(tmp_path):
    with KubeAPI() as api:
        d = kube.deployment("cart", "shop", [kube.container("cart")])
        rs = kube.replicaset(d)
        api.apply(*[kube.pod(rs, f"cart-x-{i:05d}", [kube.running("cart")]) for i in range(1201)])
        live = _live(api, tmp_path)
        live.list_once()
        pod_lists = [q for m, p, q in api.requests if p == "/api/v1/pods"]
    assert len(_names(live, "Pod")) == 1201
    assert [q.get("continue", "") != "" for q in pod_lists] == [False, True, True]


def test_namespace_scope_is_applied_by_the_server(tmp_path):
    with KubeAPI() as api:
        api.apply(*_cart(), kube.pod(kube.replicaset(kube.deployment("x", "kube-system", [])),
                                    "x-1", []))
        live = _live(api, tmp_path, exclude_namespaces=["kube-system"])
        live.list_once()
        queries = [q for m, p, q in api.requests if p == "/api/v1/pods"]
        only = _live(api, tmp_path, namespaces=["shop"])
        only.list_once()
    assert queries[0]["fieldSelector"] == "metadata.namespace!=kube-system"
    assert _names(live, "Pod") == {"shop/cart-5d8f7c9b4-aaaaa"}
    assert "/api/v1/namespaces/shop/pods" in api.paths()
    assert "/api/v1/nodes" in api.paths()  # nodes stay cluster-wide
    assert _names(only, "Pod") == {"shop/cart-5d8f7c9b4-aaaaa"}


def test_watch_follows_adds_updates_deletes_bookmarks_410_and_drops(tmp_path):
    sleeps = Sleeps()
    with KubeAPI(crds=(), bookmark_every=3600) as api:
        d, rs, p = _cart()
        api.apply(d, rs)
        live = _live(api, tmp_path, sleeps)
        live.start()
        try:
            pods = next(r for r in live.reflectors if r.kind.kind == "Pod")
            api.wait_for_watchers(len(live.reflectors))
            api.apply(p)  # ADDED
            assert live.store.wait_for(lambda: "shop/cart-5d8f7c9b4-aaaaa" in _names(
                live, "Pod"), WAIT)
            p["status"]["phase"] = "Failed"
            api.apply(p)  # MODIFIED
            assert live.store.wait_for(lambda: any(
                o["status"]["phase"] == "Failed" for o in live.items() if o["kind"] == "Pod"),
                WAIT)

            api.apply({"apiVersion": "v1", "kind": "Node", "metadata": {"name": "n"}})
            api.send_bookmarks()  # the pod watch's version moves past the node change
            assert live.store.wait_for(lambda: pods.stats["bookmarks"] >= 1
                                       and int(pods.resource_version) == api.rv, WAIT)

            api.apply({"apiVersion": "v1", "kind": "Node", "metadata": {"name": "m"}})
            api.compact()  # the pod watch's version (before the node change) is now too old
            api.drop_watches()  # every stream is cut; the reconnect from the old version: 410
            api.apply(kube.pod(rs, "cart-5d8f7c9b4-bbbbb", [kube.running("cart")]))
            assert live.store.wait_for(lambda: pods.stats["relists"] >= 1 and len(
                _names(live, "Pod")) == 2, WAIT)
            assert pods.stats["errors"] >= 1 and sleeps.calls  # the cut stream backed off

            api.delete(p)  # DELETED, seen through the new watch after the relist
            assert live.store.wait_for(
                lambda: _names(live, "Pod") == {"shop/cart-5d8f7c9b4-bbbbb"}, WAIT)
        finally:
            live.stop()


def test_failing_requests_back_off_with_jitter(tmp_path):
    sleeps = Sleeps()
    with KubeAPI(crds=()) as api:
        live = _live(api, tmp_path, sleeps)
        live.list_once()
        pods = next(r for r in live.reflectors if r.kind.kind == "Pod")
        api.fail_next = [500, 500, 503]
        stop = threading.Event()
        t = threading.Thread(target=pods.run, args=(stop,))
        t.start()
        assert live.store.wait_for(lambda: pods.stats["errors"] >= 3 and pods.stats[
            "watches"] >= 4, WAIT)
        stop.set()
        live.raw.close_streams()
        t.join(WAIT)
    o = WatchOptions(backoff_initial=0.5, backoff_max=30, jitter=lambda: 0.5)
    assert sleeps.calls[:3] == [backoff(1, o), backoff(2, o), backoff(3, o)] == [
        0.375, 0.75, 1.5]
    assert backoff(20, WatchOptions(backoff_max=30, jitter=lambda: 0.999)) < 30


def test_resync_relists_periodically(tmp_path):
    clock = [0.0]
    with KubeAPI(crds=(), bookmark_every=0.05) as api:
        client = connect(kubeconfig=str(api.kubeconfig(tmp_path / "kubeconfig")))
        watch = WatchOptions(resync_seconds=10, watch_timeout_seconds=1, sleep=Sleeps(),
                             monotonic=lambda: clock[0])
        live = LiveCluster(RawClient(client), "emu", LiveOptions(watch=watch))
        live.list_once()
        pods = next(r for r in live.reflectors if r.kind.kind == "Pod")
        stop = threading.Event()
        t = threading.Thread(target=pods.run, args=(stop,))
        t.start()
        assert live.store.wait_for(lambda: pods.stats["watches"] >= 2, WAIT)
        assert pods.stats["lists"] == 1  # watches renewed from the version, no relist
        clock[0] = 11.0  # the resync period has passed: the next round relists
        assert live.store.wait_for(lambda: pods.stats["lists"] >= 2, WAIT)
        stop.set()
        live.raw.close_streams()
        t.join(WAIT)


def test_context_selection_and_unusable_configuration(tmp_path):
    with KubeAPI() as api:
        path = str(api.kubeconfig(tmp_path / "kubeconfig"))
        assert RawClient(connect("emulator", path)).host == api.url
        assert "127.0.0.1:9" in RawClient(connect("decoy", path)).host
        with pytest.raises(ClusterError, match="context nope"):
            connect("nope", path)
        with pytest.raises(ClusterError, match=r"cannot reach http://127\.0\.0\.1:9"):
            LiveCluster(RawClient(connect("decoy", path), timeout=2), "x").list_once()


def test_logs_current_and_previous_bounded_and_redacted(tmp_path):
    with KubeAPI() as api:
        d, rs, p = _cart()
        api.apply(d, rs, p)
        lines = [f"line {i}" for i in range(500)]
        api.set_log("shop", p["metadata"]["name"], "cart", "\n".join(lines) + "\n")
        api.set_log("shop", p["metadata"]["name"], "cart",
                    "boot\npassword=hunter2\nfatal: out of memory\n", previous=True)
        live = _live(api, tmp_path, logs=LogLimits(tail_lines=50, limit_bytes=100))
        logs = live.fetch_logs([("shop", p["metadata"]["name"], "cart"),
                                ("shop", "gone", "cart")])
    current = logs[("shop", "cart-5d8f7c9b4-aaaaa", "cart", False)]
    assert current.startswith("line 450\n") and len(current.encode()) <= 100
    previous = logs[("shop", "cart-5d8f7c9b4-aaaaa", "cart", True)]
    assert "hunter2" not in previous and "fatal: out of memory" in previous
    assert len(logs) == 2


def test_readme_cluster_role_covers_every_watched_kind_and_no_secrets():
    import yaml

    from remediator.cluster.api import CORE_KINDS, GITOPS_KINDS
    from remediator.cluster.config_kinds import OPTIONAL_KINDS

    readme = (Path(__file__).parents[2] / "docs" / "watcher.md").read_text()
    block = readme.split("kind: ClusterRole\n", 1)[1].split("```", 1)[0]
    role = yaml.safe_load("kind: ClusterRole\n" + block)
    granted = {(g, r, v) for rule in role["rules"] for g in rule["apiGroups"]
               for r in rule["resources"] for v in rule["verbs"]}
    wanted = [(k.group, k.plural) for k in (*CORE_KINDS, *OPTIONAL_KINDS)] + [
        (g, p) for g, p, _ in GITOPS_KINDS]
    for group, plural in wanted:
        assert {(group, plural, v) for v in ("get", "list", "watch")} <= granted, plural
    assert ("", "pods/log", "get") in granted
    assert not [g for g in granted if "secret" in g[1]]


def test_emulator_selectors_through_the_typed_client(tmp_path):
    from kubernetes import client as k8s_client

    with KubeAPI() as api:
        _, rs, _ = _cart()
        p = kube.pod(rs, "cart-5d8f7c9b4-aaaaa", [])  # typed models insist on a full status
        other = kube.pod(rs, "cart-5d8f7c9b4-bbbbb", [])
        other["metadata"]["labels"] = {"app": "cart", "tier": "canary"}
        p["metadata"]["labels"] = {"app": "cart", "tier": "stable"}
        api.apply(p, other, kube.pod(kube.replicaset(kube.deployment("x", "ops", [])), "x-1", []))
        core = k8s_client.CoreV1Api(connect(kubeconfig=str(api.kubeconfig(tmp_path / "k"))))

        def names(**kw) -> list[str]:
            return sorted(i.metadata.name for i in core.list_pod_for_all_namespaces(**kw).items)

        assert names(label_selector="tier in (canary),app=cart") == ["cart-5d8f7c9b4-bbbbb"]
        assert names(label_selector="tier!=canary,app") == ["cart-5d8f7c9b4-aaaaa"]
        assert names(label_selector="!tier") == ["x-1"]
        assert names(field_selector="metadata.namespace!=shop") == ["x-1"]
        assert names(field_selector="metadata.name=x-1,metadata.namespace=ops") == ["x-1"]
