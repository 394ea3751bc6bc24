"""The JSON schema of `.remediator.yaml`, derived from the settings declarations, and error
messages that name the key and its line.

`remediator config schema` prints this schema (editors validate and complete the file with it:
`# yaml-language-server: $schema=...`, written by `remediator init`); the validator below uses
the same object.
"""

from __future__ import annotations

import functools
import math
import types
from collections.abc import Callable, Iterator
from dataclasses import MISSING, fields, is_dataclass
from decimal import Decimal
from typing import TYPE_CHECKING, Any, Union, get_args, get_origin, get_type_hints

from .. import SCHEMA_URL
from ..kernel.quantity import parse_quantity
from ..model.setting import (
    BRANCH_PREFIX_PATTERN,
    ENV_PATTERN,
    HOST_PATTERN,
    MAX_QUANTITY,
    key_of,
)
from .settings import Config

if TYPE_CHECKING:
    import jsonschema_rs

    from ..model.setting import Key

_JSON_TYPES = {str: "string", bool: "boolean", int: "integer", float: "number"}
_MAX_QUANTITY = Decimal(MAX_QUANTITY)

__all__ = ["BRANCH_PREFIX_PATTERN", "ENV_PATTERN", "HOST_PATTERN", "Leaf",
           "config_schema", "error_message", "line_of", "object_schema", "validator", "walk"]


def optional_of(tp: Any) -> Any | None:
    """``X`` for ``X | None``, else None."""
    if get_origin(tp) in (Union, types.UnionType):
        args = [a for a in get_args(tp) if a is not type(None)]
        if len(args) == 1 and len(get_args(tp)) == 2:
            return args[0]
    return None


@functools.cache
def type_hints(cls: Any) -> dict[str, Any]:
    """``get_type_hints`` of a settings class, once: its annotations are strings, and each call
    compiles every one of them again (the schema, the repo-path check and the building of a
    configuration ask for each class: ~380 compiles per file read)."""
    return get_type_hints(cls)


class Leaf:
    """One key of the file as `walk` finds it: where it is in the file and in the settings."""

    def __init__(self, file_path: list[str], attrs: list[str], tp: Any, key: Key,
                 default: Any) -> None:
        self.file_path, self.attrs, self.tp, self.key, self.default = (
            file_path, attrs, tp, key, default)

    @property
    def dotted(self) -> str:
        return ".".join(self.file_path)


def walk(cls: Any, file_path: tuple[str, ...] = (), attrs: tuple[str, ...] = ()
         ) -> Iterator[Leaf]:
    """Every key of the file below settings class ``cls`` (nested settings objects included,
    as the leaves of their own keys), in declaration order."""
    hints = type_hints(cls)
    for f in fields(cls):
        key = key_of(f)
        if key is None or key.name is None:
            continue
        tp = hints[f.name]
        here = (*file_path, *key.name.split(".")) if key.name else file_path
        if is_dataclass(tp):
            yield from walk(tp, here, (*attrs, f.name))
        else:
            yield Leaf(list(here), [*attrs, f.name], tp, key, _default(f))


def _default(f: Any) -> Any:
    if f.default is not MISSING:
        return f.default
    return f.default_factory() if f.default_factory is not MISSING else None


def _has_default(f: Any) -> bool:
    return f.default is not MISSING or f.default_factory is not MISSING


def _field_schema(tp: Any, key: Key) -> dict[str, Any]:
    extra = dict(key.schema)
    if "enum" in extra or "type" in extra:
        return extra
    if is_dataclass(tp):
        return object_schema(tp)
    if get_origin(tp) is list:
        (item,) = get_args(tp)
        if key.items is not None:
            items = dict(key.items)
        elif is_dataclass(item):
            items = object_schema(item)
        else:
            items = {"type": "string", "minLength": 1}
        return {"type": "array", "items": items, **extra}
    if get_origin(tp) is dict:
        return {"type": "object", "additionalProperties": {"type": "string"}, **extra}
    inner = optional_of(tp)
    if inner is not None:
        return {"type": [_JSON_TYPES[inner], "null"], **extra}
    return {"type": _JSON_TYPES[tp], **extra}


def object_schema(cls: Any) -> dict[str, Any]:
    """The JSON Schema of settings class ``cls``: its keys, no others."""
    hints = type_hints(cls)
    props: dict[str, Any] = {}
    required: list[str] = []
    for f in fields(cls):
        key = key_of(f)
        if key is None or key.name is None:
            continue
        tp = hints[f.name]
        if key.name == "":  # a settings object whose keys sit in this mapping
            props.update(object_schema(tp)["properties"])
            continue
        *groups, last = key.name.split(".")
        target = props
        for group in groups:  # `logs.tailLines`: the key sits in a `logs` mapping
            target = target.setdefault(group, _obj({}))["properties"]
        target[last] = {**_field_schema(tp, key), "description": key.doc}
        if not _has_default(f):
            required.append(last)
    out = _obj(props)
    if required:
        out["required"] = required
    return out


def _obj(props: dict[str, Any]) -> dict[str, Any]:
    return {"type": "object", "additionalProperties": False, "properties": props}


@functools.cache
def config_schema() -> dict[str, Any]:
    """The JSON Schema of `.remediator.yaml`, derived from the settings' declarations (built on
    first use, ~3 ms: a command without a configuration file never needs it)."""
    top = object_schema(Config)
    # editors put the schema's address here (instead of the yaml-language-server comment)
    top["properties"] = {"$schema": {"type": "string"}, **top["properties"]}
    return {"$schema": "https://json-schema.org/draft/2020-12/schema", "$id": SCHEMA_URL,
            "title": "remediator configuration (.remediator.yaml)", **top}


def _is_quantity(value: object) -> bool:
    # the kubernetes client's own parser (raises ValueError) reads "-1Gi", "1e400" and NaN too;
    # the docs promise that a negative, infinite or absurd quantity is refused
    q = parse_quantity(value)
    return q.is_finite() and 0 <= q <= _MAX_QUANTITY


def _is_positive_quantity(value: object) -> bool:
    return _is_quantity(value) and parse_quantity(value) > 0


def _format(check: Callable[[object], bool]) -> Callable[[str], bool]:
    """A format check as jsonschema-rs calls it: False where the check raises ValueError."""

    def holds(value: str) -> bool:
        try:
            return bool(check(value))
        except ValueError:
            return False

    return holds


@functools.cache
def quick_validator() -> jsonschema_rs.Validator:
    """The same schema, formats and numbers compiled by jsonschema-rs, which `validate` loads
    anyway for the Kubernetes schemas: a file it accepts is valid without importing jsonschema
    (~40 ms of every start with a configuration file, bench/startup.py). It does not say why a
    file is not: ``validator`` does, for the messages that name the key and the line. It is
    also stricter in places (a regular expression's ``$`` before a final newline): what it
    refuses, ``validator`` judges. tests/config/test_quick_validator.py holds that it accepts
    nothing ``validator`` refuses."""
    import jsonschema_rs  # `config schema` and `init` print or write the schema: not for them

    return jsonschema_rs.validator_for(
        config_schema(), validate_formats=True,
        formats={"quantity": _format(_is_quantity),
                 "positive-quantity": _format(_is_positive_quantity)})


def accepts(data: Any) -> bool:
    """True when ``data`` is a valid configuration for ``quick_validator``; False when it may
    not be (``validator`` decides)."""
    try:
        return quick_validator().is_valid(data)
    except ValueError:  # a value JSON has no form for (a YAML date): the full validator says
        return False


@functools.cache
def validator() -> Any:
    """The file's validator (jsonschema, ~40 ms to import: loaded when a file is read, not by
    every command that could read one -- start-up time, bench/startup.py)."""
    from jsonschema import Draft202012Validator, FormatChecker, validators

    formats = FormatChecker(formats=())
    formats.checks("quantity", raises=ValueError)(_is_quantity)
    formats.checks("positive-quantity", raises=ValueError)(_is_positive_quantity)

    def is_finite_number(checker: Any, instance: object) -> bool:
        """JSON has no NaN or infinity, but YAML does (`.nan`, `.inf`): every comparison with
        NaN is false, so `minimum`/`maximum` would let it through. They are not numbers here."""
        number = Draft202012Validator.TYPE_CHECKER.is_type(instance, "number")
        return number and (not isinstance(instance, float) or math.isfinite(instance))

    checked = validators.extend(
        Draft202012Validator,
        type_checker=Draft202012Validator.TYPE_CHECKER.redefine("number", is_finite_number))
    return checked(config_schema(), format_checker=formats)


def line_of(tree: Any, path: list[Any]) -> int | None:
    """1-based line of the node at path in a round-trip tree (the deepest one we can find)."""
    from ruamel.yaml.comments import CommentedMap, CommentedSeq  # an error's path: not at start

    line: int | None = None
    node = tree
    for key in path:
        if isinstance(node, CommentedMap) and key in node:
            pos = node.lc.key(key)
            line = pos[0] + 1
            node = node[key]
        elif isinstance(node, CommentedSeq) and isinstance(key, int) and key < len(node):
            line = node.lc.item(key)[0] + 1
            node = node[key]
        else:
            break
    return line


def error_message(err: Any) -> str:
    if err.validator == "additionalProperties":
        known = sorted(k for k in err.schema.get("properties", {}) if k != "$schema")
        extra = sorted(set(err.instance) - set(err.schema.get("properties", {})))
        import difflib  # a misspelt key only: ~1 ms of every start

        close = difflib.get_close_matches(str(extra[0]), known, n=1)
        hint = f", did you mean {close[0]!r}?" if close else ""
        return f"unknown key {extra[0]!r}{hint} (allowed: {', '.join(known)})"
    if err.validator == "enum":
        choices = [str(v).lower() if isinstance(v, bool) else str(v) for v in err.validator_value]
        return f"{err.instance!r} is not one of {', '.join(choices)}"
    if err.validator == "pattern" and err.validator_value.startswith("^https?"):
        return f"{err.instance!r} is not a URL like http://127.0.0.1:8181 (no path)"
    if err.validator == "pattern" and err.validator_value == HOST_PATTERN:
        return f"{err.instance!r} is not a host name (like api.example.com or *.example.com)"
    if err.validator == "pattern" and err.validator_value == ENV_PATTERN:
        return f"{err.instance!r} is not a variable name (or a prefix ending in *)"
    if err.validator == "pattern" and err.validator_value == BRANCH_PREFIX_PATTERN:
        return f"{err.instance!r} cannot start a git branch name (git check-ref-format)"
    if err.validator == "format" and err.validator_value.endswith("quantity"):
        least = "above zero" if err.validator_value.startswith("positive") else "zero or more"
        return (f"{err.instance!r} is not a Kubernetes quantity {least} "
                f"(e.g. 512Mi, 2Gi, 500m)")
    return str(err.message)
