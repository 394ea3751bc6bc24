"""Files written byte for byte (line endings chosen) and the changed lines of a diff."""

from __future__ import annotations

from pathlib import Path


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
