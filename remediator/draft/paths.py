"""JSON Patch operations that set container fields in a located document.

The document may be a whole manifest, an existing strategic-merge patch (which may not mention
the container yet) or an empty new patch: the operations create exactly the missing levels, and
`test` the old value of anything they replace so a replay on a moved file cannot clobber it.

All the changes of one document are composed (``Composer``): each operation is computed against
the document as the operations before it leave it. Two fields under a missing parent are one
`add` of the parent and one `add` inside it, never two `add`s of the parent computed from the
unmodified document (the second would silently replace the first).
"""

from __future__ import annotations

import copy
from typing import TYPE_CHECKING, Any

import jsonpatch
import jsonpointer

from ..kernel.k8s import container_list, dig, pod_spec_path, put
from ..model import DocumentEdit

if TYPE_CHECKING:
    from ..model import JSON, OwnerPatchOp, Substitution

REMOVE = object()  # a value meaning "remove this field"


class NoSuchContainer(ValueError):
    """The container to change is not in the document, and the document is not a patch."""


class ConflictingEdits(ValueError):
    """Operations of one proposal that do not compose: one would undo what another wrote."""


class Composer:
    """The operations of one document, each computed against the result of the ones before."""

    def __init__(self, document: Any) -> None:
        self.document = copy.deepcopy(document)
        self.ops: list[JSON] = []
        self._wanted: list[tuple[tuple[Any, ...], Any]] = []

    def extend(self, ops: list[JSON]) -> None:
        """Take operations computed against the document as it is now, and apply them to it
        (copies: a later operation must not reach into an earlier one's value)."""
        for op in ops:
            try:
                self.document = jsonpatch.JsonPatch([copy.deepcopy(op)]).apply(self.document)
            except (jsonpatch.JsonPatchException, jsonpointer.JsonPointerException):
                # the library's message quotes the document: only the place is named here
                raise ConflictingEdits(f"operation {op.get('op')} `{op.get('path')}` does not "
                                       "apply after the ones before it") from None
        self.ops += ops

    def set(self, rel: tuple[Any, ...], value: Any, base: tuple[Any, ...] = ()) -> None:
        """Set ``rel`` under ``base`` (both from the document's root) to ``value``."""
        self.extend(_set_ops(dig(self.document, base), list(base), tuple(rel), value))
        self._wanted.append(((*base, *rel), value))

    def composed(self) -> list[JSON]:
        """The operations, once every value set reads back from their result."""
        for path, value in self._wanted:
            got = dig(self.document, path)
            if (got is not None) if value is REMOVE else got != value:
                raise ConflictingEdits(f"`{pointer(path)}` does not end up as set: another "
                                       "operation of the same change overwrites it")
        return self.ops


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
        if not last and node[seg] is None and value is not REMOVE:
            # an empty key (`resources:` with only comments under it) becomes the mapping
            return [{"op": "test", "path": pointer(path), "value": None},
                    {"op": "replace", "path": pointer(path), "value": _nest(list(rel[i + 1:]),
                                                                             value)}]
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
            composer = Composer(doc)
            for rel, value in changes.items():
                composer.set(rel, value, (*path, idx))
            return composer.composed()
    if not is_patch:
        raise NoSuchContainer(f"container {container} is not in the located document")
    return [{"op": "add", "path": pointer([*path, "-"]),
             "value": {"name": container, **_nested_changes(changes)}}]


def field_ops(doc: JSON, rel: tuple[Any, ...], value: Any) -> list[JSON]:
    """Operations setting one field of ``doc`` addressed from its root."""
    return _set_ops(doc, [], tuple(rel), value)


def _dotted(rel: tuple[str, ...]) -> str:
    return ".".join(rel)


def operation_ops(document: JSON, op: OwnerPatchOp, changes: dict[tuple[str, ...], Any]
                  ) -> list[JSON]:
    """Operations on a JSON 6902 patch (an operation list, ``document``) whose operation
    ``op.index`` sets ``op.field`` of the container: every change must sit under that value."""
    composer = Composer(document)
    prefix = pointer([op.index])
    for rel, value in changes.items():
        if rel[:len(op.field)] != op.field:
            raise NoSuchContainer(f"the top-layer patch operation sets only "
                                  f"`{_dotted(op.field)}`, not `{_dotted(rel)}`")
        composer.set(("value", *rel[len(op.field):]), value)
    return [{**op, "path": prefix + op["path"]} for op in composer.composed()]


def variable_ops(document: JSON, sub: Substitution, changes: dict[tuple[str, ...], Any]
                 ) -> list[JSON]:
    """The change of a field fed by a Flux variable: the variable's value (or its default),
    in the string at ``sub.path`` of ``document``."""
    composer = Composer(document)
    for rel, value in changes.items():
        if rel != sub.field:
            raise NoSuchContainer(f"`{_dotted(rel)}` would change too, but only "
                                  f"`{_dotted(sub.field)}` is set through `${{{sub.var}}}`")
        text, (head, tail) = str(value), sub.around
        if not (text.startswith(head) and text.endswith(tail)) or len(text) < len(head + tail):
            raise NoSuchContainer(f"`{text}` does not fit `{head}${{{sub.var}}}{tail}`")
        inner = text[len(head):len(text) - len(tail)]
        composer.set(sub.path, f"{sub.wrap[0]}{inner}{sub.wrap[1]}")
    return composer.composed()


def _writes(op: JSON) -> str | None:
    return str(op.get("path")) if op.get("op") in ("add", "replace", "remove", "move",
                                                   "copy") else None


def compose_edits(edits: list[DocumentEdit]) -> list[DocumentEdit]:
    """One edit per document, its operations in the order drafted. Raises ConflictingEdits when
    an operation writes a place an earlier one of the same document wrote, or one of its
    parents (which would undo it); adding inside what an earlier one created is composing."""
    out: list[DocumentEdit] = []
    by_target: dict[tuple[Any, ...], DocumentEdit] = {}
    for edit in edits:
        key = (edit.target.path, edit.target.index, tuple(edit.target.embedded), edit.create)
        if key not in by_target:
            by_target[key] = DocumentEdit(edit.target, list(edit.ops), edit.create)
            out.append(by_target[key])
        else:
            by_target[key].ops += edit.ops
    for edit in out:
        written: list[str] = []
        for op in edit.ops:
            path = _writes(op)
            if path is None:
                continue
            appends = op.get("op") == "add" and path.endswith("/-")
            clobbered = [w for w in written if not appends and (
                w == path or path == "" or w.startswith(path + "/"))]
            if clobbered:
                raise ConflictingEdits(
                    f"`{edit.target.path}`: operation {op.get('op')} `{path}` would undo "
                    f"`{clobbered[0]}` written before it in the same change")
            written.append(path)
    return out
