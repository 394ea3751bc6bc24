"""docs/configuration.md, generated from the settings declarations and the schema derived from
them: every key, its default, what it accepts and what it does.

`python scripts/config_reference.py` rewrites the page; a test fails while it is out of date.
"""

from __future__ import annotations

from dataclasses import is_dataclass
from typing import TYPE_CHECKING, Any, get_args, get_origin

import yaml

from ..model import FAILURE_CLASSES
from ..model.setting import (
    BRANCH_PREFIX_PATTERN,
    ENV_PATTERN,
    HOST_PATTERN,
    PACKAGE_PATTERN,
    SERVER_URL_PATTERN,
)
from .schema import config_schema, object_schema, walk
from .settings import CONFIG_FILE, Config

if TYPE_CHECKING:
    from .schema import Leaf

PAGE = "docs/configuration.md"

_INTRO = f"""\
# Configuration: `{CONFIG_FILE}`

<!-- Generated from the settings declarations (remediator/model/settings.py,
remediator/config/settings.py, remediator/model/trust.py) by
`python scripts/config_reference.py`. Do not edit by hand: a test fails when it is stale. -->

Committed at the root of the GitOps repository (or passed with `--config`). Every key is optional;
unknown keys (with the key you probably meant), wrong types, out-of-range values, invalid
quantities and missing policy paths are rejected with the line they are on (exit code 2).
Secrets never go here: tokens and keys come from the environment. Editors check and complete the
file with its JSON Schema (`remediator config schema`): `remediator init` writes the
`# yaml-language-server: $schema=...` line, and a `$schema` key is accepted
([install.md](install.md#editors-the-configuration-schema)).

## Every key at its default

```yaml
"""

#: the patterns of the schema, in words: (one, a list of them)
_PATTERNS = {
    HOST_PATTERN: ("a host name (`api.example.com`, `*.example.com`)",
                   "host names (`api.example.com`, `*.example.com`)"),
    ENV_PATTERN: ("a variable name (or a prefix ending in `*`)",
                  "variable names (or prefixes ending in `*`)"),
    "^[A-Za-z_][A-Za-z0-9_]*$": ("a variable name", "variable names"),
    SERVER_URL_PATTERN: ("an http(s) URL without a path", "http(s) URLs without a path"),
    "^https?://": ("an http(s) URL", "http(s) URLs"),
    "^https?://[^\\s]+$": ("an http(s) URL", "http(s) URLs"),
    r"^1\.[0-9]+$": ("a Kubernetes minor version (`1.31`)", "Kubernetes minor versions"),
    BRANCH_PREFIX_PATTERN: ("the start of a git branch name", "starts of git branch names"),
    PACKAGE_PATTERN: ("a Rego package name (`main`)", "Rego package names (`main`)"),
}


def _scalar(value: Any) -> str:
    """A value as YAML writes it inline."""
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    text = yaml.safe_dump(value, default_flow_style=True, width=1000).strip()
    return text.removesuffix("\n...").removesuffix("...").strip()


def _enum(values: list[Any]) -> str:
    if values == list(FAILURE_CLASSES):
        return "a failure class ([detection.md](detection.md))"
    return "one of " + ", ".join(f"`{_scalar(v)}`" for v in values)


def _allowed(schema: dict[str, Any], plural: bool = False) -> str:
    """What a schema accepts, in words (``plural``: what a list of them holds)."""
    if "enum" in schema:
        return _enum(schema["enum"])
    if schema.get("format") == "quantity":
        return "quantities" if plural else "a quantity (`512Mi`, `2Gi`, `500m`)"
    if schema.get("format") == "positive-quantity":
        return "quantities above zero" if plural else "a quantity above zero (`512Mi`, `2`)"
    types = schema.get("type")
    nullable = isinstance(types, list) and "null" in types
    kind = next(t for t in types if t != "null") if isinstance(types, list) else types
    if kind == "array" and "enum" in schema["items"]:
        words = "a list, each " + _enum(schema["items"]["enum"])
    elif kind == "array":
        words = ("a non-empty list of " if schema.get("minItems") else "a list of ") \
            + _allowed(schema["items"], plural=True)
    elif kind == "object":
        if "properties" in schema:
            words = "entries (below)"
        else:
            words = "maps of strings" if plural else "a map of strings"
    elif kind in ("integer", "number"):
        words = "an integer" if kind == "integer" else "a number"
        bounds = [f"{op} {_scalar(schema[k])}" for k, op in (
            ("exclusiveMinimum", ">"), ("minimum", "≥"), ("maximum", "≤")) if k in schema]
        words += (" " + " and ".join(bounds)) if bounds else ""
    elif kind == "boolean":
        words = "`true` or `false`"
    elif "pattern" in schema:
        one, many = _PATTERNS.get(schema["pattern"], (
            f"a string matching `{schema['pattern']}`", f"strings matching `{schema['pattern']}`"))
        words = many if plural else one
    elif schema.get("minLength"):
        words = "non-empty strings" if plural else "a non-empty string"
    else:
        words = "strings" if plural else "a string"
    return words + (", or `null`" if nullable else "")


def _schema_at(path: list[str]) -> dict[str, Any]:
    node: dict[str, Any] = config_schema()
    for part in path:
        node = node["properties"][part]
    return node


def _row(key: str, default: str, schema: dict[str, Any], doc: str) -> str:
    cells = [f"`{key}`", default, _allowed(schema), doc]
    return "| " + " | ".join(c.replace("|", "\\|") for c in cells) + " |"


def _yaml_block(leaves: list[Leaf]) -> list[str]:
    lines: list[str] = []
    open_path: list[str] = []
    for leaf in leaves:
        *groups, last = leaf.file_path
        common = 0
        while common < min(len(groups), len(open_path)) and groups[common] == open_path[common]:
            common += 1
        for depth in range(common, len(groups)):
            lines.append(f"{'  ' * depth}{groups[depth]}:")
        open_path = groups
        lines.append(f"{'  ' * len(groups)}{last}: {_scalar(leaf.default)}  # {leaf.key.doc}")
    return lines


def _item_class(leaf: Leaf) -> Any | None:
    if get_origin(leaf.tp) is list:
        (item,) = get_args(leaf.tp)
        if is_dataclass(item):
            return item
    return None


def render() -> str:
    """The whole page."""
    leaves = list(walk(Config))
    out = _INTRO.splitlines() + _yaml_block(leaves) + ["```", ""]
    sections: dict[str, list[Leaf]] = {}
    for leaf in leaves:
        # a key of a nested settings object goes in its section; `repo.url` stays on top
        section = leaf.file_path[0] if len(leaf.attrs) > 1 else ""
        sections.setdefault(section, []).append(leaf)
    for section, members in sections.items():
        title = f"`{section}`" if section else "Top level"
        out += [f"## {title}", ""]
        if section:
            doc = _schema_at([section]).get("description", "")
            out += [doc[:1].upper() + doc[1:] + ".", ""]
        out += ["| Key | Default | Accepts | Description |", "| --- | --- | --- | --- |"]
        items: list[tuple[Leaf, Any]] = []
        for leaf in members:
            out.append(_row(leaf.dotted, f"`{_scalar(leaf.default)}`",
                            _schema_at(leaf.file_path), leaf.key.doc))
            item = _item_class(leaf)
            if item is not None:
                items.append((leaf, item))
        for leaf, item in items:
            out += ["", f"Each entry of `{leaf.dotted}`:", "",
                    "| Key | Default | Accepts | Description |", "| --- | --- | --- | --- |"]
            props = object_schema(item)
            required = set(props.get("required", []))
            for sub in walk(item):
                default = "required" if sub.dotted in required else f"`{_scalar(sub.default)}`"
                out.append(_row(sub.dotted, default, props["properties"][sub.dotted],
                                sub.key.doc))
        out.append("")
    return "\n".join(out)
