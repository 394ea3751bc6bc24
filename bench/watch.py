"""Live detection latency (issue 20): from a pod change written to the API to the incident the
service raises, at a paced rate of pod events, on the production path.

The API emulator (tests/support/kube_api.py) runs in a child process, so its work does not share
this interpreter: it holds ``--pods`` pods (10 per Deployment, over 20 namespaces) and, once told
to start, writes ``--rate`` pod changes per second for ``--seconds`` (paced: each write at its
due time, late ones at once). Most are noise (a healthy pod's annotation); every
``--probe-every``-th starts a Deployment's first pod crash-looping with an exit code of its
own, which is a new incident signature (`CrashLoopBackOff` ... `Error exit code N`), and the
child records when it wrote it.

This process runs what `remediator run` runs: `service.watcher.LiveSource` opened with a
config (``watch.settleSeconds: 0``, so a failure is raised when first seen), which lists and
watches through the real `kubernetes` client and starts the event-driven detection thread. The
figures come from the product's own output: its JSON `raised` lines (`time`, and
`latency_seconds`, from the watch event's arrival) matched to the probes by signature.

Printed: `event_to_incident_p50_ms` / `_p99_ms` (written → `raised` line; `watch_lag_p99_ms` is
the same p99), the same from the event's arrival (`arrival_to_incident_p*_ms`), the rate
achieved (`watch_events_per_s`), probes raised and missed,
detection rounds; baseline from the same run: one full `detect` of the same view
(`full_detect_ms`, what the service did every `--interval` before) and `p99_vs_full_detect`.
Goal: p99 <= 1 s at 2,000 pod events/s.
Run from the repo root: `python bench/watch.py [--pods 2000] [--rate 2000] [--seconds 30]`.
"""

from __future__ import annotations

import argparse
import contextlib
import copy
import io
import json
import statistics
import subprocess
import sys
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path

import _root  # noqa: F401  (repo root on sys.path; first)

HERE = Path(__file__).resolve()
NAMESPACES = 20


def _workloads(pods: int) -> tuple[list[dict], list[list[dict]]]:
    from tests.support import kube

    objects, by_deployment = [], []
    for d in range(max(1, pods // 10)):
        dep = kube.deployment(f"svc-{d}", f"team-{d % NAMESPACES}", [kube.container("app")])
        rs = kube.replicaset(dep, ready=10)
        objects += [dep, rs]
        by_deployment.append([kube.pod(rs, f"svc-{d}-5d8f7c9b4-{i:05d}", [kube.running("app")])
                              for i in range(10)])
    return objects, by_deployment


def emulator(args: argparse.Namespace) -> None:
    """The child: serve, then write the paced changes when told; print the probes' times."""
    from tests.support import kube
    from tests.support.kube_api import KubeAPI

    objects, by_deployment = _workloads(args.pods)
    with KubeAPI(crds=(), bookmark_every=5) as api:
        api.apply(*objects)
        api.apply(*(p for pods in by_deployment for p in pods))
        print(json.dumps({"url": api.url}), flush=True)
        sys.stdin.readline()  # "go"
        noise = [p for pods in by_deployment for p in pods[1:]]  # first pods are the probes'
        probes: list[tuple[str, float]] = []
        start = time.perf_counter()
        n = 0
        while True:
            due = start + n / args.rate
            if due - start >= args.seconds:
                break
            wait = due - time.perf_counter()
            if wait > 0:
                time.sleep(wait)
            if n % args.probe_every == 0:
                k = n // args.probe_every
                pod = copy.deepcopy(by_deployment[k % len(by_deployment)][0])
                stamp = datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
                pod["status"]["containerStatuses"] = [kube.crashing(
                    "app", reason="Error", code=1000 + k, finished=stamp, started=stamp)]
                meta = pod["metadata"]
                signature = (f"bench/{meta['namespace']}/Deployment/"
                             f"{meta['name'].split('-5d8f')[0]}/CrashLoopBackOff/app/"
                             f"Error exit code {1000 + k}")
                probes.append((signature, time.time()))
            else:
                pod = copy.deepcopy(noise[n % len(noise)])
                pod["metadata"]["annotations"] = {"bench/seq": str(n)}
            api.apply(pod)
            n += 1
        elapsed = time.perf_counter() - start
        print(json.dumps({"events": n, "seconds": elapsed, "probes": probes}), flush=True)
        sys.stdin.readline()  # "stop"


def _percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, max(0, int(len(ordered) * q + 0.5) - 1))]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--pods", type=int, default=2000, help="pods (10 per Deployment)")
    parser.add_argument("--rate", type=float, default=2000.0, help="pod events per second")
    parser.add_argument("--seconds", type=float, default=30.0, help="how long to write")
    parser.add_argument("--probe-every", type=int, default=100,
                        help="every Nth event starts a new failure (a probe)")
    parser.add_argument("--drain", type=float, default=10.0,
                        help="seconds to wait for the last probes after the writes end")
    parser.add_argument("--emulator", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.emulator:
        emulator(args)
        return

    from remediator.config import load_config
    from remediator.detect import detect
    from remediator.service.observe import JsonLog, Metrics
    from remediator.service.watcher import LiveSource

    child = subprocess.Popen(
        [sys.executable, str(HERE), "--emulator", "--pods", str(args.pods), "--rate",
         str(args.rate), "--seconds", str(args.seconds), "--probe-every", str(args.probe_every)],
        stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
    assert child.stdin is not None and child.stdout is not None
    source = None
    lines = io.StringIO()
    try:
        url = json.loads(child.stdout.readline())["url"]
        with tempfile.TemporaryDirectory(prefix="remediator-watch-") as tmp:
            kubeconfig = Path(tmp) / "kubeconfig"
            kubeconfig.write_text(json.dumps({
                "apiVersion": "v1", "kind": "Config", "current-context": "bench",
                "clusters": [{"name": "bench", "cluster": {"server": url}}],
                "users": [{"name": "bench", "user": {"token": "bench"}}],
                "contexts": [{"name": "bench",
                              "context": {"cluster": "bench", "user": "bench"}}]}))
            repo = Path(tmp) / "repo"
            repo.mkdir()
            (repo / ".remediator.yaml").write_text("cluster: bench\nwatch:\n  settleSeconds: 0\n")
            config = load_config(repo)
            metrics = Metrics()
            # as `remediator run` makes it (cli/run.py), the log aside
            source = LiveSource(kubeconfig=str(kubeconfig), continuous=True,
                                log=JsonLog(stream=lines), metrics=metrics, tune_gc=True)
            t = time.perf_counter()
            live = source.open(config)  # list, watch, start the detection thread
            list_ms = (time.perf_counter() - t) * 1000
            cpu = time.process_time()
            child.stdin.write("go\n")
            child.stdin.flush()
            written = json.loads(child.stdout.readline())
            cpu = time.process_time() - cpu
            probes = dict(written["probes"])
            deadline = time.monotonic() + args.drain
            while time.monotonic() < deadline and len(_raised(lines)) < len(probes):
                time.sleep(0.2)
            detector = source.watcher.detector if source.watcher else None
            state = live.state()
            t = time.perf_counter()
            full = detect(state, config.detect)
            full_ms = (time.perf_counter() - t) * 1000
    finally:
        if source is not None:
            source.close()
        with contextlib.suppress(OSError):  # the child may be gone already
            child.stdin.write("stop\n")
            child.stdin.close()
        try:
            child.wait(timeout=30)
        finally:
            if child.poll() is None:
                child.kill()
                child.wait()

    raised = _raised(lines)
    e2e = [(raised[s][0] - t) * 1000 for s, t in probes.items() if s in raised]
    arrival = [raised[s][1] * 1000 for s in probes if s in raised and raised[s][1] is not None]
    print(f"pods={args.pods}")
    print(f"events={written['events']}")
    print(f"watch_events_per_s={written['events'] / written['seconds']:.0f}")
    print(f"probes={len(probes)}")
    print(f"probes_raised={len(e2e)}")
    print(f"probes_missed={len(probes) - len(e2e)}")
    print(f"initial_list_ms={list_ms:.0f}")
    # this process's CPU while the changes came (reflectors, detection thread): per 1,000 events
    print(f"service_cpu_ms_per_1000_events={cpu * 1e6 / max(1, written['events']):.0f}")
    if detector is not None:
        print(f"detection_rounds={detector.rounds}")
        print(f"full_rounds={detector.full_rounds}")
    print(f"incidents_now={len(full)}")
    if e2e:
        print(f"event_to_incident_p50_ms={statistics.median(e2e):.1f}")
        print(f"event_to_incident_p99_ms={_percentile(e2e, 0.99):.1f}")
        print(f"event_to_incident_max_ms={max(e2e):.1f}")
        print(f"watch_lag_p99_ms={_percentile(e2e, 0.99):.1f}")  # DESIGN.md's headline key
    if arrival:
        print(f"arrival_to_incident_p50_ms={statistics.median(arrival):.1f}")
        print(f"arrival_to_incident_p99_ms={_percentile(arrival, 0.99):.1f}")
    print(f"full_detect_ms={full_ms:.1f}")
    if e2e:
        print(f"p99_vs_full_detect={_percentile(e2e, 0.99) / full_ms:.2f}")


def _raised(lines: io.StringIO) -> dict[str, tuple[float, float | None]]:
    """signature -> (time of the product's `raised` line, its latency_seconds)."""
    out: dict[str, tuple[float, float | None]] = {}
    for line in lines.getvalue().splitlines():
        try:
            record = json.loads(line)
        except ValueError:
            continue
        if record.get("event") == "raised" and record.get("signature") not in out:
            when = datetime.fromisoformat(record["time"]).timestamp()
            out[record["signature"]] = (when, record.get("latency_seconds"))
    return out


if __name__ == "__main__":
    main()
