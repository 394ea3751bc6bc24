"""`remediator plan` at scale (issue 20): a generated snapshot of N failing workloads over 25
namespaces and a GitOps repository of about 4 N files (tests/support/scale.py: plain manifests,
Kustomize overlays, Flux HelmRelease values and image reverts from git history, a quarter each).

For each size, the production path (`pipeline.plan`: detect, locate, draft, edit, gate with
`kubectl kustomize` renders) runs in a fresh interpreter, a cold first run then ``--runs``
timed runs; printed: the median wall time per incident that reached edit and gate (and the
cold run's), CPU per incident (this process and its render subprocesses), the peak RSS of the
planning process, and the totals. Goals: <= 100 ms wall per incident at 500, and the cost per
incident at the largest size within 1.2x of the smallest (linear).

Baseline measured in the same run, for comparing machines: one `kubectl kustomize` of a
generated overlay (`render_ms`); `incident_vs_render` is the cost of an incident in renders.
The machine this was written on has 2 cores shared with other work: compare ratios.
Run from the repo root: `python bench/scale.py [--sizes 50,500] [--runs 3]`.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import _root  # noqa: F401  (repo root on sys.path; first)
import git

HERE = Path(__file__).resolve()


def child(repo: str, snapshot: str, threads: int | None) -> None:
    """One planning run, as `remediator plan` makes it; prints its figures as JSON."""
    from remediator.cluster import load_snapshot
    from remediator.config import load_config
    from remediator.pipeline import plan

    start, cpu = time.perf_counter(), time.process_time()
    config = load_config(Path(repo))
    state = load_snapshot(Path(snapshot), config.cluster)
    result = plan(state, Path(repo), config, threads=threads)
    wall = time.perf_counter() - start
    kids = resource.getrusage(resource.RUSAGE_CHILDREN)
    print(json.dumps({
        "wall": wall, "cpu": time.process_time() - cpu + kids.ru_utime + kids.ru_stime,
        "incidents": len(result.remediations),
        "gated": sum(1 for r in result.remediations if r.validation is not None),
        "proposed": sum(1 for r in result.remediations if r.decision.value == "propose"),
        "rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
    }))


def render_ms(repo: Path, runs: int) -> float:
    """Median wall time of one `kubectl kustomize` of a generated overlay."""
    from remediator.render import kustomize

    overlay = next((repo / "apps").glob("kustomize-*/overlays/production"))
    times = []
    for _ in range(runs + 1):
        t = time.perf_counter()
        kustomize.build(overlay, "bench")
        times.append(time.perf_counter() - t)
    return statistics.median(times[1:]) * 1000


def measure(n: int, runs: int, tmp: Path, threads: int | None) -> dict[str, float]:
    from tests.support.scale import make_origin, make_snapshot

    snapshot = make_snapshot(tmp / f"snapshot-{n}", n)
    repo = tmp / f"checkout-{n}"
    git.Repo.clone_from(make_origin(tmp / f"origin-{n}", n), repo)
    files = sum(1 for p in repo.rglob("*") if p.is_file() and ".git" not in p.parts)
    outs = []
    for _ in range(runs + 1):
        proc = subprocess.run([sys.executable, str(HERE), "--child", str(repo), str(snapshot),
                               *(["--threads", str(threads)] if threads else [])],
                              capture_output=True, text=True, check=True)
        outs.append(json.loads(proc.stdout.strip().splitlines()[-1]))
    cold, timed = outs[0], outs[1:]
    gated = max(timed[0]["gated"], 1)
    return {"files": files, "incidents": timed[0]["incidents"], "gated": timed[0]["gated"],
            "proposed": timed[0]["proposed"],
            "ms": statistics.median(o["wall"] for o in timed) * 1000 / gated,
            "cold_ms": cold["wall"] * 1000 / gated,
            "cpu_ms": statistics.median(o["cpu"] for o in timed) * 1000 / gated,
            "total_s": statistics.median(o["wall"] for o in timed),
            "rss": max(o["rss_mb"] for o in timed), "render": render_ms(repo, runs)}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", default="50,500", help="incident counts, comma-separated")
    parser.add_argument("--runs", type=int, default=3, help="timed runs after the cold one")
    parser.add_argument("--threads", type=int, default=0,
                        help="incidents planned side by side (default: plan's, one per core; "
                             "1: one after another)")
    parser.add_argument("--child", nargs=2, metavar=("REPO", "SNAPSHOT"), help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        child(*args.child, args.threads or None)
        return
    sizes = [int(s) for s in args.sizes.split(",")]
    results = {}
    print(f"cpus={os.cpu_count()} threads={args.threads or 'default'} "
          f"load_average_at_start={os.getloadavg()[0]:.1f}")
    with tempfile.TemporaryDirectory(prefix="remediator-scale-") as tmp:
        for n in sizes:
            r = results[n] = measure(n, args.runs, Path(tmp), args.threads or None)
            print(f"size={n} files={r['files']:.0f} incidents={r['incidents']:.0f} "
                  f"gated={r['gated']:.0f} proposed={r['proposed']:.0f}")
            print(f"plan_ms_per_incident_at_{n}={r['ms']:.1f}")
            print(f"plan_cold_ms_per_incident_at_{n}={r['cold_ms']:.1f}")
            print(f"plan_cpu_ms_per_incident_at_{n}={r['cpu_ms']:.1f}")
            print(f"plan_total_s_at_{n}={r['total_s']:.1f}")
            print(f"peak_rss_mb_at_{n}={r['rss']:.0f}")
            print(f"render_ms_at_{n}={r['render']:.1f}")
            print(f"incident_vs_render_at_{n}={r['ms'] / r['render']:.2f}")
    print(f"peak_rss_mb={max(r['rss'] for r in results.values()):.0f}")
    print(f"load_average_at_end={os.getloadavg()[0]:.1f}")
    small, large = min(sizes), max(sizes)
    if small != large:
        print(f"scale_ratio_{large}_vs_{small}="
              f"{results[large]['ms'] / results[small]['ms']:.2f}")
        print(f"scale_cpu_ratio_{large}_vs_{small}="
              f"{results[large]['cpu_ms'] / results[small]['cpu_ms']:.2f}")


if __name__ == "__main__":
    main()
