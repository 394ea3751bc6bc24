"""`remediator plan --output json` on the bundled demo is byte-identical to a checked-in golden
file: refactorings (issue 17) must not change a single byte of the contract.

The golden file is regenerated on purpose only, after a reviewed behaviour change:
`REMEDIATOR_UPDATE_GOLDEN=1 pytest tests/e2e/test_plan_golden.py -n 0`.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import git
import pytest

from remediator.cli.demo import build_origin
from tests.support.cli import SNAPSHOT

GOLDEN = Path(__file__).parent / "golden" / "demo-plan.json"
#: fixed commit dates make the demo origin's commit ids (quoted in diagnoses) reproducible
DATE = "2026-11-20T09:00:00"


@pytest.fixture(scope="module")
def fixed_checkout(tmp_path_factory: pytest.TempPathFactory) -> Path:
    work = tmp_path_factory.mktemp("golden")
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("GIT_AUTHOR_DATE", DATE)
        mp.setenv("GIT_COMMITTER_DATE", DATE)
        origin = build_origin(work)
    clone = work / "checkout"
    git.Repo.clone_from(origin, clone)
    return clone


def test_plan_json_on_the_demo_is_byte_identical_to_the_golden_file(fixed_checkout: Path):
    # no cluster: the dry-run note names this (absent) kubeconfig, the same on every machine
    env = {k: v for k, v in os.environ.items() if k != "KUBERNETES_SERVICE_HOST"}
    env.update(PYTHONWARNINGS="ignore", KUBECONFIG="/nonexistent/kubeconfig")
    proc = subprocess.run(
        [sys.executable, "-m", "remediator", "plan", "--snapshot", str(SNAPSHOT),
         "--repo", str(fixed_checkout), "--output", "json"],
        capture_output=True, text=True, env=env, check=False, timeout=300)
    assert proc.returncode == 0, proc.stderr
    if os.environ.get("REMEDIATOR_UPDATE_GOLDEN") == "1":
        GOLDEN.parent.mkdir(exist_ok=True)
        GOLDEN.write_text(proc.stdout, encoding="utf-8")
    assert proc.stdout == GOLDEN.read_text(encoding="utf-8")
