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


#: Per rule: help text shown by code scanning, and the security severity (GitHub's scale: 9+
#: critical, 7+ high, 4+ medium, else low) for rules about security; None for the rest.
RULE_HELP: dict[str, tuple[str, float | None]] = {
    "yaml": ("The file must parse as YAML without aliases, custom tags or duplicate keys (what "
             "the bot can read and edit safely). Fix the syntax at the reported line.", None),
    "render": ("A kustomization that reads the changed files no longer builds with `kubectl "
               "kustomize`. Run it locally in the reported folder and fix the reference.", None),
    "schema": ("The object does not match the Kubernetes schema (strict: unknown fields are "
               "errors). Custom resources are checked against the schemas of "
               "validation.schemaLocations and the bundled ones; kinds without a schema are "
               "notes.", None),
    "policy-error": ("A policy failed to load or evaluate. Policies fail closed: fix the policy "
                     "(`remediator policy test`).", None),
    "policy/security": ("No privileged containers, host namespaces, hostPath volumes, privilege "
                        "escalation or added capabilities beyond a small safe set.", 8.0),
    "policy/literals": ("A change must not add a new host, a literal credential or an "
                        "executable path to a workload's env, command or args.", 7.5),
    "policy/change": ("A change must not move an object (kind, name, namespace), weaken how "
                      "its containers run or remove their probes.", 6.0),
    "policy/images": ("Images are pinned (a tag other than latest, or a digest) and come from "
                      "the allowed registries when these are configured.", 5.0),
    "policy/resources": ("Every container has a memory limit; limits and requests stay within "
                         "the configured ceilings; requests are not above limits.", 4.0),
    "policy/replicas": ("spec.replicas stays within the configured minReplicas and "
                        "maxReplicas.", None),
}
DEFAULT_POLICY_HELP = ("A violation of this Rego policy (a rule of the repository's own "
                       "policies). See the policy's source for what it requires.")
CONFTEST_HELP = ("A deny or violation rule of the repository's conftest policies "
                 "(validation.conftest) failed for this object; warn rules are warnings. See "
                 "the policy's source for what it requires.")


@dataclass(frozen=True)
class Finding:
    """One problem `validate` reports, at a line of a file."""

    file: str  # repo-relative, forward slashes
    line: int  # 1-based: the offending field when known, else the document's start
    object: str  # "Deployment/shop/cart" ("Kind/name" without namespace); "" for a file
    check: str  # "yaml" | "render" | "schema" | "policy"
    #: "yaml", "render", "schema", "policy-error", "policy/<package>" or "conftest/<namespace>"
    rule: str
    severity: str  # "error" fails the run; "warning" (pre-existing, conftest warn); "note"
    message: str

    def as_json(self) -> dict[str, Any]:
        return {"file": self.file, "line": self.line, "object": self.object,
                "check": self.check, "rule": self.rule, "severity": self.severity,
                "message": self.message}


@dataclass
class Result:
    """What a `validate` run found and what it checked."""

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
