"""The Kustomize layer of an object: the most environment-specific file a human would edit.

An overlay patch that already targets the object (the one that sets the failing field, else the
last applied), the overlay's own resource, a base with a single consumer, else a new patch file
in the overlay; a file another render reads is never the layer (a new overlay patch is
narrower). Overlays are rendered with origin annotations, through a wrapper, never in place.
"""

from __future__ import annotations

import copy
import posixpath
from dataclasses import replace
from pathlib import Path
from typing import TYPE_CHECKING

from ..kernel import yamlio
from ..kernel.k8s import CONTAINER_LISTS, get_container, pod_spec, split_image
from ..model import (
    DocumentEdit,
    DocumentRef,
    ImageOverride,
    Location,
    ObjectRef,
    TargetKind,
)
from ..render import kustomize
from ..render.renders import Renders
from .errors import FIELD_OF_CLASS, LocateSkip, NotInSource
from .repo import selects
from .toplayer import live_name

if TYPE_CHECKING:
    from ..model import (
        JSON,
        Incident,
    )
    from .repo import Doc, RepoIndex
    from .source import Source


class Overlays:
    """Renders (cached per folder and top layer) and the layer choice within them."""

    def __init__(self, root: Path, index: RepoIndex, renders: Renders | None = None) -> None:
        self.root = root
        self.index = index
        #: the pass's renders, shared with the gate (its "before" renders)
        self.renders = renders or Renders(root)

    def objects_with_origins(self, directory: str) -> list[tuple[JSON, str | None]]:
        """The render of ``directory`` with each object's repo-relative origin file."""
        real_root = self.root.resolve()
        return [(obj, origin.relative_to(real_root).as_posix()
                 if origin is not None and origin.is_relative_to(real_root) else None)
                for obj, origin in self.render(directory)]

    def render(self, directory: str, top: JSON | None = None
                ) -> list[tuple[JSON, Path | None]]:
        remote = self.index.remote_refs(directory)
        if remote:
            # Rendering would fetch them from the network: the bot does not, and what they
            # define is not in this repository anyway.
            raise LocateSkip(f"`{directory or '.'}` uses remote bases ({', '.join(remote[:3])}): "
                             "they are not fetched, and what they define cannot be patched here")
        try:
            return self.renders.with_origins(directory, top)
        except kustomize.RenderError as exc:
            raise LocateSkip(str(exc)) from None

    def locate(self, ref: ObjectRef, incident: Incident, source: Source,
                          deployed: set[str], top: JSON | None = None) -> Location:
        root_dir = source.path

        def name(obj: JSON) -> str:  # the wrapper applies the owner's prefix itself
            n = ObjectRef.of(obj).name
            return n if top is not None else live_name(source, n)

        found = [
            (obj, origin) for obj, origin in self.render(root_dir, top)
            if ObjectRef.of(obj).kind == ref.kind
            and name(obj) == ref.name
            and ObjectRef.of(obj).group == ref.group
            and source.places(ObjectRef.of(obj).namespace, ref.namespace)
        ]
        if not found:
            raise NotInSource(f"{ref.kind} {ref.name} is not in the render of `{root_dir}`")
        rendered, origin = found[0]
        real_root = self.root.resolve()
        if origin is None or not origin.is_relative_to(real_root):
            raise LocateSkip(f"{ref.kind} {ref.name} comes from outside the repository "
                             "(remote base or generator): nothing to patch here")
        origin_rel = origin.relative_to(real_root).as_posix()
        base_doc = self._origin_doc(origin_rel, ref, rendered)
        if base_doc is None:
            raise LocateSkip(f"cannot find {ref.kind} {ref.name} in its origin `{origin_rel}`")
        loc = Location(
            target=DocumentRef(base_doc.path, base_doc.index),
            kind=TargetKind.MANIFEST,
            document=copy.deepcopy(base_doc.body),
            rendered=rendered,
            why="",
            source="kustomize",
            render_root=root_dir,
            source_name=base_doc.name,
        )
        if root_dir not in self.index.kustomizations:
            return self._generated(loc, root_dir, origin_rel, ref, deployed)
        loc = self._images_override(loc, root_dir, base_doc, incident.container)
        field = FIELD_OF_CLASS.get(incident.failure_class)
        if field:
            self._legacy_json6902_after(root_dir, ref.kind, base_doc.name, field)

        patch = self._existing_patch(root_dir, ref.kind, base_doc.name, incident, rendered)
        origin_dir = self.index.kustomization_dir_of(origin_rel) or ""
        consumers = self.index.consumers(origin_dir, deployed)
        if patch is not None:
            loc = replace(
                loc, target=DocumentRef(patch.path, patch.index), kind=TargetKind.PATCH,
                document=copy.deepcopy(patch.body),
                why=(f"The overlay `{root_dir}` already patches {ref.kind} {base_doc.name} in "
                     f"`{patch.path}`: the most environment-specific layer, so the change "
                     "goes there (an edit in the base would be overridden or leak into other "
                     "environments)."))
        elif self.index.patched_elsewhere(root_dir, ref.kind, base_doc.name):
            loc = replace(
                self._new_patch(loc, root_dir, ref, base_doc, consumers),
                why=(f"The overlay `{root_dir}` already changes {ref.kind} {base_doc.name} with "
                     "a patch remediator does not edit in place (inline or JSON 6902); a new "
                     "patch listed after it is applied last, so the change cannot be "
                     "overridden."))
        elif origin_dir == root_dir:
            loc = replace(loc, why=(f"{ref.kind} {base_doc.name} is defined in the overlay "
                                    f"itself (`{origin_rel}`)."))
        elif consumers == [root_dir]:
            loc = replace(loc, why=(f"{ref.kind} {base_doc.name} is defined in `{origin_rel}`, "
                                    f"a base used only by `{root_dir}`, so editing it changes "
                                    "nothing else."))
        else:
            loc = self._new_patch(loc, root_dir, ref, base_doc, consumers)
        loc = replace(loc, also_renders=self.other_renders(loc, root_dir, deployed))
        if loc.also_renders and loc.kind is not TargetKind.NEW_PATCH:
            # the chosen file is read by other renders too (an overlay naming another folder's
            # file): a new patch in this overlay is the narrower layer
            shared, others = loc.target.path, loc.also_renders
            loc = replace(
                self._new_patch(loc, root_dir, ref, base_doc, consumers),
                why=(f"{ref.kind} {base_doc.name} is set in `{shared}`, which "
                     f"{', '.join(f'`{o}`' for o in others)} also render; a new patch in the "
                     f"overlay `{root_dir}` changes only this environment."))
            loc = replace(loc, also_renders=self.other_renders(loc, root_dir, deployed))
        return loc

    def _generated(self, loc: Location, root_dir: str, origin_rel: str, ref: ObjectRef,
                   deployed: set[str]) -> Location:
        """A folder Flux generates the kustomization of: the file that defines the object is
        the layer (nothing in between), unless it comes from a kustomization inside it."""
        inner = self.index.kustomization_dir_of(origin_rel)
        if inner is not None and (not root_dir or inner.startswith(f"{root_dir}/")):
            raise LocateSkip(f"{ref.kind} {ref.name} comes from the kustomization `{inner}` "
                             f"inside the plain folder `{root_dir or '.'}`; its layers under "
                             "what the owner adds on top are not chosen yet")
        loc = replace(loc, why=(
            f"{ref.kind} {loc.source_name} is defined in `{origin_rel}`, a plain manifest "
            f"(`{root_dir or '.'}` has no kustomization file: Flux generates one listing "
            "its files, then adds its own settings on top)."))
        return replace(loc, also_renders=self.other_renders(loc, root_dir, deployed))

    def other_renders(self, loc: Location, root_dir: str, deployed: set[str]) -> list[str]:
        """Renders that read an edited file but do not include this overlay (those that include
        it change with it, as they should): a leak into them is refused by the gate."""
        edited = {loc.target.path, *(p.target.path for p in loc.prerequisites)}
        return sorted({r for path in edited for r in self.index.renders_of_file(path, deployed)
                       if not self.index.includes(r, root_dir)})

    def _origin_doc(self, origin_rel: str, ref: ObjectRef, rendered: JSON) -> Doc | None:
        docs = [d for d in self.index.docs if d.path == origin_rel and d.kind == ref.kind]
        # namePrefix / nameSuffix make the live name longer than the source name
        docs = [d for d in docs if d.name and d.name in ref.name]
        # `prod-web` holds both `web` and `prod`: the document whose containers the render
        # has is the one it came from (patches add containers; renames are rare)
        names = set(_container_names(rendered))
        docs = [d for d in docs if set(_container_names(d.body)) <= names] or docs
        return max(docs, key=lambda d: len(d.name)) if docs else None

    def _existing_patch(self, root_dir: str, kind: str, name: str,
                        incident: Incident, rendered: JSON) -> Doc | None:
        """The overlay's own strategic-merge patch of the object: the one that already sets the
        failing field (it owns it), else the last applied (it wins over the earlier ones). A
        patch whose target selects more than this object by name (a pattern, a selector) is
        not edited: the change would reach the others too."""
        labels = (rendered.get("metadata") or {}).get("labels") or {}
        found: list[Doc] = []
        for path, target in self.index.patch_files(root_dir):
            if isinstance(target, dict) and (
                    not selects(target, kind, name, labels)
                    or target.get("name", name) != name or target.get("labelSelector")
                    or target.get("annotationSelector")):
                continue  # another object's, or several objects' (patched_elsewhere sees it)
            for doc in self.index.docs:
                if doc.path != path or doc.kind != kind:
                    continue
                # by name, or by a target selector that names it or selects the whole kind
                if doc.name == name or isinstance(target, dict):
                    found.append(doc)
        field = FIELD_OF_CLASS.get(incident.failure_class)
        owning = [d for d in found
                  if field and field in get_container(d.body, incident.container)]
        candidates = owning or found
        return candidates[-1] if candidates else None

    def _legacy_json6902_after(self, root_dir: str, kind: str, name: str, field: str) -> None:
        """kustomize applies the legacy `patchesJson6902` after `patches`: one that sets the
        field would override a change in any file of this overlay (a new patch included)."""
        k = self.index.kustomizations[root_dir]
        for entry in k.get("patchesJson6902") or []:
            target = entry.get("target") if isinstance(entry, dict) else None
            if not isinstance(target, dict) or not selects(target, kind, name):
                continue
            text = entry.get("patch")
            if not isinstance(text, str) and isinstance(entry.get("path"), str):
                try:  # the repo's safety rules: inside the tree, size-limited, UTF-8
                    text = yamlio.read_text(self.root, posixpath.normpath(
                        posixpath.join(root_dir, entry["path"])))
                except (OSError, yamlio.UnsafeYAML):
                    text = None
            if not isinstance(text, str) or field in text:
                raise LocateSkip(f"`{k['_file']}` changes {kind} {name} with the legacy "
                                 f"`patchesJson6902`, which kustomize applies after every "
                                 f"`patches` entry: a change elsewhere could not override its "
                                 f"`{field}`; move it to `patches` first")

    def _new_patch(self, loc: Location, root_dir: str, ref: ObjectRef, base_doc: Doc,
                   consumers: list[str]) -> Location:
        """``loc`` moved to a new patch of the overlay ``root_dir``."""
        kfile = str(self.index.kustomizations[root_dir]["_file"])
        name = f"{base_doc.name}-remediator-patch.yaml"
        path = posixpath.join(root_dir, name) if root_dir else name
        if (self.root / path).exists():
            raise LocateSkip(f"`{path}` exists but is not a patch of this kustomization")
        # the namespace too: kustomize matches a patch to a base object that has one only when
        # the patch carries it
        meta = {"name": base_doc.name}
        if base_doc.namespace:
            meta["namespace"] = base_doc.namespace
        patches = self.index.kustomizations[root_dir].get("patches")
        entry = {"path": name}
        ops = [{"op": "add", "path": "/patches/-", "value": entry}] if isinstance(
            patches, list) else [{"op": "add", "path": "/patches", "value": [entry]}]
        others = ", ".join(f"`{c}`" for c in consumers if c != root_dir) or "other overlays"
        return replace(
            loc, target=DocumentRef(path, 0), kind=TargetKind.NEW_PATCH,
            document={"apiVersion": base_doc.body.get("apiVersion"), "kind": ref.kind,
                      "metadata": meta},
            prerequisites=[DocumentEdit(DocumentRef(kfile, 0), ops)],
            why=(f"{ref.kind} {base_doc.name} comes from the base `{base_doc.path}`, which is "
                 f"shared with {others}; a new patch in the overlay `{root_dir}` changes only "
                 "this environment."))

    def _images_override(self, loc: Location, root_dir: str, base_doc: Doc,
                         container: str) -> Location:
        """``loc`` with the overlay's `images:` entry that sets the container's tag, if one
        does."""
        base_image = str(get_container(base_doc.body, container).get("image") or "")
        if not base_image:
            return loc
        k = self.index.kustomizations[root_dir]
        for i, entry in enumerate(k.get("images") or []):
            if isinstance(entry, dict) and entry.get("name") == split_image(base_image)[0]:
                return replace(loc, image_override=ImageOverride(
                    DocumentRef(str(k["_file"]), 0),
                    {kk: vv for kk, vv in k.items() if kk != "_file"},
                    ("images", i, "newTag"), "kustomize",
                    f"Its image tag is set by the `images:` entry for `{entry.get('name')}` in "
                    f"`{k['_file']}`, the overlay's own override, so a tag change goes there."))
        return loc


def _container_names(obj: JSON) -> list[str]:
    spec = pod_spec(obj)
    return [str(c.get("name")) for key in CONTAINER_LISTS for c in spec.get(key) or []
            if isinstance(c, dict)]

