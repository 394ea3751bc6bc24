"""The kustomize renders of one pass, each made once and shared by locate and the gate.

A plan never writes to its repository, so within a pass a folder rendered with the same fields
on top renders the same: locate's render (with origin annotations) is the gate's "before", and
the other overlays that read an edited file are rendered once for every incident that edits it.
A ``Renders`` lives for one pass only (the next pass may see a new commit): it is keyed by
folder and fields, not by content, and must not outlive the tree it was made for.

The gate's "after" renders, of a scratch view with the change, are never cached: ``objects``
renders them the same way (through the origin wrapper, annotations removed), so before and
after differ only by the change.
"""

from __future__ import annotations

import json
import threading
from pathlib import Path
from typing import Any

from . import kustomize

Rendered = list[tuple[dict[str, Any], Path | None]]


def render(root: Path, directory: str, top: dict[str, Any] | None = None) -> Rendered:
    """``directory`` of ``root`` rendered with ``top`` on top, each object with its origin file
    (uncached)."""
    return kustomize.build_with_origins(root / directory, directory or ".", top or None, root)


def objects(root: Path, directory: str, top: dict[str, Any] | None = None) -> list[dict[str, Any]]:
    """The objects of ``render`` (uncached): what a scratch view renders after a change."""
    return [obj for obj, _ in render(root, directory, top)]


class Renders:
    """Renders of the unchanging tree at ``root``, made once per folder and fields on top.
    A failed render is remembered too (it fails the same way again). ``made`` counts the
    renders actually run."""

    def __init__(self, root: Path) -> None:
        self.root = root
        self.made = 0
        self._done: dict[str, Rendered | kustomize.RenderError] = {}
        self._lock = threading.Lock()

    def with_origins(self, directory: str, top: dict[str, Any] | None = None) -> Rendered:
        key = json.dumps([directory, top or {}], sort_keys=True, default=str)
        with self._lock:
            done = self._done.get(key)
        if done is None:
            try:
                done = render(self.root, directory, top)
            except kustomize.RenderError as exc:
                done = exc
            with self._lock:
                self.made += 1
                self._done[key] = done
        if isinstance(done, kustomize.RenderError):
            raise kustomize.RenderError(str(done))
        return done

    def objects(self, directory: str, top: dict[str, Any] | None = None) -> list[dict[str, Any]]:
        return [obj for obj, _ in self.with_origins(directory, top)]
