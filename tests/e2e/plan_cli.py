"""`remediator plan` through the real command line, on a snapshot written from live objects.

Every call checks what the CLI contract promises: exit 0, JSON on stdout, and the repository
left exactly as it was (the plan computes and validates edits from scratch copies)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from tests import k8s
from tests.test_end_to_end import cli, tree_digest

__all__ = ["check", "cli", "diff_lines", "only", "plan", "repo"]
from tests.test_pipeline import REPO_URL, commit

CONFIG_FILE = {".remediator.yaml": f"repo:\n  url: {REPO_URL}\n"}


def repo(root: Path, files: dict[str, str], message: str = "init") -> Path:
    """A git repository with ``files`` (dedented) and the bot's configuration committed."""
    commit(root, {**CONFIG_FILE, **files} if not (root / ".git").exists() else files, message)
    return root


def plan(repo_root: Path, snapshot: Path, items: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """The remediations `remediator plan --output json` prints for the cluster ``items``."""
    snapshot.mkdir(parents=True, exist_ok=True)
    (snapshot / "cluster.json").write_text(json.dumps(k8s.cluster_list(*items)))
    before = tree_digest(repo_root)
    proc = cli("plan", "--snapshot", str(snapshot), "--repo", str(repo_root), "--output", "json")
    assert proc.returncode == 0, proc.stderr
    assert tree_digest(repo_root) == before, "plan wrote to the repository"
    return list(json.loads(proc.stdout)["remediations"])


def only(remediations: list[dict[str, Any]]) -> dict[str, Any]:
    [r] = remediations
    return r


def check(r: dict[str, Any], name: str) -> dict[str, Any]:
    """One validation check of a remediation, by name."""
    return next(c for c in r["validation"]["checks"] if c["name"] == name)


def diff_lines(diff: str) -> list[str]:
    """The changed lines of a unified diff, without the file headers."""
    return [ln for ln in diff.splitlines() if ln[:1] in "+-" and ln[:3] not in ("+++", "---")]
