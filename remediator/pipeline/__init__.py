"""The flow, composed (`flow`): cluster state → detect → locate → draft → edit → gate, then
forge, and verify once merged; and the usage side (`usage`): metrics for usage-aware fixes,
CPUThrottling and right-sizing (`rightsize`)."""

from __future__ import annotations

from ..forge import Submission
from ..model import Verification
from .flow import (
    Bounds,
    Plan,
    PlanMemo,
    oldest_first,
    plan,
    remediate,
    submit,
    verify,
)

__all__ = [
    "Bounds",
    "Plan",
    "PlanMemo",
    "Submission",
    "Verification",
    "oldest_first",
    "plan",
    "remediate",
    "submit",
    "verify",
]
