"""Editing a YAML document held in a block string of another document (an inline patch of an
Argo CD Application or a Flux Kustomization: `patch: |` followed by the patch text).

The inner document is edited like any other (round trip, minimal diff); its lines are then put
back into the block scalar with the scalar's own indentation, unchanged lines kept byte for
byte, so a one-value change is a one-line diff of the outer file.
"""

from __future__ import annotations

import copy
import difflib
from typing import Any

from ruamel.yaml import YAML
from ruamel.yaml.error import YAMLError
from ruamel.yaml.nodes import MappingNode, Node, ScalarNode, SequenceNode

from remediator import yamlio
from remediator.model import DocumentEdit

from .errors import EditError
from .roundtrip import edit_document


def _node_at(node: Node | None, path: tuple[Any, ...]) -> Node | None:
    for seg in path:
        if isinstance(node, MappingNode):
            node = next((v for k, v in node.value if isinstance(k, ScalarNode)
                         and k.value == str(seg)), None)
        elif isinstance(node, SequenceNode) and isinstance(seg, int) and seg < len(node.value):
            node = node.value[seg]
        else:
            return None
    return node


def _set(doc: Any, path: tuple[Any, ...], value: str) -> Any:
    out = copy.deepcopy(doc)
    node = out
    for seg in path[:-1]:
        node = node[seg]
    node[path[-1]] = value
    return out


def edit_embedded(path: str, text: str, documents: list[Any], edits: list[DocumentEdit],
                  patched: Any) -> str:
    """``text`` with the ops of ``edits`` (all on one embedded document) applied inside the
    string. ``patched(document, ops)`` is the plain result of ops (jsonpatch)."""
    targets = {(e.target.index, tuple(e.target.embedded)) for e in edits}
    if len(targets) != 1:
        raise EditError(f"{path}: edits of an embedded document must all address the same one")
    index, where = next(iter(targets))
    ops = [op for e in edits for op in e.ops]
    outer = documents[index] if 0 <= index < len(documents) else None
    inner_text: Any = outer
    for seg in where:
        inner_text = inner_text[seg] if isinstance(inner_text, dict | list) and (
            seg in inner_text if isinstance(inner_text, dict) else
            isinstance(seg, int) and seg < len(inner_text)) else None
    label = f"{path} (document {index}) at {'.'.join(map(str, where))}"
    if not isinstance(inner_text, str):
        raise EditError(f"{label}: not a string holding a document")
    try:
        inner_docs = yamlio.load_documents(inner_text, label)
    except yamlio.UnsafeYAML as exc:
        raise EditError(f"{label}: the embedded document does not parse: {exc}") from None
    if len(inner_docs) != 1:
        raise EditError(f"{label}: holds {len(inner_docs)} documents, not one")
    expected_inner = patched(inner_docs[0], ops)
    try:
        new_inner = edit_document(inner_text, ops, expected_inner)
    except ValueError as exc:
        raise EditError(f"{label}: {exc}") from None
    new_text = _splice_block(label, text, index, where, inner_text, new_inner)
    expected = list(documents)
    expected[index] = _set(outer, where, new_inner)
    try:
        same = yamlio.load_documents(new_text, path) == expected
    except yamlio.UnsafeYAML:
        same = False
    if not same:
        raise EditError(f"{label}: the edited string cannot be written back in its own style")
    return new_text


def _splice_block(label: str, text: str, index: int, where: tuple[Any, ...], old: str,
                  new: str) -> str:
    try:
        nodes = list(YAML(typ="rt", pure=True).compose_all(text))
    except YAMLError as exc:
        raise EditError(f"{label}: cannot parse for editing: {str(exc).splitlines()[0]}") from None
    node = _node_at(nodes[index], where) if index < len(nodes) else None
    if not isinstance(node, ScalarNode) or node.style != "|":
        raise EditError(f"{label}: only a literal block string (`|`) is edited in place")
    lines = text.splitlines(keepends=True)
    header = lines[node.start_mark.line]
    if any(ch.isdigit() for ch in header[node.start_mark.column:].split("#")[0]):
        raise EditError(f"{label}: block strings with an explicit indentation are not edited")
    old_lines, new_lines = old.splitlines(), new.splitlines()
    first = node.start_mark.line + 1
    body = lines[first:first + len(old_lines)]
    sample = next((ln for ln in body if ln.strip()), "")
    indent = sample[:len(sample) - len(sample.lstrip(" "))]
    if len(body) != len(old_lines) or any(
            ln.strip() and ln.rstrip("\r\n") != indent + o for ln, o in zip(body, old_lines,
                                                                              strict=True)):
        raise EditError(f"{label}: the block string's lines do not match its value")
    eol = "\n"
    out: list[str] = []
    matcher = difflib.SequenceMatcher(a=old_lines, b=new_lines, autojunk=False)
    for tag, i1, i2, j1, j2 in matcher.get_opcodes():
        if tag == "equal":
            out += body[i1:i2]
        else:
            out += [(indent + ln if ln else "") + eol for ln in new_lines[j1:j2]]
    return "".join([*lines[:first], *out, *lines[first + len(old_lines):]])
