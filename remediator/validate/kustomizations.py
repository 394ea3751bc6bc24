"""Which files each kustomization of a repository reads, read from the kustomization files.

A kustomization reads two kinds of local files: *resources* (whole objects, which are also
checked on their own) and *inputs* (everything else: the kustomization file itself, patches,
generator sources, replacements, transformer configs), which are not objects and are only
checked through the render. Both sets include the files of every kustomization it pulls in.
"""

from __future__ import annotations

import posixpath
from dataclasses import dataclass, field
from pathlib import Path

from .. import yamlio
from ..kustomize import KUSTOMIZATION_FILES, is_remote
from ..model import JSON

#: fields whose entries are files read as input (strings, or mappings with a `path`)
_INPUT_FIELDS = ("patchesStrategicMerge", "patches", "patchesJson6902", "replacements",
                 "configurations", "crds", "generators", "transformers", "validators")
_GENERATORS = ("configMapGenerator", "secretGenerator")


@dataclass
class Kustomization:
    directory: str  # repo-relative ("" for the root)
    file: str  # repo-relative path of the kustomization file
    resources: set[str] = field(default_factory=set)  # files, this and included kustomizations
    inputs: set[str] = field(default_factory=set)
    includes: set[str] = field(default_factory=set)  # kustomization folders it pulls in
    helm: bool = False  # it or one it pulls in inflates Helm charts (`helmCharts`)
    #: a `kind: Component`: it only builds inside the kustomizations that list it
    component: bool = False

    @property
    def files(self) -> set[str]:
        return self.resources | self.inputs


def _generator_files(entry: JSON) -> list[str]:
    out = []
    for key in ("files", "envs"):
        for item in entry.get(key) or []:
            if isinstance(item, str):
                out.append(item.split("=", 1)[-1])  # "key=path" names the key
    if isinstance(entry.get("env"), str):
        out.append(entry["env"])
    return out


def _direct(directory: str, body: JSON) -> tuple[list[str], list[str]]:
    """(resource and component entries, input files) named by one kustomization, joined to
    its folder; inline patches and remote entries are left out."""
    refs: list[str] = []
    for key in ("resources", "bases", "components"):
        refs += [e for e in body.get(key) or [] if isinstance(e, str) and not is_remote(e)]
    inputs: list[str] = []
    for key in _INPUT_FIELDS:
        for entry in body.get(key) or []:
            if isinstance(entry, str) and "\n" not in entry:
                inputs.append(entry)
            elif isinstance(entry, dict) and isinstance(entry.get("path"), str):
                inputs.append(entry["path"])
    for key in _GENERATORS:
        for entry in body.get(key) or []:
            if isinstance(entry, dict):
                inputs += _generator_files(entry)
    if isinstance((body.get("openapi") or {}).get("path"), str):
        inputs.append(body["openapi"]["path"])

    def join(p: str) -> str:
        return posixpath.normpath(posixpath.join(directory, p))

    return [join(r) for r in refs], [join(i) for i in inputs if not is_remote(i)]


def scan(root: Path) -> dict[str, Kustomization]:
    """Every kustomization of the repository (folder -> what it reads). Kustomization files
    that do not parse are included with no references: building them reports the error."""
    bodies: dict[str, tuple[str, JSON]] = {}
    for rel, _ in yamlio.iter_yaml_paths(root):
        if posixpath.basename(rel) not in KUSTOMIZATION_FILES:
            continue
        try:
            docs = yamlio.load_documents(yamlio.read_text(root, rel), rel)
        except (yamlio.UnsafeYAML, OSError):
            docs = []
        body = docs[0] if docs and isinstance(docs[0], dict) else {}
        bodies.setdefault(posixpath.dirname(rel), (rel, body))
    result: dict[str, Kustomization] = {}

    def visit(directory: str, stack: frozenset[str]) -> Kustomization:
        if directory in result:
            return result[directory]
        file, body = bodies[directory]
        k = Kustomization(directory, file, inputs={file}, helm=bool(body.get("helmCharts")),
                          component=body.get("kind") == "Component")
        refs, inputs = _direct(directory, body)
        k.inputs.update(inputs)
        for ref in refs:
            if ref in bodies:
                if ref not in stack:
                    inner = visit(ref, stack | {ref})
                    k.includes |= {ref, *inner.includes}
                    k.resources |= inner.resources
                    k.inputs |= inner.inputs
                    k.helm = k.helm or inner.helm
            else:
                k.resources.add(ref)
        result[directory] = k
        return k

    for directory in sorted(bodies):
        visit(directory, frozenset({directory}))
    return result


def roots(kusts: dict[str, Kustomization]) -> set[str]:
    """Kustomizations no other one pulls in: what a GitOps tool deploys."""
    included = {d for k in kusts.values() for d in k.includes if d != k.directory}
    return {d for d in kusts if d not in included}


_DEPLOYERS = ("argoproj.io/", "kustomize.toolkit.fluxcd.io/")


def deployed(root: Path, paths: list[str]) -> set[str]:
    """Folders that Argo CD Applications (``spec.source(s).path``) or Flux Kustomizations
    (``spec.path``) in the repository deploy: a base deployed directly is judged on its own."""
    out: set[str] = set()
    for rel in paths:
        try:
            text = yamlio.read_text(root, rel)
            if not any(group in text for group in _DEPLOYERS):
                continue
            docs = yamlio.load_documents(text, rel)
        except (yamlio.UnsafeYAML, OSError):
            continue  # reported where it matters (a checked file), not here
        for doc in docs:
            spec = doc.get("spec") if isinstance(doc, dict) else None
            if not isinstance(spec, dict):
                continue
            sources = [spec.get("source"), *(spec.get("sources") or [])]
            found = [s.get("path") for s in sources if isinstance(s, dict)]
            found.append(spec.get("path"))
            out |= {posixpath.normpath(p.strip("/")) if p.strip("./") else ""
                    for p in found if isinstance(p, str)}
    return {"" if p == "." else p for p in out}
