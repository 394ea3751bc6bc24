"""Issue 14, hangs and wandering reads: FIFOs, endless devices, symlink loops and folders linked
out of the tree, given as configuration, snapshot, logs or repository files. Each is refused
with one line (exit 2) or skipped with a warning; nothing blocks, nothing outside is read."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

from remediator.cluster.snapshot import load_snapshot
from remediator.kernel import files, worktree
from remediator.kernel.yamlio import scan_repo
from remediator.model import ChartSource, FileChange
from remediator.render import helm as helm_render
from tests.support import hostile
from tests.support.chart_repo import CONVENTIONAL, write_chart
from tests.support.cli import EXAMPLE, SNAPSHOT, cli


def _one_line_usage_error(proc) -> str:  # type: ignore[no-untyped-def]
    assert proc.returncode == 2, (proc.returncode, proc.stderr)
    lines = proc.stderr.strip().splitlines()
    assert len(lines) == 1 and "Traceback" not in proc.stderr, proc.stderr
    return lines[0]


@pytest.fixture(scope="module")
def repo(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("repo") / "repo"
    shutil.copytree(EXAMPLE, root)
    return root


@pytest.mark.parametrize("kind", ["fifo", "dev-zero", "loop"])
def test_a_config_that_is_not_a_regular_file_is_refused(repo: Path, tmp_path: Path, kind: str):
    target = {"fifo": lambda: hostile.fifo(tmp_path / "c.yaml"),
              "dev-zero": lambda: Path("/dev/zero"),
              "loop": lambda: hostile.symlink_loop(tmp_path / "l")}[kind]()
    proc = cli("plan", "--snapshot", str(SNAPSHOT), "--repo", str(repo), "--config", str(target))
    line = _one_line_usage_error(proc)
    assert "refused" in line, line


def test_a_fifo_as_the_repos_config_or_snapshot_is_refused(tmp_path: Path):
    root = tmp_path / "repo"
    shutil.copytree(EXAMPLE, root)
    (root / ".remediator.yaml").unlink(missing_ok=True)
    hostile.fifo(root / ".remediator.yaml")
    line = _one_line_usage_error(cli("plan", "--snapshot", str(SNAPSHOT), "--repo", str(root)))
    assert "not a regular file" in line, line
    snap = tmp_path / "snap"
    hostile.fifo(snap / "cluster.json")
    line = _one_line_usage_error(cli("plan", "--snapshot", str(snap), "--repo", str(EXAMPLE)))
    assert "not a regular file (a FIFO)" in line, line


@pytest.mark.parametrize(("text", "why"), [
    ('{"kind": "List", "items": [{"count": NaN}]}', "NaN is not a JSON value"),
    ('{"kind": "List", "items": [{"count": Infinity}]}', "Infinity is not a JSON value"),
    (hostile.deep_json(100_000), "nested too deeply"),
])
def test_json_that_python_reads_but_kubectl_never_prints_is_refused(tmp_path: Path, text: str,
                                                                    why: str):
    (tmp_path / "cluster.json").write_text(text)
    line = _one_line_usage_error(cli("plan", "--snapshot", str(tmp_path), "--repo",
                                     str(EXAMPLE)))
    assert why in line, line


def test_log_folders_linked_out_of_the_snapshot_are_not_read(tmp_path: Path):
    outside = tmp_path / "outside" / "shop" / "cart-x"
    outside.mkdir(parents=True)
    (outside / "cart.log").write_text("SECRET-FROM-OUTSIDE\n")
    snap = tmp_path / "snap"
    snap.mkdir()
    (snap / "cluster.json").write_text((SNAPSHOT / "cluster.json").read_text())
    (snap / "logs").mkdir()
    (snap / "logs" / "shop").symlink_to(outside.parent)  # a namespace folder linked out
    hostile.fifo(snap / "logs" / "ns" / "pod" / "app.log")
    state = load_snapshot(snap)
    assert not any("SECRET-FROM-OUTSIDE" in text for text in state.logs.values())
    assert any("resolves outside" in w for w in state.warnings), state.warnings
    assert any("FIFO" in w for w in state.warnings), state.warnings


def test_the_repo_scan_skips_fifos_and_symlink_loops(tmp_path: Path):
    root = tmp_path / "repo"
    (root / "apps").mkdir(parents=True)
    (root / "apps" / "ok.yaml").write_text("apiVersion: v1\nkind: ConfigMap\nmetadata: {name: a}\n")
    hostile.fifo(root / "apps" / "pipe.yaml")
    hostile.symlink_loop(root / "loop")
    out = scan_repo(root)
    assert [f.path for f in out.files] == ["apps/ok.yaml"]
    assert len(out.warnings) == 3, out.warnings


def test_plan_over_a_repo_with_a_fifo_and_a_loop_finishes(tmp_path: Path):
    root = tmp_path / "repo"
    shutil.copytree(EXAMPLE, root)
    hostile.fifo(root / "apps" / "pipe.yaml")
    hostile.symlink_loop(root / "apps" / "loop")
    proc = cli("plan", "--snapshot", str(SNAPSHOT), "--repo", str(root), "--output", "json")
    assert proc.returncode == 0, proc.stderr
    assert "Traceback" not in proc.stderr
    assert json.loads(proc.stdout)["remediations"]


def test_bounded_reads_keep_the_tail_and_refuse_the_rest(tmp_path: Path):
    big = tmp_path / "big"
    big.write_bytes(b"a" * 100 + b"\nlast line\n")
    assert files.read_bytes(big, 20, tail=True).endswith(b"last line\n")
    with pytest.raises(files.UnreadableFile, match="over the 20 byte limit"):
        files.read_bytes(big, 20)
    with pytest.raises(files.UnreadableFile, match="outside"):
        files.read_bytes(big, 1000, root=tmp_path / "elsewhere")


def test_a_chart_holding_a_fifo_is_a_render_error_not_a_crash(tmp_path: Path):
    write_chart(tmp_path / "chart", CONVENTIONAL)
    hostile.fifo(tmp_path / "chart" / "templates" / "pipe.yaml")
    with pytest.raises(helm_render.RenderError, match=r"`templates/pipe.yaml`, which is not a "
                       r"regular file \(a FIFO"):
        helm_render.render_release(ChartSource(path="chart"), "r", "ns", {}, root=tmp_path)


def test_the_gates_scratch_tree_leaves_special_files_out(tmp_path: Path,
                                                         caplog: pytest.LogCaptureFixture):
    (tmp_path / "apps").mkdir()
    (tmp_path / "apps" / "a.yaml").write_text("x: 1\n")
    hostile.fifo(tmp_path / "apps" / "pipe.yaml")
    change = FileChange("apps/a.yaml", "x: 1\n", "x: 2\n", "")
    with worktree.changed_copy(tmp_path, [change]) as scratch:
        assert sorted(p.name for p in (scratch / "apps").iterdir()) == ["a.yaml"]
        assert (scratch / "apps" / "a.yaml").read_text() == "x: 2\n"
    assert "pipe.yaml: not a regular file" in caplog.text
