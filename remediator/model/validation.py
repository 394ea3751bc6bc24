"""The gate's results: one check (policy, schema, render, post-condition, dry-run) and the
validation of a change, made of them.

Apart from ``outcome`` because `remediator validate` builds check results and nothing else of a
pass: it should not build the pass's dataclasses (``model`` loads each module on first use).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from .jsontype import JSON


@dataclass
class CheckResult:
    """The outcome of one of the gate's checks, with its messages."""

    name: str  # "policy" | "schema" | "render" | "post-condition" | "dry-run"
    passed: bool
    messages: list[str] = field(default_factory=list)
    ran: bool = True  # False: not run (e.g. no cluster for dry-run): never counts as passed

    def as_json(self) -> JSON:
        out: JSON = {"name": self.name, "passed": self.passed, "messages": list(self.messages)}
        if not self.ran:
            out["ran"] = False
        return out


@dataclass
class Validation:
    """The gate's checks of one change; it passes when every check that ran passed."""

    checks: list[CheckResult] = field(default_factory=list)

    @property
    def passed(self) -> bool:
        return all(c.passed for c in self.checks if c.ran) and any(c.ran for c in self.checks)

    def as_json(self) -> JSON:
        return {"passed": self.passed, "checks": [c.as_json() for c in self.checks]}
