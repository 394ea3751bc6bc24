"""Flux post-build variables in the failing value: the change goes where the variable gets
its value (`postBuild.substitute`, else the last `substituteFrom` ConfigMap in the repo that
defines it, else the default written in the file); a value that may come from a Secret is never
read, and is a skip."""

from __future__ import annotations

import copy
import re
from dataclasses import replace
from typing import TYPE_CHECKING, Any

from ..kernel.k8s import CONTAINER_LISTS, dig, get_container, pod_spec_path
from ..model import (
    CLASS_TABLE,
    DocumentRef,
    Substitution,
    TargetKind,
)
from ..render import gitops
from .errors import LocateSkip
from .repo import Doc
from .source import settings_of

if TYPE_CHECKING:
    from ..model import (
        JSON,
        FailureClass,
        Location,
        TopLayer,
    )
    from .repo import RepoIndex
    from .source import Source

#: the value a variable can feed, per failure class (inside the container)
VALUE_OF_CLASS = {r.name: r.variable_field for r in CLASS_TABLE if r.variable_field}


class OnTopSkip(LocateSkip):
    """No safe layer on top: the message says why."""


def owner_phrase(source: Source) -> str:
    kind = "Argo CD Application" if source.tool == "argocd" else "Flux Kustomization"
    return f"the {kind} {source.app}"


_SIMPLE = re.compile(r"^[^$]*\$\{[_A-Za-z][_A-Za-z0-9]*(?::?[=-][^}]*)?\}[^$]*$")


def substitution(loc: Location, source: Source, top: TopLayer, raw: JSON, index: RepoIndex,
                 container: str, failure_class: FailureClass) -> Location | None:
    """``loc`` pointed at where a Flux variable in the failing value gets its value (None: the
    value has no variable)."""
    field = VALUE_OF_CLASS.get(failure_class)
    value: Any = get_container(raw, container)
    for key in field or ():
        value = value.get(key) if isinstance(value, dict) else None
    if field is None or not isinstance(value, str) or "${" not in value:
        return None
    what = owner_phrase(source)
    settings = settings_of(source)
    post = gitops.post_build(settings)
    if source.tool != "flux-kustomization" or not (post.get("substitute") or
                                                    post.get("substituteFrom")):
        raise OnTopSkip(f"`{'.'.join(field)}` of container {container} is `{value}`, a variable "
                        "nothing substitutes")
    m = gitops.VAR_REF.search(value)
    if not _SIMPLE.match(value) or m is None:
        raise OnTopSkip(f"`{'.'.join(field)}` of container {container} is `{value}`: only one "
                        "plain `${VAR}` (with an optional default) is followed")
    var, op = m.group(1), m.group(2)
    around = (value[:m.start()], value[m.end():])
    inline = post.get("substitute")
    doc: Doc | DocumentRef | None
    if isinstance(inline, dict) and var in inline:
        if source.settings_doc is None:
            raise OnTopSkip(f"{what} sets `{var}` and is not in this repository")
        doc = source.settings_doc
        path: tuple[Any, ...] = (*source.settings_path, "postBuild", "substitute", var)
        why = (f"`{'.'.join(field)}` of container {container} is `{value}`; Flux substitutes "
               f"`{var}` from `postBuild.substitute` of {what} (which wins over "
               "`substituteFrom`), so the change goes there.")
        _only_use(raw, var, container, field)
        return _point(loc, Doc(doc.path, doc.index, doc.body), path, var, field, around, why)
    entries = post.get("substituteFrom") or []
    for k in reversed(range(len(entries))):  # later entries win
        entry = entries[k] if isinstance(entries[k], dict) else {}
        label = f"{entry.get('kind')} {entry.get('name')}"
        if entry.get("kind") != "ConfigMap":
            raise OnTopSkip(f"`{var}` may come from {label} in `substituteFrom` of {what}; "
                            "Secrets are never read, so its value cannot be checked or changed")
        ref = top.substitute_from[k] if k < len(top.substitute_from) else None
        if ref is None:
            raise OnTopSkip(f"`{var}` may come from {label} in `substituteFrom` of {what}, "
                            "which is not in this repository")
        cm = next(d for d in index.docs if d.path == ref.path and d.index == ref.index)
        data = cm.body.get("data")
        if isinstance(data, dict) and var in data:
            _shared_configmap(index, source, cm)
            _only_use(raw, var, container, field)
            why = (f"`{'.'.join(field)}` of container {container} is `{value}`; Flux substitutes "
                   f"`{var}` from ConfigMap {cm.name} (`{cm.path}`, listed in `substituteFrom` "
                   f"of {what}), so the change goes there.")
            return _point(loc, cm, ("data", var), var, field, around, why)
    if op is None:
        raise OnTopSkip(f"`{var}` in `{'.'.join(field)}` of container {container} is defined "
                        f"nowhere {what} reads, and has no default")
    spot = _field_path(loc.document, raw, container, field)
    if loc.kind == TargetKind.NEW_PATCH or spot is None:
        raise OnTopSkip(f"`{var}` is not defined and its default sits in a file shared with "
                        "other environments; not changed")
    return replace(
        loc, substitution=Substitution(var, field, spot, around,
                                       (f"{around[0]}${{{var}{op}", f"}}{around[1]}")),
        why=loc.why + (f" `{'.'.join(field)}` of container {container} is `{value}` and no "
                       f"variable `{var}` is set by {what}, so its default there changes."))


def _only_use(raw: JSON, var: str, container: str, field: tuple[str, ...]) -> None:
    """A variable the workload reads in other places too (a sidecar's limit, an env value)
    changes there as well: not a change of the failing field alone."""
    uses = sum(1 for text in _strings(raw) for m in gitops.VAR_REF.finditer(text)
               if m.group(1) == var)
    if uses > 1:
        raise OnTopSkip(f"`{var}` feeds `{'.'.join(field)}` of container {container} and "
                        f"{uses - 1} other place(s) in the same object; changing it would "
                        "change them too")


def _strings(node: Any) -> list[str]:
    if isinstance(node, str):
        return [node]
    if isinstance(node, dict):
        return [s for v in node.values() for s in _strings(v)]
    if isinstance(node, list):
        return [s for v in node for s in _strings(v)]
    return []


def _point(loc: Location, doc: Doc, path: tuple[Any, ...], var: str, field: tuple[str, ...],
           around: tuple[str, str], why: str) -> Location:
    return replace(loc, target=DocumentRef(doc.path, doc.index), kind=TargetKind.MANIFEST,
                   document=copy.deepcopy(doc.body), prerequisites=[], also_renders=[],
                   substitution=Substitution(var, field, path, around), why=why)


def _field_path(document: JSON, rendered: JSON, container: str,
                field: tuple[str, ...]) -> tuple[Any, ...] | None:
    """Where ``field`` of ``container`` sits in ``document``, when it is there as a string."""
    spec_path = pod_spec_path(str(rendered.get("kind", "")))
    for list_key in CONTAINER_LISTS:
        items = dig(document, (*spec_path, list_key))
        for i, c in enumerate(items if isinstance(items, list) else []):
            if isinstance(c, dict) and c.get("name") == container:
                value = dig(c, field)
                if isinstance(value, str) and "${" in value:
                    return (*spec_path, list_key, i, *field)
    return None


def _shared_configmap(index: RepoIndex, source: Source, cm: Doc) -> None:
    """A ConfigMap other Flux Kustomizations substitute from is changed for all of them."""
    own = (source.settings_doc.path, source.settings_doc.index) if source.settings_doc else None
    # by document, not by name: clusters often commit a Kustomization of the same name each
    others = sorted({f"{d.name} (`{d.path}`)" for d in index.docs
                     if d.kind == "Kustomization" and d.group == "kustomize.toolkit.fluxcd.io"
                     and (d.path, d.index) != own
                     and any(isinstance(e, dict) and e.get("kind") == "ConfigMap"
                             and e.get("name") == cm.name
                             for e in gitops.post_build(d.body.get("spec") or {}).get(
                                 "substituteFrom") or [])})
    if others:
        raise OnTopSkip(f"ConfigMap {cm.name} (`{cm.path}`) also feeds the variables of Flux "
                        f"Kustomization(s) {', '.join(others)}; changing it would change them "
                        "too")
