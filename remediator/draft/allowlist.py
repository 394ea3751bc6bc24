"""The allow-list: which fields an edit may touch, per failure class, and in which files.

Every leaf an operation writes is normalised (pod spec prefix dropped, list positions as `*`) and
must match a pattern of its failure class; files must be the located ones. Whatever drafted the
edit — a rule or a model reading untrusted logs — cannot widen this.
"""

from __future__ import annotations

from fnmatch import fnmatchcase
from typing import TYPE_CHECKING, Any

from ..kernel.k8s import pod_spec_path
from ..model import (
    CLASS_TABLE,
    FailureClass,
    FluxVariable,
    HelmValues,
    OwnerPatchOp,
)
from .paths import pointer

if TYPE_CHECKING:
    from ..model import (
        JSON,
        Layer,
        Location,
    )
    from ..model import Proposal as _Proposal

_CONTAINER = "containers/*/"
#: the fields an edit may write, per failure class (the class table's allow-list): what a rule
#: or a model may change. Never security context, volumes, service accounts or host settings.
ALLOWED: dict[FailureClass, tuple[str, ...]] = {r.name: r.allowed for r in CLASS_TABLE
                                                if r.allowed}
#: the same fields as Helm values, under the values key that feeds them
HELM_ALLOWED: dict[FailureClass, tuple[tuple[str, str], ...]] = {
    r.name: r.helm_allowed for r in CLASS_TABLE if r.helm_allowed}
#: what only a new patch file may carry: its identity (an existing document is never renamed)
_NEW_FILE = ("apiVersion", "kind", "metadata/name", "metadata/namespace")
#: a container entry added to a patch carries the container's name (only in an `add`)
_NEW_ENTRY = _CONTAINER + "name"
#: what the locator's prerequisite edits (the new patch's kustomization entry) may touch
_PREREQUISITE = ("patches/*/path",)


def _leaves(path: str, value: Any) -> list[str]:
    if isinstance(value, dict) and value:
        return [leaf for k, v in value.items() for leaf in _leaves(f"{path}/{k}", v)]
    if isinstance(value, list) and value:
        return [leaf for i, v in enumerate(value) for leaf in _leaves(f"{path}/{i}", v)]
    return [path]


def _normalise(leaf: str, kind: str) -> str:
    prefix = pointer(pod_spec_path(kind))
    if leaf.startswith(prefix + "/"):
        leaf = leaf[len(prefix):]
    parts = [p for p in leaf.split("/") if p != ""]
    parts = ["*" if p.isdigit() or p == "-" else p for p in parts]
    if parts and parts[0] == "initContainers":
        parts[0] = "containers"
    return "/".join(parts)


def _written(ops: list[JSON]) -> list[tuple[str, str]]:
    """(leaf pointer, op) for every value the operations write or remove."""
    out: list[tuple[str, str]] = []
    for op in ops:
        name = str(op.get("op"))
        if name == "test":
            continue
        if name == "remove":
            out.append((str(op.get("path")), name))
        else:
            out += [(leaf, name) for leaf in _leaves(str(op.get("path")), op.get("value"))]
    return out


def check_allowed(failure_class: FailureClass, location: Location, proposal: _Proposal) -> str:
    """'' when every edit is allowed, else the first reason it is not."""
    allowed_files = {location.target.path}
    override = location.image_override
    override_file = override_leaf = ""
    if override is not None and override.target is not None and failure_class == \
            FailureClass.IMAGE_PULL_BACK_OFF:
        override_file, override_leaf = override.target.path, pointer(override.path)
        allowed_files.add(override_file)
    prerequisite_files = {p.target.path for p in location.prerequisites}
    layer = location.layer
    patterns = _patterns(failure_class, layer)
    helm = isinstance(layer, HelmValues)
    kind = str(location.rendered.get("kind", ""))
    sub = layer.substitution if isinstance(layer, FluxVariable) else None
    for edit in proposal.edits:
        if edit.target.path == location.target.path and tuple(edit.target.embedded) != tuple(
                location.target.embedded) and not (edit.target.path == override_file
                                                   and not edit.target.embedded):
            return f"`{edit.target.path}`: not the located document"
        if edit.target.path == location.target.path and sub is not None:
            # exactly the string the variable (or its default) is set in
            if any(leaf != pointer(sub.path) or op != "replace" for leaf, op in _written(edit.ops)):
                return f"only `{pointer(sub.path)}` of `{edit.target.path}` may change"
            continue
        path = edit.target.path
        if edit.target.embedded and path != location.target.path:
            where = "/".join(map(str, edit.target.embedded))
            return f"`{path}`: the string `{where}` is not located"
        allowed: tuple[str, ...]
        if path in prerequisite_files and path not in allowed_files:
            allowed = _PREREQUISITE
        elif path in allowed_files:
            allowed = patterns
        else:
            return f"`{path}` is not a located file for this incident"
        for leaf, op in _written(edit.ops):
            if override_leaf and path == override_file and leaf == override_leaf:
                continue  # exactly the tag the image-override layer sets
            if isinstance(layer, OwnerPatchOp) and edit.target.embedded:
                leaf = _operation_leaf(leaf, layer.index, layer.field, kind)
            norm = "/".join(p for p in leaf.split("/") if p) if helm else _normalise(leaf, kind)
            if edit.create and norm in _NEW_FILE:
                continue
            if op == "add" and fnmatchcase(norm, _NEW_ENTRY) and not helm:
                continue
            if not any(fnmatchcase(norm, p) for p in allowed):
                return f"field `{leaf}` in `{path}` is not allowed for {failure_class}"
    return ""


def _patterns(failure_class: FailureClass, layer: Layer) -> tuple[str, ...]:
    """The fields an edit of the located document may write, as paths in that document
    (Helm values: under the values key that feeds each field; else relative to the pod spec)."""
    match layer:
        case HelmValues(values_path=at, value_keys=keys, parameter_path=parameter):
            patterns = tuple("/".join([*map(str, at), *keys[key], rest])
                             for key, rest in HELM_ALLOWED.get(failure_class, ()) if key in keys)
            if parameter:
                patterns += ("/".join(map(str, (*parameter, "value"))),)
            return patterns
        case _:
            return ALLOWED.get(failure_class, ())


def _operation_leaf(leaf: str, index: int, field: tuple[str, ...], kind: str) -> str:
    """A leaf written inside operation ``index`` of a JSON 6902 patch, as the pod-spec path it
    sets (`/0/value/limits/memory` → `.../containers/*/resources/limits/memory`); anything but
    the operation's value maps to a path no pattern allows."""
    head = f"/{index}/value"
    if leaf != head and not leaf.startswith(head + "/"):
        return f"/json6902-operation{leaf}"
    return pointer([*pod_spec_path(kind), "containers", 0, *field]) + leaf[len(head):]
