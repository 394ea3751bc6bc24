"""Which values key of a chart sets a container field, proven by rendering.

Charts name their values as they like: `resources` (most), `primary.resources` (bitnami
components), `controllers.<c>.containers.<n>.resources` (bjw-s app-template). Reading templates
cannot follow helpers that build containers from maps; Helm can. So the release is rendered with
the values the GitOps tool passes, the failing container is found in the output, and candidate
keys are tried one at a time: each is set to a marker value, the chart rendered again, and the
key is proven when the marker lands in exactly that field of that container and nothing else
rendered changes (a `checksum/*` pod annotation aside: charts hash their inputs to roll pods;
and Secrets, whose generated passwords change on every render).

Candidates, most likely first: keys whose current value is the field's rendered value, the
field next to an `image` mapping (a container's values block: also where a field that is not set
yet belongs, as the chart's values.yaml lays it out), any key named like the field, then the
conventional top-level key. A few renders at most (``MAX_TRIES``); renders are cached.
"""

from __future__ import annotations

import copy
import logging
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field, replace
from typing import Any

from ..kernel.k8s import dig, get_container, pod_spec, put, split_image
from ..model import JSON

_log = logging.getLogger(__name__)

MAX_TRIES = 6
MAX_WALK = 5000
MARK_MEMORY = "987654Ki"
MARK_TAG = "remediator-render-probe"
MARK_PROBE = {"exec": {"command": ["true"]}, "failureThreshold": 77}
CHECKSUM_PREFIX = "checksum/"

Render = Callable[[JSON], list[JSON]]


@dataclass
class Target:
    """The live workload and container whose field is traced."""

    kind: str
    name: str
    container: str
    image: str = ""  # the live image (picks the container's values block first)


@dataclass
class KeyProof:
    key: tuple[str, ...] | None
    note: str
    #: bitnami-style `<block>.resourcesPreset` set next to a proven resources key
    preset: tuple[str, ...] | None = None
    tried: list[str] = field(default_factory=list)


def _identity(obj: JSON) -> tuple[str, str, str, str]:
    meta = obj.get("metadata") or {}
    return (str(obj.get("apiVersion")), str(obj.get("kind")), str(meta.get("namespace") or ""),
            str(meta.get("name")))


def find_workload(objects: list[JSON], target: Target) -> JSON | None:
    found = [o for o in objects if o.get("kind") == target.kind
             and (o.get("metadata") or {}).get("name") == target.name]
    return found[0] if len(found) == 1 else None


def rendered_container(workload: JSON, target: Target, live: JSON | None = None) -> str:
    """The name of the target container in a render: its own, or the only container when the
    live pod also has only one (a chart naming it `{{ .Chart.Name }}` while the live one has
    another name is still the same container); "" when it cannot be told."""
    if get_container(workload, target.container):
        return target.container
    ours = [c for c in pod_spec(workload).get("containers") or [] if isinstance(c, dict)]
    theirs = [c for c in pod_spec(live).get("containers") or [] if isinstance(c, dict)] \
        if live is not None else [{}]
    return str(ours[0].get("name") or "") if len(ours) == 1 and len(theirs) == 1 else ""


def _walk(node: Any, path: tuple[str, ...] = (), budget: list[int] | None = None
          ) -> Iterator[tuple[tuple[str, ...], Any]]:
    budget = budget if budget is not None else [MAX_WALK]
    if budget[0] <= 0 or len(path) > 16:
        return
    budget[0] -= 1
    yield path, node
    if isinstance(node, dict):
        for k, v in node.items():
            yield from _walk(v, (*path, str(k)), budget)


def _image_blocks(effective: JSON, live_image: str) -> list[tuple[str, ...]]:
    """Mappings holding an `image` (a container's values block), the live image's first."""
    name, tag = split_image(live_image)
    scored = []
    for path, node in _walk(effective):
        if not isinstance(node, dict) or "image" not in node:
            continue
        image = node["image"]
        text = " ".join(str(v) for v in image.values()) if isinstance(image, dict) else str(image)
        score = int(bool(name) and name.rsplit("/", 1)[-1] in text) + int(
            bool(tag) and tag in text.split())
        scored.append((-score, len(path), path))
    return [p for _, _, p in sorted(scored)]


def schema_paths(schema: Any, values: Any, field_name: str) -> list[tuple[str, ...]]:
    """Paths the chart's values schema gives a property ``field_name``, its maps
    (`additionalProperties`, `patternProperties`) expanded with the keys the values use;
    local `$ref`s followed."""
    out: list[tuple[str, ...]] = []
    budget = [MAX_WALK]

    def resolve(node: Any) -> Any:
        for _ in range(8):
            ref = node.get("$ref") if isinstance(node, dict) else None
            if not (isinstance(ref, str) and ref.startswith("#/")):
                break
            node = dig(schema, [p.replace("~1", "/").replace("~0", "~")
                                for p in ref[2:].split("/")])
        return node

    def visit(node: Any, value: Any, path: tuple[str, ...]) -> None:
        node = resolve(node)
        budget[0] -= 1
        if not isinstance(node, dict) or budget[0] < 0 or len(path) > 16:
            return
        raw = node.get("properties")
        props: JSON = raw if isinstance(raw, dict) else {}
        if field_name in props:
            out.append((*path, field_name))
        for key, sub in props.items():
            if key != field_name:
                visit(sub, value.get(key) if isinstance(value, dict) else None, (*path, key))
        maps = [node.get("additionalProperties"),
                *((node.get("patternProperties") or {}).values()
                  if isinstance(node.get("patternProperties"), dict) else [])]
        for sub in (m for m in maps if isinstance(m, dict)):
            for key, child in (value.items() if isinstance(value, dict) else []):
                if key not in props:
                    visit(sub, child, (*path, str(key)))
        for combined in ("allOf", "anyOf", "oneOf"):
            for sub in node.get(combined) or [] if isinstance(node.get(combined), list) else []:
                visit(sub, value, path)

    visit(schema, values if isinstance(values, dict) else {}, ())
    return out


def candidates(field_name: str, effective: JSON, rendered: JSON, live_image: str,
               schema: JSON | None = None) -> list[tuple[str, ...]]:
    """Values keys that may set ``field_name`` of the container, most likely first."""
    out: list[tuple[str, ...]] = []
    walked = list(_walk(effective))
    if field_name == "image":
        _, tag = split_image(str(rendered.get("image") or live_image))
        out += [p for p, v in walked if isinstance(v, dict) and tag
                and str(v.get("tag", "")) == tag]
        out += [p for p, v in walked if p and p[-1] == "image" and isinstance(v, dict)]
        out.append(("image",))
    else:
        current = rendered.get(field_name)
        if current:
            out += [p for p, v in walked if p and v == current]
        blocks = _image_blocks(effective, live_image)
        out += [(*block, field_name) for block in blocks]
        # the schema's places for it, the container's own block (holding its image) first
        found = schema_paths(schema, effective, field_name) if schema else []
        out += sorted(found, key=lambda p: (p[:-1] not in blocks, len(p)))
        out += [p for p, v in walked if p and p[-1] == field_name and isinstance(v, dict | None)]
        out.append((field_name,))
    return list(dict.fromkeys(out))


def _perturbed(values: JSON, effective: JSON, key: tuple[str, ...], field_name: str
               ) -> JSON | None:
    """``values`` with the marker at ``key``; None when a level on the way is not a mapping."""
    for depth in range(1, len(key)):
        node = dig(effective, key[:depth])
        if node is not None and not isinstance(node, dict):
            return None
    out = copy.deepcopy(values)
    if field_name == "resources":
        put(out, (*key, "limits", "memory"), MARK_MEMORY)
    elif field_name == "image":
        put(out, (*key, "tag"), MARK_TAG)
        if isinstance(dig(effective, (*key, "digest")), str):
            put(out, (*key, "digest"), None)  # a pinned digest wins over the tag
    else:
        put(out, key, copy.deepcopy(MARK_PROBE))
    return out


def _marked(container: JSON, field_name: str) -> bool:
    if field_name == "resources":
        return dig(container, ("resources", "limits", "memory")) == MARK_MEMORY
    if field_name == "image":
        return split_image(str(container.get("image") or ""))[1] == MARK_TAG
    probe = container.get(field_name)
    return isinstance(probe, dict) and probe.get("failureThreshold") == MARK_PROBE[
        "failureThreshold"]


def _without(obj: JSON, target: Target, fields: tuple[str, ...]) -> JSON:
    """``obj`` without the traced fields and its `checksum/*` pod annotations."""
    out = copy.deepcopy(obj)
    container = get_container(out, target.container)
    for name in fields:
        container.pop(name, None)
    for meta in (dig(out, ("spec", "template", "metadata")), dig(
            out, ("spec", "jobTemplate", "spec", "template", "metadata"))):
        if isinstance(meta, dict) and isinstance(meta.get("annotations"), dict):
            meta["annotations"] = {k: v for k, v in meta["annotations"].items()
                                   if not str(k).startswith(CHECKSUM_PREFIX)}
    return out


def side_effects(before: list[JSON], after: list[JSON], target: Target,
                 fields: tuple[str, ...]) -> list[str]:
    """What a values change alters in the render besides ``fields`` of the container."""
    # Secrets are left out: charts generate passwords (`randAlphaNum`) anew on every render,
    # and they are never read anyway
    old = {_identity(o): o for o in before if o.get("kind") != "Secret"}
    new = {_identity(o): o for o in after if o.get("kind") != "Secret"}
    problems = []
    for ident in sorted(old.keys() | new.keys()):
        a, b = old.get(ident), new.get(ident)
        if a == b:
            continue
        what = f"{ident[1]} {ident[3]}"
        if a is None or b is None:
            problems.append(f"{what} {'appears' if a is None else 'disappears'}")
        elif (ident[1], ident[3]) != (target.kind, target.name):
            problems.append(f"{what} changes")
        elif _without(a, target, fields) != _without(b, target, fields):
            named = ", ".join(f"`{f}`" for f in fields)
            problems.append(f"{what} changes beyond container {target.container}'s {named}")
    return problems


def find_key(render: Render, values: JSON, effective: JSON, target: Target, field_name: str,
             live: JSON | None = None, schema: JSON | None = None) -> KeyProof:
    """The values key that sets ``field_name`` of the target container, proven by rendering
    (``render`` raises its own error when the chart does not render with ``values``)."""
    base = render(values)
    workload = find_workload(base, target)
    if workload is None:
        names = ", ".join(sorted(f"{o.get('kind')} {(o.get('metadata') or {}).get('name')}"
                                 for o in base if o.get("kind") == target.kind)) or "none"
        return KeyProof(None, f"rendered with the repository's values, the chart gives no "
                        f"{target.kind} {target.name} (it renders: {names})")
    name = rendered_container(workload, target, live)
    if not name:
        return KeyProof(None, f"the chart renders {target.kind} {target.name} without a "
                        f"container {target.container}")
    target = replace(target, container=name)
    container = get_container(workload, name)
    proof = KeyProof(None, "")
    for key in candidates(field_name, effective, container, target.image, schema)[:MAX_TRIES]:
        dotted = ".".join(key)
        changed = _perturbed(values, effective, key, field_name)
        if changed is None:
            continue
        try:
            after = render(changed)
        except Exception as exc:  # a rejected key (values schema, template error) is no proof
            _log.debug("values key %s does not render", dotted, exc_info=True)
            proof.tried.append(f"`{dotted}` (does not render: {str(exc)[:160]})")
            continue
        workload_after = find_workload(after, target)
        if workload_after is None or not _marked(get_container(
                workload_after, target.container), field_name):
            proof.tried.append(f"`{dotted}` (no effect on container {target.container})")
            continue
        extra = side_effects(base, after, target, (field_name,))
        if extra:
            proof.tried.append(f"`{dotted}` (also: {'; '.join(extra[:3])})")
            continue
        proof.key = key
        proof.note = (f"rendering the chart with Helm shows that `{dotted}` sets the "
                      f"`{field_name}` of container {target.container} of {target.kind} "
                      f"{target.name} and nothing else")
        if field_name == "resources":
            preset = (*key[:-1], "resourcesPreset")
            if dig(effective, preset) not in (None, "", "none"):
                proof.preset = preset
        return proof
    tried = "; ".join(proof.tried) or "no candidate key"
    proof.note = (f"the chart's values for the `{field_name}` of container {target.container} "
                  f"could not be found by rendering it (tried {tried})")
    return proof
