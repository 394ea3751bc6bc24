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

from ..kernel import turns
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
    renders actually run. Safe across threads: a render asked while another thread makes the
    same one waits for it (see kernel/turns), so it is still made once."""

    def __init__(self, root: Path) -> None:
        self.root = root
        self.made = 0
        self._done: dict[str, Rendered | kustomize.RenderError] = {}
        self._making: dict[str, threading.Event] = {}
        self._lock = threading.Lock()

    def with_origins(self, directory: str, top: dict[str, Any] | None = None) -> Rendered:
        key = json.dumps([directory, top or {}], sort_keys=True, default=str)
        while True:
            with self._lock:
                done = self._done.get(key)
                making = self._making.get(key) if done is None else None
                if done is None and making is None:
                    self._making[key] = threading.Event()
            if done is not None or making is None:
                break
            with turns.waiting():
                making.wait()
        if done is None:
            try:
                done = render(self.root, directory, top)
            except kustomize.RenderError as exc:
                done = exc
            finally:
                with self._lock:
                    self.made += 1
                    if done is not None:
                        self._done[key] = done
                    self._making.pop(key).set()  # an unexpected error: the next one retries
        if isinstance(done, kustomize.RenderError):
            raise kustomize.RenderError(str(done))
        return done

    def objects(self, directory: str, top: dict[str, Any] | None = None) -> list[dict[str, Any]]:
        return [obj for obj, _ in self.with_origins(directory, top)]
