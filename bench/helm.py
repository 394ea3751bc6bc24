"""Helm rendering cost: one `helm template`, and tracing a container field to its values key.

Prints key=value lines, on the app-template style test chart (tests/support/chart_repo.py),
rendered from a folder:
- helm_template_ms: one `helm template` (no cache: new values each time);
- helm_template_cached_ms: the same values again (the per-process render cache);
- key_trace_renders / key_trace_ms: renders and time to prove which key sets a container's
  `resources`, cold (every render new), when the container already has resources, and when it
  has none yet (`key_trace_new_*`).
Run from the repo root: `python bench/helm.py [--n N]` (needs `helm` on the PATH).
"""

from __future__ import annotations

import argparse
import copy
import sys
import tempfile
import time
from pathlib import Path

import _root  # noqa: F401  (repo root on sys.path; first)

from remediator.render import helm as helm_render
from remediator.render import values_key
from tests.support.chart_repo import APP_TEMPLATE, write_chart

VALUES = {"controllers": {"main": {"containers": {
    "app": {"image": {"repository": "ghcr.io/jellyfin/jellyfin", "tag": "10.9.7"},
            "resources": {"limits": {"memory": "1Gi"}}},
    "exporter": {"image": {"repository": "ghcr.io/acme/exporter", "tag": "0.4.0"}}}}}}


def trace(folder: Path, values: dict, run: int) -> tuple[int, float]:
    renders = 0

    def render(v: dict) -> list[dict]:
        nonlocal renders
        renders += 1
        return helm_render.template(folder, f"bench{run}", "media", v)  # new release: no cache

    target = values_key.Target("Deployment", f"bench{run}", "app")
    start = time.perf_counter()
    proof = values_key.find_key(render, values, values, target, "resources")
    assert proof.key is not None, proof.note
    return renders, (time.perf_counter() - start) * 1000


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--n", type=int, default=5)
    n = parser.parse_args().n
    if helm_render.helm_binary() is None:
        print("helm not found: python scripts/install_helm.py .venv/bin", file=sys.stderr)
        return 1
    with tempfile.TemporaryDirectory() as tmp:
        folder = write_chart(Path(tmp) / "app", APP_TEMPLATE)
        times = []
        for i in range(n):
            values = copy.deepcopy(VALUES)
            values["controllers"]["main"]["replicas"] = i + 2
            start = time.perf_counter()
            helm_render.template(folder, "bench", "media", values)
            times.append((time.perf_counter() - start) * 1000)
        start = time.perf_counter()
        helm_render.template(folder, "bench", "media", values)
        cached = (time.perf_counter() - start) * 1000
        print(f"helm_template_ms={sorted(times)[len(times) // 2]:.1f}")
        print(f"helm_template_cached_ms={cached:.3f}")
        renders, ms = trace(folder, VALUES, 0)
        print(f"key_trace_renders={renders}")
        print(f"key_trace_ms={ms:.1f}")
        fresh = copy.deepcopy(VALUES)
        del fresh["controllers"]["main"]["containers"]["app"]["resources"]
        renders, ms = trace(folder, fresh, 1)
        print(f"key_trace_new_renders={renders}")
        print(f"key_trace_new_ms={ms:.1f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
