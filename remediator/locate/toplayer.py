"""What Argo CD and Flux layer on top of the rendered source, and so win over the repo's files.

- name prefixes/suffixes: Argo CD `kustomize.namePrefix`, Flux `spec.namePrefix` (the live name
  differs from the rendered one);
- image tags: `.argocd-source-<app>.yaml`, `.argocd-source.yaml` (written by Argo CD Image
  Updater and the UI), the Application's `kustomize.images`, the Flux Kustomization's `images`;
- patches, components and post-build variables on top of a folder of plain manifests: Argo CD
  applies the files as they are (its settings on top are a skip); Flux generates a kustomization
  listing them, which is rendered and followed like a Kustomize source (``ontop``).
"""

from __future__ import annotations

import json
import posixpath
from pathlib import Path
from typing import TYPE_CHECKING, Any

from ..kernel import yamlio
from ..kernel.k8s import split_image
from ..model import DocumentRef, ImageOverride
from ..render import gitops
from .repo import patches_target
from .source import settings_of

if TYPE_CHECKING:
    from ..model import JSON, Location
    from .source import Source


def _kustomize_options(source: Source) -> JSON:
    return gitops.kustomize_options(source.tool, settings_of(source))


def live_name(source: Source, name: str) -> str:
    """The name an object of the rendered source gets once the tool applies its own affixes."""
    options = _kustomize_options(source)
    return f"{options.get('namePrefix') or ''}{name}{options.get('nameSuffix') or ''}"


def patched_on_top(source: Source, kind: str, name: str) -> str:
    """A reason when the Application / Flux Kustomization itself patches this object (plain
    folders only)."""
    options = _kustomize_options(source)
    names = {name, live_name(source, name)}
    what = "Argo CD Application" if source.tool == "argocd" else "Flux Kustomization"
    if any(patches_target(options, kind, n, with_files=True) for n in names):
        return (f"the {what} {source.app} patches {kind} {name} itself: a change in the repo's "
                "files could be overridden by it, and editing its patches is not supported yet")
    if options.get("components"):
        return (f"the {what} {source.app} adds kustomize components on top of `{source.path}`; "
                "they may override a change in the repo's files, and are not rendered here yet")
    return ""


def generated_on_top(source: Source, loc: Location) -> bool:
    """Whether a plain folder is rendered as Flux generates its kustomization, with what the
    Flux Kustomization adds on top: when it patches (any object: a selector may reach this
    one), adds components, or substitutes variables into the located document. Otherwise the
    plain file is the layer, as it is."""
    if source.tool != "flux-kustomization":
        return False
    options = _kustomize_options(source)
    # (the legacy `patchesStrategicMerge` / `patchesJson6902` are not rendered: a skip below)
    return bool(options.get("patches") or options.get("components")
                or substituted(source, loc.document))


def substituted(source: Source, document: JSON) -> str:
    """A reason when Flux post-build substitution may feed the located document's values."""
    post = settings_of(source).get("postBuild") if source.tool == "flux-kustomization" else None
    if isinstance(post, dict) and (post.get("substitute") or post.get("substituteFrom")) \
            and "${" in json.dumps(document):
        return (f"the Flux Kustomization {source.app} substitutes `${{...}}` variables into "
                "this document (postBuild); the value may come from there, not from the file")
    return ""


def _mapping(doc: JSON, key: str) -> JSON:
    value = doc.get(key)
    return value if isinstance(value, dict) else {}


def _argo_entry_name(entry: str) -> str:
    """`web=ghcr.io/acme/web:1.2` → `web`; `ghcr.io/acme/web:1.2` → `ghcr.io/acme/web`."""
    return entry.split("=", 1)[0] if "=" in entry else split_image(entry)[0]


def argocd_source_files(app: str, folder: str, root: Path) -> list[tuple[str, JSON]]:
    """Argo CD's parameter override files of an Application's source folder, in precedence
    order: `.argocd-source-<app>.yaml`, then `.argocd-source.yaml`."""
    out = []
    for name in (f".argocd-source-{app}.yaml", ".argocd-source.yaml"):
        rel = posixpath.join(folder, name) if folder else name
        if not (root / rel).is_file():
            continue
        try:
            docs = yamlio.load_documents(yamlio.read_text(root, rel), rel)
        except (yamlio.UnsafeYAML, OSError):
            continue
        if docs and isinstance(docs[0], dict):
            out.append((rel, docs[0]))
    return out


def image_override(source: Source, root: Path, images: set[str]) -> ImageOverride | None:
    """The top layer that sets the tag of one of ``images`` (image names, no tags), if any."""
    if source.tool == "argocd":
        files = argocd_source_files(source.app, source.path, root)
        for rel, doc in files:
            for i, entry in enumerate(_mapping(doc, "kustomize").get("images") or []):
                if isinstance(entry, str) and _argo_entry_name(entry) in images:
                    return ImageOverride(
                        DocumentRef(rel, 0), doc, ("kustomize", "images", i), "argo",
                        f"Its image is set by `{entry}` in `{rel}`, Argo CD's parameter "
                        "override file for this Application, which wins over every file below "
                        "it, so the tag changes there.", on_top=True)
        # an override file's `kustomize.images` replaces the Application's list (merge-patch
        # semantics): the Application's entries no longer apply
        replaced = any("images" in _mapping(doc, "kustomize") for _, doc in files)
        entries = [] if replaced else (_kustomize_options(source).get("images") or [])
        for i, entry in enumerate(entries):
            if isinstance(entry, str) and _argo_entry_name(entry) in images:
                path: tuple[Any, ...] = (*source.settings_path, "kustomize", "images", i)
                return _in_owner(source, path, "argo",
                                 f"`kustomize.images` of the Argo CD Application {source.app}")
    if source.tool == "flux-kustomization":
        for i, entry in enumerate(settings_of(source).get("images") or []):
            if isinstance(entry, dict) and (
                entry.get("name") in images or entry.get("newName") in images
            ) and "newTag" in entry:
                return _in_owner(source, (*source.settings_path, "images", i, "newTag"),
                                 "kustomize", f"`images` of the Flux Kustomization {source.app}")
    return None


def _in_owner(source: Source, path: tuple[Any, ...], style: str, what: str) -> ImageOverride:
    doc = source.settings_doc
    if doc is None:
        return ImageOverride(None, {}, path, style,
                             f"The image tag is set by {what}, which is not in this repository "
                             "(applied by hand or generated), so it cannot be changed here.",
                             on_top=True)
    return ImageOverride(DocumentRef(doc.path, doc.index), doc.body, path, style,
                         f"Its image tag is set by {what} in `{doc.path}`, which is applied on "
                         "top of the manifests, so the tag changes there.", on_top=True)
