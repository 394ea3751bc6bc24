"""Offline plan time per incident: the bundled snapshot against the example repo, rules drafter.

Baseline measured in the same run: loading the snapshot alone (`snapshot_load_ms`), so the ratio
`plan_vs_snapshot_load` is comparable across machines. Run from the repo root:
`python bench/plan.py`.
"""

from __future__ import annotations

import argparse
import tempfile
import time
from pathlib import Path

import _root  # noqa: F401  (repo root on sys.path; first)
import git

from remediator.cli.demo import build_origin, example_paths
from remediator.cluster import load_snapshot
from remediator.config import load_config
from remediator.pipeline import plan


def main(repeat: int = 5) -> None:
    _, snapshot = example_paths()
    with tempfile.TemporaryDirectory() as tmp:
        origin = build_origin(Path(tmp))
        repo = Path(tmp) / "checkout"
        git.Repo.clone_from(origin, repo)
        config = load_config(repo)
        best_plan = best_load = float("inf")
        incidents = proposed = 0
        for _ in range(repeat):
            t = time.perf_counter()
            state = load_snapshot(snapshot, config.cluster)
            best_load = min(best_load, time.perf_counter() - t)
            t = time.perf_counter()
            result = plan(state, repo, config)
            best_plan = min(best_plan, time.perf_counter() - t)
            incidents = len(result.remediations)
            proposed = sum(1 for r in result.remediations if r.decision.value == "propose")
    print(f"incidents={incidents}")
    print(f"proposed={proposed}")
    print(f"snapshot_load_ms={best_load * 1000:.1f}")
    print(f"plan_ms={best_plan * 1000:.1f}")
    print(f"plan_ms_per_incident={best_plan * 1000 / max(incidents, 1):.1f}")
    print(f"plan_vs_snapshot_load={best_plan / best_load:.1f}")


if __name__ == "__main__":
    argparse.ArgumentParser(description=__doc__.splitlines()[0]).parse_args()
    main()
