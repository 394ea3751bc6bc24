"""`run` and `doctor` infer the forge from `--repo` and refuse a `--forge` that contradicts it:
a GitHub repository is never driven by the local forge (branches pushed, no pull request).

Real CLI runs: the local forge against a real bare origin, GitHub against the REST emulator.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from remediator.cli.demo import build_origin, example_paths
from remediator.forge import ForgeMismatch, forge_for
from tests.support.github_emulator import GitHubEmulator

_, SNAPSHOT = example_paths()
PROPOSED = 3  # cart, checkout, payments in the bundled snapshot
GHE_API = "https://ghe.example.com/api/v3"


def run(*args: str, **env: str) -> subprocess.CompletedProcess[str]:
    clean = {k: v for k, v in os.environ.items()
             if not k.startswith(("GITHUB_", "REMEDIATOR_"))}
    return subprocess.run([sys.executable, "-m", "remediator", *args], capture_output=True,
                          text=True, check=False, timeout=300,
                          env={**clean, "PYTHONWARNINGS": "ignore", **env})


@pytest.mark.parametrize("remote,forge,api,typed,expected", [
    ("https://github.com/acme/gitops.git", None, "https://api.github.com", False, "github"),
    ("git@github.com:acme/gitops.git", None, "https://api.github.com", False, "github"),
    ("ssh://git@GitHub.com/acme/gitops", None, "https://api.github.com", False, "github"),
    ("https://ghe.example.com/acme/gitops.git", None, GHE_API, False, "github"),
    ("https://acme.ghe.com/o/r.git", None, "https://api.acme.ghe.com", False, "github"),
    ("/srv/git/gitops.git", None, "https://api.github.com", False, "local"),
    ("file:///srv/git/gitops.git", None, "https://api.github.com", False, "local"),
    ("relative/origin.git", None, GHE_API, False, "local"),  # GITHUB_API_URL from the env
    ("/srv/git/gitops.git", None, "http://127.0.0.1:8000", True, "github"),  # a mirror
    ("/srv/git/gitops.git", "github", "https://api.github.com", False, "github"),
    ("https://git.example.com/acme/gitops.git", "local", "https://api.github.com", False,
     "local"),
    ("https://github.com/acme/gitops.git", "github", "https://api.github.com", False, "github"),
])
def test_the_forge_for_a_repository(remote, forge, api, typed, expected):
    assert forge_for(remote, forge, api, typed) == expected


@pytest.mark.parametrize("remote,forge,api,said", [
    ("https://github.com/acme/gitops.git", "local", "https://api.github.com",
     "--forge local, but the repository is on GitHub (github.com)"),
    ("https://ghe.example.com/acme/gitops.git", "local", GHE_API,
     "--forge local, but the repository is on GitHub (ghe.example.com)"),
    ("https://gitlab.com/acme/gitops.git", "github", "https://api.github.com",
     "--forge github, but the repository is on gitlab.com"),
    ("https://gitlab.com/acme/gitops.git", None, "https://api.github.com",
     "cannot tell where to open pull requests for a repository on gitlab.com"),
])
def test_a_mismatch_is_refused_with_the_reason(remote, forge, api, said):
    with pytest.raises(ForgeMismatch, match=said.replace("(", r"\(").replace(")", r"\)")):
        forge_for(remote, forge, api)


def test_run_refuses_the_local_forge_for_a_github_url_before_touching_anything(tmp_path: Path):
    state = tmp_path / "state"
    out = run("run", "--once", "--snapshot", str(SNAPSHOT), "--forge", "local",
              "--repo", "https://github.com/acme/gitops-example.git", "--state-dir", str(state))
    assert out.returncode == 2
    [line] = out.stderr.splitlines()
    assert line.startswith("remediator: error: --forge local, but the repository is on GitHub")
    assert "no pull request opened" in line
    assert not state.exists()  # nothing cloned, nothing pushed


def test_run_infers_github_for_a_github_url(tmp_path: Path):
    """No --forge: GitHub, whose credentials are asked for before anything is cloned (the
    local forge would have cloned from github.com and pushed branches)."""
    state = tmp_path / "state"
    out = run("run", "--once", "--snapshot", str(SNAPSHOT),
              "--repo", "https://github.com/acme/gitops-example.git", "--state-dir", str(state))
    assert out.returncode == 1 and "GITHUB_TOKEN" in out.stderr, out.stderr
    assert not (state / "pulls").exists()


def test_run_infers_the_local_forge_for_a_path_even_with_github_api_url_in_the_env(
        tmp_path: Path):
    origin = build_origin(tmp_path / "work")
    out = run("run", "--once", "--snapshot", str(SNAPSHOT), "--repo", str(origin),
              "--state-dir", str(tmp_path / "state"), GITHUB_API_URL=GHE_API)
    assert out.returncode == 0, out.stderr
    assert out.stdout.count("[opened]") == PROPOSED
    assert len(list((tmp_path / "state" / "pulls").glob("*.json"))) == PROPOSED


def test_run_infers_github_from_a_typed_api_url_for_a_local_mirror(tmp_path: Path):
    origin = build_origin(tmp_path / "work")
    with GitHubEmulator(origin, "acme", "gitops-example") as emu:
        out = run("run", "--once", "--snapshot", str(SNAPSHOT), "--repo", str(origin),
                  "--state-dir", str(tmp_path / "state"), "--github-api-url", emu.base_url,
                  "--github-write-interval", "0", GITHUB_TOKEN="test-token")
        assert out.returncode == 0, out.stderr
        assert out.stdout.count("[opened]") == PROPOSED
        assert len(emu.pulls()) == PROPOSED
    assert not (tmp_path / "state" / "pulls").exists()  # not the local forge's records


def test_doctor_uses_the_same_default_as_run(tmp_path: Path):
    """A local path: the local forge, as `run` would use (doctor used to assume GitHub and
    ask for a token)."""
    origin = build_origin(tmp_path / "work")
    out = run("doctor", "--repo", str(origin), "--kubeconfig", str(tmp_path / "none"))
    [line] = [ln for ln in out.stdout.splitlines() if "forge token" in ln]
    assert line.split()[0] == "ok" and "local forge: no token needed" in line
    refused = run("doctor", "--repo", "https://github.com/acme/gitops-example.git",
                  "--forge", "local")
    assert refused.returncode == 2 and "--forge local, but the repository is on GitHub" in (
        refused.stderr)
    assert refused.stdout == ""


def test_a_refusal_is_a_json_line_with_json_logs(tmp_path: Path):
    out = run("run", "--once", "--snapshot", str(SNAPSHOT), "--repo",
              "https://gitlab.com/acme/gitops.git", "--log-format", "json")
    assert out.returncode == 2 and out.stdout == ""
    [line] = out.stderr.splitlines()
    record = json.loads(line)
    assert record["level"] == "error" and record["event"] == "error"
    assert record["message"].startswith("cannot tell where to open pull requests")
