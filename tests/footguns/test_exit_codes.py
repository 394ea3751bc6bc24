"""One exit-code scheme for every command (README, "Exit codes"): 0 done, 1 findings or failed
work, 2 usage and configuration errors — the same bad `.remediator.yaml` exits 2 whichever
command reads it, with one line that names the key, its line and the key it probably meant."""

from __future__ import annotations

from pathlib import Path

import git
import pytest

from remediator.cli.demo import build_origin, example_paths
from tests.support.cli import cli

EXAMPLE, SNAPSHOT = example_paths()
TYPO = "cluster: prod\nclutser: typo\n"


def _bad_config(tmp_path: Path) -> Path:
    cfg = tmp_path / "bad.yaml"
    cfg.write_text(TYPO)
    return cfg


COMMANDS = {
    "plan": lambda t, c: ["plan", "--snapshot", str(SNAPSHOT), "--repo", str(EXAMPLE),
                          "--config", c],
    "validate": lambda t, c: ["validate", "--repo", str(EXAMPLE), "--config", c],
    "policy test": lambda t, c: ["policy", "test", "--repo", str(EXAMPLE), "--config", c],
    "run --once": lambda t, c: ["run", "--once", "--snapshot", str(SNAPSHOT), "--repo",
                                str(build_origin(t / "work")), "--state-dir", str(t / "s"),
                                "--config", c],
    "doctor": lambda t, c: ["doctor", "--repo", str(EXAMPLE), "--config", c],
    "snapshot": lambda t, c: ["snapshot", "--output", str(t / "snap"), "--config", c],
}


@pytest.mark.parametrize("command", list(COMMANDS))
def test_a_configuration_error_exits_2_everywhere(tmp_path: Path, command: str):
    out = cli(*COMMANDS[command](tmp_path, str(_bad_config(tmp_path))))
    assert out.returncode == 2, (command, out.stdout, out.stderr)
    [line] = out.stderr.splitlines()
    assert line.startswith("remediator: error: ") and "line 2" in line
    assert "unknown key 'clutser', did you mean 'cluster'?" in line
    assert "Traceback" not in out.stderr


def test_init_on_a_broken_config_and_a_missing_folder_exits_2(tmp_path: Path):
    root = tmp_path / "gitops"
    git.Repo.init(root, initial_branch="main")
    (root / ".remediator.yaml").write_text(TYPO)
    assert cli("init", "--repo", str(root)).returncode == 2
    assert cli("init", "--repo", str(tmp_path / "nope")).returncode == 2


def test_usage_errors_exit_2_and_failed_work_exits_1(tmp_path: Path):
    # a flag click refuses, a snapshot or repository folder that is not there: usage
    assert cli("plan", "--snapshot", str(SNAPSHOT)).returncode == 2
    assert cli("plan", "--snapshot", str(tmp_path / "nope"), "--repo",
               str(EXAMPLE)).returncode == 2
    assert cli("validate", "--repo", str(tmp_path / "nope")).returncode == 2
    # work that ran and failed: the git remote cannot be cloned
    out = cli("run", "--once", "--snapshot", str(SNAPSHOT), "--repo", str(tmp_path / "gone"),
              "--state-dir", str(tmp_path / "s"))
    assert out.returncode == 1 and len(out.stderr.splitlines()) == 1, out.stderr
    # findings: violations
    assert cli("validate", "--repo", str(EXAMPLE)).returncode == 1
