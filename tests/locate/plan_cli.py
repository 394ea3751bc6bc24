"""`remediator plan --output json` run as users run it: a committed GitOps repository with its
`.remediator.yaml`, a snapshot directory with a `cluster.json` List, the real command line.
Shared by the layout tests of this folder."""

from __future__ import annotations

import json
import textwrap
from pathlib import Path
from typing import Any

import yaml

from tests import k8s
from tests.test_end_to_end import cli, tree_digest
from tests.test_pipeline import commit


def objects(text: str) -> list[dict[str, Any]]:
    """The documents of a YAML text (a fixture file), as the cluster returns them."""
    return [d for d in yaml.safe_load_all(textwrap.dedent(text)) if d]


def plan_json(tmp: Path, files: dict[str, str], items: list[dict[str, Any]]) -> dict[str, Any]:
    """Commit ``files`` (a `.remediator.yaml` among them) into a repository, write ``items``
    as the snapshot, run `remediator plan --output json`; the repository must be left as it
    was."""
    repo, snapshot = tmp / "repo", tmp / "snapshot"
    commit(repo, files, "init")
    snapshot.mkdir()
    (snapshot / "cluster.json").write_text(json.dumps(k8s.cluster_list(*items)))
    before = tree_digest(repo)
    proc = cli("plan", "--snapshot", str(snapshot), "--repo", str(repo), "--output", "json")
    assert proc.returncode == 0, proc.stderr
    assert tree_digest(repo) == before
    out: dict[str, Any] = json.loads(proc.stdout)
    return out


def remediation(out: dict[str, Any], name: str) -> dict[str, Any]:
    [r] = [r for r in out["remediations"] if r["workload"]["name"] == name]
    return r


def added(diff: str) -> list[str]:
    """The added lines of a unified diff, whitespace collapsed."""
    return [" ".join(ln[1:].split()) for ln in diff.splitlines()
            if ln.startswith("+") and not ln.startswith("+++")]


def removed(diff: str) -> list[str]:
    return [" ".join(ln[1:].split()) for ln in diff.splitlines()
            if ln.startswith("-") and not ln.startswith("---")]
