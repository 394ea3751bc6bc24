"""Helm values as Flux merges them for a HelmRelease: `valuesFrom` entries in order, then
`spec.values` (shared by locate, which picks the layer to edit, and the gate, which predicts the
workload from the merged result)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from ..kernel import yamlio
from ..kernel.k8s import dig, put
from ..model import ObjectRef

if TYPE_CHECKING:
    from ..model import JSON, ValuesLayer

DEFAULT_VALUES_KEY = "values.yaml"


@dataclass
class Merged:
    """valuesFrom as far as it can be read, merged in Flux's order (spec.values not included)."""

    values: JSON = field(default_factory=dict)
    #: the parsed values of each readable ConfigMap entry, in order (None: not readable)
    layers: list[JSON | None] = field(default_factory=list)


def sets(values: Any, key: tuple[str, ...]) -> bool:
    node = values
    for seg in key:
        if not isinstance(node, dict) or seg not in node:
            return False
        node = node[seg]
    return True


def blocked_at(values: Any, key: tuple[str, ...]) -> str:
    """The dotted prefix of ``key`` that ``values`` sets to something not a mapping, "" when
    none: a null there deletes what a lower layer sets below it (Helm's merge, a merge patch),
    a scalar replaces it."""
    node = values
    for depth, seg in enumerate(key[:-1]):
        if not isinstance(node, dict) or seg not in node:
            return ""
        node = node[seg]
        if not isinstance(node, dict):
            return ".".join(key[: depth + 1])
    return ""


def merge(base: JSON, top: JSON) -> JSON:
    """Helm's merge of values maps: mappings key by key, anything else replaced."""
    out = dict(base)
    for k, v in top.items():
        out[k] = merge(out[k], v) if isinstance(v, dict) and isinstance(out.get(k), dict) else v
    return out


def refs(release: JSON) -> list[JSON]:
    raw = (release.get("spec") or {}).get("valuesFrom") or []
    return [r for r in raw if isinstance(r, dict)] if isinstance(raw, list) else []


def config_map(objects: Sequence[tuple[JSON, str | None]], name: str, namespace: str
                ) -> tuple[JSON, str | None] | None:
    for obj, origin in objects:
        ref = ObjectRef.of(obj)
        if ref.kind == "ConfigMap" and ref.group == "" and ref.name == name and (
                not ref.namespace or ref.namespace == namespace):
            return obj, origin
    return None


def parsed(text: Any, label: str) -> JSON | None:
    if not isinstance(text, str):
        return None
    try:
        docs = yamlio.load_documents(text, label)
    except yamlio.UnsafeYAML:
        return None
    if not docs or docs[0] is None:
        return {}
    return docs[0] if isinstance(docs[0], dict) else None


def merged(release: JSON, objects: Sequence[tuple[JSON, str | None]]) -> Merged:
    """What the readable `valuesFrom` entries of ``release`` merge to (Secrets and ConfigMaps
    not among ``objects`` are left out)."""
    namespace = str((release.get("metadata") or {}).get("namespace") or "")
    out = Merged()
    for ref in refs(release):
        found = config_map(objects, str(ref.get("name")), namespace) \
            if ref.get("kind") == "ConfigMap" else None
        data = ((found[0].get("data") or {}) if found else {}).get(
            str(ref.get("valuesKey") or DEFAULT_VALUES_KEY))
        if data is None:
            out.layers.append(None)
        elif ref.get("targetPath"):  # the whole string, set at that path
            out.layers.append(None)
            put(out.values, str(ref["targetPath"]).split("."), data)
        else:
            values = parsed(data, str(ref.get("name")))
            out.layers.append(values)
            if values is not None:
                out.values = merge(out.values, values)
    return out


def release_values(release: JSON, objects: Sequence[tuple[JSON, str | None]]) -> JSON:
    """Everything readable merged: `valuesFrom`, then `spec.values` on top."""
    spec_values = (release.get("spec") or {}).get("values")
    return merge(merged(release, objects).values,
                 spec_values if isinstance(spec_values, dict) else {})


def layered(root: Path, layers: Sequence[ValuesLayer]) -> tuple[JSON, list[tuple[str, str, bool]]]:
    """The values Argo CD passes to Helm, read from the repository at ``root``: the layers
    merged lowest first, and the `helm.parameters` (name, value, as a string) of the last layer
    that lists them (`--set` / `--set-string`, applied after every values layer)."""
    values: JSON = {}
    parameters: list[tuple[str, str, bool]] = []
    for layer in layers:
        try:
            docs = yamlio.load_documents(yamlio.read_text(root, layer.path), layer.path)
        except (OSError, yamlio.UnsafeYAML):
            continue  # a missing value file (ignoreMissingValueFiles) adds nothing
        node = dig(docs[layer.index] if layer.index < len(docs) else None, layer.at)
        if layer.parameters:
            parameters = [(str(p.get("name")), str(p.get("value", "")),
                           bool(p.get("forceString") or p.get("forcestring")))
                          for p in node or []
                          if isinstance(p, dict) and p.get("name")]
            continue
        if layer.text:
            node = parsed(node, f"{layer.path}: helm.values")
        if isinstance(node, dict):
            values = merge(values, node)
    return values, parameters
