"""Turning plain JSON values into ruamel round-trip nodes that read back as the same values.

ruamel dumps with YAML 1.2 rules, so a new string like ``yes`` or ``12:30`` comes out bare, and a
YAML 1.1 reader (go-yaml, hence kubectl and Argo CD) then sees a bool or an int. Every new string
is checked against both versions' implicit resolvers plus a few extra patterns and quoted when any
of them would read it as something other than a string.
"""

from __future__ import annotations

import io
import re
from typing import Any

from ruamel.yaml.comments import CommentedMap, CommentedSeq
from ruamel.yaml.emitter import Emitter
from ruamel.yaml.nodes import ScalarNode
from ruamel.yaml.resolver import VersionedResolver
from ruamel.yaml.scalarstring import (
    DoubleQuotedScalarString,
    FoldedScalarString,
    LiteralScalarString,
    SingleQuotedScalarString,
)

_STR_TAG = "tag:yaml.org,2002:str"
_RESOLVERS = (VersionedResolver(version=(1, 1)), VersionedResolver(version=(1, 2)))

#: words some YAML reader treats as bool/null even where ruamel's resolvers do not
_WORDS = {"y", "n", "yes", "no", "on", "off", "true", "false", "null", "~", "=", "<<"}
#: anything that looks numeric in any dialect (1e3, 0o17, 0b1, 1_000, .5, 1:30, +1, 0755...)
_NUMERIC = re.compile(r"[-+]?(\.?[0-9]|\.(inf|nan)$)[0-9a-fA-FoOxXbBeE_.:+-]*$", re.IGNORECASE)
#: only used to ask ruamel whether a string may be written plain (indicators, ": ", " #"...)
_ANALYZER = Emitter(io.StringIO(), allow_unicode=True)


def needs_quotes(value: str) -> bool:
    """True when ``value`` written as a plain scalar would not read back as this string."""
    if value == "" or value != value.strip() or "\n" in value or "\t" in value:
        return True
    if value.lower() in _WORDS or _NUMERIC.match(value):
        return True
    if any(not ch.isprintable() for ch in value):
        return True
    if not _ANALYZER.analyze_scalar(value).allow_block_plain:
        return True
    return any(
        r.resolve(ScalarNode, value, (True, False)) != _STR_TAG for r in _RESOLVERS
    )


def quoted(value: str, quote: str) -> Any:
    """``value`` as a quoted scalar in the preferred style (double when escapes are needed)."""
    if quote == "'" and value.isprintable():
        return SingleQuotedScalarString(value)
    return DoubleQuotedScalarString(value)


def new_string(value: str, quote: str, old: Any = None) -> Any:
    """A string scalar for ``value``; keeps the quoting/block style of ``old`` when there is one."""
    if isinstance(old, DoubleQuotedScalarString):
        return DoubleQuotedScalarString(value)
    if isinstance(old, SingleQuotedScalarString):
        return quoted(value, "'")
    if isinstance(old, LiteralScalarString | FoldedScalarString) and "\n" in value:
        return type(old)(value)
    if "\n" in value and _block_safe(value):
        return LiteralScalarString(value)
    return quoted(value, quote) if needs_quotes(value) else value


def new_key(key: Any, quote: str) -> Any:
    """A mapping key for a new entry: quoted like a value when it would read as a non-string
    (a YAML 1.1 reader turns an ``on:`` key into the boolean true)."""
    if isinstance(key, str) and needs_quotes(key):
        return quoted(key, quote)
    return key


def _block_safe(value: str) -> bool:
    # a literal block cannot carry trailing spaces on a line, tabs or control characters faithfully
    lines = value.split("\n")
    return all(line == line.rstrip() and line.isprintable() for line in lines) and bool(
        value.strip()
    )


def to_node(value: Any, quote: str, old: Any = None) -> Any:
    """Convert a JSON value to round-trip nodes: block-style collections, safely quoted strings.

    ``old`` is the node being replaced, if any, so a replaced quoted string keeps its quotes.
    """
    if isinstance(value, dict):
        out = CommentedMap()
        for k, v in value.items():
            out[new_key(k, quote)] = to_node(v, quote)
        out.fa.set_block_style()
        return out
    if isinstance(value, list | tuple):
        seq = CommentedSeq(to_node(v, quote) for v in value)
        seq.fa.set_block_style()
        return seq
    if isinstance(value, str):
        return new_string(value, quote, old)
    return value  # int, float, bool, None: ruamel emits them plain, which is what we want


def preferred_quote(tree: Any) -> str:
    """The quote character the document uses most ('"' when it uses none)."""
    counts = {"'": 0, '"': 0}
    stack = [tree]
    while stack:
        node = stack.pop()
        if isinstance(node, dict):
            stack.extend(node.values())
        elif isinstance(node, list):
            stack.extend(node)
        elif isinstance(node, SingleQuotedScalarString):
            counts["'"] += 1
        elif isinstance(node, DoubleQuotedScalarString):
            counts['"'] += 1
    return "'" if counts["'"] > counts['"'] else '"'
