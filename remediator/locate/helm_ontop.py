"""A Flux HelmRelease patched by the Flux Kustomization that applies it (its own `spec.patches`,
as flux2-kustomize-helm-example's clusters sometimes do for one cluster's values), or with
components added on top (`spec.components`, as home-lab repositories add a volume backup to
every app).

The HelmRelease is read as Flux applies it: rendered with those patches and components on top.
When a patch sets the values key the change needs, that patch is applied last, so the change
goes inside the patch string; a component that sets it is shared by design, so that is a skip
naming it. Patches and components that leave the key alone leave the values layer below in
charge, and the gate renders the change with them on top to prove it takes effect. Patches from
files and JSON 6902 operations on the values are not edited (a skip with the reason).
"""

from __future__ import annotations

import copy
import posixpath
from collections.abc import Callable
from dataclasses import replace
from pathlib import Path
from typing import TYPE_CHECKING

from ..kernel.k8s import dig
from ..model import ObjectRef, TargetKind
from ..render import gitops
from ..render.helmvalues import sets
from . import components
from .ontop import owner_patch_ref, parsed_patches, targets, top_layer
from .variables import OnTopSkip, owner_phrase

if TYPE_CHECKING:
    from ..model import JSON, Location, TopLayer
    from .repo import RepoIndex
    from .source import Source

VALUES = ("spec", "values")


def top_of(source: Source, root: Path, index: RepoIndex, reason: str) -> TopLayer:
    """What the Flux Kustomization renders on top of the HelmRelease's folder; ``reason`` (why it
    used to be a skip) is raised when that cannot be followed."""
    top = top_layer(source, root, index) if source.tool == "flux-kustomization" else None
    if top is None:
        raise OnTopSkip(reason)
    parsed_patches(source)  # malformed patch text: a skip with its reason
    return top


def with_top(render: Callable[[JSON], list[JSON]], top: JSON, variables: dict[str, str] | None,
             ref: ObjectRef) -> JSON:
    """The HelmRelease ``ref`` as Flux applies it: rendered with ``top``, then substituted."""
    found = [o for o in render(top) if (ObjectRef.of(o).kind, ObjectRef.of(o).name) ==
             (ref.kind, ref.name)]
    if len(found) != 1:
        raise OnTopSkip(f"HelmRelease {ref.name} is not rendered once with its Flux "
                        "Kustomization's settings on top")
    return gitops.substitute(found[0], variables) if variables is not None else found[0]


def component_sets(source: Source, index: RepoIndex, render: Callable[[JSON], list[JSON]],
                   fields: JSON, raw: JSON, name: str, key: tuple[str, ...]) -> None:
    """A skip when a component the owner adds sets `spec.values.<key>` of the HelmRelease
    ``raw`` (rendered without the owner's settings, named ``name`` there): in the render
    (with it and without it), or in its patch text (a component that sets the value the
    layer below has changes no render, yet would override a change below it)."""
    listed = [c for c in fields.get("components") or [] if isinstance(c, str)]
    if not key or not listed:
        return
    ref = ObjectRef.of(raw)

    def values(extra: JSON) -> object:
        found = [o for o in render(extra) if (ObjectRef.of(o).kind, ObjectRef.of(o).name) ==
                 (ref.kind, ref.name)]
        return dig(found[0], (*VALUES, *key)) if len(found) == 1 else None

    full = values(fields)
    for c in listed:
        folder = posixpath.normpath(posixpath.join(source.path, c))
        rest = {**fields, "components": [x for x in listed if x != c]}
        written = components.sets_values_key(index, folder, raw, name, key)
        if written or values(rest) != full:
            where = written or str((index.kustomizations.get(folder) or {}).get("_file")
                                   or folder)
            raise OnTopSkip(f"the component `{folder}` added by {owner_phrase(source)} sets "
                            f"`spec.values.{'.'.join(key)}` of HelmRelease {name} (`{where}`); "
                            "components are shared by design, so it is not changed for one "
                            "workload (change it by hand, or move the setting into the "
                            "HelmRelease's own values)")


def _touches(op: object, key: tuple[str, ...]) -> bool:
    """Whether a JSON 6902 operation may write the values key (or a mapping holding it)."""
    if not isinstance(op, dict) or not isinstance(op.get("path"), str):
        return True
    segs = [s.replace("~1", "/").replace("~0", "~") for s in op["path"].split("/")[1:]]
    full = [*VALUES, *key]
    return segs[:len(full)] == full or full[:len(segs)] == segs


def into_patch(loc: Location, source: Source, raw: JSON, objects: list[JSON],
               key: tuple[str, ...]) -> Location | None:
    """``loc`` pointed at the owner's patch that sets `spec.values.<key>` of the HelmRelease
    ``raw`` (rendered without the owner's settings), when one does (None otherwise)."""
    name, what = loc.source_name, owner_phrase(source)
    dotted = ".".join(key)
    found = None
    for i, entry, patch in parsed_patches(source):
        if not targets(entry, patch, raw, name):
            continue
        if patch is None:
            raise OnTopSkip(f"{what} patches HelmRelease {name} from a file "
                            f"(`{entry.get('path')}`); not edited in place")
        if isinstance(patch, list):
            hit = next((j for j, op in enumerate(patch) if _touches(op, key)), None)
            if hit is not None:
                raise OnTopSkip(f"patch {i + 1} of {what} may set `{dotted}` of HelmRelease "
                                f"{name} with a JSON 6902 operation (op {hit + 1}), which "
                                "remediator does not edit in place")
            continue
        if sets(dig(patch, VALUES), key):
            found = (i, entry, patch)  # the last one wins
    if found is None:
        return None
    i, entry, patch = found
    target = owner_patch_ref(source, i, entry, patch, objects, what, dotted,
                             f"HelmRelease {name}")
    return replace(
        loc, target=target, kind=TargetKind.PATCH, document=copy.deepcopy(patch),
        values_path=VALUES, prerequisites=[], also_renders=[],
        why=(f"{what[0].upper()}{what[1:]} patches HelmRelease {name} on top of the "
             f"repository's files (patch {i + 1} in `{target.path}`) and sets "
             f"`spec.values.{dotted}`: it is applied last, so a change in a values layer below "
             "would be overridden; the change goes into that patch."))
