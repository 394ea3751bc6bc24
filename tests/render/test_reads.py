"""What a kustomize render reads (render/reads.py): the gate's scratch view holds these files
only, so every file a render needs must be found, and anything unclear means the whole tree."""

from __future__ import annotations

from pathlib import Path

from remediator.render.reads import reads


def write(root: Path, files: dict[str, str]) -> Path:
    for rel, text in files.items():
        (root / rel).parent.mkdir(parents=True, exist_ok=True)
        (root / rel).write_text(text)
    return root


LAYOUT = {
    "apps/web/base/kustomization.yaml": "resources: [deployment.yaml, svc]\n",
    "apps/web/base/deployment.yaml": "kind: Deployment\n",
    "apps/web/base/svc/kustomization.yaml": "resources: [service.yaml]\n",
    "apps/web/base/svc/service.yaml": "kind: Service\n",
    "apps/web/base/unused.yaml": "kind: ConfigMap\n",
    "apps/web/prod/kustomization.yaml": (
        "resources: [../base]\ncomponents: [../../../components/backup]\n"
        "patches: [{path: memory.yaml}, {patch: 'inline'}]\n"
        "configMapGenerator: [{name: cfg, files: [conf=settings.ini], envs: [.env]}]\n"
        "images: [{name: web, newTag: '2'}]\n"),
    "components/backup/kustomization.yaml": (
        "apiVersion: kustomize.config.k8s.io/v1alpha1\nkind: Component\n"
        "resources: [pvc.yaml]\n"),
    "components/backup/pvc.yaml": "kind: PersistentVolumeClaim\n",
    "components/other/kustomization.yaml": "resources: []\n",
}


def test_an_overlay_reads_its_bases_components_patches_and_generator_sources(tmp_path: Path):
    root = write(tmp_path, LAYOUT)
    assert reads(root, ["apps/web/prod"]) == {
        "apps/web/prod/kustomization.yaml", "apps/web/prod/memory.yaml",
        "apps/web/prod/settings.ini", "apps/web/prod/.env",
        "apps/web/base/kustomization.yaml", "apps/web/base/deployment.yaml",
        "apps/web/base/svc/kustomization.yaml", "apps/web/base/svc/service.yaml",
        "components/backup/kustomization.yaml", "components/backup/pvc.yaml"}


def test_a_changed_kustomization_is_read_as_changed(tmp_path: Path):
    root = write(tmp_path, LAYOUT)
    changed = {"apps/web/prod/kustomization.yaml":
               "resources: [../base]\npatches: [{path: new-patch.yaml}]\n"}
    found = reads(root, ["apps/web/prod"], changed)
    assert found is not None
    assert "apps/web/prod/new-patch.yaml" in found
    assert "components/backup/pvc.yaml" not in found


def test_fields_on_top_are_followed(tmp_path: Path):
    root = write(tmp_path, LAYOUT)
    found = reads(root, ["apps/web/base"], on_top={
        "apps/web/base": {"components": ["../../../components/other"]}})
    assert found is not None and "components/other/kustomization.yaml" in found


def test_a_folder_without_kustomization_is_read_whole_with_its_nested_ones(tmp_path: Path):
    root = write(tmp_path, {
        **LAYOUT, "clusters/prod/apps.yaml": "kind: ConfigMap\n",
        "clusters/prod/web/kustomization.yaml": "resources: [../../../apps/web/base]\n"})
    found = reads(root, ["clusters/prod"])
    assert found is not None
    assert {"clusters/prod", "apps/web/base/deployment.yaml"} <= found


def test_what_cannot_be_told_is_the_whole_tree(tmp_path: Path):
    root = write(tmp_path, {
        **LAYOUT,
        "charts/kustomization.yaml": "helmCharts: [{name: redis, repo: https://x.invalid}]\n",
        "out/kustomization.yaml": "resources: [../../elsewhere]\n",
        "broken/kustomization.yaml": "resources: [a\n",
    })
    assert reads(root, ["charts"]) is None
    assert reads(root, ["out"]) is None
    assert reads(root, ["broken"]) is None
    assert reads(root, ["apps/web/prod", "charts"]) is None
