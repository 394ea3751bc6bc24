"""conftest-compatible policies: a repository's existing conftest policy folder, read the way
conftest reads it (``validation.conftest``).

What conftest does, and so what we do:

- ``input`` is the object itself (not our ``{"before", "after", ...}`` document);
- in each namespace (``--namespace``, default ``main``; ``--all-namespaces``: every package of the
  conftest files), rules named ``deny``, ``violation``, ``deny_<x>`` or ``violation_<x>`` are
  failures and ``warn``/``warn_<x>`` are warnings;
- a result is a message string, or an object with a string ``msg`` (``violation`` rules return
  such objects; the other keys are metadata);
- ``exception`` (a set of lists of rule names) exempts the rules it names for this input:
  ``"foo"`` exempts ``deny_foo``, ``violation_foo`` and ``warn_foo``; ``""`` the unsuffixed ones;
- ``--data`` files (YAML or JSON, folders searched) are merged at the root of ``data``;
- the Rego may be v1 or v0 (``deny[msg] { ... }``, what conftest before v0.56 read): each file is
  parsed as v1, and as v0 when v1 refuses it.

Where we are stricter (fail closed): a failure or warning rule that is not a set (conftest
ignores ``deny := true``: a rule that can never fail) and a result object without a string
``msg`` are policy errors.
"""

from __future__ import annotations

import os
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from ..kernel import yamlio

if TYPE_CHECKING:
    from ..model import JSON
    from ..model.settings import Conftest

FAILURE = re.compile(r"^(deny|violation)(_[a-zA-Z0-9]+)*$")
WARNING = re.compile(r"^warn(_[a-zA-Z0-9]+)*$")
#: what regorus says about v0 syntax read as v1: the file is v0, show the v0 parser's error
V0_HINTS = ("`if` keyword is required", "`contains` keyword is required")
DATA_SUFFIXES = (".yaml", ".yml", ".json")


@dataclass(frozen=True)
class Namespaces:
    """Which packages of the conftest files are evaluated."""

    names: tuple[str, ...] = ("main",)
    all: bool = False

    def select(self, packages: set[str]) -> list[str]:
        """The evaluated packages among those the conftest files declare."""
        return sorted(packages) if self.all else [p for p in self.names if p in packages]

    def errors(self, packages: set[str]) -> list[str]:
        """A selected namespace no conftest file declares (a typo would silently check
        nothing): one policy error each, when there are conftest files at all."""
        if self.all or not packages:
            return []
        return [f"policy error: validation.conftest.namespaces: no conftest policy declares "
                f"package {name} (packages: {', '.join(sorted(packages))})"
                for name in self.names if name not in packages]


#: conftest's default: the `main` namespace
MAIN = Namespaces()


def namespaces_of(settings: Conftest) -> Namespaces:
    return Namespaces(tuple(settings.namespaces), settings.all_namespaces)


@dataclass
class Reading:
    """What one conftest namespace says of an object: its failures, warnings and errors."""

    failures: list[str] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)


def _suffix(rule: str) -> str:
    """The name an exception uses for a rule: "foo" for deny_foo, "" for deny."""
    _, _, rest = rule.partition("_")
    return rest


def _exempted(document: JSON) -> set[str]:
    names: set[str] = set()
    value = document.get("exception")
    for entry in value if isinstance(value, list) else []:
        for name in entry if isinstance(entry, list) else [entry]:
            if isinstance(name, str):
                names.add(name)
    return names


def read(namespace: str, document: Any) -> Reading:
    """conftest's failures and warnings in one namespace's document (``data.<namespace>``
    evaluated for the object); None or a non-object: nothing is defined there."""
    out = Reading()
    if not isinstance(document, dict):
        return out
    exempt = _exempted(document)
    for rule in sorted(document):
        failure = FAILURE.match(rule) is not None
        if not failure and WARNING.match(rule) is None:
            continue
        value = document[rule]
        if isinstance(value, dict):
            continue  # a package nested under this one, not a rule
        where = f"package {namespace}: {rule}"
        if not isinstance(value, list):
            out.errors.append(f"policy error: {where} must be a set of messages, not "
                              f"{type(value).__name__} (conftest ignores it: it can never fail)")
            continue
        if _suffix(rule) in exempt:
            continue
        for item in value:
            if isinstance(item, dict):
                item = item.get("msg")
            if not isinstance(item, str):
                out.errors.append(f"policy error: {where}: a result is neither a message nor an "
                                  f"object with a string msg")
                continue
            (out.failures if failure else out.warnings).append(item)
    return out


# ------------------------------------------------------------------------------------- data


class DataError(ValueError):
    """A conftest data file cannot be used (one line)."""


def _merge(into: JSON, doc: JSON, where: str, path: str = "") -> None:
    for key, value in doc.items():
        here = f"{path}.{key}" if path else str(key)
        if isinstance(into.get(key), dict) and isinstance(value, dict):
            _merge(into[key], value, where, here)
        elif key in into:
            raise DataError(f"{where}: data.{here} is also set by another data file")
        else:
            into[key] = value


def _data_files(root: Path, rel: str) -> list[str]:
    target = root / rel
    if not target.is_dir():
        return [rel]
    out = []
    for dirpath, dirnames, filenames in os.walk(target, followlinks=False):
        dirnames[:] = sorted(d for d in dirnames if d not in yamlio.SKIP_DIRS)
        out += [(Path(dirpath) / f).relative_to(root).as_posix() for f in filenames
                if f.endswith(DATA_SUFFIXES)]
    return sorted(out)


def load_data(repo_root: Path, paths: list[str]) -> JSON:
    """The conftest data files merged at the root of ``data``; raises DataError."""
    data: JSON = {}
    root = repo_root.resolve()
    for rel in paths:
        for name in _data_files(root, rel):
            try:
                docs = yamlio.load_documents(yamlio.read_text(root, name), name)
            except (OSError, yamlio.UnsafeYAML) as exc:
                raise DataError(f"{name}: cannot read conftest data: {exc}") from None
            for doc in docs:
                if doc is None:
                    continue
                if not isinstance(doc, dict):
                    raise DataError(f"{name}: conftest data must be a mapping")
                _merge(data, doc, name)
    return data
