"""The gate's object checks (policy before/after, schema) turned into findings with lines."""

from __future__ import annotations

import copy
import functools
import posixpath
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from ..gate import PRE_EXISTING, WARN, check_policy, check_schema, policy_input
from ..kernel import yamlio
from . import positions
from .findings import ERROR, NOTE, WARNING, Finding

if TYPE_CHECKING:
    from ..config import Validation
    from ..gate import PolicyEngine
    from ..model import JSON, CheckResult
    from .findings import Result

#: apiVersions of files that configure tools rather than describe cluster objects
TOOL_GROUPS = ("kustomize.config.k8s.io/", "config.kubernetes.io/", "builtin")
_SCHEMA_NOTES = ("no schema for ", "no schemas for ")


def is_object(doc: Any) -> bool:
    """A Kubernetes object: a mapping with an apiVersion and a kind, not a kustomize config."""
    if not isinstance(doc, dict):
        return False
    api, kind = doc.get("apiVersion"), doc.get("kind")
    return bool(isinstance(api, str) and api and isinstance(kind, str) and kind
                and not api.startswith(TOOL_GROUPS))


def _meta(obj: JSON) -> JSON:
    meta = obj.get("metadata")
    return meta if isinstance(meta, dict) else {}


def label(obj: JSON) -> str:
    meta = _meta(obj)
    parts = [str(obj.get("kind", "")), str(meta.get("namespace") or ""), str(meta.get("name", ""))]
    return "/".join(p for p in parts if p)


def identity(obj: JSON) -> tuple[str, str, str, str]:
    meta = _meta(obj)
    return (str(obj.get("apiVersion", "")), str(obj.get("kind", "")),
            str(meta.get("namespace") or ""), str(meta.get("name", "")))


def match(obj: JSON, candidates: list[JSON], *, moved: bool = True) -> JSON | None:
    """The object ``obj`` was before: same apiVersion/kind/namespace/name, else (``moved``)
    the only one with the same kind and name (moved to another namespace: the policies judge
    the move)."""
    key = identity(obj)
    same = [c for c in candidates if identity(c) == key]
    if same or not moved:
        return same[0] if same else None
    others = [c for c in candidates if identity(c)[1] == key[1] and identity(c)[3] == key[3]]
    return others[0] if len(others) == 1 else None


def without_secret_values(obj: JSON) -> JSON:
    """Secret values are never judged or echoed: schema messages may quote a value."""
    if obj.get("kind") != "Secret":
        return obj
    obj = copy.deepcopy(obj)
    for key in ("data", "stringData"):
        if isinstance(obj.get(key), dict):
            obj[key] = {k: "" for k in obj[key]}
    return obj


@dataclass
class SourceFile:
    """A YAML file `validate` checks: its documents, and their nodes for line numbers."""

    path: str
    documents: list[Any]
    text: str = ""

    @classmethod
    def load(cls, root: Path, path: str) -> SourceFile:
        """Raises yamlio.UnsafeYAML (with the line when the YAML is malformed) or OSError."""
        text = yamlio.read_text(root, path)
        return cls(path, yamlio.load_documents(text, path), text)

    @functools.cached_property
    def composed(self) -> list[positions.Document]:
        """The documents' nodes, composed when a finding first needs a line: a clean file
        never does, and composing every file again took about half the time of reading it."""
        return positions.documents(self.text)

    def index_of(self, obj: JSON) -> int | None:
        """The document of this file a rendered ``obj`` comes from: the same kind and name,
        else the one of that kind whose name a `namePrefix` / `nameSuffix` extends (kustomize's
        origin annotation names the file, not the document): the longest such name."""
        kind, name = identity(obj)[1], identity(obj)[3]
        names = {i: identity(d)[3] for i, d in enumerate(self.documents)
                 if isinstance(d, dict) and identity(d)[1] == kind}
        exact = [i for i, n in names.items() if n == name]
        if exact:
            return exact[0]
        affixed = sorted((i for i, n in names.items() if n and n in name),
                         key=lambda i: len(names[i]), reverse=True)
        if len(affixed) > 1 and len(names[affixed[0]]) == len(names[affixed[1]]):
            return None  # two documents fit as well: no line rather than the wrong one
        return affixed[0] if affixed else None

    def line_of(self, obj: JSON, message: str, index: int | None = None) -> int:
        """The line of the field ``message`` is about, in the document for ``obj``."""
        if index is None:
            index = self.index_of(obj)
        path = positions.message_path(message)
        if index is None and self.composed and path:
            # a kustomization or patch that does not hold the object: its setting of the same
            # name (`namespace:` for metadata.namespace), else where the document starts
            last = [p for p in positions.path_parts(path) if isinstance(p, str)][-1:]
            return positions.field_line(self.composed[0], last[0]) if last else 1
        if index is None or index >= len(self.composed):
            return 1
        return positions.field_line(self.composed[index], path)


class ObjectChecker:
    """Runs the gate's policy and schema checks on objects and records findings."""

    def __init__(self, engine: PolicyEngine, settings: Validation, result: Result, root: Path):
        self.engine = engine
        self.settings = settings
        self.result = result
        self.schema_locations = [root / p for p in settings.schema_locations]

    def check(self, after: JSON, before: JSON | None, source: SourceFile,
              index: int | None = None) -> None:
        after = without_secret_values(after)
        before = without_secret_values(before) if before is not None else None
        self.result.objects += 1
        policy = check_policy(self.engine, before, after)
        schema = check_schema(after, self.settings.kubernetes_version, before,
                              self.schema_locations)
        rules = self._rules(before, after) if policy.messages else {}
        for check in (policy, schema):
            for message in check.messages:
                self._add(check, message, after, source, index, rules)

    def _add(self, check: CheckResult, message: str, obj: JSON, source: SourceFile,
             index: int | None, rules: dict[str, str]) -> None:
        text = message.removeprefix(PRE_EXISTING).removeprefix(WARN) if check.name == "policy" \
            else message
        if check.name == "policy" and message.startswith((PRE_EXISTING, WARN)):
            severity = WARNING
        elif check.name == "schema" and message.startswith(_SCHEMA_NOTES):
            severity = NOTE
        else:
            severity = ERROR
        if check.name == "policy":
            rule = "policy-error" if text.startswith("policy error:") else rules.get(
                text, "policy")
        else:
            rule = check.name
        self.result.add(Finding(source.path, source.line_of(obj, text, index), label(obj),
                                check.name, rule, severity, message))

    def _rules(self, before: JSON | None, after: JSON) -> dict[str, str]:
        """The rule id of each message (``policy/<package>``, ``conftest/<namespace>``); every
        reported message is one of ``after``'s (a pre-existing one is in both)."""
        return self.engine.evaluate(policy_input(before, after)).rules


def chart_folders(paths: list[str]) -> set[str]:
    """Folders of Helm charts (a Chart.yaml): templates and values there are not objects."""
    return {posixpath.dirname(p) for p in paths if posixpath.basename(p) == "Chart.yaml"}


def not_manifest(path: str, charts: set[str]) -> bool:
    """Files that are not Kubernetes manifests and are not read at all: anything in a hidden
    folder or hidden file (.github workflows, .remediator.yaml, .pre-commit-config.yaml)
    and everything in a Helm chart."""
    if any(part.startswith(".") for part in path.split("/")):
        return True
    return any(c == "" or path.startswith(c + "/") for c in charts)
