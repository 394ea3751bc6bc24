"""Event-driven live detection (service/detection.py) against the API emulator: after every kind
of change a watch brings, the incidents kept by re-detecting only the workloads it touched are the
ones a full `detect` of the same view gives; relists (410 Gone) and broken streams are caught up;
Secrets are never asked for. Rounds are run with ``tick()`` on a fixed clock: no timing."""

from __future__ import annotations

import contextlib
import copy
import io
import json
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from remediator.cli.demo import example_paths
from remediator.cluster import LiveCluster, LiveOptions, RawClient, WatchOptions, connect
from remediator.detect import detect
from remediator.detect.noise import NoiseOptions
from remediator.model import Incident
from remediator.service.detection import LiveDetector
from remediator.service.observe import JsonLog, Metrics
from tests.support import kube
from tests.support.kube_api import KubeAPI

_, SNAPSHOT = example_paths()
NOW = datetime(2026, 11, 20, 10, 29, 58, tzinfo=UTC)  # the example snapshot's "now"
WAIT = 30.0


def _items() -> list[dict[str, Any]]:
    return json.loads((SNAPSHOT / "cluster.json").read_text())["items"]


def _find(kind: str, name_prefix: str) -> dict[str, Any]:
    return next(i for i in _items() if i["kind"] == kind
                and i["metadata"]["name"].startswith(name_prefix))


def _sync(api: KubeAPI, live: LiveCluster, obj: dict, present: bool = True) -> None:
    """Wait until the live store holds what the API server holds for ``obj`` (a wait for a
    condition, not a timed assert: the bound only keeps a broken run from hanging)."""
    r = api.resource_of(obj)
    key = (obj["metadata"].get("namespace", "") if r.namespaced else "", obj["metadata"]["name"])
    want = api.objects[r].get(key, {}).get("metadata", {}).get("resourceVersion")

    def seen() -> bool:
        got = live.store.objects.get(r.kind, {}).get(key)
        return (got is not None and got["metadata"].get("resourceVersion") == want) if present \
            else got is None

    assert live.store.wait_for(seen, WAIT)


def _comparable(incidents: list[Incident]) -> list[tuple[str, str, list[str], Any]]:
    """Everything detect says of each incident, without what the noise tracker adds."""
    out = []
    for i in sorted(incidents, key=lambda i: i.signature):
        evidence = copy.deepcopy(i.evidence)
        evidence.facts.first_seen = None
        evidence.facts.flapping = None
        out.append((i.signature, i.message, i.pods, evidence))
    return out


def _kept(detector: LiveDetector) -> list[Incident]:
    return [i for incidents in detector.by_subject.values() for i in incidents]


@contextlib.contextmanager
def _watching(tmp_path: Path, bookmark_every: float = 1.0) -> Iterator[tuple[KubeAPI,
                                                                             LiveCluster]]:
    with KubeAPI(bookmark_every=bookmark_every) as api:
        api.apply(*_items())
        client = connect(kubeconfig=str(api.kubeconfig(tmp_path / "kubeconfig")))
        live = LiveCluster(RawClient(client), "default", LiveOptions(
            watch=WatchOptions(watch_timeout_seconds=30, backoff_initial=0.01,
                               backoff_max=0.05),
            clock=lambda: NOW))
        live.start()
        try:
            api.wait_for_watchers(len(live.reflectors))
            yield api, live
        finally:
            live.stop()


@pytest.fixture
def watched(tmp_path: Path) -> Iterator[tuple[KubeAPI, LiveCluster]]:
    with _watching(tmp_path) as both:
        yield both


def _crashing(pod: dict, code: int) -> dict:
    p = copy.deepcopy(pod)
    name = p["spec"]["containers"][0]["name"]
    p["status"]["phase"] = "Running"
    p["status"]["containerStatuses"] = [kube.crashing(
        name, reason="Error", code=code, finished="2026-11-20T10:28:00Z")]
    return p


def _healthy(pod: dict) -> dict:
    p = copy.deepcopy(pod)
    p["status"]["phase"] = "Running"
    p["status"]["containerStatuses"] = [kube.running(c["name"])
                                        for c in p["spec"]["containers"]]
    return p


def test_incremental_detection_equals_a_full_detect_after_each_change(watched):
    api, live = watched
    log = io.StringIO()
    metrics = Metrics()
    detector = LiveDetector(live, NoiseOptions(settle_seconds=0), log=JsonLog(log),
                            metrics=metrics)
    first = detector.tick()
    assert first.full
    assert _comparable(_kept(detector)) == _comparable(detect(live.state()))
    assert len(first.update.raised) == 8  # the example's incidents, raised at once

    cart = _find("Pod", "cart-")
    frontend = _find("Pod", "frontend-")
    payments = _find("Pod", "payments-")
    checkout = _find("Pod", "checkout-")
    node = _find("Node", "")
    shop_dep = kube.deployment("ghosts", "shop", [kube.container("ghost")])
    shop_rs = kube.replicaset(shop_dep, ready=1)
    orphan = kube.pod(shop_rs, "ghosts-5d8f7c9b4-aaaaa", [kube.running("ghost")])
    orphan = _crashing(orphan, 3)
    lonely = {"apiVersion": "v1", "kind": "Service", "metadata": {
        "name": "lonely", "namespace": "shop", "uid": "uid-lonely",
        "creationTimestamp": "2026-11-01T00:00:00Z"},
        "spec": {"selector": {"app": "lonely"}, "ports": [{"port": 80}]}}
    lonely_pod = {"apiVersion": "v1", "kind": "Pod", "metadata": {
        "name": "lonely-1", "namespace": "shop", "uid": "uid-lonely-1",
        "labels": {"app": "lonely"}, "creationTimestamp": "2026-11-20T09:00:00Z"},
        "spec": {"containers": [{"name": "web", "image": "nginx:1.27"}], "nodeName": "x"},
        "status": {"phase": "Running", "containerStatuses": [kube.running("web")]}}
    bigger = copy.deepcopy(node)
    bigger["status"]["allocatable"]["memory"] = "64Gi"
    steps: list[tuple[str, list[dict], list[dict]]] = [
        ("a failing pod recovers", [_healthy(cart)], []),
        ("a healthy pod starts crash-looping", [_crashing(frontend, 2)], []),
        ("a failing pod is deleted", [], [payments]),
        ("an event about a pod", [kube.event(checkout, "Unhealthy",
                                             "Liveness probe failed: timeout", count=9)], []),
        ("a pod whose owners are not there yet", [orphan], []),
        ("its owners arrive: the incident moves to the Deployment", [shop_dep, shop_rs], []),
        ("a node changes", [bigger], []),
        ("a Service that selects nothing", [lonely], []),
        ("a pod it selects appears", [lonely_pod], []),
        ("the pod goes again", [], [lonely_pod]),
    ]
    for what, changes, gone in steps:
        api.apply(*changes)
        api.delete(*gone)
        for obj in changes:
            _sync(api, live, obj)
        for obj in gone:
            _sync(api, live, obj, present=False)
        done = detector.tick()
        assert not done.full, what
        # the changed workloads and the two object-level subjects (the failed CronJob, the
        # ReplicaSet that cannot create pods); a node re-detects those with incidents
        assert 0 < done.subjects <= (12 if what == "a node changes" else 5), what
        assert _comparable(_kept(detector)) == _comparable(detect(live.state())), what

    signatures = {i.signature for i in _kept(detector)}
    assert "default/shop/Deployment/frontend/CrashLoopBackOff/frontend/Error exit code 2" \
        in signatures
    assert "default/shop/Deployment/ghosts/CrashLoopBackOff/ghost/Error exit code 3" \
        in signatures
    assert not [s for s in signatures if "/Pod/ghosts-" in s]  # moved to its Deployment
    assert [s for s in signatures if s.startswith("default/shop/Service/lonely/")]
    raised = [json.loads(line) for line in log.getvalue().splitlines()
              if json.loads(line)["event"] == "raised"]
    crash = next(r for r in raised if r["signature"].endswith("Error exit code 2"))
    assert crash["message"] == "incident raised" and crash["latency_seconds"] >= 0
    exposition = metrics.exposition().decode()
    assert "remediator_incidents_raised_total" in exposition
    assert "remediator_detection_latency_seconds_bucket" in exposition


def test_a_relist_after_410_catches_up_with_a_full_round(tmp_path: Path):
    """A watch that cannot resume (history compacted: 410 Gone) relists; the detection then
    runs a full round: what changed while no watch was open is seen."""
    with _watching(tmp_path, bookmark_every=3600) as (api, live):  # no bookmark moves it on
        detector = LiveDetector(live, NoiseOptions(settle_seconds=0))
        detector.tick()
        pods = next(r for r in live.reflectors if r.kind.kind == "Pod")
        api.apply({"apiVersion": "v1", "kind": "Node", "metadata": {"name": "late"}})
        api.compact()  # the pod watch's version (before the node) is now too old
        frontend = _crashing(_find("Pod", "frontend-"), 7)
        api.apply(frontend)
        api.drop_watches()  # the reconnect from the old version: 410, then a relist
        assert live.store.wait_for(lambda: pods.stats["relists"] >= 1, WAIT)
        _sync(api, live, frontend)
        done = detector.tick()
        assert done.full
        assert "default/shop/Deployment/frontend/CrashLoopBackOff/frontend/Error exit code 7" \
            in {i.signature for i in done.update.raised}
        assert _comparable(_kept(detector)) == _comparable(detect(live.state()))


def test_a_broken_stream_resumes_and_the_change_is_detected_incrementally(watched):
    api, live = watched
    detector = LiveDetector(live, NoiseOptions(settle_seconds=0))
    detector.tick()
    pods = next(r for r in live.reflectors if r.kind.kind == "Pod")
    watches = pods.stats["watches"]
    api.drop_watches()  # cut mid-chunk, like a dying API server: resume from the version
    assert live.store.wait_for(lambda: pods.stats["watches"] > watches, WAIT)
    frontend = _crashing(_find("Pod", "frontend-"), 9)
    api.apply(frontend)
    _sync(api, live, frontend)
    done = detector.tick()
    assert not done.full and pods.stats["relists"] == 0
    assert "default/shop/Deployment/frontend/CrashLoopBackOff/frontend/Error exit code 9" in {
        i.signature for i in done.update.raised}


def test_the_detection_thread_raises_from_watch_events_and_reads_no_secrets(watched):
    """The thread itself (no ``tick()`` from the test): a change is raised by the thread, seen
    through the log it writes; the only wait is for that line (bounded, not a timed assert)."""
    api, live = watched
    lines = io.StringIO()
    detector = LiveDetector(live, NoiseOptions(settle_seconds=0), log=JsonLog(lines))
    detector.start()
    try:
        assert live.store.wait_for(lambda: detector.rounds >= 1, WAIT)
        api.apply({"apiVersion": "v1", "kind": "Secret", "metadata": {
            "name": "db", "namespace": "shop"}, "data": {"password": "aHVudGVyMg=="}})
        api.apply(_crashing(_find("Pod", "frontend-"), 11))

        def raised() -> bool:
            return "Error exit code 11" in lines.getvalue()

        assert live.store.wait_for(raised, WAIT)
    finally:
        detector.stop()
    assert not [p for p in api.paths() if "secrets" in p]
    assert not [k for k in live.store.objects if k == "Secret"]


def test_the_live_view_is_what_build_state_makes_of_the_same_objects(watched):
    """`LiveCluster.state()` assembles the view from the store (shapes checked on arrival)
    instead of `build_state` over every item: the same state, malformed objects included."""
    from remediator.cluster.snapshot import build_state

    api, live = watched
    broken = {"apiVersion": "v1", "kind": "Pod", "metadata": {
        "name": "broken", "namespace": "shop"}, "spec": ["not", "an", "object"]}
    api.apply(broken)
    _sync(api, live, broken, present=False)  # kept out of the store's tables...
    assert live.store.wait_for(lambda: bool(live.store.malformed), WAIT)  # ...and noted
    fast = live.state()
    slow = build_state([*live.items(), broken], live.name)
    assert (fast.pods, fast.events, fast.nodes) == (slow.pods, slow.events, slow.nodes)
    assert list(fast.objects.items()) == list(slow.objects.items())
    assert fast.pod_owner == slow.pod_owner
    assert fast.warnings[-1] == slow.warnings[-1] and "Pod shop/broken" in fast.warnings[-1]


def test_a_replica_that_does_not_lead_detects_but_reports_nothing(watched):
    _, live = watched
    lines = io.StringIO()
    metrics = Metrics()
    leads = [False]
    detector = LiveDetector(live, NoiseOptions(settle_seconds=0), log=JsonLog(lines),
                            metrics=metrics, leading=lambda: leads[0])
    assert len(detector.tick().update.raised) == 8  # detected, tracked...
    assert lines.getvalue() == ""  # ...and not reported: the leader does
    assert "remediator_incidents_raised_total 0.0" in metrics.exposition().decode()
