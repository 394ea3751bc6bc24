"""Editing one YAML document's text through ruamel's round-trip tree with a minimal diff."""

from __future__ import annotations

import io
from typing import TYPE_CHECKING, Any

from ruamel.yaml import YAML
from ruamel.yaml.comments import CommentedMap
from ruamel.yaml.error import YAMLError

from remediator.kernel.yamlio import UnsafeYAML, load_documents

from .diff import split_lines
from .merge import merge3
from .scalars import preferred_quote, to_node
from .style import DEFAULT_STYLE, detect_style
from .tree import apply_op

if TYPE_CHECKING:
    from .style import Style


def _yaml(style: Style) -> YAML:
    yaml = YAML(typ="rt", pure=True)
    yaml.preserve_quotes = True
    yaml.width = 4096  # never wrap a long line the author wrote on one line
    yaml.allow_unicode = True
    yaml.indent(mapping=style.mapping, sequence=style.sequence, offset=style.offset)
    return yaml


def _dump(yaml: YAML, tree: Any) -> str:
    out = io.StringIO()
    yaml.dump(tree, out)
    return out.getvalue()


def _plain(text: str) -> Any:
    """The document as the rest of remediator (and Kubernetes tooling) reads it."""
    documents = load_documents(text)
    if len(documents) != 1:
        raise UnsafeYAML(f"{len(documents)} documents where one was expected")
    return documents[0]


def _keep_anchors(tree: Any) -> None:
    """Make ruamel emit every anchor, even one no alias uses (it drops those by default)."""
    stack, seen = [tree], set()
    while stack:
        node = stack.pop()
        if id(node) in seen:
            continue
        seen.add(id(node))
        get_anchor = getattr(node, "yaml_anchor", None)
        anchor = get_anchor() if callable(get_anchor) else None
        if anchor is not None and anchor.value:
            anchor.always_dump = True
        if isinstance(node, dict):
            stack.extend(node.values())
        elif isinstance(node, list):
            stack.extend(node)


def edit_document(body: str, ops: list[dict[str, Any]], expected: Any) -> str:
    """Apply ``ops`` to the document whose content lines are ``body``; return the new lines.

    ``expected`` is the plain result of the same ops (from jsonpatch): the output must load to it.
    Raises ValueError when the round trip cannot produce it.
    """
    newline_at_end = body.endswith("\n") or body == ""
    source = body if newline_at_end else body + "\n"
    style = detect_style(source) if source.strip() else DEFAULT_STYLE
    yaml = _yaml(style)
    try:
        tree = yaml.load(source)
    except YAMLError as exc:  # e.g. duplicate keys, which a plain loader may have let through
        raise ValueError(f"cannot round-trip: {str(exc).splitlines()[0]}") from None
    _keep_anchors(tree)
    base = _dump(yaml, tree) if tree is not None else ""
    if tree is None:  # an empty document: edited like a new file, from {}
        tree = CommentedMap()
    quote = preferred_quote(tree)
    for number, op in enumerate(ops):
        try:
            tree = apply_op(tree, op, quote)
        except (KeyError, IndexError, TypeError, ValueError) as exc:
            raise ValueError(f"op {number} {op.get('op')} {op.get('path')!r}: {exc}") from None
    new = _dump(yaml, tree)
    merged = "".join(merge3(split_lines(source), split_lines(base), split_lines(new)))
    for candidate in (merged, new):
        try:
            same = _plain(candidate) == expected
        except UnsafeYAML:  # the merge put an edited line next to differently indented ones
            same = False
        if same:
            return candidate if newline_at_end else candidate.removesuffix("\n")
    raise ValueError(
        "the round-trip YAML does not reproduce the patched document "
        "(an edit of a node shared through a YAML anchor/alias or merge key?)"
    )


def new_document(value: Any, style: Style) -> str:
    """Text of a brand-new document holding ``value``."""
    return _dump(_yaml(style), to_node(value, '"'))
