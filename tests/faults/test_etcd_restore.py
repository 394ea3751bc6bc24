"""Fault class 4: the API server restored from an etcd backup (resourceVersions back below what the
watches had reached). The live source must relist and see what fails after the restore within a
few watch requests, not at the next periodic resync (15 minutes by default).

Real parts: the API emulator over HTTP (tests/support/kube_api.py, answering as the watch cache
does) and the official `kubernetes` client underneath the live source.
"""

from __future__ import annotations

import json
import threading
from pathlib import Path

import pytest
from kubernetes import client as k8s_client
from kubernetes import watch as k8s_watch

from remediator.cluster.api import ApiError, RawClient, connect
from remediator.cluster.live import LiveCluster, LiveOptions
from remediator.cluster.reflector import WatchOptions, version_unusable
from tests.support import kube
from tests.support.kube_api import KubeAPI

WAIT = 60.0  # a hang guard for background threads, never a timing assert
#: watch requests of the pod reflector after the restore within which the failure must be seen:
#: the reconnect (refused or rewritten), then the one after the relist
WATCH_CYCLES = 4


class Sleeps:
    """The backoff's sleep: recorded, a moment long (the test does not wait for real backoff)."""

    def __init__(self) -> None:
        self.calls: list[float] = []
        self._event = threading.Event()

    def __call__(self, seconds: float) -> None:
        self.calls.append(seconds)
        self._event.wait(0.01)


def _shop() -> tuple[dict, dict]:
    d = kube.deployment("cart", "shop", [kube.container("cart")])
    return d, kube.replicaset(d, ready=1)


def _pods(live: LiveCluster) -> dict[str, dict]:
    return {o["metadata"]["name"]: o for o in live.items() if o["kind"] == "Pod"}


@pytest.mark.parametrize("answer", ["event", "status", "ignored"])
def test_a_failure_after_an_etcd_restore_is_seen_within_a_few_watch_requests(
        tmp_path: Path, answer: str):
    sleeps = Sleeps()
    with KubeAPI(crds=(), bookmark_every=0.05) as api:
        api.too_large = answer
        d, rs = _shop()
        api.apply(d, rs, kube.pod(rs, "cart-5d8f7c9b4-aaaaa", [kube.running("cart")]))
        backup = api.backup()
        # after the backup: a pod comes and goes is replaced, the cluster moves on
        api.apply(kube.pod(rs, "cart-5d8f7c9b4-later", [kube.running("cart")]))
        api.apply(*({"apiVersion": "v1", "kind": "Node", "metadata": {"name": f"n{i}"}}
                    for i in range(5)))
        raw = RawClient(connect(kubeconfig=str(api.kubeconfig(tmp_path / "kubeconfig"))))
        live = LiveCluster(raw, "emu", LiveOptions(watch=WatchOptions(
            watch_timeout_seconds=30, sleep=sleeps, jitter=lambda: 0.5)))  # resync: 15 min
        live.start()
        try:
            pods = next(r for r in live.reflectors if r.kind.kind == "Pod")
            api.wait_for_watchers(len(live.reflectors))
            assert int(pods.resource_version) > backup.rv

            api.restore(backup)  # etcd restored: the API server's versions went back
            before, slept = pods.stats["watches"], len(sleeps.calls)
            failing = kube.pod(rs, "cart-5d8f7c9b4-bbbbb", [kube.crashing("cart")])
            api.apply(failing)  # fails after the restore, at a version below the watch's
            assert api.rv < int(pods.resource_version)

            def seen() -> bool:
                return "cart-5d8f7c9b4-bbbbb" in _pods(live)

            live.store.wait_for(lambda: seen() or pods.stats["watches"] - before
                                > WATCH_CYCLES, WAIT)
            assert seen(), (pods.stats, pods.last_error)
            assert pods.stats["watches"] - before <= WATCH_CYCLES
            # relisted, so the store is the restored cluster's: what came after the backup is
            # gone, and the watch goes on from the server's own (lower) version
            assert live.store.wait_for(lambda: "cart-5d8f7c9b4-later" not in _pods(live), WAIT)
            assert pods.stats["relists"] >= 1 and pods.stats["lists"] >= 2
            assert len(sleeps.calls) > slept  # the relist came after a backoff, not at once
            assert int(pods.resource_version) <= api.rv
            api.apply(kube.pod(rs, "cart-5d8f7c9b4-ccccc", [kube.running("cart")]))
            assert live.store.wait_for(lambda: "cart-5d8f7c9b4-ccccc" in _pods(live), WAIT)
        finally:
            live.stop()


def test_repeated_refusals_back_off_exponentially_between_relists(tmp_path: Path):
    """An API server whose watch cache lags behind etcd (an HA replica) refuses watches from the
    version its own quorum list gave: each relist is followed by a longer wait, never a tight
    loop against the API server."""
    sleeps = Sleeps()
    with KubeAPI(crds=(), bookmark_every=3600) as api:
        api.apply(*_shop())
        api.too_large, api.fresh_wait, api.cache_lag = "status", 0.0, 5
        raw = RawClient(connect(kubeconfig=str(api.kubeconfig(tmp_path / "kubeconfig"))))
        live = LiveCluster(raw, "emu", LiveOptions(watch=WatchOptions(
            watch_timeout_seconds=30, sleep=sleeps, jitter=lambda: 0.5)))
        live.list_once()
        pods = next(r for r in live.reflectors if r.kind.kind == "Pod")
        stop = threading.Event()
        t = threading.Thread(target=pods.run, args=(stop,))
        t.start()
        assert live.store.wait_for(lambda: pods.stats["relists"] >= 4, WAIT)
        stop.set()
        raw.close_streams()
        t.join(WAIT)
    assert pods.stats["lists"] >= 4  # relisted each time, never retried the refused version
    assert sleeps.calls[:4] == [0.375, 0.75, 1.5, 3.0]  # 0.5 s doubling, jitter 0.5


@pytest.mark.parametrize(("status", "message", "reason", "causes", "unusable"), [
    (504, "Timeout: Too large resource version: 9, current: 5", "Timeout",
     ("ResourceVersionTooLarge", "Too large resource version"), True),
    (504, "Timeout: Too large resource version: 9, current: 5", "Timeout", (), True),  # < 1.17.6
    (500, "Too large resource version: 9, current: 5", "InternalError", (), True),
    (410, "too old resource version: 3 (5)", "Expired", (), True),
    (500, "too old resource version: 3 (5)", "", (), True),
    (504, "Timeout: request did not complete within 60s", "Timeout", (), False),
    (500, "etcdserver: leader changed", "InternalError", (), False),
    (0, "cannot reach https://10.0.0.1", "", (), False),
])
def test_which_errors_say_the_version_is_unusable(status, message, reason, causes, unusable):
    assert version_unusable(ApiError(status, message, reason, causes)) is unusable


def test_the_emulator_answers_a_too_large_version_as_the_api_server_does(tmp_path: Path):
    """Through the official client's typed API and its Watch helper: the list's 504 with
    `Retry-After`, and the watch cache's ERROR event, both with the `ResourceVersionTooLarge`
    cause; a watch from the restored server's own version works."""
    with KubeAPI(crds=()) as api:
        api.apply(*_shop())
        backup = api.backup()
        api.apply(kube.pod(_shop()[1], "cart-x", [kube.running("cart")]))
        ahead = str(api.rv)
        api.restore(backup)
        api.fresh_wait = 0.0
        v1 = k8s_client.CoreV1Api(connect(kubeconfig=str(api.kubeconfig(tmp_path / "kc"))))
        with pytest.raises(k8s_client.ApiException) as refused:
            v1.list_namespaced_pod("shop", resource_version=ahead,
                                   resource_version_match="NotOlderThan")
        assert refused.value.status == 504 and refused.value.headers["Retry-After"] == "1"
        body = refused.value.body
        assert '"reason": "Timeout"' in body and '"ResourceVersionTooLarge"' in body
        with pytest.raises(k8s_client.ApiException) as stopped:
            list(k8s_watch.Watch().stream(v1.list_namespaced_pod, "shop",
                                          resource_version=ahead, timeout_seconds=5))
        assert stopped.value.status == 504 and "Too large resource version" in str(
            stopped.value.reason)
        raw = RawClient(v1.api_client)
        (line,) = raw.watch_lines("/api/v1/namespaces/shop/pods", {"resourceVersion": ahead}, 5)
        event = json.loads(line)
        status = event["object"]
        assert event["type"] == "ERROR" and (status["code"], status["reason"]) == (504, "Timeout")
        assert status["details"]["causes"][0]["reason"] == "ResourceVersionTooLarge"
        assert status["message"] == f"Timeout: Too large resource version: {ahead}, " \
                                    f"current: {backup.rv}"
        listed = v1.list_namespaced_pod("shop")
        assert listed.metadata.resource_version == str(backup.rv) and not listed.items
