"""JSON Patch operations that set container fields in a located document.

The document may be a whole manifest, an existing strategic-merge patch (which may not mention
the container yet) or an empty new patch: the operations create exactly the missing levels, and
`test` the old value of anything they replace so a replay on a moved file cannot clobber it.
"""

from __future__ import annotations

from typing import Any

from ..k8s import container_list, pod_spec_path, put
from ..model import JSON, Location

REMOVE = object()  # a value meaning "remove this field"


class NoSuchContainer(ValueError):
    """The container to change is not in the document, and the document is not a patch."""


def pointer(segments: list[Any] | tuple[Any, ...]) -> str:
    return "".join("/" + str(s).replace("~", "~0").replace("/", "~1") for s in segments)


def _nest(segments: list[str] | tuple[str, ...], value: Any) -> Any:
    for seg in reversed(segments):
        value = {seg: value}
    return value


def _nested_changes(changes: dict[tuple[str, ...], Any]) -> JSON:
    out: JSON = {}
    for path, value in changes.items():
        if value is not REMOVE:
            put(out, path, value)
    return out


def _has(node: Any, seg: Any) -> bool:
    if isinstance(node, list):
        return isinstance(seg, int) and 0 <= seg < len(node)
    return isinstance(node, dict) and seg in node


def _set_ops(node: Any, base: list[Any], rel: tuple[Any, ...], value: Any) -> list[JSON]:
    """Minimal operations setting ``rel`` (keys, or list positions) under ``node`` to ``value``.
    Missing mapping levels are created in one `add`; a missing list position is an error."""
    path = list(base)
    for i, seg in enumerate(rel):
        last = i == len(rel) - 1
        if isinstance(node, list) and not _has(node, seg):
            raise IndexError(f"no item {seg} at {pointer(path) or '/'}")
        if not _has(node, seg):
            if value is REMOVE:
                return []  # nothing to remove
            return [{"op": "add", "path": pointer([*path, seg]), "value": _nest(list(rel[i + 1:]),
                                                                                 value)}]
        path.append(seg)
        if last:
            if value is REMOVE:
                return [{"op": "test", "path": pointer(path), "value": node[seg]},
                        {"op": "remove", "path": pointer(path)}]
            if node[seg] == value:
                return []
            return [{"op": "test", "path": pointer(path), "value": node[seg]},
                    {"op": "replace", "path": pointer(path), "value": value}]
        node = node[seg]
    return []


def container_ops(doc: JSON, rendered: JSON, container: str,
                  changes: dict[tuple[str, ...], Any], *, is_patch: bool) -> list[JSON]:
    """Operations on ``doc`` that give ``container`` the given field values.

    ``changes`` maps a path inside the container (("resources", "limits", "memory")) to the new
    value, or to REMOVE. ``rendered`` (the effective object) tells whether the container is an
    init container. Only a patch document may gain a container entry (a strategic-merge patch
    merges it by name); in a full manifest a missing container means we located the wrong
    document, and NoSuchContainer is raised.
    """
    kind = str(rendered.get("kind") or doc.get("kind", ""))
    list_key = container_list(rendered, container) or "containers"
    node: Any = doc
    path: list[Any] = []
    segments = [*pod_spec_path(kind), list_key]
    for i, seg in enumerate(segments):
        if not isinstance(node, dict) or seg not in node or node[seg] is None:
            if not is_patch:
                raise NoSuchContainer(f"container {container} is not in the located document")
            entry = {"name": container, **_nested_changes(changes)}
            return [{"op": "add", "path": pointer([*path, seg]),
                     "value": _nest(segments[i + 1:], [entry]) if i + 1 < len(segments)
                     else [entry]}]
        node = node[seg]
        path.append(seg)
    for idx, c in enumerate(node if isinstance(node, list) else []):
        if isinstance(c, dict) and c.get("name") == container:
            ops: list[JSON] = []
            for rel, value in changes.items():
                ops += _set_ops(c, [*path, idx], rel, value)
            return ops
    if not is_patch:
        raise NoSuchContainer(f"container {container} is not in the located document")
    return [{"op": "add", "path": pointer([*path, "-"]),
             "value": {"name": container, **_nested_changes(changes)}}]


def field_ops(doc: JSON, rel: tuple[Any, ...], value: Any) -> list[JSON]:
    """Operations setting one field of ``doc`` addressed from its root."""
    return _set_ops(doc, [], tuple(rel), value)


def _dotted(rel: tuple[str, ...]) -> str:
    return ".".join(rel)


def operation_ops(loc: Location, changes: dict[tuple[str, ...], Any]) -> list[JSON]:
    """Operations on a JSON 6902 patch (an operation list) whose operation ``loc.op_index``
    sets ``loc.op_field`` of the container: every change must sit under that value."""
    ops: list[JSON] = []
    prefix = pointer([loc.op_index])
    for rel, value in changes.items():
        if rel[:len(loc.op_field)] != loc.op_field:
            raise NoSuchContainer(f"the top-layer patch operation sets only "
                                  f"`{_dotted(loc.op_field)}`, not `{_dotted(rel)}`")
        inner = ("value", *rel[len(loc.op_field):])
        for op in _set_ops(loc.document, [], inner, value):
            ops.append({**op, "path": prefix + op["path"]})
    return ops


def variable_ops(loc: Location, changes: dict[tuple[str, ...], Any]) -> list[JSON]:
    """The change of a field fed by a Flux variable: the variable's value (or its default)."""
    sub = loc.substitution
    assert sub is not None
    ops: list[JSON] = []
    for rel, value in changes.items():
        if rel != sub.field:
            raise NoSuchContainer(f"`{_dotted(rel)}` would change too, but only "
                                  f"`{_dotted(sub.field)}` is set through `${{{sub.var}}}`")
        text, (head, tail) = str(value), sub.around
        if not (text.startswith(head) and text.endswith(tail)) or len(text) < len(head + tail):
            raise NoSuchContainer(f"`{text}` does not fit `{head}${{{sub.var}}}{tail}`")
        inner = text[len(head):len(text) - len(tail)]
        ops += _set_ops(loc.document, [], sub.path, f"{sub.wrap[0]}{inner}{sub.wrap[1]}")
    return ops
