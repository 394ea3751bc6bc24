"""Rewrite docs/configuration.md from the settings declarations (remediator.config.reference)."""

from __future__ import annotations

from pathlib import Path

from remediator.config.reference import PAGE, render

if __name__ == "__main__":
    target = Path(__file__).resolve().parent.parent / PAGE
    target.write_text(render(), encoding="utf-8")
    print(f"wrote {target}")
