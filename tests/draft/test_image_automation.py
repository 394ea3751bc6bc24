"""Image tags another bot writes to Git are never reverted (issue 21): a Flux
`{"$imagepolicy": ...}` marker on the image line, or on a kustomization's `newTag`, and
Argo CD Image Updater annotations on the Application turn the revert into a diagnosis naming
the ImagePolicy / Image Updater setting to change. The same repositories without the automation
get the revert, so the tests see the difference."""

from __future__ import annotations

from pathlib import Path

import pytest

from remediator.draft.automation import image_automation
from remediator.model import Decision, Remediation
from tests.support.repos import REPO_URL, commit, deployment
from tests.support.toplayers import FLUX, argo_tracked, failing_pull, flux_ks, planned

IMAGE = "ghcr.io/acme/web"
MARKER = '# {"$imagepolicy": "flux-system:web"}'
TAG_MARKER = '# {"$imagepolicy": "flux-system:web:tag"}'


def _history(root: Path, files_at: dict[str, str]) -> None:
    """Two commits: the tag that ran (1.10), then the one that cannot be pulled (1.11)."""
    for tag in ("1.10", "1.11"):
        commit(root, {k: v.replace("{tag}", tag) for k, v in files_at.items()}, f"web {tag}")


def _reverted(r: Remediation) -> bool:
    return r.decision == Decision.PROPOSE and "reverted to 1.10" in r.reason


def _flux_image_line(marker: str) -> dict[str, str]:
    return {"apps/web/base/kustomization.yaml": "resources: [deployment.yaml]\n",
            "apps/web/base/deployment.yaml": deployment(f"{IMAGE}:{{tag}}").replace(
                f"image: {IMAGE}:{{tag}}", f"image: {IMAGE}:{{tag}} {marker}"),
            "clusters/prod/web.yaml": flux_ks("")}


@pytest.mark.parametrize("automated", [True, False], ids=["marker", "no marker"])
def test_flux_marker_on_the_image_line(tmp_path: Path, automated: bool):
    _history(tmp_path, _flux_image_line(MARKER if automated else ""))
    r = planned(tmp_path, failing_pull("web", "1.11", "1.10", labels=FLUX))
    if not automated:
        assert _reverted(r), r.reason
        return
    assert r.decision == Decision.DIAGNOSE and r.changes == []
    assert r.reason == "tag written by Flux image automation (ImagePolicy flux-system/web); " \
        "not reverted"
    assert r.proposal is not None
    d = r.proposal.diagnosis
    assert "line " in d and "`apps/web/base/deployment.yaml`" in d
    assert "ImagePolicy flux-system/web picked 1.11" in d and "`spec.policy`" in d


def test_flux_marker_on_a_kustomization_new_tag(tmp_path: Path):
    """flux2 image-automation guide: the tag lives in `images:` of a kustomization."""
    files = {"apps/web/base/kustomization.yaml": (
                 "resources: [deployment.yaml]\nimages:\n  - name: ghcr.io/acme/web\n"
                 f"    newTag: \"{{tag}}\" {TAG_MARKER}\n"),
             "apps/web/base/deployment.yaml": deployment(f"{IMAGE}:0.0.1"),
             "clusters/prod/web.yaml": flux_ks("")}
    _history(tmp_path, files)
    r = planned(tmp_path, failing_pull("web", "1.11", "1.10", labels=FLUX))
    assert r.decision == Decision.DIAGNOSE and r.changes == [], r.reason
    assert "`apps/web/base/kustomization.yaml`" in r.proposal.diagnosis  # type: ignore[union-attr]
    assert "flux-system:web:tag" in r.proposal.diagnosis  # type: ignore[union-attr]
    # without the marker the same layout gets the revert, in the kustomization
    other = tmp_path / "plain"
    _history(other, {**files, "apps/web/base/kustomization.yaml": files[
        "apps/web/base/kustomization.yaml"].replace(f" {TAG_MARKER}", "")})
    plain = planned(other, failing_pull("web", "1.11", "1.10", labels=FLUX))
    assert _reverted(plain), plain.reason
    assert plain.changes[0].path == "apps/web/base/kustomization.yaml"


def _argo_app(annotations: str) -> str:
    return f"""
        apiVersion: argoproj.io/v1alpha1
        kind: Application
        metadata:
          name: web
          namespace: argocd{annotations}
        spec:
          source:
            repoURL: {REPO_URL}
            path: apps/web/base
          destination: {{namespace: shop}}
        """


UPDATER = """
          annotations:
            argocd-image-updater.argoproj.io/image-list: web=ghcr.io/acme/web:~1
            argocd-image-updater.argoproj.io/web.update-strategy: semver
            argocd-image-updater.argoproj.io/write-back-method: git"""


@pytest.mark.parametrize("annotations", [UPDATER, ""], ids=["image updater", "none"])
def test_argo_cd_image_updater_annotations(tmp_path: Path, annotations: str):
    _history(tmp_path, {"apps/web/base/kustomization.yaml": "resources: [deployment.yaml]\n",
                        "apps/web/base/deployment.yaml": deployment(f"{IMAGE}:{{tag}}"),
                        "argocd/web.yaml": _argo_app(annotations)})
    r = planned(tmp_path, failing_pull("web", "1.11", "1.10", argo_tracked("web")))
    if not annotations:
        assert _reverted(r), r.reason
        return
    assert r.decision == Decision.DIAGNOSE and r.changes == [], r.reason
    assert r.reason == "tag managed by Argo CD Image Updater; not reverted"
    d = r.proposal.diagnosis  # type: ignore[union-attr]
    assert "lists ghcr.io/acme/web as `web` (update strategy `semver`)" in d
    assert "commits it to Git" in d
    assert "`argocd-image-updater.argoproj.io/web.ignore-tags`" in d


def test_only_the_automated_image_counts(tmp_path: Path):
    """A marker on another image's line, or an image-list without this image, is no reason to
    hold back; docker.io's short names are the same image."""
    (tmp_path / "a.yaml").write_text(f"image: ghcr.io/acme/other:1.11 {MARKER}\n")
    assert image_automation(f"{IMAGE}:1.11", ["a.yaml"], tmp_path, {}) is None
    (tmp_path / "b.yaml").write_text(
        f"  - name: ghcr.io/acme/other\n    newTag: \"1.11\" {TAG_MARKER}\n")
    assert image_automation(f"{IMAGE}:1.11", ["b.yaml", "missing.yaml"], tmp_path, {}) is None
    # Helm values (flux2 image-automation guide): the repository above the marked tag
    (tmp_path / "c.yaml").write_text(
        f"image:\n  repository: {IMAGE}\n  tag: 1.11 {TAG_MARKER}\n")
    assert image_automation(f"{IMAGE}:1.11", ["c.yaml"], tmp_path, {}) is not None
    assert image_automation(f"{IMAGE}:1.12", ["c.yaml"], tmp_path, {}) is None  # not this tag
    lists = {"argocd-image-updater.argoproj.io/image-list": "a=ghcr.io/acme/other, nginx:~1.26"}
    assert image_automation(f"{IMAGE}:1.11", [], tmp_path, lists) is None
    found = image_automation("docker.io/library/nginx:1.99", [], tmp_path, lists)
    assert found is not None and "write-back `argocd`" in found.diagnosis
