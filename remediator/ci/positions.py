"""Line numbers for findings: where a document starts, and where a field in it is written.

The text has already been loaded with ``yamlio.load_documents`` (bombs refused, duplicate keys
rejected) before it is composed here, so composing it again is safe; nodes carry their marks.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

import yaml
from yaml.nodes import MappingNode, Node, ScalarNode, SequenceNode

_Loader: Any = getattr(yaml, "CSafeLoader", yaml.SafeLoader)

#: a dotted path with [index] parts, as policies and schema messages write them
_PATH = r"[A-Za-z_][\w-]*(?:\.[\w-]+|\[\d+\])*"
_IN_PARENS = re.compile(rf"\(({_PATH})\)")
_LEADING = re.compile(rf"^({_PATH}): ")
_PARTS = re.compile(r"\[(\d+)\]|\.?([\w-]+)")
_LINE = re.compile(r":? line (\d+):")


@dataclass
class Document:
    """One YAML document of a file, composed (with its nodes' positions) for line numbers."""

    line: int  # 1-based line of the document's first content line
    node: Node | None


def documents(text: str) -> list[Document]:
    """The composed documents of a text, in order (empty documents have no node)."""
    out = []
    loader = _Loader(text)
    try:
        while loader.check_node():
            node = loader.get_node()
            line = node.start_mark.line + 1 if node is not None else 1
            out.append(Document(line, node))
    except yaml.YAMLError:
        return out
    finally:
        loader.dispose()
    return out


def message_path(message: str) -> str | None:
    """The field a message is about: "(spec.x.y)" in a policy message, "spec.x: ..." in a
    schema message; None when it names none."""
    found = _IN_PARENS.findall(message)
    if found:
        return str(found[-1])
    leading = _LEADING.match(message)
    return leading.group(1) if leading else None


def path_parts(path: str) -> list[str | int]:
    return [int(i) if i else name for i, name in _PARTS.findall(path)]


def field_line(doc: Document, path: str | None) -> int:
    """The line of the deepest part of ``path`` that is written in the document (the document's
    start when none is)."""
    node, line = doc.node, doc.line
    for part in path_parts(path) if path else []:
        child: Node | None = None
        if isinstance(node, MappingNode) and isinstance(part, str):
            child = next((v for k, v in node.value
                          if isinstance(k, ScalarNode) and k.value == part), None)
            key = next((k for k, _ in node.value
                        if isinstance(k, ScalarNode) and k.value == part), None)
            if key is not None:
                line = key.start_mark.line + 1
        elif isinstance(node, SequenceNode) and isinstance(part, int) and part < len(node.value):
            child = node.value[part]
            line = child.start_mark.line + 1
        if child is None:
            break
        node = child
    return line


def error_line(message: str) -> int:
    """The line a yamlio error names ("file: line 7: invalid YAML: ..."), or 1."""
    found = _LINE.search(message)
    return int(found.group(1)) if found else 1
