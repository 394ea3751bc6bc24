"""The flow, composed: cluster state → detect → locate → draft → edit → gate, then forge.

`plan` never writes anything: edits are computed in memory and validated from scratch copies.
`submit` is the only place that writes, and only to the forge's own clone.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from pathlib import Path

from kubernetes.utils.quantity import parse_quantity

from . import edit, gate
from .config import Config, Drafting
from .detect import detect
from .draft import draft
from .forge import LocalForge, branch_name, commit_message, render_body, title
from .locate import LocateDiagnosis, LocateSkip, Locator, RepoIndex
from .model import JSON, ClusterState, Decision, Incident, ObjectRef, PullRequest, Remediation


@dataclass
class Plan:
    remediations: list[Remediation] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)

    def as_json(self) -> dict[str, object]:
        return {
            "remediations": [r.as_json() for r in self.remediations],
            "warnings": list(self.warnings),
        }


def _skip(incident: Incident, reason: str) -> Remediation:
    return Remediation(incident, Decision.SKIP, reason)


def _drafting(config: Config) -> Drafting:
    """Drafting settings that never propose what the gate must refuse: the memory cap is at most
    the validation ceiling (a fix at the ceiling beats no fix)."""
    cap, ceiling = config.drafting.memory.cap, config.validation.max_memory
    if parse_quantity(ceiling) < parse_quantity(cap):
        return replace(config.drafting, memory=replace(config.drafting.memory, cap=ceiling))
    return config.drafting


def plan(state: ClusterState, repo_root: Path, config: Config) -> Plan:
    index = RepoIndex.scan(repo_root)
    result = Plan(warnings=[*index.warnings])
    if not config.repo_url:
        result.warnings.append(
            "repo.url is not set in .remediator.yaml: Argo CD / Flux sources cannot be checked "
            "against this repository; set it so that only this repository is patched")
    locator = Locator(repo_root, index, config.repo_url, config.locate.argocd_label_tracking)
    gitops_objects = state.gitops_objects()
    incidents = detect(state)
    result.warnings[:0] = state.warnings  # including detect's notes on malformed objects
    for incident in incidents:
        ns = incident.workload.namespace
        if not config.scope.namespace_in_scope(ns) or not config.scope.class_in_scope(
            incident.failure_class
        ):
            continue  # out of scope: not ours to report
        if ns in config.scope.protected_namespaces:
            result.remediations.append(
                _skip(incident, f"namespace {ns} is protected: never patched"))
            continue
        try:
            result.remediations.append(
                remediate(incident, locator, gitops_objects, repo_root, config))
        except Exception as exc:  # one incident's bug must not cost the others
            result.warnings.append(f"{incident.workload}: internal error, skipped: "
                                   f"{type(exc).__name__}: {exc}")
            result.remediations.append(_skip(
                incident, f"internal error while remediating ({type(exc).__name__}); see logs"))
    return result


def remediate(incident: Incident, locator: Locator, gitops_objects: list[JSON],
              repo_root: Path, config: Config) -> Remediation:
    try:
        location = locator.locate(incident, gitops_objects)
    except LocateDiagnosis as exc:
        return Remediation(incident, Decision.DIAGNOSE, str(exc))
    except LocateSkip as exc:
        return _skip(incident, str(exc))
    proposal = draft(incident, location, _drafting(config), repo_root)
    r = Remediation(incident, Decision.DIAGNOSE, proposal.reason, location, proposal)
    if not proposal.has_edits:
        return r
    try:
        r.changes = edit.apply_edits(repo_root, proposal.edits)
    except edit.EditError as exc:
        r.reason = f"the drafted change could not be applied: {exc}"
        return r
    # the object as the repo renders it: Argo CD / Flux may still add a name prefix on top
    target = location.render_target or ObjectRef.of(location.rendered)
    r.validation = gate.check_change(repo_root, location, r.changes, target, config.validation)
    if r.validation.passed:
        r.decision = Decision.PROPOSE
    else:
        failed = [f"{c.name}: {'; '.join(c.messages)}" for c in r.validation.checks
                  if c.ran and not c.passed]
        r.reason = f"{proposal.reason}; not proposed, validation failed ({' | '.join(failed)})"
    return r


@dataclass
class Submission:
    remediation: Remediation
    pull: PullRequest | None
    outcome: str  # "opened" | "exists" | "silenced" | "limit" | "error: ..."


def submit(plan_result: Plan, forge: LocalForge, config: Config) -> list[Submission]:
    """Open one PR per proposed remediation, never a duplicate for the same signature."""
    out: list[Submission] = []
    prs = config.pull_requests
    open_count = sum(1 for p in forge.pulls() if p.state == "open")
    used_branches: set[str] = set()
    for r in plan_result.remediations:
        if r.decision != Decision.PROPOSE:
            continue
        sig = r.incident.signature
        existing = forge.find_by_signature(sig)
        if existing is not None and existing.state == "open":
            out.append(Submission(r, existing, "exists"))
            continue
        if existing is not None and existing.state == "closed":
            out.append(Submission(r, existing, "silenced"))  # closed unmerged: stay quiet
            continue
        if open_count >= prs.max_open:
            out.append(Submission(r, None, f"limit: {prs.max_open} open PRs (maxOpen)"))
            continue
        branch = branch_name(r, prs.branch_prefix)
        owner = forge.branch_owner(branch)
        if branch in used_branches or (owner is not None and owner.signature != sig):
            branch = branch_name(r, prs.branch_prefix, disambiguate=True)
        used_branches.add(branch)
        base = forge.base_commit()
        forge.start_branch(branch)
        edit.write_changes(forge.clone_dir, r.changes)
        sha = forge.commit_and_push(branch, commit_message(r), [c.path for c in r.changes])
        body = render_body(r, base)
        labels = [*prs.labels, f"remediator:{r.incident.failure_class}"]
        pr = forge.open_pull(title(r), body, branch, labels, r.incident.signature, sha,
                             draft=prs.draft)
        open_count += 1
        out.append(Submission(r, pr, "opened"))
    return out
