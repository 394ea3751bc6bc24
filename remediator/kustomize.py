"""Rendering kustomizations with the real tool (`kustomize build` or `kubectl kustomize`).

Origin annotations are requested through a throw-away wrapper kustomization in a temporary folder
that points at the target with a relative path, so the user's tree is never written to.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import tempfile
from functools import lru_cache
from pathlib import Path
from typing import Any

from . import yamlio

ORIGIN_ANNOTATION = "config.kubernetes.io/origin"
KUSTOMIZATION_FILES = ("kustomization.yaml", "kustomization.yml", "Kustomization")
TIMEOUT_SECONDS = 60


class RenderError(RuntimeError):
    """The kustomization did not render (or no renderer is installed); one-line message."""


@lru_cache(maxsize=1)
def renderer() -> list[str] | None:
    """The command that renders a kustomization directory, or None when none is installed."""
    if shutil.which("kustomize"):
        return ["kustomize", "build"]
    if shutil.which("kubectl"):
        return ["kubectl", "kustomize"]
    return None


def _run(target: Path, cwd: str, label: str, outside: bool = False) -> str:
    cmd = renderer()
    if cmd is None:
        raise RenderError(
            "cannot render kustomizations: neither kustomize nor kubectl is installed")
    try:
        proc = subprocess.run(
            [*cmd, str(target),
             *(["--load-restrictor=LoadRestrictionsNone"] if outside else [])],
            capture_output=True,
            text=True,
            timeout=TIMEOUT_SECONDS,
            check=False,
            cwd=cwd,
        )
    except subprocess.TimeoutExpired:
        raise RenderError(f"rendering {label} timed out") from None
    if proc.returncode != 0:
        lines = [ln for ln in proc.stderr.strip().splitlines() if ln.strip()]
        reason = lines[-1] if lines else f"exit code {proc.returncode}"
        if "err=" in reason:
            reason = reason.split("err=", 1)[1].strip('"')
        raise RenderError(f"kustomize build of {label} failed: {reason}")
    return proc.stdout


def _objects(text: str, label: str) -> list[dict[str, Any]]:
    try:
        docs = yamlio.load_documents(text, f"render of {label}")
    except yamlio.UnsafeYAML as exc:
        raise RenderError(str(exc)) from None
    return [d for d in docs if isinstance(d, dict)]


def _wrapper(directory: Path, tmp: str, top: dict[str, Any] | None, origins: bool) -> bool:
    """Write the throw-away kustomization that renders ``directory`` with ``top`` (the fields a
    GitOps tool adds on top of it) into ``tmp``. Paths in ``top`` are relative to ``directory``,
    as the tool reads them; they are rewritten relative to the wrapper. Returns whether files
    outside the wrapper are loaded (then the load restrictor must allow it)."""
    fields: dict[str, Any] = {"resources": [os.path.relpath(directory, tmp)]}
    outside = False
    for key, value in (top or {}).items():
        if key == "components":
            value = [os.path.relpath(directory / str(c), tmp) for c in value]
        elif key == "patches":
            value = [dict(p) for p in value if isinstance(p, dict)]
            for p in value:
                if isinstance(p.get("path"), str):
                    p["path"] = os.path.relpath(directory / p["path"], tmp)
                    outside = True
        fields[key] = value
    if origins:
        fields["buildMetadata"] = ["originAnnotations"]
    Path(tmp, "kustomization.yaml").write_text(json.dumps(fields, indent=1), encoding="utf-8")
    return outside


def build(directory: Path, label: str = "", top: dict[str, Any] | None = None
          ) -> list[dict[str, Any]]:
    """Render ``directory`` (with ``top`` added on top of it, if given) and return its
    objects."""
    directory = directory.resolve()
    label = label or directory.name
    with tempfile.TemporaryDirectory(prefix="remediator-kustomize-") as tmp:
        if not top:
            return _objects(_run(directory, tmp, label), label)
        outside = _wrapper(directory, tmp, top, origins=False)
        return _objects(_run(Path(tmp), tmp, label, outside), label)


def build_with_origins(
    directory: Path, label: str = "", top: dict[str, Any] | None = None
) -> list[tuple[dict[str, Any], Path | None]]:
    """Render ``directory`` (with ``top`` on top); each object comes with the absolute path of
    the file it came from (None when it was generated or came from a remote base). The origin
    annotation is removed."""
    directory = directory.resolve()
    label = label or directory.name
    with tempfile.TemporaryDirectory(prefix="remediator-kustomize-") as tmp:
        outside = _wrapper(directory, tmp, top, origins=True)
        objects = _objects(_run(Path(tmp), tmp, label, outside), label)
        out: list[tuple[dict[str, Any], Path | None]] = []
        for obj in objects:
            out.append((strip_build_annotations(obj), _origin(obj, Path(tmp))))
    return out


def _origin(obj: dict[str, Any], base: Path) -> Path | None:
    ann = ((obj.get("metadata") or {}).get("annotations") or {}).get(ORIGIN_ANNOTATION)
    if not ann:
        return None
    try:
        docs = yamlio.load_documents(ann)
    except yamlio.UnsafeYAML:
        return None
    data = docs[0] if docs else None
    if not isinstance(data, dict) or "repo" in data or not data.get("path"):
        return None
    return Path(os.path.normpath(base / str(data["path"])))


def strip_build_annotations(obj: dict[str, Any]) -> dict[str, Any]:
    meta = obj.get("metadata") or {}
    ann = meta.get("annotations")
    if isinstance(ann, dict) and ORIGIN_ANNOTATION in ann:
        ann = {k: v for k, v in ann.items() if k != ORIGIN_ANNOTATION}
        meta = {**meta}
        if ann:
            meta["annotations"] = ann
        else:
            meta.pop("annotations", None)
        obj = {**obj, "metadata": meta}
    return obj
