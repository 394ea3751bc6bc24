"""Where policies come from: the built-in set and the repo's own files.

Built-in: the ``*.rego`` files of the bundled ``policies`` folder, named ``builtin/<file>`` in
messages. Repo: ``validation.policies`` entries, repo-relative ``.rego`` files or folders (searched
recursively), read with the same safety rules as every other repo file (nothing outside the
repository). ``*_test.rego`` files are only loaded to run tests.
"""

from __future__ import annotations

import functools
import os
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path

from ..kernel import yamlio
from ..kernel.bundled import bundled


@dataclass(frozen=True)
class PolicySource:
    """One Rego file to load: its name in messages and its text."""

    name: str  # how messages name the file: "builtin/security.rego" or a repo-relative path
    text: str
    #: a conftest policy (``validation.conftest``): read as v1 Rego, else v0; its packages are
    #: evaluated only when selected as conftest namespaces
    conftest: bool = False


def is_test_file(name: str) -> bool:
    return name.endswith("_test.rego")


@functools.lru_cache(maxsize=2)
def builtin_sources(include_tests: bool = False) -> tuple[PolicySource, ...]:
    folder = bundled("policies")
    return tuple(
        PolicySource(f"builtin/{p.name}", p.read_text(encoding="utf-8"))
        for p in sorted(folder.glob("*.rego"))
        if include_tests or not is_test_file(p.name)
    )


def _rego_files(root: Path, rel: str) -> list[str]:
    """Repo-relative .rego files in folder rel, sorted, without following symlinked folders."""
    out = []
    for dirpath, dirnames, filenames in os.walk(root / rel, followlinks=False):
        dirnames[:] = sorted(d for d in dirnames if d not in yamlio.SKIP_DIRS)
        out += [(Path(dirpath) / f).relative_to(root).as_posix() for f in filenames]
    return sorted(f for f in out if f.endswith(".rego"))


def repo_sources(
    repo_root: Path, paths: Sequence[str], *, include_tests: bool = False, conftest: bool = False
) -> tuple[list[PolicySource], list[str]]:
    """The repo's policy files (paths relative to repo_root) and one error per unusable path."""
    sources: list[PolicySource] = []
    errors: list[str] = []
    root = repo_root.resolve()
    for rel in paths:
        target = (repo_root / rel).resolve()
        if not target.is_relative_to(root):
            errors.append(f"{rel}: refused: policy path resolves outside the repository")
            continue
        if not target.exists():
            errors.append(f"{rel}: policy path does not exist")
            continue
        if target.is_dir():
            files = _rego_files(root, target.relative_to(root).as_posix())
            if not files:
                errors.append(f"{rel}: no .rego files in this policy folder")
        elif target.is_file() and target.name.endswith(".rego"):
            files = [target.relative_to(root).as_posix()]
        else:
            errors.append(f"{rel}: policy path is neither a .rego file nor a folder")
            continue
        for name in files:
            if is_test_file(name) and not include_tests:
                continue
            try:
                sources.append(PolicySource(name, yamlio.read_text(root, name), conftest))
            except (OSError, yamlio.UnsafeYAML) as exc:
                errors.append(f"{name}: cannot read policy: {exc}")
    return sources, errors


def file_sources(paths: Iterable[Path], *, include_tests: bool = True) -> list[PolicySource]:
    """Policy files given on the command line (files or folders), named as given."""
    out = []
    for path in paths:
        files = sorted(path.rglob("*.rego")) if path.is_dir() else [path]
        out += [
            PolicySource(p.as_posix(), p.read_text(encoding="utf-8"))
            for p in files
            if include_tests or not is_test_file(p.name)
        ]
    return out
