"""The post-condition of every proposal: the PR does what it says, and nothing else.

The workload as the GitOps tool will apply it after the change must have exactly the values the
proposal announces (`containers[cart].resources.limits.memory == 192Mi`), and apart from those
fields it must be the workload as the same tool renders it today. Whoever drafted the change
(rules or a model) and whichever layer it went to (a plain file, an overlay patch, a new patch
file, the owner's patch on top, a Flux variable, Helm values), the check is the same: it only
compares two rendered objects with what was announced. How they were rendered (the edited file
as it is, `kubectl kustomize` with the owner's settings on top, the Helm prediction or a real
chart render) is the caller's business, so a better render plugs in without touching this.
"""

from __future__ import annotations

import copy
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

import jsonpatch

from ..kernel.k8s import CONTAINER_LISTS, get_container, pod_spec
from ..kernel.quantity import parse_quantity
from ..model import CheckResult

if TYPE_CHECKING:
    from ..model import JSON, FieldValue, ObjectRef

NAME = "post-condition"
#: unannounced differences named in a refusal (the rest are counted)
SHOWN = 3


def _same(field: tuple[str, ...], got: Any, want: Any) -> bool:
    """Equal values; resource quantities by amount (`1Gi` is `1024Mi`), never by type alone."""
    if got == want:
        return True
    if field[:1] == ("resources",) and isinstance(got, str | int | float) and \
            isinstance(want, str | int | float) and not isinstance(got, bool):
        try:
            return bool(parse_quantity(got) == parse_quantity(want))
        except (ValueError, ArithmeticError):
            return False
    return False


def _show(value: Any) -> str:
    return "not set" if value is None else f"`{value}`"


def _field(container: JSON, field: tuple[str, ...]) -> Any:
    node: Any = container
    for seg in field:
        node = node.get(seg) if isinstance(node, dict) else None
    return node


def _unmet(after: JSON, fv: FieldValue) -> str:
    """Why the rendered object does not carry ``fv`` ("" when it does)."""
    # no container: a field of the object itself (a Service's selector)
    container = get_container(after, fv.container) if fv.container else after
    if not container:
        return f"container {fv.container} is not in the rendered object"
    got = _field(container, fv.field)
    if not fv.key:
        if _same(fv.field, got, fv.value):
            return ""
        return f"`{fv.dotted}` renders as {_show(got)}, not the announced `{fv.value}`"
    entries = {str(e.get(fv.key)): e for e in got or [] if isinstance(e, dict)} \
        if isinstance(got, list) else {}
    for entry in fv.value:
        name = str(entry.get(fv.key))
        if entries.get(name) != entry:
            return (f"`{fv.dotted}` entry {name} renders as {_show(entries.get(name))}, not "
                    f"the announced `{entry}`")
    kept = [name for name in fv.removed if name in entries]
    if kept:
        return f"`{fv.dotted}` still has {', '.join(kept)}, which the change removes"
    return ""


def _drop(container: JSON, fv: FieldValue) -> None:
    """``container`` without the announced field (or its announced entries), and without the
    mappings that only held it (a null one holds nothing: Kubernetes reads it as absent)."""
    *parents, leaf = fv.field
    chain: list[JSON] = [container]
    for seg in parents:
        node = chain[-1].get(seg)
        if not isinstance(node, dict):
            if node is None:
                chain[-1].pop(seg, None)
            break
        chain.append(node)
    else:
        here = chain[-1]
        if fv.key and isinstance(here.get(leaf), list):
            gone = {str(e.get(fv.key)) for e in fv.value if isinstance(e, dict)} | set(fv.removed)
            here[leaf] = [e for e in here[leaf]
                          if not (isinstance(e, dict) and str(e.get(fv.key)) in gone)]
            if here[leaf]:
                return
        here.pop(leaf, None)
    for node, seg in zip(reversed(chain[:-1]), reversed(parents[:len(chain) - 1]), strict=True):
        if node.get(seg) in ({}, None):
            node.pop(seg, None)


def _containers(obj: JSON) -> list[JSON]:
    spec = pod_spec(obj)
    return [c for key in CONTAINER_LISTS for c in spec.get(key) or [] if isinstance(c, dict)]


def _unannounced(before: JSON, after: JSON, announced: Sequence[FieldValue]) -> JSON:
    """``before`` and ``after`` without the announced fields: what must be equal."""
    old, new = copy.deepcopy(before), copy.deepcopy(after)
    for fv in announced:
        if fv.field == ("image",):
            # one image setting (kustomize `images:`) retags every container running that
            # image, an init container of the same release included: the same change
            was = get_container(before, fv.container).get("image")
            for a, b in zip(_containers(old), _containers(new), strict=False):
                if a.get("name") == b.get("name") and (a.get("image"), b.get("image")) == (
                        was, fv.value):
                    a.pop("image"), b.pop("image")
        for obj in (old, new):
            container = get_container(obj, fv.container) if fv.container else obj
            if container:
                _drop(container, fv)
    return {"before": old, "after": new}


def _where(pointer: str) -> str:
    return ".".join(p for p in pointer.strip("/").split("/")) or "(the whole object)"


def check_postcondition(before: JSON | None, after: JSON | None,
                        announced: Sequence[FieldValue], ref: ObjectRef) -> CheckResult:
    """``after``: the workload as the GitOps tool renders it after the change (None: it did
    not render, which the render check reports); ``before``: rendered the same way today."""
    if after is None or before is None:
        return CheckResult(NAME, False, ["not checked: the change did not render"], ran=False)
    if not announced:
        return CheckResult(NAME, False, [
            "the proposal announces no value, so what its render must show cannot be checked"])
    unmet = [why for fv in announced if (why := _unmet(after, fv))]
    if unmet:
        return CheckResult(NAME, False, [f"the rendered {ref.kind} {ref.name} does not carry "
                                         f"what the proposal announces: {'; '.join(unmet)}"])
    rest = _unannounced(before, after, announced)
    if rest["before"] != rest["after"]:
        paths = sorted({_where(op["path"]) for op in jsonpatch.make_patch(
            rest["before"], rest["after"]).patch})
        more = f" and {len(paths) - SHOWN} more" if len(paths) > SHOWN else ""
        return CheckResult(NAME, False, [
            f"the change also alters {', '.join(f'`{p}`' for p in paths[:SHOWN])}{more} of "
            f"{ref.kind} {ref.name}, which the proposal does not announce"])
    return CheckResult(NAME, True, [
        f"the rendered {ref.kind} {ref.name} has {'; '.join(map(str, announced))}, and nothing "
        "else of it changed"])
