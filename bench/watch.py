"""Watch throughput and lag: pod changes streamed by the API emulator (tests/support/kube_api.py)
over loopback HTTP, through the live source (real `kubernetes` client, raw JSON, reflector, store)
to the classification of the changed pod.

- watch_events_per_s: MODIFIED pod events classified per second while a writer pushes them as
  fast as the emulator takes them;
- watch_lag_p99_ms: 99th percentile of (classified − written) per event, same process clock.

The emulator runs in this process, so its cost (JSON encoding, chunking) is included: the numbers
are a floor for the watcher, not a claim about a real API server.
Run from the repo root: `python bench/watch.py [--pods N] [--events N]`.
"""

from __future__ import annotations

import argparse
import copy
import statistics
import sys
import tempfile
import threading
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from remediator.cluster import LiveCluster, LiveOptions, RawClient, WatchOptions, connect
from remediator.detect.classify import classify_pod
from tests.support import kube
from tests.support.kube_api import KubeAPI

STAMP = "bench/written"


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--pods", type=int, default=2000)
    ap.add_argument("--events", type=int, default=10000)
    args = ap.parse_args()

    with KubeAPI(crds=(), bookmark_every=5) as api, tempfile.TemporaryDirectory() as tmp:
        pods = []
        for d in range(args.pods // 10):
            dep = kube.deployment(f"svc-{d}", f"team-{d % 20}", [kube.container("app")])
            rs = kube.replicaset(dep, ready=10)
            api.apply(dep, rs)
            for i in range(10):
                pods.append(kube.pod(rs, f"svc-{d}-5d8f7c9b4-{i:05d}", [kube.running("app")]))
        api.apply(*pods)

        lags: list[float] = []
        done = threading.Event()
        findings = [0]

        def classify(event: str, obj: dict) -> None:
            if obj.get("kind") != "Pod" or event != "MODIFIED":
                return
            findings[0] += len(classify_pod(obj, [], None))
            written = float(obj["metadata"]["annotations"][STAMP])
            lags.append(time.perf_counter() - written)
            if len(lags) >= args.events:
                done.set()

        client = connect(kubeconfig=str(api.kubeconfig(Path(tmp) / "kubeconfig")))
        live = LiveCluster(RawClient(client), "bench", LiveOptions(
            watch=WatchOptions(watch_timeout_seconds=600)))
        t = time.perf_counter()
        live.start()
        list_ms = (time.perf_counter() - t) * 1000
        api.wait_for_watchers(len(live.reflectors))
        live.store.on_change = classify

        start = time.perf_counter()
        for n in range(args.events):
            pod = copy.deepcopy(pods[n % len(pods)])
            pod["metadata"]["annotations"] = {STAMP: repr(time.perf_counter())}
            if n % 7 == 0:  # some of them crash, so classification has work to do
                pod["status"]["containerStatuses"] = [kube.crashing("app")]
            api.apply(pod)
        done.wait(timeout=600)
        elapsed = time.perf_counter() - start
        live.stop()

    lags_ms = sorted(x * 1000 for x in lags)
    p99 = lags_ms[int(len(lags_ms) * 0.99) - 1] if lags_ms else float("nan")
    print(f"pods={len(pods)}")
    print(f"events={len(lags)}")
    print(f"findings={findings[0]}")
    print(f"initial_list_ms={list_ms:.0f}")
    print(f"watch_events_per_s={len(lags) / elapsed:.0f}")
    print(f"watch_lag_p50_ms={statistics.median(lags_ms):.1f}")
    print(f"watch_lag_p99_ms={p99:.1f}")


if __name__ == "__main__":
    main()
