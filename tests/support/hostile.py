"""Hostile input, made on purpose: snapshot objects with a wrong JSON type at every field the
stages read, and the special files (FIFOs, endless devices, symlink loops, folders linked out of
the tree) that make naive readers hang or wander.

Deterministic (no randomness): a case that fails names the kind, the path and the value."""

from __future__ import annotations

import copy
import json
import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from remediator.cli.demo import example_paths

#: the wrong values tried in place of each field: text, a number, a list, an object, infinity
#: (as Python's json would read it), a lone surrogate
WRONG: tuple[Any, ...] = ("x", 5, [], {}, float("inf"), "\ud800")

Path_ = tuple[str | int, ...]


def demo_items() -> list[dict[str, Any]]:
    """The bundled demo snapshot's objects (a realistic mix of kinds and shapes)."""
    _, snapshot = example_paths()
    items: list[dict[str, Any]] = json.loads((snapshot / "cluster.json").read_text())["items"]
    return items


def _paths(node: Any, path: Path_ = ()) -> Iterator[Path_]:
    if isinstance(node, dict):
        for key, value in node.items():
            yield (*path, key)
            yield from _paths(value, (*path, key))
    elif isinstance(node, list):
        for i, value in enumerate(node[:1]):
            yield (*path, i)
            yield from _paths(value, (*path, i))


def field_paths(obj: dict[str, Any]) -> list[Path_]:
    """Every field of ``obj`` (the first item of each list), in a stable order."""
    return sorted(_paths(obj), key=str)


def first_of_each_kind(items: list[dict[str, Any]]) -> dict[str, int]:
    seen: dict[str, int] = {}
    for i, obj in enumerate(items):
        seen.setdefault(str(obj.get("kind")), i)
    return seen


def mutations(items: list[dict[str, Any]], index: int, every: int = 1
              ) -> Iterator[tuple[str, list[dict[str, Any]]]]:
    """(label, items) with one field of ``items[index]`` replaced by a WRONG value (each field
    gets the next one in turn); every ``every``-th field only, so the cases stay cheap."""
    for n, path in enumerate(field_paths(items[index])):
        if n % every:
            continue
        for wrong in (WRONG[(n // every) % len(WRONG)],):
            new = copy.deepcopy(items)
            node: Any = new[index]
            for key in path[:-1]:
                node = node[key]
            node[path[-1]] = wrong
            yield f"{items[index].get('kind')} {'.'.join(map(str, path))} = {wrong!r}", new


def deep_json(depth: int) -> str:
    """A List whose one item nests ``depth`` levels (JSON parsers recurse)."""
    return '{"kind": "List", "items": [' + '{"a": ' * depth + "1" + "}" * depth + "]}"


def fifo(path: Path) -> Path:
    """A FIFO at ``path``: size 0, and opening it for reading blocks until a writer comes."""
    path.parent.mkdir(parents=True, exist_ok=True)
    os.mkfifo(path)
    return path


def symlink_loop(folder: Path) -> Path:
    """Two links pointing at each other in ``folder`` (Path.resolve raises on 3.11)."""
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "a.yaml").symlink_to(folder / "b.yaml")
    (folder / "b.yaml").symlink_to(folder / "a.yaml")
    return folder / "a.yaml"


def snapshot(folder: Path, items: list[dict[str, Any]]) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "cluster.json").write_text(json.dumps({"apiVersion": "v1", "kind": "List",
                                                     "items": items}))
    return folder
