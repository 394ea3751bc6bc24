"""A bare origin made from the bundled example and a remediation ready to submit."""

from __future__ import annotations

from pathlib import Path

import git

from remediator.model import (
    CheckResult,
    Decision,
    DocumentEdit,
    DocumentRef,
    EventSummary,
    Evidence,
    Facts,
    FileChange,
    Incident,
    ObjectRef,
    Proposal,
    Remediation,
    Validation,
)


def make_origin(tmp_path: Path) -> Path:
    seed = tmp_path / "seed"
    seed.mkdir()
    (seed / "app.yaml").write_text("memory: 128Mi\n")
    repo = git.Repo.init(seed, initial_branch="main")
    actor = git.Actor("t", "t@example.invalid")
    repo.index.add(["app.yaml"])
    repo.index.commit("init", author=actor, committer=actor)
    origin = tmp_path / "origin.git"
    git.Repo.clone_from(seed, origin, bare=True)
    return origin


def remediation() -> Remediation:
    ev = Evidence(status=["cart-1: CrashLoopBackOff"], restarts=5,
                  events=[EventSummary("BackOff", "Back-off restarting | pipe", 12, "Pod shop/x")],
                  log_excerpt="java.lang.OutOfMemoryError\n```\npassword=[REDACTED]",
                  log_source="shop/cart-1/cart (previous)", facts=Facts(redactions=1))
    inc = Incident("prod", ObjectRef("apps/v1", "Deployment", "shop", "cart"), "OOMKilled",
                   "cart", "memory limit 128Mi -- odd", ["cart-1"], "OOMKilled", ev)
    prop = Proposal("rules", "memory limit 128Mi exceeded; raised to 192Mi", "Diagnosis text.",
                    [DocumentEdit(DocumentRef("app.yaml"), [
                        {"op": "replace", "path": "/memory", "value": "192Mi"}])],
                    [{"file": "app.yaml", "field": "memory", "old": "128Mi", "new": "192Mi"}],
                    risk="Low.")
    change = FileChange("app.yaml", "memory: 128Mi\n", "memory: 192Mi\n",
                        "--- a/app.yaml\n+++ b/app.yaml\n@@ -1 +1 @@\n-memory: 128Mi\n"
                        "+memory: 192Mi\n")
    return Remediation(inc, Decision.PROPOSE, prop.reason, None, prop, [change],
                       Validation([CheckResult("policy", True), CheckResult("schema", True)]))
