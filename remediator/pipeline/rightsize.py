"""Right-sizing, composed: usage (one batched read) → recommendations → RightSizing incidents →
locate → draft → edit → gate, then grouped (per file or per application) and each group gated
AS A WHOLE: a reviewer merges a group's PR at once, so what must hold is the repository with
every member's edit, not each edit alone.

The whole-group check chains the members in a scratch copy: member k is gated against the tree
with members 1..k-1 already applied. Each step's render check proves it changed only its own
target (other objects, other documents unchanged), and its post-condition proves the target
got exactly what the members so far announced for it; so the final tree gives every member's
announced values and nothing else. A group that fails as a whole proposes nothing.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import TYPE_CHECKING

from .. import edit, gate
from ..kernel import worktree
from ..locate import Branches, Locator, RepoIndex, default_branch
from ..model import (
    CheckResult,
    Decision,
    ObjectRef,
    Remediation,
    Unused,
    UsageFacts,
    Validation,
    facts_as,
)
from ..render.owner import identify
from . import usage
from .flow import remediate

if TYPE_CHECKING:
    from ..config import Config
    from ..model import (
        JSON,
        ClusterState,
        DocumentEdit,
        FieldValue,
        Recommendation,
    )


@dataclass
class Group:
    key: str  # the file, or the GitOps application, the members share
    members: list[Remediation] = field(default_factory=list)
    validation: Validation = field(default_factory=Validation)

    def as_json(self) -> JSON:
        return {"key": self.key, "signatures": [m.incident.signature for m in self.members],
                "validation": self.validation.as_json(),
                "monthlySaving": round(sum(_saving(m) for m in self.members), 2)}


def _saving(r: Remediation) -> float:
    rec = facts_as(r.incident.evidence.facts, UsageFacts).recommendation or {}
    return float(rec.get("monthlySaving") or 0.0)


@dataclass
class RightsizePlan:
    remediations: list[Remediation] = field(default_factory=list)
    recommendations: list[Recommendation] = field(default_factory=list)
    groups: list[Group] = field(default_factory=list)
    unused: list[Unused] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)
    queries: int = 0  # Prometheus queries this pass sent (batched: not one per container)

    def as_json(self) -> JSON:
        return {"remediations": [r.as_json() for r in self.remediations],
                "recommendations": [r.as_json() for r in self.recommendations],
                "groups": [g.as_json() for g in self.groups],
                "unused": [u.as_json() for u in self.unused],
                "warnings": list(self.warnings), "queries": self.queries}


def _target(r: Remediation) -> ObjectRef:
    assert r.location is not None
    return r.location.render_target or ObjectRef.of(r.location.rendered)


def group_key(r: Remediation, config: Config) -> str:
    if config.rightsizing.group_by == "application":
        owner = identify(r.incident.workload, r.incident.workload_metadata,
                         config.locate.argocd_label_tracking)
        if owner is not None:
            return f"{owner.tool}:{owner.namespace}/{owner.name}"
    return r.location.target.path if r.location else str(r.incident.workload)


def gate_group(repo_root: Path, members: list[Remediation], config: Config) -> Validation:
    """The members' edits together, chained (see the module docstring)."""
    done: list[DocumentEdit] = []
    announced: dict[ObjectRef, list[FieldValue]] = {}
    for r in members:
        assert r.proposal is not None and r.location is not None
        target = _target(r)
        earlier = announced.setdefault(target, [])
        try:
            prior = edit.apply_edits(repo_root, done) if done else []
            with worktree.changed_copy(repo_root, prior) as scratch:
                changes = edit.apply_edits(scratch, r.proposal.edits)
                # another container of the same workload changed earlier in the chain: the
                # post-condition over everything announced for it guards the whole workload
                loc = replace(r.location, container="") if earlier else r.location
                v = gate.check_change(scratch, loc, changes, target, config.validation,
                                      [*earlier, *r.proposal.announced])
        except edit.EditError as exc:
            return Validation([CheckResult("group", False, [
                f"{r.incident.workload}: does not apply after the other members: {exc}"])])
        if not v.passed:
            failed = [f"{c.name}: {'; '.join(c.messages)}" for c in v.checks
                      if c.ran and not c.passed]
            return Validation([CheckResult("group", False, [
                f"{r.incident.workload} container {r.incident.container}, after the members "
                f"before it: {' | '.join(failed)}"]), *v.checks])
        earlier.extend(r.proposal.announced)
        done.extend(r.proposal.edits)
    return Validation([CheckResult("group", True, [
        f"{len(members)} change(s) validated together, each against the others applied"])])


def due(stamp: Path, config: Config, now: float) -> bool:
    """The service right-sizes on its own schedule (`rightsizing.scheduleHours`), not every
    pass; ``stamp`` holds the time of the last run (a broken stamp counts as never)."""
    if not (config.rightsizing.enabled and config.metrics.prometheus_url):
        return False
    try:
        last = float(stamp.read_text().strip())
    except (OSError, ValueError):
        return True
    return now - last >= config.rightsizing.schedule_hours * 3600


def scheduled(state: ClusterState, repo_root: Path, config: Config, stamp: Path, now: float,
              room: int, known: set[str]) -> tuple[list[Remediation], list[str]]:
    """The service's right-sizing pass when due: one remediation (one PR) per group that passed
    as a whole; new ones only while the PR limits leave room, known ones always (the forge
    keeps them up to date)."""
    if not due(stamp, config, now):
        return [], []
    result = rightsize(state, repo_root, config)
    out = []
    for g in result.groups:
        r = as_pull_request(repo_root, g)
        if r is None:
            continue
        if r.incident.signature not in known:
            if room <= 0:
                continue
            room -= 1
        out.append(r)
    stamp.parent.mkdir(parents=True, exist_ok=True)
    stamp.write_text(f"{now:.0f}\n")
    # the dashboard is rewritten every pass: the list of the last run is kept until the next
    _unused_file(stamp).write_text(json.dumps([u.as_json() for u in result.unused]))
    return out, result.warnings


def _unused_file(stamp: Path) -> Path:
    return stamp.with_name("rightsize.unused.json")


def last_unused(stamp: Path) -> list[Unused]:
    """What the last scheduled run listed as idle / orphaned ([] when none, or unreadable)."""
    try:
        rows = json.loads(_unused_file(stamp).read_text())
        return [Unused(str(r["kind"]), str(r["namespace"]), str(r["name"]), str(r["created"]),
                       str(r["size"]), str(r["why"])) for r in rows]
    except (OSError, ValueError, KeyError, TypeError):
        return []


def rightsize(state: ClusterState, repo_root: Path, config: Config) -> RightsizePlan:
    result = RightsizePlan()
    if not config.metrics.prometheus_url:
        result.warnings.append("no metrics source (metrics.prometheusUrl or --prometheus): "
                               "nothing to right-size")
        return result
    measured, prom = usage.read(state, config, result.warnings)
    index = RepoIndex.scan(repo_root)
    result.warnings += index.warnings
    locator = Locator(repo_root, index, config.repo_url, config.locate.argocd_label_tracking,
                      Branches(config.pull_requests.base, default_branch(repo_root)))
    gitops_objects = state.gitops_objects()
    result.unused = usage.unused(state, measured, config)
    pairs = usage.recommendations(state, measured, config)
    usage.attach_charts([i for _, i in pairs if i is not None], state, prom, config,
                        result.warnings, ("memory", "cpu"))
    result.queries = len(prom.queries) if prom else 0
    for rec, incident in pairs:
        result.recommendations.append(rec)
        if incident is None:
            continue
        ns = incident.workload.namespace
        if not config.scope.namespace_in_scope(ns):
            continue
        if ns in config.scope.protected_namespaces:
            result.remediations.append(Remediation(incident, Decision.SKIP,
                                                   f"namespace {ns} is protected: never patched"))
            continue
        result.remediations.append(remediate(incident, locator, gitops_objects, repo_root,
                                             config))
    groups: dict[str, Group] = {}
    for r in result.remediations:
        if r.decision == Decision.PROPOSE:
            groups.setdefault(group_key(r, config), Group(group_key(r, config))).members.append(r)
    for g in groups.values():
        g.validation = gate_group(repo_root, g.members, config)
        if not g.validation.passed:
            for r in g.members:
                r.decision = Decision.DIAGNOSE
                r.reason = (f"{r.reason}; not proposed: its group `{g.key}` fails as a whole "
                            f"({'; '.join(g.validation.checks[0].messages)})")
    result.groups = list(groups.values())
    return result


def as_pull_request(repo_root: Path, g: Group) -> Remediation | None:
    """A group that passed as a whole, as one remediation (one PR): every member's edits and
    diagnosis, the group validation first. Its signature is the first member's (members sorted)
    with the group key as detail, so the PR is found again next week."""
    if not g.validation.passed or not g.members:
        return None
    members = sorted(g.members, key=lambda r: r.incident.signature)
    first = members[0]
    assert first.proposal is not None
    edits = [e for r in members for e in (r.proposal.edits if r.proposal else [])]
    try:
        changes = edit.apply_edits(repo_root, edits)
    except edit.EditError:
        return None  # cannot happen after gate_group; never a PR that differs from the check
    saving = sum(_saving(r) for r in members)
    # a paragraph per member: its numbers, then its charts (fenced blocks, not list items)
    lines = [f"**{r.incident.workload} container {r.incident.container}**: "
             f"{r.proposal.diagnosis if r.proposal else r.reason}" for r in members]
    proposal = replace(
        first.proposal, reason=f"right-size {len(members)} container(s) in {g.key}",
        diagnosis=(f"Requests measured against usage, grouped by {g.key} (an estimated "
                   f"${abs(saving):,.2f}/month {'less' if saving >= 0 else 'more'} reserved in "
                   "all):\n\n"
                   + "\n\n".join(lines)),
        edits=edits, changes=[c for r in members for c in (r.proposal.changes if r.proposal
                                                           else [])],
        title=f"right-size requests in {g.key}",
        announced=[a for r in members for a in (r.proposal.announced if r.proposal else [])])
    # a signature's parts are separated by "/": the key's own slashes become ":"
    incident = replace(first.incident, detail=f"group {g.key.replace('/', ':')}",
                       pods=[p for r in members for p in r.incident.pods])
    checks = [*g.validation.checks,
              *[c for r in members for c in (r.validation.checks if r.validation else [])]]
    return Remediation(incident, Decision.PROPOSE, proposal.reason, first.location, proposal,
                       changes, Validation(checks))
