"""The two tools a model may call, and the re-validation of what it sent.

`propose_edits` lists edits of the failing container, each on a located file at an allowed field;
`no_safe_fix` carries a diagnosis only. The schemas go to the provider (so the model is steered to
valid answers) and are checked again here: a provider may not enforce them, and a model may
ignore them.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any

from jsonschema import Draft202012Validator

from .fields import Rejected

PROPOSE = "propose_edits"
NO_FIX = "no_safe_fix"
MAX_EDITS = 6
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
    if isinstance(raw, str):
        try:
            args = json.loads(raw)
        except json.JSONDecodeError as exc:
            raise Rejected(f"the {name} arguments are not valid JSON (cut off?): {exc.msg} at "
                           f"character {exc.pos}") from None
    else:
        args = raw
    problem = _first_error(Draft202012Validator(spec.parameters), args)
    if problem:
        raise Rejected(f"the {name} arguments do not match the schema: {problem}")
    if name == NO_FIX:
        return Answer(NO_FIX, args["diagnosis"])
    return Answer(PROPOSE, args["diagnosis"], args["rationale"], float(args["confidence"]),
                  list(args["edits"]))
