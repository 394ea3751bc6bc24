"""An index of the GitOps repository: its Kubernetes documents and its kustomization graph."""

from __future__ import annotations

import posixpath
import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path
from typing import TYPE_CHECKING, Any

from ..kernel import yamlio
from ..render.kustomize import KUSTOMIZATION_FILES, files_named, is_remote
from ..render.kustomize import roots as kustomize_roots

if TYPE_CHECKING:
    from ..model import JSON


def selects(target: JSON, kind: str, name: str, labels: JSON | None = None, *,
            group: str | None = None, namespace: str | None = None) -> bool:
    """Whether a kustomize patch ``target`` may select ``kind``/``name`` (and ``group`` and
    ``namespace`` when given): kustomize reads them as anchored regular expressions; a `k=v`
    label selector is checked when ``labels`` are known. Anything that cannot be read (a bad
    pattern, a set-based selector) counts as selecting: be safe."""
    def same(key: str, value: str | None) -> bool:
        want = target.get(key)
        if want is None or value is None:
            return True
        try:
            return bool(re.fullmatch(str(want), value))
        except re.error:
            return True
    if not (same("kind", kind) and same("name", name) and same("group", group)
            and (not target.get("namespace") or same("namespace", namespace))):
        return False
    selector = target.get("labelSelector")
    if labels is None or not isinstance(selector, str):
        return True
    for term in selector.split(","):
        key, eq, value = term.strip().partition("=")
        if not key.strip():
            continue
        if not eq or key.endswith("!"):
            return True
        got = labels.get(key.strip())
        if got is None or str(got) != value.lstrip("=").strip():
            return False
    return True


def patches_target(spec: JSON, kind: str, name: str, *, with_files: bool = False) -> bool:
    """Whether the patches of a kustomization-like ``spec`` (a kustomization, Argo CD's
    `kustomize:` options, a Flux Kustomization spec) may change ``kind``/``name``: by a target
    selector, or by naming it in inline patch text. Patch *files* count only ``with_files``
    (a kustomization's own strategic-merge files are editable layers, handled elsewhere)."""
    entries = [p for p in spec.get("patches") or [] if isinstance(p, dict)]
    entries += [p for p in spec.get("patchesJson6902") or [] if isinstance(p, dict)]
    for p in entries:
        if "path" in p and not with_files and "target" not in p:
            continue
        target = p.get("target")
        if isinstance(target, dict) and selects(target, kind, name):
            return True
        if isinstance(p.get("patch"), str):
            try:
                docs = yamlio.load_documents(p["patch"], "inline patch")
            except yamlio.UnsafeYAML:
                return True  # cannot tell: be safe
            if any(isinstance(d, dict) and d.get("kind") == kind
                   and (d.get("metadata") or {}).get("name") == name for d in docs):
                return True
    # inline patch text (not a file name) in the legacy field
    return any(isinstance(p, str) and "\n" in p for p in spec.get("patchesStrategicMerge") or [])


@dataclass
class Doc:
    path: str  # repo-relative
    index: int
    body: JSON

    @property
    def kind(self) -> str:
        return str(self.body.get("kind", ""))

    @property
    def name(self) -> str:
        return str((self.body.get("metadata") or {}).get("name", ""))

    @property
    def namespace(self) -> str:
        return str((self.body.get("metadata") or {}).get("namespace") or "")

    @property
    def group(self) -> str:
        return str(self.body.get("apiVersion", "")).rpartition("/")[0]


@dataclass
class RepoIndex:
    root: Path
    docs: list[Doc] = field(default_factory=list)
    #: kustomization folder (repo-relative, "" for the root) → its parsed kustomization
    kustomizations: dict[str, JSON] = field(default_factory=dict)
    warnings: list[str] = field(default_factory=list)
    #: (len(docs) when built, kind -> docs): see ``of_kind``
    _kinds: tuple[int, dict[tuple[str, str | None], list[Doc]]] = field(
        default=(-1, {}), init=False, repr=False, compare=False)
    #: kustomization folder -> what it names (``files_named``), read once per pass
    _named: dict[str, Any] = field(default_factory=dict, init=False, repr=False,
                                   compare=False)

    @classmethod
    def scan(cls, root: Path) -> RepoIndex:
        files = yamlio.scan_repo(root)
        # Helm chart templates are Go templates, not YAML: neither documents nor warnings
        charts = {posixpath.dirname(f.path) for f in files.files
                  if posixpath.basename(f.path) == "Chart.yaml"}
        charts |= {posixpath.dirname(w.split(":", 1)[0]) for w in files.warnings
                   if w.split(":", 1)[0].endswith("/Chart.yaml")}

        def in_templates(path: str) -> bool:
            return any(path.startswith(f"{c}/templates/" if c else "templates/") for c in charts)

        index = cls(root=root, warnings=[w for w in files.warnings
                                         if not in_templates(w.split(":", 1)[0])])
        for f in files.files:
            if in_templates(f.path):
                continue
            base = posixpath.basename(f.path)
            if base in KUSTOMIZATION_FILES:
                body = f.documents[0] if f.documents else None
                if isinstance(body, dict):
                    index.kustomizations[posixpath.dirname(f.path)] = {**body, "_file": f.path}
                continue
            for i, body in enumerate(f.documents):
                if isinstance(body, dict) and body.get("kind") and body.get("apiVersion"):
                    index.docs.append(Doc(f.path, i, body))
        data = index._generator_data()
        index.warnings = [w for w in index.warnings if w.split(":", 1)[0] not in data]
        return index

    def _generator_data(self) -> set[str]:
        """Files only generators read: an application's own config copied as it is into a
        ConfigMap or Secret (custom tags and all), no manifest of ours; a file something also
        reads as YAML (a resource, a patch) stays one."""
        data: set[str] = set()
        read: set[str] = set()
        for directory in self.kustomizations:
            named = self._names(directory)
            data.update(named.data)
            read.update(named.references)
            read.update(set(named.inputs) - set(named.data))
        return data - read

    def find(self, kind: str, name: str, group: str | None = None, under: str = "") -> list[Doc]:
        prefix = under.rstrip("/") + "/" if under else ""
        return [
            d
            for d in self.of_kind(kind, name)
            if (group is None or d.group == group)
            and d.path.startswith(prefix)
        ]

    def of_kind(self, kind: str, name: str | None = None) -> list[Doc]:
        """The documents of one kind (and name), in the order of ``docs``. Indexed once per
        pass: every incident asks, and a scan of every document per incident made a pass
        quadratic."""
        if self._kinds[0] != len(self.docs):  # built, or docs added since (tests build so)
            by_kind: dict[tuple[str, str | None], list[Doc]] = {}
            for d in self.docs:
                by_kind.setdefault((d.kind, None), []).append(d)
                by_kind.setdefault((d.kind, d.name), []).append(d)
            self._kinds = (len(self.docs), by_kind)
        return self._kinds[1].get((kind, name), [])

    # ------------------------------------------------------------------ kustomization graph

    def _names(self, directory: str) -> Any:
        named = self._named.get(directory)
        if named is None:
            named = self._named[directory] = files_named(
                directory, self.kustomizations.get(directory) or {})
        return named

    def kustomization_refs(self, directory: str) -> list[str]:
        """Folders this kustomization pulls in (resources and components that are folders)."""
        return [r for r in self._names(directory).references if r in self.kustomizations]

    @cached_property
    def _closure(self) -> dict[str, set[str]]:
        closure: dict[str, set[str]] = {}

        def visit(d: str, stack: frozenset[str]) -> set[str]:
            if d in closure:
                return closure[d]
            seen = {d}
            for ref in self.kustomization_refs(d):
                if ref not in stack:
                    seen |= visit(ref, stack | {ref})
            closure[d] = seen
            return seen

        for d in self.kustomizations:
            visit(d, frozenset({d}))
        return closure

    def remote_refs(self, directory: str) -> list[str]:
        """Remote bases/components anywhere in the render of ``directory`` (never fetched)."""
        out = []
        for d in sorted(self._closure.get(directory, {directory})):
            k = self.kustomizations.get(d) or {}
            for entry in [*(k.get("resources") or []), *(k.get("components") or []),
                          *(k.get("bases") or [])]:
                if isinstance(entry, str) and is_remote(entry):
                    out.append(entry)
        return out

    def roots(self) -> list[str]:
        """Kustomizations nobody else includes: what Argo CD / Flux point at."""
        return list(self._roots)

    @cached_property
    def _roots(self) -> list[str]:
        return sorted(kustomize_roots({d: self.kustomization_refs(d)
                                       for d in self.kustomizations}))

    def includes(self, outer: str, inner: str) -> bool:
        """Whether rendering ``outer`` renders ``inner`` (itself included)."""
        return inner in self._closure.get(outer, {outer})

    def consumers(self, directory: str, deployed: Iterable[str] = ()) -> list[str]:
        """Kustomizations whose render includes ``directory``: the roots (nobody includes them)
        and every folder a GitOps tool deploys directly (``deployed``), which may well be a base
        that overlays include too."""
        entry_points = set(self.roots()) | {d for d in deployed if d in self.kustomizations}
        return sorted(r for r in entry_points if directory in self._closure.get(r, set()))

    @cached_property
    def _users(self) -> dict[str, set[str]]:
        """Repo path -> the kustomizations that name it directly: resources, components,
        patch files, generator sources, replacements and every other kustomize input."""
        users: dict[str, set[str]] = {}
        for d in self.kustomizations:
            named = self._names(d)
            for path in {*named.references, *named.inputs}:
                users.setdefault(path, set()).add(d)
        return users

    def renders_of_file(self, path: str, deployed: Iterable[str] = ()) -> list[str]:
        """Entry-point kustomizations (see ``consumers``) whose render reads this file: through
        any kustomization that names it (an overlay may name a file of another folder)."""
        users = set(self._users.get(path, ()))
        if posixpath.basename(path) in KUSTOMIZATION_FILES:
            users.add(posixpath.dirname(path))
        entry_points = set(self.roots()) | {d for d in deployed if d in self.kustomizations}
        return sorted(r for r in entry_points if users & self._closure.get(r, {r}))

    def kustomization_dir_of(self, path: str) -> str | None:
        """The nearest folder at or above a file that holds a kustomization."""
        d = posixpath.dirname(path)
        while True:
            if d in self.kustomizations:
                return d
            if not d:
                return None
            d = posixpath.dirname(d)

    def patched_elsewhere(self, directory: str, kind: str, name: str) -> bool:
        """Whether the kustomization changes ``kind``/``name`` with a patch we do not edit in
        place (inline `patch:` text, JSON 6902 patches): an edit below it could be overridden."""
        return patches_target(self.kustomizations.get(directory) or {}, kind, name)

    def patch_files(self, directory: str) -> list[tuple[str, JSON | None]]:
        """Strategic-merge patch files of a kustomization: (repo path, target selector)."""
        k = self.kustomizations.get(directory) or {}
        out: list[tuple[str, Any]] = []
        for p in k.get("patches") or []:
            if isinstance(p, dict) and isinstance(p.get("path"), str):
                out.append((posixpath.normpath(posixpath.join(directory, p["path"])),
                            p.get("target")))
        for p in k.get("patchesStrategicMerge") or []:
            if isinstance(p, str):
                out.append((posixpath.normpath(posixpath.join(directory, p)), None))
        return out
