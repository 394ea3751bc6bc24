"""GitHub API calls: opening one PR, and an idle pass with N open remediation PRs.

Counts the requests the real PyGithub client makes against the test GitHub REST emulator (loopback;
tests/support/github_emulator.py), with the bundled snapshot and example repo. Baseline in the same
run: the idle pass with 1 open PR, so `idle_calls_growth` (N PRs / 1 PR) shows O(1). Run from the
repo root: `python bench/github.py [N]` (needs the test extras: werkzeug). The idle pass is one
listing of the `remediator`-labelled issues: one request per 100 of them.
"""

from __future__ import annotations

import argparse
import tempfile
from pathlib import Path

import _root  # noqa: F401  (repo root on sys.path; first)
import git

# this file is named like PyGithub's package: its folder must not shadow it
from remediator.cli.demo import build_origin, example_paths
from remediator.service.one_pass import GitHubOptions, run_once
from tests.support.github_emulator import GitHubEmulator

TOKEN = "bench-token"


def _pass(emu: GitHubEmulator, origin: Path, state: Path) -> list[str]:
    opts = GitHubOptions(api_url=emu.base_url, write_interval=0, sleep=lambda s: None,
                         env={"GITHUB_TOKEN": TOKEN})
    config = state.parent / "config.yaml"  # the example's, without the open-PR limit
    config.write_text((example_paths()[0] / ".remediator.yaml").read_text()
                      .replace("maxOpen: 10", "maxOpen: 100000\n  maxPerHour: 100000"))
    report = run_once(example_paths()[1], str(origin), state, config, forge_kind="github",
                      github=opts)
    return [s.outcome for s in report.submissions]


def _seed_open_prs(emu: GitHubEmulator, origin: Path, n: int) -> None:
    """N open remediation PRs of other signatures, as earlier passes would have left them."""
    repo = git.Repo(origin)
    main = repo.commit("main").hexsha
    for i in range(n):
        branch = f"remediator/bench-{i}"
        repo.git.update_ref(f"refs/heads/{branch}", main)
        item = emu._new(title=f"fix(bench/w{i}): OOMKilled", head=branch,
                        body=f'<!-- remediator:record {{"signature": "bench/{i}", '
                             f'"branch": "{branch}"}} -->', labels=["remediator"])
        assert item.head == branch


def idle_calls(n: int) -> int:
    with tempfile.TemporaryDirectory() as tmp:
        origin = build_origin(Path(tmp))
        with GitHubEmulator(origin, "acme", "gitops-example", token=TOKEN) as emu:
            _seed_open_prs(emu, origin, max(n - 3, 0))
            _pass(emu, origin, Path(tmp) / "state")  # opens the snapshot's 3 PRs
            emu.reset_calls()
            outcomes = _pass(emu, origin, Path(tmp) / "state")
            assert set(outcomes) == {"exists"}, outcomes
            return len(emu.calls)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("n", type=int, nargs="?", default=250, help="open PRs (default 250)")
    n = parser.parse_args().n
    with tempfile.TemporaryDirectory() as tmp:
        origin = build_origin(Path(tmp))
        with GitHubEmulator(origin, "acme", "gitops-example", token=TOKEN) as emu:
            outcomes = _pass(emu, origin, Path(tmp) / "state")
            opened = outcomes.count("opened")
            per_pr = len(emu.calls) / max(opened, 1)
            writes = sum(1 for m, _ in emu.calls if m != "GET")
    baseline = idle_calls(3)
    idle = idle_calls(n)
    print(f"prs_opened={opened}")
    print(f"github_calls_first_pass={round(per_pr * opened)}")
    print(f"github_writes_first_pass={writes}")
    print(f"github_calls_per_pr={per_pr:.2f}")
    print(f"open_prs={max(n, 3)}")
    print(f"github_calls_idle_pass={idle}")
    print(f"github_calls_idle_pass_3_prs={baseline}")
    print(f"idle_calls_growth={idle / baseline:.1f}")


if __name__ == "__main__":
    main()
