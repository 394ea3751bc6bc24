"""Detecting a document's own indentation, so re-emitted and new lines look like their neighbours.

``ruamel.yaml.util.load_yaml_guess_indent`` only guesses the sequence indent (and fails on
multi-document input), so the mapping indent, sequence indent and dash offset are measured here from
the composed nodes' columns, taking the most common value of each.
"""

from __future__ import annotations

import io
from collections import Counter
from dataclasses import dataclass

from ruamel.yaml import YAML
from ruamel.yaml.nodes import MappingNode, Node, SequenceNode


@dataclass(frozen=True)
class Style:
    """Arguments of ``YAML.indent``: nested-mapping indent, sequence item indent, dash offset."""

    mapping: int = 2
    sequence: int = 2
    offset: int = 0


DEFAULT_STYLE = Style()


def _block(node: Node) -> bool:
    return isinstance(node, MappingNode | SequenceNode) and not node.flow_style and bool(node.value)


def detect_style(body: str) -> Style:
    """Indentation used by one document's text (defaults where the text has no example)."""
    maps: Counter[int] = Counter()
    seqs: Counter[tuple[int, int]] = Counter()
    root = YAML(typ="safe", pure=True).compose(io.StringIO(body))
    stack: list[Node] = [root] if root is not None else []
    seen: set[int] = set()
    while stack:
        node = stack.pop()
        if id(node) in seen:  # aliases share nodes
            continue
        seen.add(id(node))
        if isinstance(node, SequenceNode):
            stack.extend(node.value)
        elif isinstance(node, MappingNode):
            for key, value in node.value:
                stack.append(value)
                if not _block(value) or not _block(node):
                    continue
                col = key.start_mark.column
                if isinstance(value, MappingNode):
                    maps[value.value[0][0].start_mark.column - col] += 1
                else:
                    dash = value.start_mark.column - col
                    seqs[(value.value[0].start_mark.column - col, dash)] += 1
    mapping = maps.most_common(1)[0][0] if maps else DEFAULT_STYLE.mapping
    if seqs:
        sequence, offset = seqs.most_common(1)[0][0]
    else:  # no block sequence to copy: put the item content where a nested key would go
        offset = max(0, mapping - 2)
        sequence = offset + 2
    mapping = mapping if mapping > 0 else DEFAULT_STYLE.mapping
    if offset < 0 or sequence < offset + 2:  # not something ruamel can emit: use its default
        sequence, offset = max(2, mapping), max(0, mapping - 2)
    return Style(mapping, sequence, offset)
