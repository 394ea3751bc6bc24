"""`remediator plan --output json` run as users run it: a committed GitOps repository with its
`.remediator.yaml`, a snapshot directory with a `cluster.json` List, the real command line.

Every call checks what the CLI contract promises: exit 0, JSON on stdout, and the repository
left exactly as it was (the plan computes and validates edits from scratch copies)."""

from __future__ import annotations

import json
import textwrap
from pathlib import Path
from typing import Any

import yaml

from tests.support import kube
from tests.support.cli import cli, tree_digest
from tests.support.repos import REPO_URL, commit

__all__ = ["added", "check", "cli", "diff_lines", "objects", "only", "plan", "plan_json",
           "remediation", "removed", "repo"]

CONFIG_FILE = {".remediator.yaml": f"repo:\n  url: {REPO_URL}\n"}


def repo(root: Path, files: dict[str, str], message: str = "init") -> Path:
    """A git repository with ``files`` (dedented) and the bot's configuration committed."""
    commit(root, {**CONFIG_FILE, **files} if not (root / ".git").exists() else files, message)
    return root


def _run_plan(repo_root: Path, snapshot: Path, items: list[dict[str, Any]]) -> dict[str, Any]:
    """What `remediator plan --output json` prints for the cluster ``items``; the repository
    must be left as it was."""
    snapshot.mkdir(parents=True, exist_ok=True)
    (snapshot / "cluster.json").write_text(json.dumps(kube.cluster_list(*items)))
    before = tree_digest(repo_root)
    proc = cli("plan", "--snapshot", str(snapshot), "--repo", str(repo_root), "--output", "json")
    assert proc.returncode == 0, proc.stderr
    assert tree_digest(repo_root) == before, "plan wrote to the repository"
    out: dict[str, Any] = json.loads(proc.stdout)
    return out


def plan(repo_root: Path, snapshot: Path, items: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """The remediations `remediator plan --output json` prints for the cluster ``items``."""
    return list(_run_plan(repo_root, snapshot, items)["remediations"])


def plan_json(tmp: Path, files: dict[str, str], items: list[dict[str, Any]]) -> dict[str, Any]:
    """Commit ``files`` (a `.remediator.yaml` among them) into ``tmp/repo``, write ``items`` as
    the snapshot ``tmp/snapshot``, run `remediator plan --output json`."""
    repo_root, snapshot = tmp / "repo", tmp / "snapshot"
    commit(repo_root, files, "init")
    return _run_plan(repo_root, snapshot, items)


def only(remediations: list[dict[str, Any]]) -> dict[str, Any]:
    [r] = remediations
    return r


def remediation(out: dict[str, Any], name: str) -> dict[str, Any]:
    """The remediation of the workload ``name`` in a plan's output."""
    [r] = [r for r in out["remediations"] if r["workload"]["name"] == name]
    return r


def check(r: dict[str, Any], name: str) -> dict[str, Any]:
    """One validation check of a remediation, by name."""
    return next(c for c in r["validation"]["checks"] if c["name"] == name)


def objects(text: str) -> list[dict[str, Any]]:
    """The documents of a YAML text (a fixture file), as the cluster returns them."""
    return [d for d in yaml.safe_load_all(textwrap.dedent(text)) if d]


def diff_lines(diff: str) -> list[str]:
    """The changed lines of a unified diff, without the file headers."""
    return [ln for ln in diff.splitlines() if ln[:1] in "+-" and ln[:3] not in ("+++", "---")]


def added(diff: str) -> list[str]:
    """The added lines of a unified diff, whitespace collapsed."""
    return [" ".join(ln[1:].split()) for ln in diff.splitlines()
            if ln.startswith("+") and not ln.startswith("+++")]


def removed(diff: str) -> list[str]:
    """The removed lines of a unified diff, whitespace collapsed."""
    return [" ".join(ln[1:].split()) for ln in diff.splitlines()
            if ln.startswith("-") and not ln.startswith("---")]
