"""Verify: after merge, did the fix reconcile and did the workload recover? (see ``merged``)

``revisions``: the git revisions a workload's Argo CD / Flux owner last synced; ``merged``: for
each merged remediation PR, ``waiting`` (not on the base branch or not synced yet), ``cleared``
or ``persists``. The stage judges from plain data and writes nothing: the forge posts the
outcome.
"""

from __future__ import annotations

from .merged import History, verify_merged
from .revisions import synced_revisions

__all__ = ["History", "synced_revisions", "verify_merged"]
