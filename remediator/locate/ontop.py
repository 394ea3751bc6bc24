"""The layers Argo CD and Flux render on top of a Kustomize source, and which of them owns the
failing field: an inline patch of the owner that sets it (the change goes into the patch text),
a component that sets it (shared by design: skipped), or a Flux post-build variable (the change
goes where the variable gets its value). Anything else on top leaves the lower layer in charge;
the gate renders the change with everything on top to prove it is not overridden.
"""

from __future__ import annotations

import copy
import posixpath
from collections.abc import Callable
from dataclasses import replace
from pathlib import Path
from typing import TYPE_CHECKING, Any

from ..kernel import yamlio
from ..kernel.k8s import CONTAINER_LISTS, get_container, pod_spec, pod_spec_path
from ..model import DocumentRef, ObjectRef, TargetKind, TopLayer
from ..render import gitops
from ..render.gitops import source_folder
from . import components
from .repo import selects
from .source import flux_folder
from .toplayer import argocd_source_files
from .variables import OnTopSkip, owner_phrase, settings_of, substitution

if TYPE_CHECKING:
    from ..model import JSON, Incident, Location
    from .repo import Doc, RepoIndex
    from .source import Source


def top_layer(source: Source, root: Path, index: RepoIndex) -> TopLayer | None:
    """What the owner renders on top of its folder, or None when it adds nothing."""
    if source.tool not in ("argocd", "flux-kustomization"):
        return None
    settings = settings_of(source)
    legacy = [k for k in ("patchesStrategicMerge", "patchesJson6902") if settings.get(k)]
    if source.tool == "flux-kustomization" and legacy:
        # the v1beta2 fields (gone from v1): not rendered here, so what they override is unknown
        raise OnTopSkip(f"{owner_phrase(source)} patches with the legacy `{legacy[0]}` field, "
                        "which remediator does not render; move it to `spec.patches`")
    doc = source.settings_doc
    overrides = [rel for rel, _ in reversed(argocd_source_files(source.app, source.path, root))] \
        if source.tool == "argocd" else []
    configmaps: list[DocumentRef | None] = []
    ns = str(((doc.body if doc else {}).get("metadata") or {}).get("namespace") or "")
    for entry in gitops.post_build(settings).get("substituteFrom") or []:
        found = [d for d in index.docs if isinstance(entry, dict) and entry.get("kind") ==
                 "ConfigMap" and d.kind == "ConfigMap" and d.group == ""
                 and d.name == entry.get("name") and d.namespace in ("", ns)]
        configmaps.append(DocumentRef(found[0].path, found[0].index) if len(found) == 1
                          else None)
    top = TopLayer(source.tool, copy.deepcopy(source.settings),
                   DocumentRef(doc.path, doc.index) if doc else None, source.settings_path,
                   overrides, configmaps)
    fields, variables = gitops.read_top(root, top)
    return top if fields or variables is not None else None


def owner_patch_ref(source: Source, i: int, entry: JSON, patch: Any, objects: list[JSON],
                what: str, sets: str, target: str) -> DocumentRef:
    """The string of the owner's patch ``i`` that sets ``sets`` of ``target`` (one object): an
    edit there must change that object alone, in a document this repository holds."""
    if isinstance(entry.get("target"), dict):
        matched = [o for o in objects if targets(entry, patch, o, source_name(source, o))]
        if len(matched) > 1:
            raise OnTopSkip(f"patch {i + 1} of {what} sets `{sets}` of {len(matched)} objects "
                            f"(its target is a selector); changing it for {target} alone is not "
                            "possible there")
    doc = source.settings_doc
    if doc is None:
        raise OnTopSkip(f"patch {i + 1} of {what} sets `{sets}` of {target}, and that owner is "
                        "not in this repository (applied by hand or generated), so it cannot "
                        "be changed here")
    return DocumentRef(doc.path, doc.index, (*patches_path(source), i, "patch"))


def patches_path(source: Source) -> tuple[Any, ...]:
    return (*source.settings_path, *(("kustomize",) if source.tool == "argocd" else ()),
            "patches")


def parsed_patches(source: Source) -> list[tuple[int, JSON, Any]]:
    """(position, entry, parsed patch text) of the owner's patches; malformed text is a skip
    (the tool's own build fails on it too)."""
    out: list[tuple[int, JSON, Any]] = []
    patches = gitops.kustomize_options(source.tool, settings_of(source)).get("patches") or []
    for i, entry in enumerate(patches):
        if not isinstance(entry, dict):
            raise OnTopSkip(f"{owner_phrase(source)} has a patch (number {i + 1}) that is not "
                            "a mapping")
        text = entry.get("patch")
        if text is None:
            out.append((i, entry, None))
            continue
        try:
            docs = yamlio.load_documents(str(text), f"patch {i + 1}")
        except yamlio.UnsafeYAML as exc:
            raise OnTopSkip(f"patch {i + 1} of {owner_phrase(source)} is not valid YAML "
                            f"({str(exc).splitlines()[0]}): nothing is changed until it is "
                            "fixed") from None
        if len(docs) != 1 or not isinstance(docs[0], dict | list):
            raise OnTopSkip(f"patch {i + 1} of {owner_phrase(source)} is not one strategic-merge "
                            "patch or one JSON 6902 operation list")
        out.append((i, entry, docs[0]))
    return out


def targets(entry: JSON, patch: Any, obj: JSON, name: str) -> bool:
    """Whether a patch applies to ``obj`` (named ``name`` before the owner's prefix)."""
    target = entry.get("target")
    ref = ObjectRef.of(obj)
    if isinstance(target, dict):
        labels = (obj.get("metadata") or {}).get("labels") or {}
        return selects(target, ref.kind, name, labels, group=ref.group, namespace=ref.namespace)
    return isinstance(patch, dict) and patch.get("kind") == ref.kind and \
        (patch.get("metadata") or {}).get("name") == name


def source_name(source: Source, obj: JSON) -> str:
    """A rendered object's name before the owner's own prefix / suffix (what patches see)."""
    options = gitops.kustomize_options(source.tool, settings_of(source))
    name = ObjectRef.of(obj).name
    prefix, suffix = str(options.get("namePrefix") or ""), str(options.get("nameSuffix") or "")
    if prefix and name.startswith(prefix):
        name = name[len(prefix):]
    if suffix and name.endswith(suffix):
        name = name[:-len(suffix)]
    return name


def _op_sets(op: Any, obj: JSON, container: str, field: str) -> tuple[str, tuple[str, ...]]:
    """('sets' | 'other' | '' , path inside the container the op's value sits at)."""
    if not isinstance(op, dict) or not isinstance(op.get("path"), str) or op.get("op") == "test":
        return "", ()
    segs = [s.replace("~1", "/").replace("~0", "~") for s in op["path"].split("/")[1:]]
    spec = list(pod_spec_path(str(obj.get("kind", ""))))
    if segs[:len(spec)] != spec:
        return "", ()
    rest = segs[len(spec):]
    value = op.get("value")
    if not rest or rest[0] not in CONTAINER_LISTS:
        touches = field in str(value) and container in str(value)
        return ("other" if touches else ""), ()
    if len(rest) == 1:  # the whole list
        return "other", ()
    items = pod_spec(obj).get(rest[0]) or []
    idx = rest[1]
    if idx == "-":
        named = value.get("name") if isinstance(value, dict) else None
    elif idx.isdigit() and int(idx) < len(items) and isinstance(items[int(idx)], dict):
        named = items[int(idx)].get("name")
    else:
        named = None
    if named != container:
        return "", ()
    inner = tuple(rest[2:])
    sets = inner[0] == field if inner else isinstance(value, dict) and field in value
    if not sets:
        return "", ()
    return ("sets" if op.get("op") in ("add", "replace") else "other"), inner


def owner_patch(loc: Location, source: Source, raw: JSON, objects: list[JSON],
                container: str, field: str) -> Location | None:
    """``loc`` pointed at the owner's patch that sets ``field`` of ``container``, when one does
    (None otherwise: a patch that touches the object but not the field leaves the lower
    layer)."""
    name, what = loc.source_name, owner_phrase(source)
    found = None
    for i, entry, patch in parsed_patches(source):
        if not targets(entry, patch, raw, name):
            continue
        if patch is None:
            if field in str(entry):
                raise OnTopSkip(f"{what} patches {raw['kind']} {name} from a file "
                                f"(`{entry.get('path')}`); not edited in place")
            continue
        hits: list[tuple[int, tuple[str, ...]]] = []
        if isinstance(patch, dict):
            if field in get_container(patch, container) or \
                    field in get_container({**patch, "kind": raw.get("kind")}, container):
                hits.append((-1, ()))
        else:
            for j, op in enumerate(patch):
                how, inner = _op_sets(op, raw, container, field)
                if how == "other":
                    raise OnTopSkip(f"patch {i + 1} of {what} changes `{field}` of container "
                                    f"{container} in a way remediator does not edit in place "
                                    f"(op {j + 1}: {op.get('op')} {op.get('path')})")
                if how == "sets":
                    hits.append((j, inner))
        if hits:
            found = (i, entry, patch, hits[-1])
    if found is None:
        return None
    i, entry, patch, (j, inner) = found
    target = owner_patch_ref(source, i, entry, patch, objects, what, field,
                             f"{raw['kind']} {name}")
    shape = "strategic-merge patch" if j < 0 else f"JSON 6902 operation {j + 1}"
    return replace(
        loc, target=target, kind=TargetKind.PATCH,
        document=copy.deepcopy(patch if j < 0 else patch[j]), op_index=j, op_field=inner,
        image_override=None,  # an overlay's `images:` applies before this patch
        prerequisites=[], also_renders=[],
        why=(f"{what[0].upper()}{what[1:]} patches {raw['kind']} {name} on top of the "
             f"repository's files (patch {i + 1}, a {shape} in `{target.path}`) and already "
             f"sets `{field}` of container {container}: it is applied last, so a change in a "
             "file below would be overridden; the change goes into that patch."))


def component_sets(source: Source, index: RepoIndex, options_fields: JSON,
                   render: Callable[[JSON], JSON], loc: Location, container: str,
                   field: str, cluster_objects: list[JSON]) -> Location | None:
    """A component the owner adds that sets ``field``: its patch file is the layer when only
    this owner uses the component (``loc`` pointed there); otherwise a skip, since components
    are shared by design (None: no component sets it). ``render`` gives the object rendered
    with the given wrapper fields."""
    listed = [c for c in options_fields.get("components") or [] if isinstance(c, str)]
    full = get_container(loc.rendered, container).get(field)
    for c in listed:
        folder = posixpath.normpath(posixpath.join(source.path, c))
        rest = {**options_fields, "components": [x for x in listed if x != c]}
        if not rest["components"]:
            del rest["components"]
        without = get_container(render(rest), container).get(field)
        doc = _component_doc(index, folder, container, field)
        # a component setting the value the layer below has changes no render, yet would
        # override a change there: its patch text says so
        written = components.sets_container_field(
            index, folder, loc.rendered, source_name(source, loc.rendered), container, field)
        if without == full and doc is None and not written:
            continue
        users = _component_users(index, folder, cluster_objects)
        mine = f"{source.tool} {source.app}"
        in_repo = [u for u in users if u[1]]
        if doc is not None and source.settings_doc is not None and {u[0] for u in users} == {
                mine} and len(in_repo) == 1:
            return replace(
                loc, target=DocumentRef(doc.path, doc.index), kind=TargetKind.PATCH,
                document=copy.deepcopy(doc.body), prerequisites=[], also_renders=[],
                why=(f"The component `{folder}` added by {owner_phrase(source)} sets `{field}` "
                     f"of container {container} in `{doc.path}`, after the files below it; "
                     "no other kustomization or owner uses that component, so the change "
                     "goes there."))
        where = doc.path if doc else written or str(
            (index.kustomizations.get(folder) or {}).get("_file") or folder)
        raise OnTopSkip(f"the component `{where}` added by {owner_phrase(source)} sets "
                        f"`{field}` of container {container}; components are shared by "
                        "design, so it is not changed for one workload (change it by hand, "
                        "or set the field in an overlay patch after it)")
    return None


def _component_doc(index: RepoIndex, folder: str, container: str, field: str) -> Doc | None:
    found = [d for path, _target in index.patch_files(folder) for d in index.docs
             if d.path == path and field in get_container(d.body, container)]
    return found[-1] if found else None


def _component_users(index: RepoIndex, folder: str, cluster_objects: list[JSON]
                     ) -> list[tuple[str, str]]:
    """Every kustomization and owner (in the repo or the cluster) that adds ``folder`` as a
    component: (who, repo file or '' for the cluster)."""
    users = [(f"kustomization {d}", d or ".") for d in index.kustomizations
             if folder in index.kustomization_refs(d)]
    objects = [*((d.body, d.path) for d in index.docs), *((o, "") for o in cluster_objects)]
    for obj, where in objects:
        kind, spec = obj.get("kind"), obj.get("spec")
        name = str((obj.get("metadata") or {}).get("name") or "")
        if not isinstance(spec, dict):
            continue
        if kind == "Application":
            sources = [spec.get("source"), *(spec.get("sources") or [])]
            tool = "argocd"
        elif kind == "Kustomization" and "toolkit.fluxcd.io" in str(obj.get("apiVersion")):
            sources, tool = [spec], "flux-kustomization"
        else:
            continue
        for s in sources:
            options = gitops.kustomize_options(tool, s) if isinstance(s, dict) else {}
            base = source_folder(str(s.get("path") or "")) if isinstance(s, dict) else ""
            mapped = flux_folder(obj, cluster_objects, index) if tool == \
                "flux-kustomization" else None
            if mapped is not None:  # a path of an ExternalArtifact: its repository folder
                base = mapped
            if any(isinstance(c, str) and posixpath.normpath(posixpath.join(base, c)) == folder
                   for c in options.get("components") or []):
                users.append((f"{tool} {name}", where))
    return users


def follow(loc: Location, source: Source, index: RepoIndex, render: Callable[[JSON], list[JSON]],
           fields: JSON, variables: gitops.Variables | None, incident: Incident,
           field: str | None, cluster_objects: list[JSON]) -> Location:
    """``loc`` (the layer below, rendered with ``fields`` on top) moved to the top layer that
    owns the failing field, or a skip when that layer is shared; as it was otherwise."""
    raw = loc.rendered
    if variables is not None:
        loc = replace(loc, rendered=gitops.substitute(raw, variables))
    container = incident.container
    top = loc.top
    if field is None or top is None:
        return loc
    patched = owner_patch(loc, source, raw, render(fields), container, field)
    if patched is not None:
        loc = patched
    substituted = substitution(loc, source, top, raw, index, container, incident.failure_class)
    if substituted is not None:
        return substituted
    if patched is not None:
        return loc
    ref = ObjectRef.of(raw)

    def rendered_with(extra: JSON) -> JSON:
        found = [o for o in render(extra) if (ObjectRef.of(o).kind, ObjectRef.of(o).name) ==
                 (ref.kind, ref.name)]
        return found[0] if found else {}

    component = component_sets(source, index, fields, rendered_with, loc, container, field,
                               cluster_objects)
    if component is not None:
        return component
    if parsed_patches(source) or fields.get("components"):
        loc = replace(loc, why=loc.why + (
            f" What {owner_phrase(source)} adds on top (patches, components) does not set "
            f"`{field}` of container {container}, so the layer below stays; the gate "
            "renders the change with them on top to prove it takes effect."))
    return loc
