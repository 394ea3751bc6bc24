"""Editing a YAML document held in a block scalar of another: a ConfigMap's `data.values.yaml`
(Helm values), an inline patch of an Argo CD Application or a Flux Kustomization (`patch: |`).

The inner document is edited like a file of its own (minimal diff), then its lines replace the
block scalar's content lines in the outer text, at the block's own indentation: the `|` header,
every other line of the outer file and the blank lines closing the block stay byte for byte.
"""

from __future__ import annotations

import io
from collections.abc import Callable
from typing import Any

from ruamel.yaml import YAML
from ruamel.yaml.error import YAMLError
from ruamel.yaml.nodes import MappingNode, Node, ScalarNode, SequenceNode

from remediator.kernel import yamlio

from .errors import EditError


def _node(root: Node, path: tuple[Any, ...]) -> Node | None:
    node: Node | None = root
    for seg in path:
        if isinstance(node, MappingNode):
            node = next((v for k, v in node.value
                         if isinstance(k, ScalarNode) and k.value == str(seg)), None)
        elif isinstance(node, SequenceNode) and isinstance(seg, int) and seg < len(node.value):
            node = node.value[seg]
        else:
            return None
    return node


def splice(path: str, text: str, index: int, at: tuple[Any, ...],
           edit_inner: Callable[[str], str]) -> str:
    """``text`` with the block scalar at ``at`` of document ``index`` replaced by what
    ``edit_inner`` makes of its content."""
    where = f"{path} (document {index}) at {'/'.join(map(str, at))}"
    try:
        roots = list(YAML(typ="rt", pure=True).compose_all(io.StringIO(text)))
    except YAMLError as exc:
        raise EditError(f"{path}: cannot parse for editing: {str(exc).splitlines()[0]}") from None
    node = _node(roots[index], at) if 0 <= index < len(roots) else None
    if not isinstance(node, ScalarNode) or not str(node.tag or "").endswith(":str"):
        raise EditError(f"{where}: not a string holding YAML")
    if node.style != "|":
        raise EditError(f"{where}: the string is not a literal block (`|`); not edited")
    header_end = text.index("\n", node.start_mark.index) + 1
    if any(c.isdigit() for c in text[node.start_mark.index: header_end]):
        raise EditError(f"{where}: block strings with an explicit indentation are not "
                        "edited")
    region = text[header_end: node.end_mark.index]
    lines = region.split("\n")
    # the blank lines closing the block belong to the layout, not to the value
    body_count = max((i + 1 for i, ln in enumerate(lines) if ln.strip()), default=0)
    body, trailing = lines[:body_count], lines[body_count:]
    indent = min((len(ln) - len(ln.lstrip(" ")) for ln in body if ln.strip()), default=0)
    if not body or indent == 0:
        raise EditError(f"{where}: empty or unindented block")
    try:
        yamlio.load_documents(str(node.value), where)
    except yamlio.UnsafeYAML as exc:
        raise EditError(f"{where}: the embedded document does not parse: {exc}") from None
    new_inner = edit_inner(str(node.value))
    new_body = [f"{' ' * indent}{ln}" if ln.strip() else "" for ln in
                new_inner.rstrip("\n").split("\n")]  # `|+` keeps its blank lines: in trailing
    new_region = "\n".join([*new_body, *trailing]) if trailing else "\n".join(new_body)
    if not trailing and region.endswith("\n"):
        new_region += "\n"
    new_text = text[:header_end] + new_region + text[node.end_mark.index:]
    # the outer file must load as before except for the string, which must hold the new YAML
    try:
        old_docs = yamlio.load_documents(text, path)
        new_docs = yamlio.load_documents(new_text, path)
        inner = yamlio.load_documents(new_inner, path)
        got = yamlio.load_documents(_at(new_docs[index], at), path)
    except (yamlio.UnsafeYAML, TypeError, IndexError) as exc:
        raise EditError(f"{where}: the edited file does not load: {exc}") from None
    _set(old_docs[index], at, _at(new_docs[index], at))
    if old_docs != new_docs or got != inner:
        raise EditError(f"{where}: internal error: the edited file does not load as patched")
    return new_text


def _at(doc: Any, at: tuple[Any, ...]) -> Any:
    for seg in at:
        doc = doc[seg]
    return doc


def _set(doc: Any, at: tuple[Any, ...], value: Any) -> None:
    for seg in at[:-1]:
        doc = doc[seg]
    doc[at[-1]] = value
