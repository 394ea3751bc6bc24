"""The service: one pass of watch → plan → pull requests (continuous mode repeats it)."""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from .cluster import load_snapshot
from .config import Config, load_config
from .forge import LocalForge
from .pipeline import Plan, Submission, plan, submit


@dataclass
class PassReport:
    plan: Plan
    submissions: list[Submission] = field(default_factory=list)
    clone: Path | None = None
    config: Config | None = None


def run_once(snapshot: Path, remote: str, state_dir: Path, config_file: Path | None = None,
             base: str = "main") -> PassReport:
    """Clone the GitOps repo from its remote, plan against the snapshot, open PRs."""
    forge = LocalForge(remote, state_dir, base)
    clone = forge.checkout()
    config = load_config(clone, config_file)
    if not config.repo_url and _looks_like_url(remote):
        config.repo_url = remote  # the repository we clone is the one we may patch
    if config.pull_requests.base != forge.base:
        forge.base = config.pull_requests.base
        clone = forge.checkout()
    state = load_snapshot(snapshot, config.cluster)
    result = plan(state, clone, config)
    return PassReport(result, submit(result, forge, config), clone, config)


def _looks_like_url(remote: str) -> bool:
    return "://" in remote or ("@" in remote and ":" in remote.split("@", 1)[1])


def run_forever(pass_once: Callable[[], PassReport | None], interval: float,
                report: Callable[[PassReport | None], None], passes: int | None = None) -> None:
    """Repeat passes every ``interval`` seconds (``passes`` bounds it, for tests)."""
    done = 0
    while passes is None or done < passes:
        report(pass_once())
        done += 1
        if passes is None or done < passes:
            time.sleep(interval)
