"""Issue 14, a repository tree handed to kustomize: a FIFO (size 0, blocks its reader) or a
device among the files a kustomization names is refused at once with one line naming it (stat
only, never opened), instead of kustomize blocking until the deadline. And kustomize itself
runs within `limits.renderTimeoutSeconds`, its process group killed at the deadline."""

from __future__ import annotations

import time
from pathlib import Path

import pytest

from remediator.kernel import limits
from remediator.model.settings import Limits
from remediator.render import kustomize
from tests.support import hostile

CM = "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: {name}\ndata:\n  k: v\n"
pytestmark = pytest.mark.skipif(kustomize.renderer() is None, reason="no kustomize or kubectl")


def _refused_fast(directory: Path, fifo: str, **kw: object) -> str:
    started = time.monotonic()
    with pytest.raises(kustomize.RenderError) as err:
        kustomize.build(directory, "apps", **kw)  # type: ignore[arg-type]
    assert time.monotonic() - started < 30  # the deadline is 60 s: refused, not timed out
    message = str(err.value)
    assert "\n" not in message and "refused" in message and fifo in message, message
    assert "a FIFO" in message, message
    return message


def test_a_fifo_named_as_a_resource(tmp_path: Path):
    (tmp_path / "kustomization.yaml").write_text("resources: [cm.yaml, pipe.yaml]\n")
    (tmp_path / "cm.yaml").write_text(CM.format(name="a"))
    hostile.fifo(tmp_path / "pipe.yaml")
    _refused_fast(tmp_path, "pipe.yaml")


def test_a_fifo_in_a_base_reached_through_dot_dot(tmp_path: Path):
    base, overlay = tmp_path / "base", tmp_path / "overlays" / "prod"
    base.mkdir()
    overlay.mkdir(parents=True)
    (base / "kustomization.yaml").write_text("resources: [cm.yaml]\n")
    hostile.fifo(base / "cm.yaml")
    (overlay / "kustomization.yaml").write_text("resources: [../../base]\nnamePrefix: p-\n")
    _refused_fast(overlay, "cm.yaml")


def test_a_fifo_as_a_generator_source_or_patch(tmp_path: Path):
    (tmp_path / "kustomization.yaml").write_text(
        "resources: [cm.yaml]\nconfigMapGenerator:\n- name: g\n  files: [conf=app.conf]\n")
    (tmp_path / "cm.yaml").write_text(CM.format(name="a"))
    hostile.fifo(tmp_path / "app.conf")
    _refused_fast(tmp_path, "app.conf")
    (tmp_path / "app.conf").unlink()
    (tmp_path / "kustomization.yaml").write_text(
        "resources: [cm.yaml]\npatches:\n- path: patch.yaml\n")
    hostile.fifo(tmp_path / "patch.yaml")
    _refused_fast(tmp_path, "patch.yaml")


def test_a_fifo_as_the_kustomization_itself(tmp_path: Path):
    hostile.fifo(tmp_path / "kustomization.yaml")
    _refused_fast(tmp_path, "kustomization.yaml", top={"namePrefix": "x-"})


def test_a_fifo_in_a_folder_rendered_as_flux_does(tmp_path: Path):
    (tmp_path / "cm.yaml").write_text(CM.format(name="a"))
    hostile.fifo(tmp_path / "sub" / "pipe.yaml")
    _refused_fast(tmp_path, "pipe.yaml", root=tmp_path)


def test_a_symlink_to_a_device_is_refused(tmp_path: Path):
    (tmp_path / "kustomization.yaml").write_text("resources: [zero.yaml]\n")
    (tmp_path / "zero.yaml").symlink_to("/dev/zero")
    with pytest.raises(kustomize.RenderError) as err:
        kustomize.build(tmp_path, "apps")
    assert "zero.yaml" in str(err.value) and "a device" in str(err.value), err.value


def test_a_symlink_loop_is_for_kustomize_to_report_and_an_ordinary_tree_renders(tmp_path: Path):
    hostile.symlink_loop(tmp_path / "loop")
    (tmp_path / "kustomization.yaml").write_text("resources: [cm.yaml, loop/a.yaml]\n")
    (tmp_path / "cm.yaml").write_text(CM.format(name="a"))
    with pytest.raises(kustomize.RenderError) as err:
        kustomize.build(tmp_path, "apps")
    assert "\n" not in str(err.value) and "refused" not in str(err.value)
    (tmp_path / "kustomization.yaml").write_text("resources: [cm.yaml]\n")
    [obj] = kustomize.build(tmp_path, "apps")
    assert obj["metadata"]["name"] == "a"


def test_kustomize_is_stopped_at_the_render_deadline(tmp_path: Path):
    # a remote base that never answers: kustomize waits on the network; the limit stops it
    import socket

    with socket.socket() as server:
        server.bind(("127.0.0.1", 0))
        server.listen(8)
        port = server.getsockname()[1]
        (tmp_path / "kustomization.yaml").write_text(
            f"resources: [http://127.0.0.1:{port}/never.yaml]\n")
        started = time.monotonic()
        with limits.applied(Limits(render_timeout_seconds=1)), \
                pytest.raises(kustomize.RenderError) as err:
            kustomize.build(tmp_path, "apps")
        assert time.monotonic() - started < 30
    assert "did not complete in 1s" in str(err.value), err.value


def test_plan_and_validate_over_a_base_naming_a_fifo(tmp_path: Path):
    import json
    import shutil

    from tests.support.cli import EXAMPLE, SNAPSHOT, cli

    root = tmp_path / "repo"
    shutil.copytree(EXAMPLE, root)
    base = root / "apps" / "checkout" / "base"
    hostile.fifo(base / "extra.yaml")
    text = (base / "kustomization.yaml").read_text()
    (base / "kustomization.yaml").write_text(text.replace("resources:\n",
                                                          "resources:\n  - extra.yaml\n", 1))
    proc = cli("plan", "--snapshot", str(SNAPSHOT), "--repo", str(root), "--output", "json")
    assert proc.returncode == 0, proc.stderr
    reasons = [r["reason"] for r in json.loads(proc.stdout)["remediations"]]
    assert any("refused: `../../base/extra.yaml` is a FIFO" in r for r in reasons), reasons
    assert str(tmp_path) not in proc.stdout  # no absolute path of ours in the output
    proc = cli("validate", "--repo", str(root))
    assert proc.returncode == 1 and "Traceback" not in proc.stderr, proc.stderr
    assert "kustomize build of apps/checkout/base refused: `extra.yaml` is a FIFO" in proc.stdout
