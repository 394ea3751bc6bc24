"""The pass's render cache (render/renders.py): one `kustomize build` per folder and fields on
top, errors remembered, and never a render of another tree state (a cache lives one pass)."""

from __future__ import annotations

from pathlib import Path

import pytest

from remediator.render import kustomize
from remediator.render.renders import Renders, objects

DEPLOYMENT = """\
apiVersion: apps/v1
kind: Deployment
metadata: {name: web}
spec:
  selector: {matchLabels: {app: web}}
  template:
    metadata: {labels: {app: web}}
    spec:
      containers: [{name: web, image: "ghcr.io/acme/web:1.0", resources: {limits: {memory: %s}}}]
"""


def tree(root: Path, memory: str = "128Mi") -> Path:
    (root / "app").mkdir(parents=True, exist_ok=True)
    (root / "app/kustomization.yaml").write_text("resources: [deployment.yaml]\n")
    (root / "app/deployment.yaml").write_text(DEPLOYMENT % memory)
    return root


def memory(objs: list[dict]) -> str:
    [d] = objs
    return str(d["spec"]["template"]["spec"]["containers"][0]["resources"]["limits"]["memory"])


def test_a_folder_is_rendered_once_per_fields_on_top(tmp_path: Path):
    renders = Renders(tree(tmp_path))
    first = renders.with_origins("app")
    assert renders.with_origins("app") is first
    assert renders.made == 1
    [(obj, origin)] = first
    assert origin == (tmp_path / "app/deployment.yaml").resolve()
    assert kustomize.ORIGIN_ANNOTATION not in str(obj)
    prefixed = renders.objects("app", {"namePrefix": "prod-"})
    assert renders.made == 2
    assert prefixed[0]["metadata"]["name"] == "prod-web"
    assert renders.objects("app")[0]["metadata"]["name"] == "web"
    assert renders.made == 2


def test_a_failed_render_is_remembered_and_raised_each_time(tmp_path: Path):
    tree(tmp_path)
    (tmp_path / "app/kustomization.yaml").write_text("resources: [missing.yaml]\n")
    renders = Renders(tmp_path)
    for _ in range(2):
        with pytest.raises(kustomize.RenderError, match=r"missing\.yaml"):
            renders.objects("app")
    assert renders.made == 1


def test_the_cache_belongs_to_one_tree_state(tmp_path: Path):
    """A pass's cache is not asked after the tree changed; the next pass's cache renders the
    change, and the uncached render (the gate's "after") always reads the files."""
    renders = Renders(tree(tmp_path))
    assert memory(renders.objects("app")) == "128Mi"
    tree(tmp_path, "256Mi")
    assert memory(objects(tmp_path, "app")) == "256Mi"
    assert memory(Renders(tmp_path).objects("app")) == "256Mi"


def test_renders_match_the_plain_build(tmp_path: Path):
    """The cached render (through the origin wrapper) is the render a plain build gives, so the
    gate's before and after compare like with like."""
    tree(tmp_path)
    assert Renders(tmp_path).objects("app") == kustomize.build(tmp_path / "app")
