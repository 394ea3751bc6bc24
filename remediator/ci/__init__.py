"""`remediator validate`: the gate's checks on a GitOps repository, for CI and pre-commit.

Composed from the gate (policies, schema), ``kustomize`` (render) and ``yamlio`` (safe YAML),
like ``pipeline``. See ``run`` for which files and objects are checked, ``report`` for the
output formats.
"""

from .findings import Finding, Result
from .report import FORMATS, render_report
from .run import validate
from .usage import UsageError

__all__ = ["FORMATS", "Finding", "Result", "UsageError", "render_report", "validate"]
