"""The scripted live scenario: a Deployment goes healthy → OOMKilled → recovered on the API
emulator while the watcher lists and watches it through the real client. Time is a fake clock
the test moves (kubelet timestamps follow it); the API traffic is real."""

from __future__ import annotations

import copy
from datetime import UTC, datetime, timedelta

from remediator.cluster import LiveCluster, LiveOptions, RawClient, WatchOptions, connect
from remediator.detect.noise import NoiseOptions
from remediator.service.watcher import Watcher
from tests.support import kube
from tests.support.kube_api import KubeAPI

WAIT = 20.0
T0 = datetime(2026, 11, 20, 10, 0, tzinfo=UTC)


def _ts(t: datetime) -> str:
    return t.strftime("%Y-%m-%dT%H:%M:%SZ")


class Clock:
    def __init__(self) -> None:
        self.now = T0

    def __call__(self) -> datetime:
        return self.now

    def at(self, minutes: float) -> datetime:
        self.now = T0 + timedelta(minutes=minutes)
        return self.now


def _sync(api: KubeAPI, live: LiveCluster, obj: dict, present: bool = True) -> None:
    """Wait until the watcher's store holds exactly what the API server holds for ``obj``."""
    r = api.resource_of(obj)
    key = (obj["metadata"]["namespace"], obj["metadata"]["name"])
    want = api.objects[r].get(key, {}).get("metadata", {}).get("resourceVersion")

    def seen() -> bool:
        got = live.store.objects.get(r.kind, {}).get(key)
        return (got is not None and got["metadata"].get("resourceVersion") == want) if present \
            else got is None

    assert live.store.wait_for(seen, WAIT)


def _oom(pod: dict, restarts: int, crashed: datetime, waiting: bool) -> dict:
    p = copy.deepcopy(pod)
    state = ({"waiting": {"reason": "CrashLoopBackOff", "message": "back-off 20s restarting "
                          "failed container=cart pod=" + p["metadata"]["name"]}}
             if waiting else {"running": {"startedAt": _ts(crashed + timedelta(seconds=20))}})
    p["status"]["containerStatuses"] = [{
        "name": "cart", "image": "ghcr.io/acme/app:1.0.0", "ready": not waiting,
        "started": not waiting, "restartCount": restarts, "state": state,
        "lastState": {"terminated": {"reason": "OOMKilled", "exitCode": 137,
                                     "startedAt": _ts(crashed - timedelta(seconds=40)),
                                     "finishedAt": _ts(crashed)}}}]
    return p


def test_healthy_then_oomkilled_then_recovered_raises_once_and_clears(tmp_path):
    clock = Clock()
    with KubeAPI(crds=()) as api:
        d = kube.deployment("cart", "shop", [kube.container("cart", memory="128Mi")])
        rs1 = kube.replicaset(d, ready=1)
        healthy = kube.pod(rs1, "cart-5d8f7c9b4-aaaaa", [kube.running("cart")],
                          created=_ts(T0))
        api.apply(d, rs1, healthy)
        api.set_log("shop", "cart-5d8f7c9b4-aaaaa", "cart",
                    "loading catalog\nallocating cache 512MiB\n", previous=True)
        client = connect(kubeconfig=str(api.kubeconfig(tmp_path / "kubeconfig")))
        live = LiveCluster(RawClient(client), "prod", LiveOptions(
            watch=WatchOptions(watch_timeout_seconds=30), clock=clock))
        live.start()
        watcher = Watcher(live, NoiseOptions(settle_seconds=120, clear_seconds=300))
        raised, cleared = [], []

        def step(minutes: float, *changes: dict, gone: tuple[dict, ...] = ()):
            clock.at(minutes)
            api.apply(*changes)
            api.delete(*gone)
            for obj in changes:
                _sync(api, live, obj)
            for obj in gone:
                _sync(api, live, obj, present=False)
            tick = watcher.tick()
            raised.extend(tick.update.raised)
            cleared.extend(tick.update.cleared)
            return tick

        try:
            api.wait_for_watchers(len(live.reflectors))
            assert not step(0).update.pending  # healthy: nothing at all
            crash = T0 + timedelta(minutes=1)
            assert step(1.2, _oom(healthy, 1, crash, waiting=True)).update.pending
            step(2, _oom(healthy, 1, crash, waiting=False))  # running between crashes
            step(2.7, _oom(healthy, 2, crash + timedelta(seconds=95), waiting=True))
            step(3.5, _oom(healthy, 2, crash + timedelta(seconds=95), waiting=False))
            assert raised == []  # still inside the settle window
            tick = step(4, _oom(healthy, 3, crash + timedelta(minutes=3), waiting=True))
            assert [(i.failure_class, str(i.workload)) for i in raised] == [
                ("OOMKilled", "Deployment shop/cart")]
            assert tick.state.logs[("shop", "cart-5d8f7c9b4-aaaaa", "cart", True)].startswith(
                "loading catalog")
            step(5, _oom(healthy, 4, crash + timedelta(minutes=4), waiting=True))

            # the fix is merged and synced: a new ReplicaSet with more memory rolls out
            d2 = copy.deepcopy(d)
            d2["spec"]["template"]["spec"]["containers"][0]["resources"]["limits"][
                "memory"] = "192Mi"
            rs2 = kube.replicaset(d2, suffix="7f6d5c4b3", ready=1, revision=2)
            fresh = kube.pod(rs2, "cart-7f6d5c4b3-bbbbb", [kube.running("cart")],
                            created=_ts(T0 + timedelta(minutes=6)))
            old_rs = copy.deepcopy(rs1)
            old_rs["spec"]["replicas"] = 0
            old_rs["status"] = {"replicas": 0}
            tick = step(6, d2, rs2, fresh, old_rs, gone=(healthy,))
            assert cleared == [] and len(tick.update.active) == 1  # not for long enough yet
            step(9)
            assert cleared == []
            step(11.5)
            assert [i.signature for i in cleared] == [raised[0].signature]
            step(15)
        finally:
            live.stop()
    assert len(raised) == 1 and len(cleared) == 1
