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
from typing import TYPE_CHECKING

from ..kernel import yamlio
from ..render import gitops, kustomize
from ..render.kustomize import KUSTOMIZATION_FILES

if TYPE_CHECKING:
    from ..model import JSON


@dataclass
class Kustomization:
    """A kustomization of the repository and the files it reads."""

    directory: str  # repo-relative ("" for the root)
    file: str  # repo-relative path of the kustomization file
    resources: set[str] = field(default_factory=set)  # files, this and included kustomizations
    inputs: set[str] = field(default_factory=set)
    #: of the inputs, generator sources: data, not YAML kustomize parses
    data: set[str] = field(default_factory=set)
    includes: set[str] = field(default_factory=set)  # kustomization folders it pulls in
    helm: bool = False  # it or one it pulls in inflates Helm charts (`helmCharts`)
    #: a `kind: Component`: it only builds inside the kustomizations that list it
    component: bool = False

    @property
    def files(self) -> set[str]:
        return self.resources | self.inputs


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
        named = kustomize.files_named(directory, body)
        refs = named.references
        k.inputs.update(named.inputs)
        k.data.update(named.data)
        for ref in refs:
            if ref in bodies:
                if ref not in stack:
                    inner = visit(ref, stack | {ref})
                    k.includes |= {ref, *inner.includes}
                    k.resources |= inner.resources
                    k.inputs |= inner.inputs
                    k.data |= inner.data
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
    return kustomize.roots({d: k.includes for d, k in kusts.items()})


_DEPLOYERS = ("argoproj.io/", "kustomize.toolkit.fluxcd.io/")


def deployed(root: Path, paths: list[str]) -> set[str]:
    """Folders that Argo CD Applications or Flux Kustomizations in the repository deploy (a
    base deployed directly is judged on its own). Applications of any repository count (no
    filter on `repo.url`): a folder is judged once too often rather than missed. Each object
    is read as locate reads it (``gitops.deployed_paths``); locate's ``deployers`` also needs
    the owners' names and the cluster's copies, validate only the repository's folders."""
    out: set[str] = set()
    for rel in paths:
        try:
            text = yamlio.read_text(root, rel)
            if not any(group in text for group in _DEPLOYERS):
                continue
            docs = yamlio.load_documents(text, rel)
        except (yamlio.UnsafeYAML, OSError):
            continue  # reported where it matters (a checked file), not here
        out |= {p for doc in docs if isinstance(doc, dict) for p in gitops.deployed_paths(doc)}
    return out
