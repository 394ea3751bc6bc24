"""One finding of `remediator validate`, and the results of a run."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

ERROR, WARNING, NOTE = "error", "warning", "note"

#: SARIF rule ids and their one-line descriptions (policy rules are "policy/<package>")
RULES = {
    "yaml": "The file is valid, safe YAML",
    "render": "Every kustomization that reads a changed file still builds",
    "schema": "Objects are valid against the Kubernetes schema (strict)",
    "policy-error": "The policies load and evaluate (fail closed)",
}


@dataclass(frozen=True)
class Finding:
    file: str  # repo-relative, forward slashes
    line: int  # 1-based: the offending field when known, else the document's start
    object: str  # "Deployment/shop/cart" ("Kind/name" without namespace); "" for a file
    check: str  # "yaml" | "render" | "schema" | "policy"
    rule: str  # "yaml", "render", "schema", "policy-error" or "policy/<package>"
    severity: str  # "error" fails the run; "warning" (pre-existing); "note" (skipped)
    message: str

    def as_json(self) -> dict[str, Any]:
        return {"file": self.file, "line": self.line, "object": self.object,
                "check": self.check, "rule": self.rule, "severity": self.severity,
                "message": self.message}


@dataclass
class Result:
    findings: list[Finding] = field(default_factory=list)
    files: list[str] = field(default_factory=list)  # files checked
    objects: int = 0  # objects checked (plain and rendered)
    renders: list[str] = field(default_factory=list)  # kustomization folders built
    prefix: str = ""  # the repo folder inside its git work tree (github and sarif paths)
    _seen: set[tuple[str, int, str, str]] = field(default_factory=set, repr=False)

    @property
    def failed(self) -> bool:
        return any(f.severity == ERROR for f in self.findings)

    def add(self, finding: Finding) -> None:
        # an object rendered by several kustomizations is found once per render: report once
        key = (finding.file, finding.line, finding.rule, finding.message)
        if key not in self._seen:
            self._seen.add(key)
            self.findings.append(finding)

    def count(self, severity: str) -> int:
        return sum(1 for f in self.findings if f.severity == severity)
