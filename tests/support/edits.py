"""Files written byte for byte (line endings chosen), the changed lines of a diff, and the
edit stage's shared fixture (a commented multi-document file) with its one-call `edit`."""

from __future__ import annotations

import io
from pathlib import Path
from typing import Any

from ruamel.yaml import YAML

from remediator.edit import apply_edits
from remediator.model import DocumentEdit, DocumentRef, FileChange


def write(root: Path, rel: str, text: str, newline: str = "\n") -> Path:
    path = root / rel
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(text.replace("\n", newline).encode("utf-8"))
    return path


def changed_lines(diff: str) -> list[str]:
    """The -/+ lines of a unified diff, headers excluded."""
    return [
        line
        for line in diff.split("\n")
        if line[:1] in ("+", "-") and not line.startswith(("--- ", "+++ "))
    ]


# A commented, multi-document file with quotes, 4-space indentation and sequences whose dash sits
# at the parent's column with the content 4 columns in ("-   name").
CART = """\
# Cart service, owned by team-shop.
# Do not edit by hand on Fridays.
---
apiVersion: v1
kind: ConfigMap
metadata:
    name: cart-config   # read at start-up
data:
    LOG_LEVEL: 'info'
---
apiVersion: apps/v1
kind: Deployment
metadata:
    name: cart
    labels:
        app: cart   # the app label
spec:
    replicas: 2
    template:
        spec:
            containers:
            -   name: cart
                image: "ghcr.io/shop/cart:1.7.3"   # pinned
                args: ["--port", "8080"]
                resources:
                    limits:
                        memory: 128Mi   # too small?
                    requests:
                        cpu: 100m

            # volumes below
            volumes: []
...
---
apiVersion: v1
kind: Service
metadata:
    name: cart
spec:
    ports:
    -   port: 80
"""

MEMORY = "/spec/template/spec/containers/0/resources/limits/memory"


def edit(root: Path, rel: str, ops: list[dict[str, Any]], index: int = 0) -> FileChange:
    changes = apply_edits(root, [DocumentEdit(DocumentRef(rel, index), ops)])
    assert len(changes) == 1
    return changes[0]


def load_all(text: str, version: tuple[int, int] | None = None) -> list[Any]:
    yaml = YAML(typ="safe", pure=True)
    if version:
        yaml.version = version
    return list(yaml.load_all(io.StringIO(text)))
