"""Fault class 5: hundreds of failing workloads at once. A service pass plans (locates, drafts,
gates) only as many new incidents as the PR limits let it open, oldest first, and defers the
others with a reason on the dashboard; a later pass re-plans nothing that did not change; a
SIGTERM during planning stops the process between incidents.

Real parts: a generated GitOps repository (real git), a generated snapshot, real PyGithub against
the GitHub REST emulator, and `remediator run` as a child process for the SIGTERM case. Counts
are asserted, never durations.
"""

from __future__ import annotations

import time
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest

from remediator.pipeline import PlanMemo
from remediator.service.one_pass import GitHubOptions, PassReport, run_once
from tests.support.github_bot import HUMAN, commit_to
from tests.support.github_emulator import GitHubEmulator
from tests.support.kube_api import KubeAPI
from tests.support.load import make_origin, make_snapshot, workload
from tests.support.service import Service

N = 300
HANG_GUARD = 300.0  # seconds: only a hang fails on it


@pytest.fixture(scope="module")
def snapshot(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return make_snapshot(tmp_path_factory.mktemp("load") / "snapshot", N)


@contextmanager
def _emulator(tmp: Path, max_open: int, max_per_hour: int = 100
              ) -> Iterator[tuple[GitHubEmulator, Path]]:
    origin = make_origin(tmp / "o", N, max_open=max_open, max_per_hour=max_per_hour)
    with GitHubEmulator(origin, "acme", "gitops") as emu:
        yield emu, origin
    assert emu.invalid == []


def _pass(emu: GitHubEmulator, origin: Path, state: Path, snapshot: Path,
          memo: PlanMemo | None) -> PassReport:
    opts = GitHubOptions(api_url=emu.base_url, write_interval=0, sleep=lambda s: None,
                         env={"GITHUB_TOKEN": "test-token"})
    return run_once(snapshot, str(origin), state, forge_kind="github", github=opts, env={},
                    memo=memo)


def _names(report: PassReport, decision: str) -> list[str]:
    return [r.incident.workload.name for r in report.plan.remediations
            if r.decision.value == decision]


def _oldest(k: int, skip: int = 0) -> list[str]:
    """The generated workloads failing the longest: the last by name."""
    return [workload(i)[1] for i in range(N - 1 - skip, N - 1 - skip - k, -1)]


def test_a_pass_plans_only_what_the_limits_let_it_open_and_reuses_it_next_time(
        tmp_path: Path, snapshot: Path):
    with _emulator(tmp_path, max_open=5) as (emu, origin):
        memo, state = PlanMemo(), tmp_path / "state"
        first = _pass(emu, origin, state, snapshot, memo)
        assert len(first.plan.remediations) == N  # every incident is reported...
        assert _names(first, "propose") == _oldest(5)  # ... the five oldest are proposed...
        assert first.plan.planned == 5  # ... and only they were located, drafted and gated
        assert first.plan.deferred == N - 5 == len(_names(first, "skip"))
        deferred = [r.reason for r in first.plan.remediations if r.decision.value == "skip"]
        assert set(deferred) == {"deferred: PR limit reached (maxOpen 5); planned when a pull "
                                 "request can be opened, oldest incident first"}
        assert Counter(s.outcome for s in first.submissions) == {"opened": 5}
        assert sorted(p.head or "" for p in emu.pulls()) == sorted(
            f"remediator/{workload(i)[0]}-{workload(i)[1]}-oomkilled" for i in range(N - 5, N))
        (dashboard,) = emu.issues()
        assert dashboard.body.count("deferred: PR limit reached (maxOpen 5)") == N - 5

        second = _pass(emu, origin, state, snapshot, memo)  # nothing changed
        assert (second.plan.planned, second.plan.reused, second.plan.deferred) == (0, 5, N - 5)
        assert Counter(s.outcome for s in second.submissions) == {"exists": 5}
        assert len(emu.pulls()) == 5 and len(emu.issues()) == 1

        for pr in emu.pulls()[:2]:  # reviewers close two: two PRs can be opened again
            emu.close(pr.number)
        third = _pass(emu, origin, state, snapshot, memo)
        assert (third.plan.planned, third.plan.reused) == (2, 5)  # the next two oldest only
        assert _names(third, "propose") == _oldest(7)
        assert Counter(s.outcome for s in third.submissions) == {
            "exists": 3, "silenced": 2, "opened": 2}
        assert len([p for p in emu.pulls() if p.state == "open"]) == 5
        assert len(emu.issues()) == 1


def test_the_hourly_limit_bounds_planning_too_and_reuse_ends_with_a_change_or_age(
        tmp_path: Path, snapshot: Path):
    with _emulator(tmp_path, max_open=50, max_per_hour=3) as (emu, origin):
        first = _pass(emu, origin, tmp_path / "state", snapshot, None)
        assert len(_names(first, "propose")) == 3 and first.plan.planned == 3
        assert len(emu.pulls()) == 3
        assert "deferred: PR limit reached (maxPerHour 3)" in first.plan.remediations[-1].reason
        # a restarted process remembers nothing: it plans the incidents with a PR (to keep them
        # up to date) and nothing new (the hour's three are spent)
        clock = [0.0]
        memo = PlanMemo(clock=lambda: clock[0])
        again = _pass(emu, origin, tmp_path / "state", snapshot, memo)
        assert (again.plan.planned, again.plan.deferred) == (3, N - 3)
        assert Counter(s.outcome for s in again.submissions) == {"exists": 3}
        assert _pass(emu, origin, tmp_path / "state", snapshot, memo).plan.planned == 0
        commit_to(origin, tmp_path, {"NOTES.md": "unrelated\n"}, HUMAN)  # the head moves
        moved = _pass(emu, origin, tmp_path / "state", snapshot, memo)
        assert (moved.plan.planned, moved.plan.reused) == (3, 0)
        assert Counter(s.outcome for s in moved.submissions) == {"updated": 3}
        clock[0] += memo.max_age  # unchanged, but old enough to be planned again
        assert _pass(emu, origin, tmp_path / "state", snapshot, memo).plan.planned == 3
        assert len(emu.pulls()) == 3


def test_sigterm_while_planning_stops_between_incidents_and_opens_nothing(
        tmp_path: Path, snapshot: Path):
    """`remediator run` (continuous) with room for every incident, its gate dry-running each
    change on the API emulator: a SIGTERM once the first change is being dry-run (the pass is
    planning) ends the pass before the next incident, and the process exits cleanly."""
    with KubeAPI(crds=("argo",)) as kube:
        kube.apply(*({"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": ns}}
                     for ns in {workload(i)[0] for i in range(N)}))
        kubeconfig = kube.kubeconfig(tmp_path / "kubeconfig")
        with _emulator(tmp_path, max_open=N, max_per_hour=N) as (emu, origin):
            svc = Service(tmp_path, origin, "--forge", "github", "--github-api-url",
                          emu.base_url, "--github-write-interval", "0", snapshot=snapshot,
                          env={"GITHUB_TOKEN": "test-token", "KUBECONFIG": str(kubeconfig)})
            try:
                deadline = time.monotonic() + HANG_GUARD
                while not _dry_runs(kube) and svc.proc.poll() is None:
                    assert time.monotonic() < deadline, "the pass never reached the gate"
                    time.sleep(0.005)
            finally:
                rc = svc.terminate()
            assert rc == 0  # a clean stop
            # stopped between incidents: the one being gated was finished, no other started
            assert 1 <= _dry_runs(kube) < N
            finished = svc.wait_for("pass")
            assert finished["abandoned"] is True and finished["planned"] == _dry_runs(kube)
            assert svc.wait_for("stopped")["message"] == "the service stopped (asked to)"
            assert emu.pulls() == [] and emu.issues() == []  # nothing opened, nothing written
            assert not [c for c in emu.calls if c[0] != "GET"]
            assert not [m for m, _, q in kube.requests if m != "GET" and "dryRun" not in q]


def _dry_runs(kube: KubeAPI) -> int:
    return sum(1 for m, _, q in list(kube.requests) if m == "PATCH" and q.get("dryRun") == "All")
