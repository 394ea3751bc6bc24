"""What the Rego policies see: ``input`` and ``data.remediator.config``.

The contract (documented for policy authors in ``policies/k8s.rego`` and docs/policy-engine.md)::

    input.before      the object before the change, or null for a new object
    input.after       the object after the change: the one the policies judge
    input.change      {"operation": "update" | "create", "patch": [RFC 6902 ops before -> after]}
    input.quantities  container path -> {"limits": {...}, "requests": {...}, "invalid": [...]}
                      memory in bytes, cpu in millicores, parsed here in Python
    data.remediator.config
                      {"maxMemory": "16Gi", "maxMemoryBytes": ..., "maxCpu": "8",
                       "maxCpuMillis": ..., "allowedRegistries": [...],
                       "allowedHosts": [...], "minReplicas": 1, "maxReplicas": 100}

Quantities are parsed here (``kernel.quantity``, the Kubernetes client's parsing) because Rego
engines parse units inconsistently (or not at all). Container paths must be the ones
``data.remediator.lib.k8s.containers`` computes: the table below mirrors its ``pod_spec_paths``
(tests/gate/test_policies.py checks that the two agree).
"""

from __future__ import annotations

import base64
import json
from decimal import Decimal
from typing import TYPE_CHECKING, Any

from ..kernel.k8s import POD_SPEC_PATHS
from ..kernel.quantity import parse_quantity

if TYPE_CHECKING:
    from ..model import JSON
    from ..model.settings import ValidationSettings

CONTAINER_FIELDS = ("initContainers", "containers", "ephemeralContainers")
RESOURCES = ("memory", "cpu")
SECTIONS = ("limits", "requests")
_INT64_MAX = 2**63 - 1


class SettingsError(ValueError):
    """A validation setting cannot be turned into policy data (one line)."""


def _number(value: Decimal) -> int | float:
    """A Decimal as the plainest JSON number: int when integral and in int64 range."""
    if value == value.to_integral_value() and abs(value) <= _INT64_MAX:
        return int(value)
    return float(value)


def parse(resource: str, raw: Any) -> int | float | None:
    """Memory in bytes or cpu in millicores; None when raw is not a Kubernetes quantity."""
    if isinstance(raw, bool) or not isinstance(raw, str | int | float):
        return None
    try:
        value = parse_quantity(raw)
    except (ValueError, ArithmeticError):
        return None
    if not value.is_finite():
        return None
    return _number(value * 1000 if resource == "cpu" else value)


def pod_spec(obj: Any) -> tuple[str, JSON] | None:
    """(dotted path, pod spec) of a workload object, or None when it has none."""
    if not isinstance(obj, dict):
        return None
    keys = POD_SPEC_PATHS.get(str(obj.get("kind", "")))
    if keys is None:
        return None
    node: Any = obj
    for key in keys:
        node = node.get(key) if isinstance(node, dict) else None
    return (".".join(keys), node) if isinstance(node, dict) else None


def quantities(obj: Any) -> dict[str, JSON]:
    """Parsed resources of every container of obj, keyed by container path."""
    located = pod_spec(obj)
    if located is None:
        return {}
    path, spec = located
    out: dict[str, JSON] = {}
    for field in CONTAINER_FIELDS:
        containers = spec.get(field)
        if not isinstance(containers, list):
            continue
        for index, container in enumerate(containers):
            if isinstance(container, dict):
                out[f"{path}.{field}[{index}]"] = _container_quantities(container)
    return out


def _container_quantities(container: JSON) -> JSON:
    resources = container.get("resources")
    entry: JSON = {"limits": {}, "requests": {}, "invalid": []}
    if not isinstance(resources, dict):
        return entry
    for section in SECTIONS:
        values = resources.get(section)
        if not isinstance(values, dict):
            continue
        for resource in RESOURCES:
            if resource not in values or values[resource] is None:
                continue
            number = parse(resource, values[resource])
            if number is None:
                entry["invalid"].append(f"{section}.{resource}")
            else:
                entry[section][resource] = number
    return entry


def _scalar(value: Any) -> Any:
    if isinstance(value, bytes):
        return base64.b64encode(value).decode("ascii")
    iso = getattr(value, "isoformat", None)
    return iso() if callable(iso) else str(value)


def plain(obj: Any) -> Any:
    """obj as plain JSON data: YAML timestamps and binaries become strings, as they do when
    kubectl sends a manifest (a date in an annotation is a string to the API server)."""
    return json.loads(json.dumps(obj, default=_scalar))


def policy_input(before: JSON | None, after: JSON) -> JSON:
    """The ``input`` document for judging ``after`` (``before`` is context only)."""
    after, before = plain(after), plain(before)
    change: JSON = {"operation": "create", "patch": []}
    if before is not None:
        import jsonpatch  # with difflib...: a change only (validate of new files has none)

        change = {"operation": "update", "patch": jsonpatch.make_patch(before, after).patch}
    return {"before": before, "after": after, "change": change, "quantities": quantities(after)}


def config_data(settings: ValidationSettings) -> JSON:
    """The ``data`` document: ``data.remediator.config`` with ceilings as strings and numbers."""
    memory = parse("memory", settings.max_memory)
    cpu = parse("cpu", settings.max_cpu)
    if memory is None:
        raise SettingsError(f"validation.maxMemory {settings.max_memory!r} is not a quantity")
    if cpu is None:
        raise SettingsError(f"validation.maxCpu {settings.max_cpu!r} is not a quantity")
    config = {
        "maxMemory": str(settings.max_memory),
        "maxMemoryBytes": memory,
        "maxCpu": str(settings.max_cpu),
        "maxCpuMillis": cpu,
        "allowedRegistries": list(settings.allowed_registries),
        "allowedHosts": list(settings.allowed_hosts),
    }
    for key, bound in (("minReplicas", settings.min_replicas),
                       ("maxReplicas", settings.max_replicas)):
        if bound is not None:
            config[key] = bound
    return {"remediator": {"config": config}}
