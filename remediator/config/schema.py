"""The JSON schema of `.remediator.yaml`, and error messages that name the key and its line.

`remediator config schema` prints this schema (editors validate and complete the file with it:
`# yaml-language-server: $schema=...`, written by `remediator init`); the validator below uses
the same object.
"""

from __future__ import annotations

import difflib
import math
from decimal import Decimal
from typing import Any

from jsonschema import Draft202012Validator, FormatChecker, validators
from ruamel.yaml.comments import CommentedMap, CommentedSeq

from .. import SCHEMA_URL
from ..kernel.quantity import parse_quantity
from ..model import FAILURE_CLASSES
from .settings import PROVIDERS
from .trust import AUTOMERGE_KINDS, LEVELS


def _strings() -> dict[str, Any]:
    return {"type": "array", "items": {"type": "string", "minLength": 1}}


def _obj(props: dict[str, Any]) -> dict[str, Any]:
    return {"type": "object", "additionalProperties": False, "properties": props}


#: a host name or IPv4 address, or `*.` and a domain (any host under it); no port, no scheme
_LABEL = r"[A-Za-z0-9]([A-Za-z0-9-]*[A-Za-z0-9])?"
HOST_PATTERN = rf"^(\*\.)?{_LABEL}(\.{_LABEL})*$"
#: an environment variable name, or a prefix of names ending in `*`
ENV_PATTERN = r"^[-._a-zA-Z][-._a-zA-Z0-9]{0,127}\*?$"
#: what `git check-ref-format` accepts before our slug: no `..`, `~^:?*[\\`, spaces or `@{`,
#: no component starting with `.`, no `//`
BRANCH_PREFIX_PATTERN = r"^(?!.*(\.\.|//|@\{|/\.|\.lock/))(?![./])[^\x00-\x20\x7f~^:?*\[\\]+$"
_QUANTITY = {"type": ["string", "number"], "format": "quantity"}
#: a ceiling or a default request: zero would make every value "too large" or request nothing
_POSITIVE_QUANTITY = {"type": ["string", "number"], "format": "positive-quantity"}
#: larger than any quantity Kubernetes stores (int64 bytes or millicores); beyond it a typo
_MAX_QUANTITY = Decimal(2) ** 63
_FORMATS = FormatChecker(formats=())


@_FORMATS.checks("quantity", raises=ValueError)
def _is_quantity(value: object) -> bool:
    # the kubernetes client's own parser (raises ValueError) reads "-1Gi", "1e400" and NaN too;
    # the README promises that a negative, infinite or absurd quantity is refused
    q = parse_quantity(value)
    return q.is_finite() and 0 <= q <= _MAX_QUANTITY


@_FORMATS.checks("positive-quantity", raises=ValueError)
def _is_positive_quantity(value: object) -> bool:
    return _is_quantity(value) and parse_quantity(value) > 0


def _is_finite_number(checker: Any, instance: object) -> bool:
    """JSON has no NaN or infinity, but YAML does (`.nan`, `.inf`): every comparison with NaN
    is false, so `minimum`/`maximum` would let it through. They are not numbers here."""
    number = Draft202012Validator.TYPE_CHECKER.is_type(instance, "number")
    return number and (not isinstance(instance, float) or math.isfinite(instance))


_Validator = validators.extend(
    Draft202012Validator,
    type_checker=Draft202012Validator.TYPE_CHECKER.redefine("number", _is_finite_number))


SCHEMA: dict[str, Any] = {
    "$schema": "https://json-schema.org/draft/2020-12/schema",
    "$id": SCHEMA_URL,
    "title": "remediator configuration (.remediator.yaml)",
    **_obj({
        # editors put the schema's address here (instead of the yaml-language-server comment)
        "$schema": {"type": "string"},
        "cluster": {"type": "string", "minLength": 1},
        "paused": {"type": "boolean"},
        "repo": _obj({"url": {"type": "string"}}),
        "scope": _obj(
            {
                "namespaces": _strings(),
                "excludeNamespaces": _strings(),
                "protectedNamespaces": _strings(),
                "failureClasses": {"type": "array", "items": {"enum": list(FAILURE_CLASSES)}},
            }
        ),
        "locate": _obj({"argocdLabelTracking": {"type": "boolean"}}),
        "drafting": _obj(
            {
                "provider": {"enum": list(PROVIDERS)},
                "model": {"type": "string", "minLength": 1},
                "baseUrl": {"type": "string", "pattern": "^https?://[^\\s]+$"},
                "apiKeyEnv": {"type": "string", "pattern": "^[A-Za-z_][A-Za-z0-9_]*$"},
                "temperature": {"type": "number", "minimum": 0, "maximum": 2},
                "timeoutSeconds": {"type": "number", "exclusiveMinimum": 0, "maximum": 600},
                "maxRetries": {"type": "integer", "minimum": 0, "maximum": 5},
                "maxTokensPerIncident": {"type": "integer", "minimum": 1000,
                                         "maximum": 200000},
                "monthlyTokenBudget": {"type": "integer", "minimum": 0},
                "pricing": _obj({
                    "inputPerMillion": {"type": "number", "minimum": 0},
                    "outputPerMillion": {"type": "number", "minimum": 0},
                }),
                "memory": _obj(
                    {
                        "factor": {"type": "number", "exclusiveMinimum": 1, "maximum": 10},
                        "cap": _POSITIVE_QUANTITY,
                    }
                ),
                "startupProbe": _obj(
                    {"maxSeconds": {"type": "integer", "minimum": 10, "maximum": 3600}}
                ),
                # what a model's new literals may name beyond what the manifests already do
                "allowedHosts": {"type": "array", "items": {
                    "type": "string", "pattern": HOST_PATTERN, "maxLength": 253}},
                "allowedEnv": {"type": "array", "items": {
                    "type": "string", "pattern": ENV_PATTERN}},
                # requests added to an HPA target without any (HPAMissingRequests)
                "requests": _obj({"cpu": _QUANTITY, "memory": _QUANTITY}),
            }
        ),
        "detect": _obj(
            {
                # scheduling gates are often intentional (Kueue...): reported past this age
                "schedulingGatedSeconds": {"type": "integer", "minimum": 0,
                                           "maximum": 604800},
            }
        ),
        "validation": _obj(
            {
                "kubernetesVersion": {"type": "string", "pattern": r"^1\.[0-9]+$"},
                "policies": _strings(),
                "schemaLocations": _strings(),
                "maxMemory": _POSITIVE_QUANTITY,
                "maxCpu": _POSITIVE_QUANTITY,
                "allowedRegistries": _strings(),
                "minReplicas": {"type": ["integer", "null"], "minimum": 0},
                "maxReplicas": {"type": ["integer", "null"], "minimum": 1},
                "policyEngine": {"enum": ["embedded", "opa"]},
                "opa": _obj(
                    {
                        "url": {"type": "string", "pattern": r"^https?://[^/?#\s]+/?$"},
                        "timeoutSeconds": {"type": "number", "exclusiveMinimum": 0,
                                           "maximum": 60},
                        "pushPolicies": {"type": "boolean"},
                    }
                ),
                "conftest": _obj(
                    {
                        "policies": _strings(),
                        "namespaces": {"type": "array", "minItems": 1, "items": {
                            "type": "string", "pattern": r"^[A-Za-z_][A-Za-z0-9_]*"
                                                         r"(\.[A-Za-z_][A-Za-z0-9_]*)*$"}},
                        "allNamespaces": {"type": "boolean"},
                        "data": _strings(),
                    }
                ),
                "dryRun": {"enum": ["auto", True, False]},
            }
        ),
        "watch": _obj(
            {
                "settleSeconds": {"type": "integer", "minimum": 0, "maximum": 86400},
                "clearSeconds": {"type": "integer", "minimum": 0, "maximum": 86400},
                "flapWindowSeconds": {"type": "integer", "minimum": 60, "maximum": 604800},
                "flapCount": {"type": "integer", "minimum": 2, "maximum": 100},
                "resyncSeconds": {"type": "integer", "minimum": 60, "maximum": 86400},
                "logs": _obj({
                    "tailLines": {"type": "integer", "minimum": 1, "maximum": 10000},
                    "limitBytes": {"type": "integer", "minimum": 1024, "maximum": 4194304},
                }),
            }
        ),
        "metrics": _obj(
            {
                "prometheusUrl": {"type": "string", "pattern": "^https?://"},
                "tokenEnv": {"type": "string", "pattern": ENV_PATTERN},
                "caFile": {"type": "string"},
                "insecureSkipVerify": {"type": "boolean"},
                "lookbackDays": {"type": "number", "minimum": 0.01, "maximum": 90},
                "stepSeconds": {"type": "integer", "minimum": 15, "maximum": 3600},
                "timeoutSeconds": {"type": "number", "minimum": 0.1, "maximum": 120},
                "maxResponseBytes": {"type": "integer", "minimum": 4096, "maximum": 268435456},
                "memoryHeadroom": {"type": "number", "minimum": 1, "maximum": 4},
                "throttlingThreshold": {"type": "number", "minimum": 0.01, "maximum": 1},
                "throttlingWindowMinutes": {"type": "integer", "minimum": 5, "maximum": 10080},
                "throttlingFix": {"enum": ["raise", "remove"]},
            }
        ),
        "rightsizing": _obj(
            {
                "enabled": {"type": "boolean"},
                "cpuPercentile": {"enum": [90, 95, 99]},
                "memoryHeadroom": {"type": "number", "minimum": 1, "maximum": 4},
                "minChangeRatio": {"type": "number", "minimum": 0, "maximum": 10},
                "minChangeCpu": {"type": "number", "minimum": 0, "maximum": 64},
                "minChangeMemory": _QUANTITY,
                "cpuFloor": {"type": "number", "minimum": 0, "maximum": 64},
                "memoryFloor": _QUANTITY,
                "minHistoryHours": {"type": "number", "minimum": 0, "maximum": 2160},
                "cpuHourPrice": {"type": "number", "minimum": 0, "maximum": 100},
                "gibHourPrice": {"type": "number", "minimum": 0, "maximum": 100},
                "groupBy": {"enum": ["file", "application"]},
                "scheduleHours": {"type": "number", "minimum": 1, "maximum": 2160},
            }
        ),
        "pullRequests": _obj(
            {
                "base": {"type": "string", "minLength": 1},
                "branchPrefix": {"type": "string", "pattern": BRANCH_PREFIX_PATTERN},
                "labels": _strings(),
                "reviewers": _strings(),
                "teamReviewers": _strings(),
                "assignees": _strings(),
                "draft": {"type": "boolean"},
                "maxOpen": {"type": "integer", "minimum": 0},
                "maxPerHour": {"type": "integer", "minimum": 0},
                "dashboard": {"type": "boolean"},
            }
        ),
        "trust": _obj(
            {
                "rules": {"type": "array", "items": {
                    **_obj({
                        "level": {"enum": list(LEVELS)},
                        "name": {"type": "string", "minLength": 1},
                        "failureClass": {"enum": list(FAILURE_CLASSES)},
                        "namespace": {"type": "string", "minLength": 1},
                        "labels": {"type": "object",
                                   "additionalProperties": {"type": "string"}},
                        "path": {"type": "string", "minLength": 1},
                    }),
                    "required": ["level"],
                }},
                "dailyBudget": {"type": "integer", "minimum": 0, "maximum": 100},
                "automergeKinds": {"type": "array", "items": {
                    "enum": list(AUTOMERGE_KINDS)}},
                "imageRevertMaxAgeHours": {"type": "integer", "minimum": 1, "maximum": 720},
                "diagnoseAsDraftPr": {"type": "boolean"},
            }
        ),
    }),
}
VALIDATOR = _Validator(SCHEMA, format_checker=_FORMATS)


def line_of(tree: Any, path: list[Any]) -> int | None:
    """1-based line of the node at path in a round-trip tree (the deepest one we can find)."""
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
