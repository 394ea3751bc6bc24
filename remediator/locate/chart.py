"""Which values key feeds a container field, read from the chart's templates (no Helm at hand).

Multi-component charts (bitnami style) feed each workload from its own keys: the primary
StatefulSet reads `.Values.primary.resources`, the read replicas `.Values.readReplicas.resources`,
while the image may come from the top-level `.Values.image` through a helper. So the template that
renders the failing workload is found first — by kind, then by the `app.kubernetes.io/component`
label and the literal suffix of the name it renders to, matched against the live object — then
the container's block inside it, and only that block is read.

Nothing is evaluated: what cannot be tied to the workload (several templates could render it,
names built only by helpers) gives no key and a reason, never a guess.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

from ..kernel import yamlio
from ..kernel.k8s import pod_spec

if TYPE_CHECKING:
    from ..model import JSON

_KIND = re.compile(r"^kind:\s*['\"]?(\w+)", re.M)
_COMPONENT = re.compile(r"app\.kubernetes\.io/component:\s*['\"]?([\w.-]+)")
_META_NAME = re.compile(r"^metadata:[ \t]*\n(?:(?:[ \t]+.*)?\n)*?  name:[ \t]*(.+)$", re.M)
_CONTAINERS = re.compile(r"^([ \t]*)containers:[ \t]*$", re.M)
_ITEM_NAME = re.compile(r"^([ \t]*)- name:[ \t]*(.+?)[ \t]*$", re.M)
_DEFINE = re.compile(r"\{\{-?\s*define\s+\"([^\"]+)\"\s*-?\}\}(.*?)\{\{-?\s*end\s*-?\}\}", re.S)
_INCLUDE = re.compile(r"include\s+\"([^\"]+)\"")
#: field → pattern whose first group is the values prefix of the key (`primary.` or ``)
_USES = {
    # `resources\b` leaves out bitnami's `resourcesPreset`, which `resources` overrides
    "resources": re.compile(r"\.Values\.((?:\w+\.)*?)resources\b"),
    # bitnami presets: used only while `resources` is empty (the rule must then not set a
    # lone memory limit, which would drop every other preset value)
    "resourcesPreset": re.compile(r"\.Values\.((?:\w+\.)*?)resourcesPreset\b"),
    "image": re.compile(r"\.Values\.((?:\w+\.)*?)image\b"),
    # only a probe passed through whole (`toYaml` / `with`): one built from fields
    # (`startupProbe.enabled`, `.initialDelaySeconds`...) has no shape to add a probe to
    "startupProbe": re.compile(
        r"(?:toYaml|with)\s+\(?\s*\.Values\.((?:\w+\.)*?)startupProbe\s*(?:\||\}\}|\)|-\}\})"),
}
_ANY_STARTUP = re.compile(r"\.Values\.((?:\w+\.)*?)startupProbe\b")


@dataclass
class ChartKeys:
    keys: dict[str, tuple[str, ...]] = field(default_factory=dict)
    note: str = ""
    #: the failing container was found by name in the template (several containers are fine)
    container_mapped: bool = False
    tied: bool = False


def _templates(root: Path, chart: str) -> list[tuple[str, str]]:
    out = []
    for path in sorted((root / chart / "templates").rglob("*")):
        if path.is_file() and path.suffix in (".yaml", ".yml", ".tpl") and not path.is_symlink():
            try:  # the repo's safety rules: inside the tree, size-limited, UTF-8
                text = yamlio.read_text(root, path.relative_to(root).as_posix())
            except (OSError, yamlio.UnsafeYAML):
                continue
            out.append((path.relative_to(root / chart).as_posix(), text))
    return out


def _chart_name(root: Path, chart: str) -> str:
    try:
        text = yamlio.read_text(root, f"{chart}/Chart.yaml" if chart else "Chart.yaml")
    except (OSError, yamlio.UnsafeYAML):
        return ""
    m = re.search(r"^name:\s*['\"]?([\w.-]+)", text, re.M)
    return m.group(1) if m else ""


def _name_suffix(doc: str) -> str:
    """The literal tail of the rendered name: `{{ fullname }}-read`, `printf "%s-read" ...`."""
    m = _META_NAME.search(doc)
    if not m:
        return ""
    raw = m.group(1)
    printf = re.search(r"printf\s+\"%s([\w.-]+)\"", raw)
    if printf:
        return printf.group(1)
    tail = raw.rpartition("}}")[2].strip().strip("'\"") if "}}" in raw else ""
    return tail


def _workload_doc(templates: list[tuple[str, str]], live: JSON) -> tuple[str, str, str]:
    """(template path, document text, how it was tied) of the template rendering ``live``;
    raises ValueError with the reason when it cannot be told."""
    kind = str(live.get("kind", ""))
    meta = live.get("metadata") or {}
    name = str(meta.get("name", ""))
    component = str(((meta.get("labels") or {}).get("app.kubernetes.io/component")) or "")
    docs = [(path, doc) for path, text in templates if not path.endswith(".tpl")
            for doc in re.split(r"^---\s*$", text, flags=re.M)
            if (m := _KIND.search(doc)) and m.group(1) == kind]
    if not docs:
        raise ValueError(f"no template of the chart renders a {kind}")
    how = f"the only {kind} template"
    if len(docs) > 1 and component and any(_COMPONENT.search(d) for _, d in docs):
        docs = [(p, d) for p, d in docs if component in _COMPONENT.findall(d)]
        how = f"the {kind} template labelled `app.kubernetes.io/component: {component}`"
    if len(docs) > 1:
        suffixed = [(p, d) for p, d in docs if _name_suffix(d) and name.endswith(_name_suffix(d))]
        if len(suffixed) == 1:
            docs = suffixed
            how = f"the {kind} template whose name ends in `{_name_suffix(suffixed[0][1])}`"
    if len(docs) != 1:
        where = ", ".join(sorted({f"`{p}`" for p, _ in docs})) or "none"
        raise ValueError(f"which {kind} template renders {name} cannot be told (candidates: "
                         f"{where})")
    return docs[0][0], docs[0][1], how


def _container_block(doc: str, container: str, chart_name: str, alone: bool) -> str | None:
    """The text of ``container``'s entry in the template's `containers:` list, or None."""
    m = _CONTAINERS.search(doc)
    if not m:
        return doc if alone else None
    indent = len(m.group(1))
    rest = doc[m.end():]
    end = re.search(rf"^ {{0,{indent}}}[^\s{{#-]", rest, re.M)  # the next key at its level
    section = rest[: end.start()] if end else rest
    items = list(_ITEM_NAME.finditer(section))
    if not items:
        return None
    items = [i for i in items if len(i.group(1)) == len(items[0].group(1))]
    blocks = [(i.group(2).strip("'\""), section[i.start(): items[n + 1].start()
                                                 if n + 1 < len(items) else len(section)])
              for n, i in enumerate(items)]
    for raw, block in blocks:
        literal = chart_name if re.fullmatch(r"\{\{-?\s*\.Chart\.Name\s*-?\}\}", raw) else raw
        if "{{" not in literal and literal == container:
            return block
    return blocks[0][1] if len(blocks) == 1 and alone else None


def _helpers(templates: list[tuple[str, str]]) -> dict[str, str]:
    return {m.group(1): m.group(2) for _, text in templates for m in _DEFINE.finditer(text)}


def _key_in(block: str, field_name: str, helpers: dict[str, str]) -> tuple[str, ...] | None:
    prefixes = {m.group(1) for m in _USES[field_name].finditer(block)}
    if not prefixes and field_name == "image":  # `image: {{ include "x.image" . }}`
        line = next((ln for ln in block.splitlines() if ln.strip().startswith("image:")), "")
        for name in _INCLUDE.findall(line):
            prefixes |= {m.group(1) for m in _USES["image"].finditer(helpers.get(name, ""))}
    if len(prefixes) != 1:
        return None  # not read here, or read from several keys: no guess
    prefix = prefixes.pop()
    return (*[p for p in prefix.split(".") if p], field_name)


def keys_for(root: Path, chart: str, live: JSON, container: str) -> ChartKeys:
    """The values keys that feed ``container`` of the live workload, from the chart's templates."""
    templates = _templates(root, chart)
    out = ChartKeys()
    try:
        path, doc, how = _workload_doc(templates, live)
    except ValueError as exc:
        out.note = f"the chart `{chart}` is in this repository, but {exc}"
        return out
    spec = pod_spec(live)
    alone = len([c for c in spec.get("containers") or [] if isinstance(c, dict)]) <= 1
    block = _container_block(doc, container, _chart_name(root, chart), alone)
    if block is None:
        out.note = (f"the chart `{chart}` renders it from `{path}` ({how}), but container "
                    f"{container} cannot be found by name in its `containers:` list")
        return out
    out.tied = True
    out.container_mapped = not alone
    helpers = _helpers(templates)
    for name in _USES:
        key = _key_in(block, name, helpers)
        if key is not None:
            out.keys[name] = key
    used = ", ".join(f"`.Values.{'.'.join(v)}`" for v in out.keys.values()) or "none of them"
    out.note = (f"the chart `{chart}` in this repository renders it from `{path}` ({how}); "
                f"container {container} reads {used}")
    fields = _ANY_STARTUP.findall(block)
    if "startupProbe" not in out.keys and fields:
        out.note += (f" (its startupProbe is built from single fields under "
                     f"`.Values.{fields[0]}startupProbe`, so a probe cannot be added as a whole)")
    return out
