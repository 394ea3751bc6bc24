"""The generated scale case of bench/scale.py (tests/support/scale.py), one workload of each
layout: every incident reaches a validated proposal (the bench measures real work), each
kustomization is rendered once per pass for locate and the gate's "before" (the renderer runs
through a logging shim on PATH: the real subprocesses are counted), and a pass after a commit
renders the new tree, not the last pass's."""

from __future__ import annotations

import os
import shutil
import stat
from pathlib import Path

import git
import pytest

from remediator.cluster import load_snapshot
from remediator.config import load_config
from remediator.pipeline import plan
from remediator.render.kustomize import renderer
from tests.support.scale import AUTHOR, make_origin, make_snapshot


@pytest.fixture(scope="module")
def case(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    tmp = tmp_path_factory.mktemp("scale")
    repo = tmp / "checkout"
    git.Repo.clone_from(make_origin(tmp / "origin", 4), repo)
    return repo, make_snapshot(tmp / "snapshot", 4)


def counted_renderer(bin_dir: Path, log: Path) -> None:
    """A shim with the renderer's name first on PATH: logs each call, then runs the real one."""
    cmd = renderer()
    assert cmd is not None
    real = shutil.which(cmd[0])
    assert real is not None
    bin_dir.mkdir()
    shim = bin_dir / cmd[0]
    shim.write_text(f'#!/bin/sh\necho "$@" >> "{log}"\nexec "{real}" "$@"\n')
    shim.chmod(shim.stat().st_mode | stat.S_IXUSR)


def test_every_layout_is_proposed_and_each_render_is_made_once(
        case: tuple[Path, Path], tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    repo, snapshot = case
    log = tmp_path / "renders.log"
    counted_renderer(tmp_path / "bin", log)
    monkeypatch.setenv("PATH", f"{tmp_path / 'bin'}{os.pathsep}{os.environ['PATH']}")
    config = load_config(repo)
    result = plan(load_snapshot(snapshot, config.cluster), repo, config)
    decided = {r.incident.workload.name: (r.decision.value, [c.path for c in r.changes])
               for r in result.remediations}
    assert decided == {
        "plain-0000": ("propose", ["apps/plain-0000/deployment.yaml"]),
        "kustomize-0001": ("propose", ["apps/kustomize-0001/overlays/production/memory.yaml"]),
        "helm-0002": ("propose", ["apps/helm-0002/release.yaml"]),
        "image-0003": ("propose", ["apps/image-0003/deployment.yaml"]),
    }
    # the overlay and the HelmRelease folder: rendered once each for locate and the gate's
    # "before", once each after the change (three each before renders were shared)
    assert len(log.read_text().splitlines()) == 4


def test_a_pass_after_a_commit_renders_the_new_tree(case: tuple[Path, Path], tmp_path: Path):
    repo, snapshot = case
    work = tmp_path / "work"
    git.Repo.clone_from(repo, work)
    config = load_config(work)
    state = load_snapshot(snapshot, config.cluster)

    def changed_path() -> str:
        [r] = [r for r in plan(state, work, config).remediations
               if r.incident.workload.name == "kustomize-0001"]
        assert r.decision.value == "propose", r.reason
        [change] = r.changes
        return change.path

    overlay = work / "apps/kustomize-0001/overlays/production"
    assert changed_path() == "apps/kustomize-0001/overlays/production/memory.yaml"
    # the overlay stops patching the memory: the next pass must see the base's limit
    (overlay / "kustomization.yaml").write_text(
        (overlay / "kustomization.yaml").read_text().split("patches:")[0])
    (overlay / "memory.yaml").unlink()
    g = git.Repo(work)
    g.git.add("--all")
    g.index.commit("drop the memory patch", author=AUTHOR, committer=AUTHOR)
    assert changed_path() != "apps/kustomize-0001/overlays/production/memory.yaml"


def test_planning_side_by_side_gives_the_serial_plan(tmp_path_factory: pytest.TempPathFactory):
    """Incidents planned on threads taking turns (kernel/turns: renders overlap) give exactly
    the plan made one incident after another: the same decisions, changes, validations and
    warnings, in the same order. Two of each layout, so that two threads meet on each kind."""
    tmp = tmp_path_factory.mktemp("scale-turns")
    repo = tmp / "checkout"
    git.Repo.clone_from(make_origin(tmp / "origin", 8), repo)
    config = load_config(repo)
    state = load_snapshot(make_snapshot(tmp / "snapshot", 8), config.cluster)
    serial = plan(state, repo, config, threads=1).as_json()
    assert [r["decision"] for r in serial["remediations"]] == ["propose"] * 8  # type: ignore[index]
    for threads in (2, 4):
        assert plan(state, repo, config, threads=threads).as_json() == serial
