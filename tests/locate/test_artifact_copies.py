"""An ArtifactGenerator's copy operations read as repository paths, with source-watcher's
cp-like semantics (its documentation's examples): which repository folder an artifact's path is,
and which repository files the artifact holds."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from remediator.locate.artifacts import ArtifactSkip, layout


def generator(*copies: dict[str, Any], source_kind: str = "GitRepository") -> dict[str, Any]:
    return {"apiVersion": "source.extensions.fluxcd.io/v1beta1", "kind": "ArtifactGenerator",
            "metadata": {"name": "gen", "namespace": "apps"},
            "spec": {"sources": [{"alias": "repo", "kind": source_kind, "name": "mono"}],
                     "artifacts": [{"name": "art", "copy": list(copies)}]}}


@pytest.fixture
def repo(tmp_path: Path) -> Path:
    for rel in ("deploy/frontend/kustomization.yaml", "deploy/frontend/README.md",
                "deploy/frontend/testdata/x.yaml", "deploy/frontend/sub/y.yaml",
                "deploy/backend/kustomization.yaml", "configs/app.yaml"):
        (tmp_path / rel).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / rel).write_text("")
    return tmp_path


def test_decomposition_maps_the_artifact_root_to_the_folder(repo: Path):
    lo = layout(generator({"from": "@repo/deploy/frontend/**", "to": "@artifact/",
                           "exclude": ["*.md", "**/testdata/**", "sub/**"]}), "art", repo)
    assert (lo.root, lo.git_name, lo.git_namespace) == ("deploy/frontend", "mono", "apps")
    assert lo.holds("deploy/frontend/kustomization.yaml")
    assert not lo.holds("deploy/frontend/README.md")  # a name pattern: at any depth
    assert not lo.holds("deploy/frontend/testdata/x.yaml")
    assert not lo.holds("deploy/frontend/sub/y.yaml")  # relative to the `from` folder
    assert not lo.holds("deploy/backend/kustomization.yaml")
    # a folder whose manifests the copy excludes is not the folder Flux lists, unless its
    # kustomization (which names what it reads) is there
    assert lo.folder("./", ["deploy/frontend/testdata/x.yaml"]) == "deploy/frontend"
    with pytest.raises(ArtifactSkip, match="does not hold the repository folder"):
        lo.folder("./testdata", ["deploy/frontend/testdata/x.yaml"])
    docs_only = layout(generator({"from": "@repo/deploy/backend/**", "to": "@artifact/",
                                  "exclude": ["*.md"]}), "art", repo)
    assert docs_only.folder("./", ["deploy/backend/app.yaml"]) == "deploy/backend"


def test_a_folder_without_glob_is_copied_as_a_sub_folder(repo: Path):
    lo = layout(generator({"from": "@repo/deploy/", "to": "@artifact/"}), "art", repo)
    assert lo.root == ""
    assert lo.folder("./deploy/backend") == "deploy/backend"
    assert lo.holds("deploy/frontend/sub/y.yaml") and not lo.holds("configs/app.yaml")


def test_files_and_globs_keep_their_paths_only_at_the_root(repo: Path):
    same = layout(generator({"from": "@repo/configs/*.yaml", "to": "@artifact/"},
                            {"from": "@repo/deploy/**", "to": "@artifact/deploy/"}), "art", repo)
    assert same.root == "" and same.holds("configs/app.yaml")
    with pytest.raises(ArtifactSkip, match="places files at other relative paths"):
        layout(generator({"from": "@repo/configs/app.yaml", "to": "@artifact/env.yaml"},
                         {"from": "@repo/deploy/**", "to": "@artifact/deploy/"}), "art", repo)
    renamed = layout(generator({"from": "@repo/configs/app.yaml", "to": "@artifact/configs/"}),
                     "art", repo)
    assert renamed.holds("configs/app.yaml") and renamed.root == ""


def test_a_folder_the_artifact_holds_only_in_part_is_not_followed(repo: Path):
    lo = layout(generator({"from": "@repo/deploy/frontend/**", "to": "@artifact/frontend/"},
                          {"from": "@repo/deploy/backend/**", "to": "@artifact/backend/"}),
                "art", repo)
    assert lo.root == "deploy"
    with pytest.raises(ArtifactSkip, match="does not hold the repository folder `deploy` whole"):
        lo.folder("./")


@pytest.mark.parametrize(("copy", "kind", "reason"), [
    ({"from": "@repo/deploy/**", "to": "@artifact/", "strategy": "Extract"}, "GitRepository",
     "with the `Extract` strategy"),
    ({"from": "@other/deploy/**", "to": "@artifact/"}, "GitRepository",
     "copies from `@other`, which is not one of its sources"),
    ({"from": "deploy/**", "to": "@artifact/"}, "GitRepository",
     "that is not `@<alias>/<path>` to `@artifact/<path>`"),
    ({"from": "@repo/deploy/**", "to": "@artifact/"}, "Bucket", "takes files from the Bucket"),
])
def test_copies_that_are_not_the_repositorys_files_are_refused(repo: Path, copy: dict[str, Any],
                                                              kind: str, reason: str):
    with pytest.raises(ArtifactSkip, match=reason.replace("(", r"\(").replace("[", r"\[")):
        layout(generator(copy, source_kind=kind), "art", repo)


def test_a_path_pattern_generator_is_not_followed(repo: Path):
    gen = generator({"from": "@repo/deploy/{app}/**", "to": "@artifact/"})
    gen["spec"]["pathPattern"] = "@repo/deploy/{app}"
    with pytest.raises(ArtifactSkip, match="expands `pathPattern`"):
        layout(gen, "art", repo)
