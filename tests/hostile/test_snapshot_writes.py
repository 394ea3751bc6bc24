"""Issue 14, `remediator snapshot` writes paths made from names the API server returned: a
container, pod or namespace name is never a path (`..`, `/`, NUL, control characters, lone
surrogates, overlong), nothing is written outside the output folder, and no symlink on the way
is followed. A name that cannot be a file name costs its log file and a warning, nothing else."""

from __future__ import annotations

import json
import os
from datetime import UTC, datetime
from pathlib import Path

import pytest

from remediator.cli.demo import example_paths
from remediator.cluster import ClusterError, LiveCluster, LiveOptions, RawClient, connect
from remediator.kernel import files
from remediator.service.watcher import capture_snapshot
from tests.support.kube_api import KubeAPI

_, SNAPSHOT = example_paths()
POD = "cart-5d8f7c9b4-mvn8d"
NOW = datetime(2026, 11, 20, 10, 30, tzinfo=UTC)


def _tree(root: Path) -> list[str]:
    return sorted(str(p.relative_to(root)) for p in root.rglob("*"))


def _rename_container(items: list[dict], new: str) -> list[dict]:
    for obj in items:
        if obj["kind"] == "Pod" and obj["metadata"]["name"] == POD:
            for c in obj["spec"]["containers"]:
                c["name"] = new if c["name"] == "cart" else c["name"]
            for cs in obj["status"].get("containerStatuses", []):
                cs["name"] = new if cs["name"] == "cart" else cs["name"]
    return items


@pytest.mark.parametrize("name", ["../../../escape", "..", "a/b", "x\x00y", "bell\x07",
                                  "\ud800", "x" * 300, ".hidden", "-dash"])
def test_a_container_name_that_is_no_file_name_costs_its_log_only(tmp_path: Path, name: str):
    items = _rename_container(json.loads((SNAPSHOT / "cluster.json").read_text())["items"],
                              name)
    with KubeAPI() as api:
        namespaces = sorted({i["metadata"]["namespace"] for i in items
                             if i["metadata"].get("namespace")})
        api.apply(*({"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": ns}}
                    for ns in namespaces), *items)
        api.set_log("shop", POD, name, "OUTSIDE\n", True)
        api.set_log("shop", POD, name, "OUTSIDE\n", False)
        client = connect(kubeconfig=str(api.kubeconfig(tmp_path / "kubeconfig")))
        live = LiveCluster(RawClient(client), "emu", LiveOptions(clock=lambda: NOW))
        out = tmp_path / "out" / "snap"
        capture_snapshot(live, out)
    outside = [p for p in _tree(tmp_path) if not p.startswith(("out", "kubeconfig"))]
    assert outside == [], outside
    written = _tree(out)
    assert "cluster.json" in written
    assert not any("OUTSIDE" in (out / p).read_text() for p in written if p.endswith(".log"))
    if name != "\ud800":  # a lone surrogate does not survive the API's JSON: no log to write
        assert any("not a safe file name" in n for n in live.notes), live.notes


def test_the_output_folder_may_not_be_a_symlink(tmp_path: Path):
    (tmp_path / "elsewhere").mkdir()
    (tmp_path / "snap").symlink_to(tmp_path / "elsewhere")
    with KubeAPI() as api:
        client = connect(kubeconfig=str(api.kubeconfig(tmp_path / "kubeconfig")))
        live = LiveCluster(RawClient(client), "emu", LiveOptions(clock=lambda: NOW))
        with pytest.raises(ClusterError, match="symbolic link"):
            capture_snapshot(live, tmp_path / "snap")
    assert list((tmp_path / "elsewhere").iterdir()) == []


@pytest.mark.parametrize("parts", [["logs", "..", "x.log"], ["logs", "a/b", "x.log"],
                                   ["", "x.log"], ["logs", "\ud800", "x.log"],
                                   ["logs", "n\nm", "x.log"], ["x" * 254]])
def test_write_new_refuses_unsafe_components(tmp_path: Path, parts: list[str]):
    with pytest.raises(files.UnreadableFile, match="not a safe file name"):
        files.write_new(tmp_path, parts, b"data")
    assert _tree(tmp_path) == []


@pytest.mark.parametrize("link", ["logs", "logs/shop", "logs/shop/pod/c.log"])
def test_write_new_follows_no_symlink_planted_on_the_way(tmp_path: Path, link: str):
    out, outside = tmp_path / "out", tmp_path / "outside"
    outside.mkdir()
    (out / link).parent.mkdir(parents=True, exist_ok=True)
    (out / link).symlink_to(outside / "target" if link.endswith(".log") else outside)
    with pytest.raises(files.UnreadableFile, match="refused"):
        files.write_new(out, ["logs", "shop", "pod", "c.log"], b"data")
    assert _tree(outside) == []


def test_write_new_never_overwrites_and_writes_inside(tmp_path: Path):
    path = files.write_new(tmp_path, ["logs", "shop", "pod", "c.log"], b"one")
    assert path.read_bytes() == b"one" and path.parent.parent.parent.parent == tmp_path
    with pytest.raises(files.UnreadableFile, match="exists"):
        files.write_new(tmp_path, ["logs", "shop", "pod", "c.log"], b"two")
    assert path.read_bytes() == b"one"
    assert not os.path.islink(path)
