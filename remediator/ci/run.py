"""`remediator validate`: the gate's checks on a GitOps repository's files, for CI.

Which files: the given paths (files or folders), else the files changed since a base ref, else
every YAML file of the repository. What is checked:
- every YAML file read: it must parse (malformed YAML is reported with its line);
- every Kubernetes object in it (a mapping with apiVersion and kind) that is not read through a
  kustomization: policies (before vs after) and strict schema;
- every kustomization that reads a checked, changed or deleted file must still build; in the
  renders that are deployed (roots, and folders an Argo CD Application or Flux Kustomization
  points at), the objects rendered from those files (or all objects the change alters, when the
  change is to the kustomization itself or one of its patches) are checked like plain ones.
Kustomization files, patches and other kustomize inputs, Helm charts, hidden files and folders
(.github, .remediator.yaml) and documents without apiVersion/kind (values files) are not
checked as objects. With a base ref, ``before`` is the object at the base, so violations that
were already there are reported as warnings and do not fail.
"""

from __future__ import annotations

import posixpath
import re
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING

from ..gate import policy_engine
from ..kernel import yamlio
from ..render import kustomize
from ..render.kustomize import KUSTOMIZATION_FILES
from . import kustomizations, positions
from .findings import ERROR, NOTE, Finding, Result
from .objects import ObjectChecker, SourceFile, chart_folders, is_object, match, not_manifest
from .usage import UsageError, inside

if TYPE_CHECKING:
    from ..config import Config
    from ..model import JSON
    from .kustomizations import Kustomization


def _is_yaml(path: str) -> bool:
    return path.endswith(yamlio.YAML_SUFFIXES) or posixpath.basename(path) in KUSTOMIZATION_FILES


def _expand(root: Path, paths: Sequence[Path]) -> set[str]:
    out: set[str] = set()
    for path in paths:
        rel = inside(root, path)
        if (root / rel).is_dir():
            out |= {posixpath.join(rel, p) if rel else p
                    for p, _ in yamlio.iter_yaml_paths(root / rel)}
        else:
            out.add(rel)
    return out


def _unparsed(root: Path, path: str, message: str) -> tuple[str, str]:
    """How a file that does not parse is reported: an error, unless it is plainly not a YAML
    manifest at all: no top-level `apiVersion:` / `kind:` (mkdocs.yml, an app's own config with
    its custom tags), or a template (Jinja, Ansible) that only its engine turns into YAML."""
    if not message.startswith("invalid YAML"):
        return ERROR, message  # refused (a bomb, too big, not UTF-8): always an error
    try:
        text = yamlio.read_text(root, path)
    except (yamlio.UnsafeYAML, OSError):
        return ERROR, message
    why = yamlio.not_a_manifest(text)
    if why == yamlio.NO_API:
        return NOTE, f"not a Kubernetes manifest (no apiVersion/kind) and not YAML that " \
                     f"parses ({message}): not checked"
    if why == yamlio.TEMPLATE:
        return NOTE, f"a template for another tool ({{{{ }}}} / {{% %}}), not YAML until " \
                     f"rendered ({message}): not checked"
    return ERROR, message


def _under(path: str, folders: set[str]) -> bool:
    return any(not f or path == f or path.startswith(f + "/") for f in folders)


class Validator:
    def __init__(self, root: Path, config: Config, base: Path | None):
        self.root = root.resolve()
        self.base = base  # the repository at the base ref, when there is one
        self.result = Result()
        engine = policy_engine(config.validation, root)
        self.checker = ObjectChecker(engine, config.validation, self.result, self.root)
        self.sources: dict[str, SourceFile | None] = {}
        self._base_objects: dict[str, list[JSON]] | None = None

    def source(self, path: str) -> SourceFile | None:
        """The parsed file (None when it does not parse: reported once, with its line)."""
        if path not in self.sources:
            try:
                self.sources[path] = SourceFile.load(self.root, path)
            except (yamlio.UnsafeYAML, OSError) as exc:
                text = str(exc) if isinstance(exc, yamlio.UnsafeYAML) else f"{path}: {exc}"
                # the finding carries file and line: the message says the rest
                message = re.sub(rf"^{re.escape(path)}:(?: line \d+:)? ", "", text)
                severity, message = _unparsed(self.root, path, message)
                self.result.add(Finding(path, positions.error_line(text), "", "yaml", "yaml",
                                        severity, message))
                self.sources[path] = None
        return self.sources[path]

    def before(self, path: str, obj: JSON) -> JSON | None:
        """``obj`` at the base: in the same file (where a move to another namespace is seen),
        else the same object anywhere in the repository (a file renamed or split)."""
        if self._base_objects is None:
            self._base_objects = {}
            if self.base is not None:
                for f in yamlio.scan_repo(self.base).files:
                    self._base_objects[f.path] = [d for d in f.documents if is_object(d)]
        return match(obj, self._base_objects.get(path, [])) or match(
            obj, [o for objs in self._base_objects.values() for o in objs], moved=False)

    def check_file(self, path: str) -> None:
        source = self.source(path)
        if source is None:
            return
        for index, doc in enumerate(source.documents):
            if is_object(doc):
                self.checker.check(doc, self.before(path, doc), source, index)

    def render(self, k: Kustomization, targets: set[str], touched: set[str],
               judged: bool) -> set[str]:
        """Build one kustomization and, when it is ``judged`` (deployed as it is, not only a
        base of others), check what the change gives it; the target files whose objects it
        rendered."""
        label = k.directory or "."
        if k.helm:  # kubectl kustomize inflates charts only with --enable-helm and a helm binary
            self.result.add(Finding(k.file, 1, "", "render", "render", NOTE,
                                    f"`{label}` inflates Helm charts (helmCharts): not built"))
            return set()
        try:
            rendered = kustomize.build_with_origins(self.root / k.directory, label)
        except kustomize.RenderError as exc:
            self.result.add(Finding(k.file, 1, "", "render", "render", ERROR, str(exc)))
            return set()
        self.result.renders.append(label)
        if not judged:
            return set()  # a base: its objects are judged in the overlays that deploy them
        before = self._base_render(k)
        inputs_changed = sorted(p for p in k.inputs & touched if (self.root / p).is_file())
        done: set[str] = set()
        for obj, origin in rendered:
            rel = self._relative(origin)
            if not is_object(obj):
                continue
            old = match(obj, before)
            if rel in targets:
                file = rel
            elif inputs_changed and old != obj:
                # pointed at the patch or config that changed it; a generator's data file is
                # not YAML to point into: then the kustomization that declares the generator
                pointable = [p for p in inputs_changed if p not in k.data] or [k.file]
                file = next((p for p in pointable if p != k.file), pointable[0])
            else:
                continue
            source = self.source(file)
            if source is not None:
                self.checker.check(obj, old, source)
                done.add(file)
        return done

    def _base_render(self, k: Kustomization) -> list[JSON]:
        if self.base is None or not (self.base / k.file).is_file():
            return []
        try:
            return kustomize.build(self.base / k.directory, k.directory or ".")
        except kustomize.RenderError:
            return []  # it did not build before: everything in it is new

    def _relative(self, origin: Path | None) -> str | None:
        if origin is None or not origin.is_relative_to(self.root):
            return None
        return origin.relative_to(self.root).as_posix()


def validate(root: Path, paths: Sequence[Path], config: Config,
             changed_since_ref: str | None = None) -> Result:
    """Run the checks; UsageError for a bad ref, a path outside the repo, no repository."""
    if not root.is_dir():
        raise UsageError(f"{root}: repository folder not found")
    if changed_since_ref is None:
        targets = _expand(root, paths) if paths else {p for p, _ in yamlio.iter_yaml_paths(root)}
        result = _run(Validator(root, config, None), targets, set())
    else:
        # the base commit's copy only: tempfile loads random, hashlib...; `changes` git's code
        import tempfile

        from .changes import changed_since, extract_base

        with tempfile.TemporaryDirectory(prefix="remediator-validate-") as tmp:
            changes = changed_since(root, changed_since_ref)
            selected = _expand(root, paths) if paths else None
            targets = {p for p in changes.changed if selected is None or p in selected}
            base = extract_base(root, changes, Path(tmp))
            result = _run(Validator(root, config, base), targets, changes.deleted)
    if result.findings:  # only findings' paths name it: no git process for a clean run
        from .changes import work_tree_prefix

        result.prefix = work_tree_prefix(root)
    return result


def _run(v: Validator, targets: set[str], deleted: set[str]) -> Result:
    all_yaml = [p for p, _ in yamlio.iter_yaml_paths(v.root)]
    charts = chart_folders(all_yaml)
    kusts = kustomizations.scan(v.root)
    inputs = {p for k in kusts.values() for p in k.inputs}
    resources = {p for k in kusts.values() for p in k.resources}
    touched = targets | deleted
    # a generator source is data copied as it is into a ConfigMap or Secret (an application's
    # own config, custom tags and all); unless something also reads it as YAML, it is not ours
    # to parse
    data = ({p for k in kusts.values() for p in k.data}
            - resources - {p for k in kusts.values() for p in k.inputs - k.data})
    files = sorted(p for p in targets
                   if _is_yaml(p) and not not_manifest(p, charts) and p not in data)
    v.result.files = files
    for path in files:
        v.source(path)  # parse every file: malformed YAML is reported even in kustomize inputs
    judged = kustomizations.roots(kusts) | kustomizations.deployed(v.root, all_yaml)
    rendered: set[str] = set()
    for k in sorted(kusts.values(), key=lambda k: k.directory):
        if k.component:
            continue  # built (and judged) through the kustomizations that list it
        if k.files & touched and not _under(k.directory, {c for c in charts if c}):
            rendered |= v.render(k, targets, touched, k.directory in judged)
    for path in files:
        if path in inputs or (path in resources and path in rendered):
            continue  # read through a kustomization (checked in its render)
        v.check_file(path)
    return v.result
