"""docs/quickstart.md, run: the `remediator` commands a new user types are executed here as the
page writes them, in a git checkout of a GitOps repository (the bundled example with its
history, without its `.remediator.yaml` and workflow: a repository that has never seen the bot)
and against a cluster (the API emulator serving the bundled failing-cluster snapshot, reached
through `KUBECONFIG` as a workstation reaches its cluster); each does what the page says.

Not run as written, each for its reason (a line that is neither run nor listed here fails
`test_every_command_of_the_page_is_exercised`, so a new step cannot go untested):
- `python3 -m pip install .` (the CLI under test is the installed one);
- `kubectl` and `helm install` (they act on a real cluster; the chart is tested in tests/deploy);
- `doctor` inside the pod against github.com (no network here): run on the checkout instead,
  with the same output contract.
"""

from __future__ import annotations

import os
import re
import shlex
import subprocess
import sys
from pathlib import Path

import git
import pytest

from remediator.cli.demo import build_origin
from tests.support.example_cluster import serve_example
from tests.support.kube_api import KubeAPI

PAGE = Path(__file__).resolve().parents[2] / "docs" / "quickstart.md"
FENCE = re.compile(r"^```(\w*)[^\n]*\n(.*?)^```", re.M | re.S)
NOT_RUN = (r"python3 -m pip install \.", r"kubectl ", r"helm install ", r"cd path/to/")


def _commands() -> list[str]:
    """The shell lines of the page's `sh` blocks, continuation lines joined, `&&` split."""
    lines = []
    for lang, body in FENCE.findall(PAGE.read_text(encoding="utf-8")):
        if lang != "sh":
            continue
        for line in re.sub(r"\\\n\s*", " ", body).splitlines():
            lines += [part.strip() for part in line.split("&&") if part.strip()]
    return lines


def _run(line: str, cwd: Path, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    args = shlex.split(line)
    assert args[0] == "remediator", line
    return subprocess.run([sys.executable, "-m", "remediator", *args[1:]], cwd=cwd, env=env,
                          capture_output=True, text=True, check=False, timeout=300)


@pytest.fixture
def workstation(tmp_path: Path):
    """(a checkout of the user's GitOps repository, the environment of their shell)."""
    origin = build_origin(tmp_path / "work")
    checkout = tmp_path / "gitops"
    repo = git.Repo.clone_from(str(origin), checkout)
    # cloned from GitHub, as the Argo CD Applications and Flux sources in it name it
    repo.remote("origin").set_url("https://github.com/acme/gitops-example.git")
    repo.index.remove([".remediator.yaml", ".github/workflows/remediator.yml"], working_tree=True)
    repo.index.commit("a repository that has never seen the bot",
                      author=git.Actor("t", "t@example.com"),
                      committer=git.Actor("t", "t@example.com"))
    (tmp_path / "tmp").mkdir()
    with KubeAPI() as api:
        serve_example(api)
        env = {**os.environ, "PYTHONWARNINGS": "ignore", "TMPDIR": str(tmp_path / "tmp"),
               "KUBECONFIG": str(api.kubeconfig(tmp_path / "kubeconfig"))}
        env.pop("KUBERNETES_SERVICE_HOST", None)
        yield checkout, env


def test_every_command_of_the_page_is_exercised() -> None:
    commands = _commands()
    run = [c for c in commands if c.startswith("remediator ")]
    skipped = [c for c in commands if any(re.match(p, c) for p in NOT_RUN)]
    assert sorted(run + skipped) == sorted(commands), "a step this test does not run"
    assert {c.split()[1] for c in run} == {"demo", "init", "validate", "snapshot", "plan"}


def test_the_quickstart_as_written(workstation: tuple[Path, dict[str, str]]) -> None:
    checkout, env = workstation
    page = PAGE.read_text(encoding="utf-8")
    outcomes = {}
    for line in [c for c in _commands() if c.startswith("remediator ")]:
        out = _run(line, checkout, env)
        assert "Traceback" not in out.stderr, (line, out.stderr)
        outcomes[line.split()[1]] = out

    demo = outcomes["demo"]  # 0: one pass of the bot, the pull requests the page shows
    assert demo.returncode == 0, demo.stderr
    for shown in re.findall(r"^(PR #\d \[opened\] .*)$", page, re.M):
        assert shown in demo.stdout, shown
    for row in re.findall(r"^(propose|diagnose|skip) +(\S+) +(\S+)", page, re.M):
        assert re.search(r" +".join(map(re.escape, row)), demo.stdout), row

    init = outcomes["init"]  # 1: the configuration and the workflow, for this repository
    assert init.returncode == 0, init.stderr
    config = (checkout / ".remediator.yaml").read_text()
    assert config.startswith("# yaml-language-server: $schema=")
    assert "production" in config
    assert (checkout / ".github" / "workflows" / "remediator.yml").is_file()

    validate = outcomes["validate"]  # 2: what to fix first, file and line (exit 1: errors)
    assert validate.returncode == 1, validate.stderr
    assert re.search(r"^apps/search/statefulset\.yaml:\d+: error \[policy/resources\]",
                     validate.stdout, re.M), validate.stdout

    snapshot = outcomes["snapshot"]  # 6: the cluster, read through the kubeconfig
    assert snapshot.returncode == 0, snapshot.stderr
    assert (checkout / "snap" / "cluster.json").is_file()
    plan = outcomes["plan"]  # what the bot would do: the demo's decisions, nothing opened
    assert plan.returncode == 0, plan.stderr
    for decision, workload, failure in re.findall(r"^(propose|diagnose|skip) +(\S+) +(\S+)",
                                                  page, re.M):
        assert re.search(rf"{decision} +{re.escape(workload)} +{failure}", plan.stdout), (
            decision, workload, plan.stdout)
    repo = git.Repo(checkout)  # nothing but what the steps wrote: plan only reads
    assert not repo.is_dirty(untracked_files=False)
    assert {f.split("/")[0] for f in repo.untracked_files} == {".remediator.yaml", ".github",
                                                               "snap"}

def test_doctor_prints_each_check(workstation: tuple[Path, dict[str, str]]) -> None:
    checkout, env = workstation
    out = _run("remediator doctor --repo .", checkout, env)
    assert "Traceback" not in out.stderr, out.stderr
    lines = out.stdout.splitlines()
    assert re.match(r"\d+ ok, \d+ missing$", lines[-1]), out.stdout
    assert all(re.match(r"(ok|missing|optional) |\s+hint: ", ln) for ln in lines[:-1]), lines
