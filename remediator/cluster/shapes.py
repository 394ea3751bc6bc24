"""Checked shapes for cluster objects, at the boundary where they enter the process.

A snapshot (or a hostile API server) can put any JSON anywhere: a string where `status` should
be an object, a number as `ownerReferences`, 100k-deep nesting, a lone surrogate in a name. The
later stages read objects with plain ``obj.get(...)``; rather than harden every read, each object
is checked once here against the types Kubernetes gives the fields those stages read, and an
object that does not fit is dropped with a warning naming it. Fields not in the table are not
read by us and are not checked (nor walked: a large ``managedFields`` costs nothing).

The table is by field name: Kubernetes names its fields consistently across kinds (`conditions`
is always a list of objects, `restartCount` always an integer). ``null`` is accepted everywhere,
as Kubernetes prints it for unset fields and the readers treat it as absent.
"""

from __future__ import annotations

import math
import re
from typing import Any

from ..kernel import limits

#: deeper than `limits.jsonDepth` (48) is no Kubernetes object we read (a pod template in a
#: CronJob is ~12)
_SURROGATE = re.compile("[\ud800-\udfff]")

OBJ, LIST, STR, INT, NUM, SCALAR, STRS = "obj", "list", "str", "int", "num", "scalar", "strs"

#: field name -> expected type; OBJ/LIST fields are walked, the rest are leaves
FIELDS: dict[str, str] = {
    **dict.fromkeys((
        "metadata", "spec", "status", "template", "jobTemplate", "selector", "matchLabels",
        "labels", "annotations", "resources", "limits", "requests", "state", "lastState",
        "waiting", "running", "terminated", "allocatable", "capacity", "involvedObject",
        "regarding", "series", "livenessProbe", "readinessProbe", "startupProbe", "source",
        "sourceRef", "chart", "values", "destination", "sync", "operationState", "health",
        "strategy", "scaleTargetRef", "securityContext",
        "ref", "artifact", "related", "valueFrom", "secretKeyRef", "configMapKeyRef"), OBJ),
    **dict.fromkeys((
        "ownerReferences", "conditions", "containers", "initContainers", "containerStatuses",
        "initContainerStatuses", "ephemeralContainerStatuses", "taints", "tolerations", "env",
        "envFrom", "volumes", "volumeMounts", "ports", "images", "sources", "metrics",
        "components", "patches", "valuesFrom", "postRenderers", "currentMetrics"), LIST),
    **dict.fromkeys((
        "name", "namespace", "uid", "kind", "apiVersion", "reason", "message", "note", "image",
        "imageID", "phase", "type", "creationTimestamp", "deletionTimestamp",
        "lastTransitionTime", "lastUpdateTime", "startedAt", "finishedAt", "lastTimestamp",
        "firstTimestamp", "eventTime", "lastObservedTime", "fieldPath", "nodeName", "path",
        "repoURL", "targetRevision", "url", "key", "effect", "startTime", "revision",
        "lastAppliedRevision", "lastAttemptedRevision", "resourceVersion", "action",
        "reportingComponent", "reportingInstance", "storageClassName", "serviceAccountName",
        "deprecatedLastTimestamp", "deprecatedFirstTimestamp", "schedule"), STR),
    **dict.fromkeys((
        "restartCount", "exitCode", "replicas", "readyReplicas", "availableReplicas",
        "updatedReplicas", "unavailableReplicas", "currentReplicas", "desiredReplicas",
        "maxReplicas", "minReplicas", "failed", "succeeded", "active", "backoffLimit", "count",
        "deprecatedCount", "periodSeconds", "failureThreshold", "initialDelaySeconds",
        "timeoutSeconds", "successThreshold", "terminationGracePeriodSeconds",
        "progressDeadlineSeconds", "observedGeneration", "generation", "containerPort",
        "sizeBytes", "activeDeadlineSeconds", "numberReady", "numberUnavailable",
        "desiredNumberScheduled", "currentNumberScheduled", "numberMisscheduled"), INT),
    **dict.fromkeys(("ready", "started", "controller", "blockOwnerDeletion", "unschedulable",
                     "suspend", "optional"), SCALAR),
    "names": STRS,
}
#: where a name means something else, the type at that place (parent field, field) -> type
CONTEXT: dict[tuple[str, str], str] = {
    # a condition's status is "True"/"False"/"Unknown", not an object
    ("conditions", "status"): STR, ("health", "status"): STR, ("sync", "status"): STR,
    ("resources", "status"): STR,
    # Argo CD lists the resources it manages; a CronJob lists its active Jobs; HPA's selector
    # is the label query as text
    ("status", "resources"): LIST, ("status", "active"): "any", ("status", "selector"): STR,
    # quantities are strings or numbers; label and annotation values are strings
    ("limits", "*"): SCALAR, ("requests", "*"): SCALAR, ("allocatable", "*"): SCALAR,
    ("capacity", "*"): SCALAR, ("labels", "*"): STR, ("annotations", "*"): STR,
    ("matchLabels", "*"): STR,
    # free-form places: chart values and Argo CD's helm values hold anything
    ("spec", "values"): "any", ("helm", "values"): STR, ("source", "chart"): STR,
    ("sources", "chart"): STR, ("spec", "chart"): "any",
    # an image pull's `source` on events is an object; a GitOps source is also an object
    # an Argo CD source's `ref` names it for the others' `$ref/...` value files (Flux's
    # `spec.ref` is the object)
    ("sources", "ref"): STR, ("source", "ref"): STR,
}


#: lists whose items the stages read as objects
_OBJECT_LISTS = frozenset((
    "ownerReferences", "conditions", "containers", "initContainers", "containerStatuses",
    "initContainerStatuses", "ephemeralContainerStatuses", "taints", "tolerations", "env",
    "envFrom", "volumes", "volumeMounts", "ports", "images", "metrics", "currentMetrics",
    "valuesFrom", "sources"))


def _finite_int(value: Any) -> bool:
    if isinstance(value, bool):
        return False
    if isinstance(value, int):
        return abs(value) < 2**63
    return isinstance(value, float) and math.isfinite(value) and value.is_integer()


def _fits(kind: str, value: Any) -> bool:
    if value is None or kind == "any":
        return True
    if kind == OBJ:
        return isinstance(value, dict)
    if kind == LIST:
        return isinstance(value, list)
    if kind == STR:
        return isinstance(value, str)
    if kind == INT:
        return _finite_int(value)
    if kind == STRS:
        return isinstance(value, list) and all(isinstance(v, str) for v in value)
    # SCALAR: a string, a finite number or a boolean
    return isinstance(value, str | bool) or _finite_int(value) or (
        isinstance(value, float) and math.isfinite(value))


def problem(obj: Any) -> str:
    """'' when ``obj`` has the shape the stages read, else where and what is wrong."""
    if not isinstance(obj, dict):
        return f"an item of type {type(obj).__name__}, not an object"
    if not isinstance(obj.get("metadata"), dict):
        return "no metadata object"
    for top in ("spec", "status"):
        if obj.get(top) is not None and not isinstance(obj.get(top), dict):
            return f"`{top}` is a {type(obj[top]).__name__}, not an object"
    # Nearly every object fits: the fast check answers for those; only an object it doubts is
    # walked again, in order, for the message (the same object, the same first problem).
    # depth counts up from minus the limit (`limits.jsonDepth`), so the walks compare with 0
    # and never look the limit up per node
    start = -limits.current().json_depth
    return "" if _fits_fast(obj, "", start) else _walk(obj, "", start)


def _tables() -> tuple[dict[str, dict[str, str]], dict[str, str]]:
    """Per parent field: its children's types (FIELDS overridden by CONTEXT), and the one type
    of every child of a free-keyed parent (`labels`, `limits`, ...)."""
    tables: dict[str, dict[str, str]] = {}
    wild: dict[str, str] = {}
    for (parent, key), kind in CONTEXT.items():
        if key == "*":
            wild[parent] = kind
            tables.setdefault(parent, {})
        else:
            tables.setdefault(parent, {} if (parent, "*") in CONTEXT else dict(FIELDS))[key] = kind
    return tables, wild


_TABLES, _WILD = _tables()
#: views, not sets: `view & view` iterates the smaller side (the object's few keys), while
#: `view & frozenset` would iterate the whole table
_FIELD_KEYS = FIELDS.keys()
_KEYS = {parent: table.keys() for parent, table in _TABLES.items()}
_INT_LIMIT = 2**63


def _fits_fast(node: dict, parent: str, depth: int) -> bool:
    """True only if `_walk` finds nothing (it may doubt what `_walk` accepts, never the reverse).

    The same rules as `_walk`, made cheap for the common case: the keys are checked as one
    joined text, only the keys the table names are visited (a set intersection, in C), and the
    types are compared exactly, as `json.loads` makes them (a subclass is left to `_walk`).
    `str.isascii` is a flag read in C: most text never reaches the regular expression."""
    if depth > 0:
        return False
    try:
        keys = "".join(node)
    except TypeError:  # a key that is not text
        return False
    if not keys.isascii() and _SURROGATE.search(keys):
        return False
    wild = _WILD.get(parent)
    table = _TABLES.get(parent, FIELDS)
    for key in (node if wild is not None else node.keys() & _KEYS.get(parent, _FIELD_KEYS)):
        value = node[key]
        if value is None:
            continue
        kind = table.get(key, wild)
        cls = type(value)
        if cls is str:
            if kind not in _TAKES_TEXT or (not value.isascii() and _SURROGATE.search(value)):
                return False
        elif kind == "any":
            continue
        elif cls is dict:
            if kind != OBJ or (value and not _fits_fast(value, key, depth + 1)):
                return False
        elif cls is list:
            if not (kind == LIST and _list_fast(value, key, depth + 1)) and not (
                    kind == STRS and all(type(v) is str and _text_ok(v) for v in value)):
                return False
        elif cls is int:
            if kind not in _TAKES_INT or not -_INT_LIMIT < value < _INT_LIMIT:
                return False
        elif not (cls is bool and kind == SCALAR):
            return False  # floats and anything else: `_walk` decides
    return True


def _text_ok(text: str) -> bool:
    return text.isascii() or not _SURROGATE.search(text)


def _list_fast(items: list, parent: str, depth: int) -> bool:
    if depth > 0:
        return False
    objects = parent in _OBJECT_LISTS
    for item in items:
        cls = type(item)
        if cls is dict:
            if not _fits_fast(item, parent, depth + 1):
                return False
        elif objects:
            return False
        elif cls is list:
            if not _list_fast(item, parent, depth + 1):
                return False
        elif cls is str and not _text_ok(item):
            return False
    return True


_TAKES_TEXT = frozenset((STR, SCALAR, "any"))
_TAKES_INT = frozenset((INT, SCALAR))


def _walk(node: Any, parent: str, depth: int) -> str:
    if depth > 0:
        return f"nested deeper than {limits.current().json_depth} levels"
    if isinstance(node, list):
        for item in node:
            if parent in _OBJECT_LISTS and not isinstance(item, dict):
                return f"`{parent}` holds a {type(item).__name__}, not an object"
            if isinstance(item, dict | list):
                found = _walk(item, parent, depth + 1)
                if found:
                    return found
            elif isinstance(item, str) and _SURROGATE.search(item):
                return f"`{parent}` holds text that is not valid Unicode"
        return ""
    if not isinstance(node, dict):
        return ""
    for key, value in node.items():
        if not isinstance(key, str):
            return "a non-text key"
        if _SURROGATE.search(key):
            return "a key that is not valid Unicode"
        kind = CONTEXT.get((parent, key)) or CONTEXT.get((parent, "*")) or FIELDS.get(key)
        if kind is None:
            continue  # not a field we read
        if not _fits(kind, value):
            return f"`{key}` is a {type(value).__name__}, not {_NAMES[kind]}"
        if isinstance(value, str) and _SURROGATE.search(value):
            return f"`{key}` is text that is not valid Unicode"
        if kind in (OBJ, LIST) and value:
            found = _walk(value, key, depth + 1)
            if found:
                return found
    return ""


_NAMES = {OBJ: "an object", LIST: "a list", STR: "text", INT: "a finite integer",
          SCALAR: "a scalar", STRS: "a list of text", "any": "anything"}


def label(obj: Any) -> str:
    """How a warning names an object it dropped (as far as the object allows)."""
    if not isinstance(obj, dict):
        return "an item"
    meta = obj.get("metadata")
    meta = meta if isinstance(meta, dict) else {}
    parts = [obj.get("kind"), meta.get("namespace"), meta.get("name")]
    text = " ".join(p if isinstance(p, str) else "?" for p in parts[:1]) + " " + "/".join(
        p for p in parts[1:] if isinstance(p, str) and p)
    return _SURROGATE.sub("?", text.strip())[:200] or "an item"
