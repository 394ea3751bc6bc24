"""What a kustomize component added on top of a source really changes (Argo CD
`kustomize.components`, Flux `spec.components`, as home-lab repositories add a backup or a
namespace setting to every app).

A component applies its patches (and those of the components it includes) after the source's
resources. It sets the failing field when one of them does: a strategic-merge patch that names
the field (of the failing container, or the HelmRelease values key), or a JSON 6902 operation on
it. Read from the patch text, not from renders alone: a component that sets the value the
layer below already has changes nothing in a render, yet would override a change below it.
"""

from __future__ import annotations

import posixpath
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Any

from ..kernel import yamlio
from ..kernel.k8s import dig, get_container
from ..model import ObjectRef
from ..render.helmvalues import sets
from .repo import selects

if TYPE_CHECKING:
    from ..model import JSON
    from .repo import RepoIndex

VALUES = ("spec", "values")


def _closure(index: RepoIndex, folder: str) -> list[str]:
    """The component's folder and the components it includes (their patches apply to the
    same objects); its own resources are other objects and are left out."""
    out, todo = [], [folder]
    while todo:
        d = todo.pop(0)
        if d in out or d not in index.kustomizations:
            continue
        out.append(d)
        body = index.kustomizations[d]
        todo += [posixpath.normpath(posixpath.join(d, c)) for c in body.get("components") or []
                 if isinstance(c, str)]
    return out


def _load(root: Path, rel: str) -> list[Any]:
    try:
        return yamlio.load_documents(yamlio.read_text(root, rel), rel)
    except (yamlio.UnsafeYAML, OSError):
        return [None]  # unreadable: counted as touching (see ``_unknown``)


def patches(index: RepoIndex, folder: str) -> Iterator[tuple[str, JSON | None, Any]]:
    """(where, target selector, parsed patch) of every patch the component ``folder`` applies;
    a patch that cannot be read comes as None."""
    for d in _closure(index, folder):
        body = index.kustomizations[d]
        where = str(body.get("_file") or d)
        entries = [e for e in body.get("patches") or [] if isinstance(e, dict)]
        entries += [e for e in body.get("patchesJson6902") or [] if isinstance(e, dict)]
        entries += [{"path": e} if "\n" not in e else {"patch": e}
                    for e in body.get("patchesStrategicMerge") or [] if isinstance(e, str)]
        for e in entries:
            target = e.get("target") if isinstance(e.get("target"), dict) else None
            if isinstance(e.get("patch"), str):
                try:
                    docs = yamlio.load_documents(e["patch"], where)
                except yamlio.UnsafeYAML:
                    docs = [None]
                yield from ((where, target, doc) for doc in docs)
            elif isinstance(e.get("path"), str):
                rel = posixpath.normpath(posixpath.join(d, e["path"]))
                yield from ((rel, target, doc) for doc in _load(index.root, rel))


def _applies(target: JSON | None, patch: Any, obj: JSON, name: str) -> bool:
    ref = ObjectRef.of(obj)
    if target is not None:
        return selects(target, ref.kind, name, (obj.get("metadata") or {}).get("labels") or {},
                       group=ref.group)
    return isinstance(patch, dict) and patch.get("kind") == ref.kind and \
        (patch.get("metadata") or {}).get("name") == name


def _segments(op: Any) -> list[str] | None:
    if not isinstance(op, dict) or not isinstance(op.get("path"), str):
        return None
    return [s.replace("~1", "/").replace("~0", "~") for s in op["path"].split("/")[1:]]


def _overlaps(a: list[str], b: list[str]) -> bool:
    """Whether one path is a prefix of the other (writing either writes the other)."""
    return a[:len(b)] == b or b[:len(a)] == a


def sets_container_field(index: RepoIndex, folder: str, obj: JSON, name: str, container: str,
                         field: str) -> str:
    """Where (file) the component ``folder`` sets ``field`` of ``container`` in ``obj``
    (named ``name`` in the source), "" when it does not. A JSON 6902 operation on the pod's
    container list or on that container's field counts; a numbered container is resolved
    against ``obj``; appending a container does not touch this one."""
    containers = ((dig(obj, ("spec", "template", "spec")) or {}).get("containers")) or []
    for where, target, patch in patches(index, folder):
        if patch is None:
            return where
        if not _applies(target, patch, obj, name):
            continue
        if isinstance(patch, dict):
            if field in get_container({**patch, "kind": obj.get("kind")}, container):
                return where
            continue
        for op in patch if isinstance(patch, list) else []:
            segs = _segments(op)
            if segs is None:
                return where
            for i, seg in enumerate(segs):
                if seg != "containers":
                    continue
                rest = segs[i + 1:]
                if not rest:
                    return where  # the whole list
                idx = rest[0]
                named = (containers[int(idx)].get("name") if idx.isdigit()
                         and int(idx) < len(containers) and isinstance(containers[int(idx)],
                                                                       dict) else None)
                if named == container and (len(rest) == 1 or rest[1] == field):
                    return where
    return ""


def sets_values_key(index: RepoIndex, folder: str, release: JSON, name: str,
                    key: tuple[str, ...]) -> str:
    """Where (file) the component ``folder`` sets `spec.values.<key>` of the HelmRelease
    ``release`` (or replaces a mapping above it), "" when it does not. Its `valuesFrom` is
    left out: `spec.values` is merged over it."""
    full = [*VALUES, *key]
    for where, target, patch in patches(index, folder):
        if patch is None:
            return where
        if not _applies(target, patch, release, name):
            continue
        if isinstance(patch, dict):
            values = dig(patch, VALUES)
            if sets(values, key) or (values is not None and not isinstance(values, dict)) or \
                    any(not isinstance(dig(patch, (*VALUES, *key[:i])), dict | type(None))
                        for i in range(1, len(key))):
                return where
            continue
        for op in patch if isinstance(patch, list) else []:
            segs = _segments(op)
            if segs is None or _overlaps(segs, full):
                return where
    return ""
