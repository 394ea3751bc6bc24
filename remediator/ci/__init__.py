"""`remediator validate`: the gate's checks on a GitOps repository, for CI and pre-commit.

Composed from the gate (policies, schema), ``kustomize`` (render) and ``yamlio`` (safe YAML),
like ``pipeline``. See ``run`` for which files and objects are checked, ``report`` for the
output formats.
"""

from .changes import UsageError
from .findings import Finding, Result
from .report import FORMATS, render_report
from .run import validate

__all__ = ["FORMATS", "Finding", "Result", "UsageError", "render_report", "validate"]
