"""Files shipped with remediator: the built-in policies and the example GitOps repo.

A wheel carries them under ``remediator/_bundled/``; a source checkout (editable install) has them
at the top of the project. Both are looked up so the demo works either way.
"""

from __future__ import annotations

from pathlib import Path

_PACKAGE = Path(__file__).resolve().parent.parent


def bundled(name: str) -> Path:
    """Path of a bundled top-level folder such as ``policies`` or ``gitops-repo-example``."""
    for candidate in (_PACKAGE / "_bundled" / name, _PACKAGE.parent / name):
        if candidate.exists():
            return candidate
    raise FileNotFoundError(f"bundled data {name!r} is missing from this installation")
