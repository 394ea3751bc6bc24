"""What rendering a kustomization can read: the files the gate's scratch view must hold.

The gate renders a change from a scratch view of the repository. Holding the whole tree costs
a link per file and a folder per folder for every incident, so a pass over a large repository
grows with the square of its size; the view holds instead the files the renders read, found by
following each kustomization's references (``kustomize.files_named``), with the changed
kustomization files read as changed. When that cannot be told (a Helm chart kustomize
inflates, a reference out of the repository, a kustomization that does not parse), the answer
is None and the caller copies the whole tree. A file left out by mistake makes the render fail:
the gate fails closed, it never passes a change it could not render.
"""

from __future__ import annotations

import os
import posixpath
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any

from ..kernel import yamlio
from .kustomize import KUSTOMIZATION_FILES, files_named

#: kustomization fields that make kustomize read files no reference names (charts)
_OPAQUE = ("helmCharts", "helmGlobals", "helmChartInflationGenerator")


def _inside(rel: str) -> bool:
    return rel not in ("..", "") and not rel.startswith("../") and not rel.startswith("/")


def _kustomization(root: Path, folder: str, changed: Mapping[str, str]) -> str | None:
    for name in KUSTOMIZATION_FILES:
        rel = posixpath.join(folder, name) if folder else name
        if rel in changed or (root / rel).is_file():
            return rel
    return None


def _nested(root: Path, folder: str) -> list[str]:
    """Kustomization folders below ``folder`` (a folder Flux renders file by file lists them
    as resources; they may read files elsewhere)."""
    out = []
    base = root / folder
    for dirpath, dirnames, filenames in os.walk(base):
        dirnames[:] = [d for d in dirnames if d != ".git"]
        if Path(dirpath) != base and any(f in filenames for f in KUSTOMIZATION_FILES):
            out.append(Path(dirpath).relative_to(root).as_posix())
    return out


def reads(root: Path, folders: Iterable[str], changed: Mapping[str, str] | None = None,
          on_top: Mapping[str, Mapping[str, Any]] | None = None) -> set[str] | None:
    """Repo-relative paths (a folder stands for everything under it) that rendering
    ``folders`` of ``root`` can read, with the kustomization files of ``changed`` (path ->
    new text) read as changed, and ``on_top`` (folder -> the fields a GitOps tool adds on top
    of its render, paths relative to it) as well; None when it cannot be told."""
    changed = changed or {}
    on_top = on_top or {}
    out: set[str] = set()
    queue, seen = [posixpath.normpath(f) if f else "" for f in folders], set()
    while queue:
        folder = queue.pop()
        folder = "" if folder == "." else folder
        if folder in seen:
            continue
        seen.add(folder)
        if folder and not _inside(folder):
            return None
        bodies = [dict(on_top[folder])] if folder in on_top else []
        kfile = _kustomization(root, folder, changed)
        if kfile is None:  # rendered file by file (Flux), or a folder of plain resources
            out.add(folder or ".")
            queue += _nested(root, folder)
        else:
            out.add(kfile)
            try:
                text = changed[kfile] if kfile in changed else yamlio.read_text(root, kfile)
                docs = yamlio.load_documents(text, kfile)
            except (OSError, yamlio.UnsafeYAML):
                return None
            bodies.append(docs[0] if docs and isinstance(docs[0], dict) else {})
        if any(key in body for body in bodies for key in _OPAQUE):
            return None
        references: list[str] = []
        inputs: list[str] = []
        for body in bodies:
            named = files_named(folder, body)
            references += named.references
            inputs += named.inputs
        for rel in [*references, *inputs]:
            rel = "" if rel == "." else rel
            if rel and not _inside(rel):
                return None
            if rel in references and (not rel or (root / rel).is_dir()):
                queue.append(rel)
            else:
                out.add(rel or ".")
    return out
