"""The user documentation as tests read it: the README and every page of the site (docs/)."""

from __future__ import annotations

from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def pages() -> list[Path]:
    """README.md, then docs/**/*.md in a stable order."""
    return [ROOT / "README.md", *sorted((ROOT / "docs").rglob("*.md"))]


def text() -> str:
    """All of it, one page after the other (a promise may move between pages, not vanish)."""
    return "\n".join(p.read_text(encoding="utf-8") for p in pages())
