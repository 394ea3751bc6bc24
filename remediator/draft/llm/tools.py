"""The two tools a model may call, and the re-validation of what it sent.

`propose_edits` lists edits of the failing container, each on a located file at an allowed field;
`no_safe_fix` carries a diagnosis only. The schemas go to the provider (so the model is steered to
valid answers) and are checked again here: a provider may not enforce them, and a model may
ignore them.
"""

from __future__ import annotations

import json
import math
from dataclasses import dataclass, field
from typing import Any

from jsonschema import Draft202012Validator

from .shapes import Rejected

PROPOSE = "propose_edits"
NO_FIX = "no_safe_fix"
MAX_EDITS = 6
#: deeper arguments are no answer of ours (a propose_edits call is about 8 levels deep)
MAX_DEPTH = 32
#: longer arguments neither (MAX_EDITS edits of at most 64 values of 1024 characters, and text)
MAX_ARGUMENT_CHARS = 512 * 1024
_TEXT = {"type": "string", "minLength": 1, "maxLength": 2000}


@dataclass
class ToolSpec:
    name: str
    description: str
    parameters: dict[str, Any]


@dataclass
class Answer:
    """A model's answer that passed the schema (not yet the allow-list)."""

    tool: str
    diagnosis: str
    rationale: str = ""
    confidence: float = 0.0
    edits: list[dict[str, Any]] = field(default_factory=list)


def tool_specs(files: list[str], fields: tuple[str, ...]) -> list[ToolSpec]:
    edit = {
        "type": "object", "additionalProperties": False,
        "required": ["file", "field", "value"],
        "properties": {
            "file": {"type": "string", "enum": list(files)},
            "field": {"type": "string", "enum": list(fields),
                      "description": "field of the failing container (dotted path)"},
            "value": {"description": (
                "the new value: a quantity string for resources, whole numbers for probe "
                "timing, a list of strings for command/args, for env a list of "
                "{name, value} / {name, valueFrom} / {name, remove: true} entries to set by "
                "name, for volumeMounts a list of {name, mountPath, readOnly?, subPath?} of "
                "existing pod volumes, an image reference with a new tag")},
        },
    }
    propose = {
        "type": "object", "additionalProperties": False,
        "required": ["diagnosis", "rationale", "confidence", "edits"],
        "properties": {
            "diagnosis": {**_TEXT, "description": "the cause, quoting the decisive evidence"},
            "rationale": {**_TEXT, "description": "why this change fixes it, and its risk"},
            "confidence": {"type": "number", "minimum": 0, "maximum": 1},
            "edits": {"type": "array", "minItems": 1, "maxItems": MAX_EDITS, "items": edit},
        },
    }
    no_fix = {
        "type": "object", "additionalProperties": False, "required": ["diagnosis"],
        "properties": {"diagnosis": {**_TEXT, "description": "the cause, and what a human "
                                                             "should do"}},
    }
    out = [ToolSpec(NO_FIX, "No change of the allowed fields fixes this failure safely.", no_fix)]
    if fields:
        out.insert(0, ToolSpec(PROPOSE, "Propose the smallest change of allowed fields of the "
                                        "failing container in the located file(s).", propose))
    return out


def _first_error(validator: Draft202012Validator, data: Any) -> str:
    errors = sorted(validator.iter_errors(data), key=lambda e: list(e.absolute_path))
    if not errors:
        return ""
    err = errors[0]
    where = "/".join(str(p) for p in err.absolute_path) or "(arguments)"
    return f"{where}: {err.message[:200]}"


def parse_answer(calls: list[tuple[str, Any]], specs: list[ToolSpec]) -> Answer:
    """The one tool call of a reply, checked against its schema; Rejected otherwise.

    ``calls`` holds (tool name, arguments) where arguments are a JSON string (OpenAI) or an
    already decoded object (Anthropic)."""
    if len(calls) != 1:
        raise Rejected(f"expected one tool call, got {len(calls)}")
    name, raw = calls[0]
    spec = next((s for s in specs if s.name == name), None)
    if spec is None:
        raise Rejected(f"unknown tool {str(name)[:60]!r}")
    args = decode_arguments(raw, name)
    problem = _first_error(Draft202012Validator(spec.parameters), args)
    if problem:
        raise Rejected(f"the {name} arguments do not match the schema: {problem}")
    if name == NO_FIX:
        return Answer(NO_FIX, args["diagnosis"])
    return Answer(PROPOSE, args["diagnosis"], args["rationale"],
                  checked_confidence(args["confidence"]), list(args["edits"]))


def _no_constant(name: str) -> Any:
    raise ValueError(f"{name} is not a JSON number")


def decode_arguments(raw: Any, name: str) -> Any:
    """A tool call's arguments as plain data: a JSON string (OpenAI) decoded, an object
    (Anthropic) taken as it is; Rejected when too long, too deep, or not JSON (NaN and
    Infinity are not)."""
    if isinstance(raw, str):
        if len(raw) > MAX_ARGUMENT_CHARS:
            raise Rejected(f"the {name} arguments are longer than {MAX_ARGUMENT_CHARS} "
                           "characters")
        try:
            args = json.loads(raw, parse_constant=_no_constant)
        except json.JSONDecodeError as exc:
            raise Rejected(f"the {name} arguments are not valid JSON (cut off?): {exc.msg} at "
                           f"character {exc.pos}") from None
        except (ValueError, RecursionError) as exc:
            raise Rejected(f"the {name} arguments are not valid JSON: "
                           f"{str(exc).splitlines()[0][:100] if str(exc) else 'too deep'}"
                           ) from None
    else:
        args = raw
    if too_deep(args, MAX_DEPTH):
        raise Rejected(f"the {name} arguments are nested deeper than {MAX_DEPTH} levels")
    return args


def too_deep(data: Any, limit: int) -> bool:
    """``data`` nests lists and objects deeper than ``limit`` (iterative: any depth is safe)."""
    stack = [(data, 0)]
    while stack:
        node, depth = stack.pop()
        if isinstance(node, dict | list):
            if depth >= limit:
                return True
            stack += [(v, depth + 1) for v in (node.values() if isinstance(node, dict)
                                               else node)]
    return False


def checked_confidence(value: Any) -> float:
    """A confidence is a finite number in [0, 1] (NaN passes every comparison as false)."""
    if isinstance(value, bool) or not isinstance(value, int | float) or \
            not math.isfinite(value) or not 0 <= value <= 1:
        raise Rejected(f"the confidence {str(value)[:20]} is not a number between 0 and 1")
    return float(value)
