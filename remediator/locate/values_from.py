"""Flux HelmRelease `valuesFrom`: the ConfigMap in this repository that sets a values key.

Flux merges, lowest first: each `valuesFrom` entry in order (a ConfigMap or Secret key,
`valuesKey` defaulting to `values.yaml`; with `targetPath` the whole string is set at that dotted
path instead of being merged; `optional` entries may be missing), then `spec.values` on top. So:

- `spec.values` sets the key → the change goes there (the caller's layer);
- else the last `valuesFrom` ConfigMap that sets it, when it is defined in this repository: a
  literal ConfigMap's `data.<valuesKey>` (YAML inside a string), or the plain values file a
  kustomize `configMapGenerator` builds it from (`values.yaml=podinfo-values.yaml`);
- Secrets are never read, and ConfigMaps that are not in the repository cannot be: when one is
  listed after the layer that sets the key it might set it too, so the change goes into
  `spec.values`, which wins over all of them, and the reason says so.
"""

from __future__ import annotations

import copy
import json
import posixpath
from dataclasses import dataclass, replace
from pathlib import Path
from typing import TYPE_CHECKING, Any

from ..kernel import yamlio
from ..kernel.k8s import dig
from ..model import DocumentRef, ObjectRef, TargetKind
from ..render.helmvalues import (
    DEFAULT_VALUES_KEY,
    blocked_at,
    config_map,
    parsed,
    refs,
    release_values,
    sets,
)
from .errors import LocateSkip

if TYPE_CHECKING:
    from ..model import JSON, Location
    from .repo import Doc, RepoIndex

__all__ = ["Unsupported", "ValuesFromLayer", "in_repo", "layer", "release_values", "relocate"]

@dataclass
class ValuesFromLayer:
    """Where a ConfigMap that sets the key is edited."""

    target: DocumentRef
    values: JSON  # the values document it holds (parsed)
    embedded: tuple[Any, ...]  # path of the string holding the values; () for a plain file
    path: str  # the repo file
    why: str


class Unsupported(Exception):
    """The layer that sets the key is not edited; the message says why (spec.values is used)."""


def layer(release: JSON, key: tuple[str, ...], objects: list[tuple[JSON, str | None]],
          index: RepoIndex, render_root: str | None) -> ValuesFromLayer | None:
    """The ConfigMap layer to edit for ``key``, None when no `valuesFrom` entry sets it.

    Raises Unsupported (with the reason) when the entry that sets it, or one listed after it
    that might, cannot be read or edited: the caller writes into `spec.values`, which wins."""
    dotted = ".".join(key)
    name = str((release.get("metadata") or {}).get("name"))
    namespace = str((release.get("metadata") or {}).get("namespace") or "")
    unknown_after: list[str] = []
    for ref in reversed(refs(release)):
        kind, ref_name = str(ref.get("kind")), str(ref.get("name"))
        values_key = str(ref.get("valuesKey") or DEFAULT_VALUES_KEY)
        label = f"{kind} {ref_name}"
        found = config_map(objects, ref_name, namespace) if kind == "ConfigMap" else None
        if kind == "Secret":
            unknown_after.append(f"{label} (Secrets are never read)")
            continue
        if found is None:
            unknown_after.append(f"{label} (not in this repository)")
            continue
        obj, origin = found
        data = (obj.get("data") or {}).get(values_key)
        sharing = _other_releases(objects, ref_name, namespace, name)
        if data is not None and sharing:
            raise Unsupported(f"{label} is also the values of HelmRelease "
                              f"{', '.join(sharing)}: an edit there changes "
                              f"{'it' if len(sharing) == 1 else 'them'} too")
        if data is None:
            continue  # the key is missing: Flux skips an optional entry, fails otherwise
        target_path = str(ref.get("targetPath") or "")
        if target_path:
            parts = tuple(target_path.split("."))
            if parts[: len(key)] == key or key[: len(parts)] == parts:
                raise Unsupported(f"{label} sets `{target_path}` with `targetPath`, which is not "
                                  "edited")
            continue
        values = parsed(data, label)
        if values is None:
            unknown_after.append(f"{label} (its `{values_key}` is not a YAML mapping)")
            continue
        if not sets(values, key):
            continue
        if unknown_after:
            raise Unsupported(f"{label} sets `{dotted}`, but {', '.join(unknown_after)} "
                              f"{'is' if len(unknown_after) == 1 else 'are'} listed after it "
                              "in `valuesFrom` and might set it too")
        return _edit_place(obj, origin, values, values_key, label, dotted, name, index,
                           render_root)
    return None


def _other_releases(objects: list[tuple[JSON, str | None]], config_map_name: str,
                    namespace: str, release: str) -> list[str]:
    """The other HelmReleases of the render whose `valuesFrom` names the same ConfigMap."""
    out = []
    for obj, _ in objects:
        o = ObjectRef.of(obj)
        if o.kind != "HelmRelease" or (o.name == release and o.namespace in ("", namespace)):
            continue
        if (o.namespace or namespace) == namespace and any(
                r.get("kind") == "ConfigMap" and str(r.get("name")) == config_map_name
                for r in refs(obj)):
            out.append(o.name)
    return sorted(out)


def _edit_place(obj: JSON, origin: str | None, values: JSON, values_key: str, label: str,
                dotted: str, release: str, index: RepoIndex, render_root: str | None
                ) -> ValuesFromLayer:
    why = (f"`spec.values` of HelmRelease {release} does not set `{dotted}`; {label} is the "
           f"last `valuesFrom` entry that does (Flux merges them in order, then `spec.values`)")
    if origin is not None:
        docs = [d for d in index.docs if d.path == origin and d.kind == "ConfigMap"
                and d.name and d.name in ObjectRef.of(obj).name]
        doc = max(docs, key=lambda d: len(d.name)) if docs else None
        if doc is None or (doc.body.get("data") or {}).get(values_key) != \
                (obj.get("data") or {}).get(values_key):
            raise Unsupported(f"{label} sets `{dotted}`, but its `{values_key}` is changed on the "
                              f"way from `{origin}` (a patch or generator merge)")
        return ValuesFromLayer(DocumentRef(doc.path, doc.index), values,
                               ("data", values_key), doc.path,
                               f"{why}, so the change goes into its `data.{values_key}` in "
                               f"`{doc.path}`.")
    if render_root is None:
        raise Unsupported(f"{label} sets `{dotted}` but is not defined in a file")
    return _generated(values, values_key, label, dotted, why, index, render_root,
                      str((obj.get("metadata") or {}).get("name")))


def _generated(values: JSON, values_key: str, label: str, dotted: str, why: str,
               index: RepoIndex, render_root: str, rendered_name: str) -> ValuesFromLayer:
    """The file a `configMapGenerator` entry reads ``values_key`` from."""
    found: list[tuple[str, str]] = []  # (kustomization folder, generator name)
    files: list[str] = []
    for folder in sorted(d for d in index.kustomizations if index.includes(render_root, d)):
        for gen in index.kustomizations[folder].get("configMapGenerator") or []:
            if not isinstance(gen, dict) or not gen.get("name"):
                continue
            gname = str(gen["name"])
            if rendered_name != gname and not rendered_name.startswith(f"{gname}-") and \
                    gname not in rendered_name:
                continue
            found.append((folder, gname))
            for entry in gen.get("files") or []:
                k, _, f = str(entry).rpartition("=")
                if (k or posixpath.basename(f)) == values_key:
                    files.append(posixpath.normpath(posixpath.join(folder, f)))
    if len(found) != 1 or len(files) != 1:
        where = ", ".join(f"`{f}`" for f, _ in found) or "none found"
        raise Unsupported(f"{label} sets `{dotted}` and is generated, but the one "
                          f"`configMapGenerator` file for `{values_key}` cannot be told "
                          f"(generators: {where})")
    path = files[0]
    try:
        docs = yamlio.load_documents(yamlio.read_text(Path(index.root), path), path)
    except (yamlio.UnsafeYAML, OSError) as exc:
        raise Unsupported(f"`{path}` cannot be read: {exc}") from None
    if docs and docs[0] != values:
        raise Unsupported(f"{label} sets `{dotted}`, but it differs from `{path}`")
    return ValuesFromLayer(DocumentRef(path, 0), values, (), path,
                           f"{why}; it is generated by the `configMapGenerator` of `{found[0][0]}` "
                           f"from `{path}`, so the change goes into that values file.")


def in_repo(objects: list[Doc]) -> list[tuple[JSON, str | None]]:
    """Plain documents as (object, origin file) pairs, like a render with origins."""
    return [(d.body, d.path) for d in objects]


def relocate(loc: Location, release: JSON, key: tuple[str, ...],
             objects: list[tuple[JSON, str | None]], index: RepoIndex, render_root: str | None,
             note: str) -> tuple[Location, bool]:
    """``loc`` (the HelmRelease's `spec.values` layer) moved to the `valuesFrom` ConfigMap that
    sets ``key`` when `spec.values` does not, and whether it moved. A layer that cannot be
    edited leaves it in `spec.values` (which wins over all of them), and the reason is
    added."""
    spec_values = (release.get("spec") or {}).get("values")
    if not refs(release) or sets(spec_values, key):
        return loc, False
    cut = blocked_at(spec_values, key)
    if cut:
        name = (release.get("metadata") or {}).get("name")
        raise LocateSkip(f"`spec.values` of HelmRelease {name} sets `{cut}` to "
                         f"{json.dumps(dig(spec_values, tuple(cut.split('.'))))}, which replaces "
                         "what `valuesFrom` sets under it; not changed")
    try:
        found = layer(release, key, objects, index, render_root)
    except Unsupported as exc:
        return replace(loc, why=loc.why + f" {exc}; `spec.values` wins over every `valuesFrom` "
                       "entry, so the change goes there."), False
    if found is None:
        return loc, False
    name = (release.get("metadata") or {}).get("name")
    return replace(
        loc, target=DocumentRef(found.target.path, found.target.index, found.embedded),
        kind=TargetKind.MANIFEST, prerequisites=[], document=copy.deepcopy(found.values),
        values_path=(),
        why=f"Its manifests are rendered by Helm from HelmRelease {name}: {found.why} Values "
            f"keys: {note}."), True
