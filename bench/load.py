"""Planning under load: 300 OOMKilled workloads at once (the generated case of
tests/support/load.py), the rules drafter, CPU seconds of:
- unbounded: `remediator plan` (every incident located, drafted, gated);
- bounded: a service pass's planning with room for 5 new PRs (`pipeline.Bounds`);
- reused: the next pass, nothing changed (`PlanMemo`).
Run from the repo root: `python bench/load.py [--incidents N]`.
"""

from __future__ import annotations

import argparse
import tempfile
import time
from pathlib import Path

import _root  # noqa: F401  (repo root on sys.path; first)
import git

from remediator.cluster import load_snapshot
from remediator.config import load_config
from remediator.pipeline import Bounds, PlanMemo, plan
from tests.support.load import make_origin, make_snapshot


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--incidents", type=int, default=300)
    n = parser.parse_args().incidents
    with tempfile.TemporaryDirectory() as tmp:
        snapshot = make_snapshot(Path(tmp) / "snapshot", n)
        repo = Path(tmp) / "checkout"
        git.Repo.clone_from(make_origin(Path(tmp) / "o", n), repo)
        config = load_config(repo)
        state = load_snapshot(snapshot, config.cluster)
        head = git.Repo(repo).head.commit.hexsha

        def cpu(bounds: Bounds | None) -> tuple[float, list[str]]:
            t = time.process_time()
            result = plan(state, repo, config, bounds=bounds)
            return time.process_time() - t, [r.incident.signature for r in result.remediations
                                              if r.decision.value == "propose"]

        unbounded, proposed = cpu(None)
        memo = PlanMemo()
        bounded, opened = cpu(Bounds(5, "maxOpen 5", set(), head, memo))
        # the next pass: the five have PRs, no room left, nothing changed
        reused, _ = cpu(Bounds(0, "maxOpen 5", set(opened), head, memo))
    print(f"incidents={n}")
    print(f"proposed_unbounded={len(proposed)}")
    print(f"proposed_bounded={len(opened)}")
    print(f"unbounded_cpu_s={unbounded:.2f}")
    print(f"bounded_cpu_s={bounded:.2f}")
    print(f"reused_cpu_s={reused:.2f}")
    print(f"unbounded_vs_bounded={unbounded / max(bounded, 1e-9):.1f}")


if __name__ == "__main__":
    main()
