"""Graduated trust in the flow: which level a failure gets (`trust:` rules, first match wins)
and what the planner does with it.

- observe: nothing is planned; the incident is listed on the dashboard (a `skip` with the rule);
- diagnose: located and drafted, never edited or gated: the diagnosis only (a `diagnose`);
- propose: today's flow;
- automerge: today's flow, and the guard rails the plan already knows (gate, dry-run, change
  kind, image age, protected namespace, kill switch) are judged here; the forge adds the daily
  budget and the demotions, which only it can count, and arms GitHub's auto-merge.

A rule with a path glob needs the manifest's path: until the incident is located, the level is
known only when a rule without a path wins first.
"""

from __future__ import annotations

import re
from datetime import datetime
from typing import TYPE_CHECKING

from ..config import AutomergeFacts, TrustLevel, automerge_refusal
from ..model import Decision, ObjectRef, Remediation, TrustDecision

if TYPE_CHECKING:
    from ..config import Config, TrustRule
    from ..model import JSON, ClusterState, Incident

_SCALED_DOWN = re.compile(r"^ReplicaSet (\S+) \(revision \d+\), scaled down")


def labels_of(incident: Incident) -> dict[str, str]:
    labels = (incident.workload_metadata or {}).get("labels") or {}
    return {str(k): str(v) for k, v in labels.items()} if isinstance(labels, dict) else {}


def decision_of(rule: TrustRule | None) -> TrustDecision:
    if rule is None:
        return TrustDecision()
    return TrustDecision(level=rule.level.value, rule=rule.describe())


def before_locating(config: Config, incident: Incident) -> TrustDecision | None:
    """The level when no rule's path glob can change it, else None (locate first)."""
    known, rule = config.trust.rule_before_locating(
        incident.failure_class, incident.workload.namespace, labels_of(incident))
    return decision_of(rule) if known else None


def after_locating(config: Config, incident: Incident, path: str) -> TrustDecision:
    return decision_of(config.trust.rule_for(incident.failure_class, incident.workload.namespace,
                                             labels_of(incident), path))


def observed(incident: Incident, trust: TrustDecision) -> Remediation:
    """`observe`: listed, never planned."""
    return Remediation(incident, Decision.SKIP,
                       f"trust level observe ({trust.rule}): listed on the dashboard, nothing "
                       "is proposed", trust=trust)


def diagnosed_only(r: Remediation) -> Remediation:
    """`diagnose`: the drafted diagnosis, no change."""
    r.decision = Decision.DIAGNOSE
    r.changes, r.validation = [], None
    if r.proposal and r.proposal.has_edits:
        r.reason = (f"trust level diagnose ({r.trust.rule}): diagnosis only; would propose: "
                    f"{r.proposal.reason}")
    return r


def judge_automerge(r: Remediation, config: Config, state: ClusterState | None) -> None:
    """The guard rails known at planning time, into ``r.trust.refusal`` ("" when all hold)."""
    t = r.trust
    if t.level != TrustLevel.AUTOMERGE.value or r.decision != Decision.PROPOSE:
        return
    t.change_kind = (r.proposal.kind if r.proposal else "") or "unclassified"
    if t.change_kind == "image-revert" and r.proposal and r.proposal.changes and state:
        image = f"{r.proposal.changes[0].get('new', '')}"
        t.image_tag_age_hours = image_age_hours(state, r.incident, image)
    checks = r.validation.checks if r.validation else []
    others = [c for c in checks if c.name != "dry-run"]
    facts = AutomergeFacts(
        namespace=r.incident.workload.namespace, change_kind=t.change_kind,
        # every check ran and passed, the post-condition among them (the dry-run is its own rail)
        gate_passed=bool(r.validation and r.validation.passed and all(c.ran for c in others)
                         and any(c.name == "post-condition" for c in others)),
        dry_run_ran=any(c.name == "dry-run" and c.ran and c.passed for c in checks),
        gate_warnings=0,  # the gate has no warnings of its own: a check passes or fails
        paused=config.paused, armed_today=0, image_tag_age_hours=t.image_tag_age_hours)
    t.refusal = automerge_refusal(config.trust, config.scope.protected_namespaces, facts) or ""


def _time(stamp: object) -> datetime | None:
    try:
        return datetime.fromisoformat(str(stamp).replace("Z", "+00:00"))
    except ValueError:
        return None


def image_age_hours(state: ClusterState, incident: Incident, tag: str) -> float | None:
    """Hours since the workload last ran ``tag`` of its failing image, as the cluster shows it:
    0 while ready pods run it; for a ReplicaSet a later rollout scaled down, since the first
    later ReplicaSet was created (it took over then); None when nothing tells (a node's image
    list says it was pulled once, not when it ran)."""
    now = _time(state.now)
    for image, where in incident.evidence.ran_where.items():
        if image.rsplit(":", 1)[-1] != tag:
            continue
        if where.startswith("ready pod"):
            return 0.0
        m = _SCALED_DOWN.match(where)
        if m is None or now is None:
            continue
        ns = incident.workload.namespace
        old = state.objects.get(ObjectRef("apps/v1", "ReplicaSet", ns, m.group(1))) or {}
        revision = _revision(old)
        later = [t for ref, rs in state.objects.items()
                 if ref.kind == "ReplicaSet" and ref.namespace == ns and _owned_by(rs, incident)
                 and _revision(rs) > revision
                 and (t := _time((rs.get("metadata") or {}).get("creationTimestamp")))]
        if later:
            return max(0.0, (now - min(later)).total_seconds() / 3600)
    return None


def _revision(rs: JSON) -> int:
    annotations = (rs.get("metadata") or {}).get("annotations") or {}
    try:
        return int(annotations.get("deployment.kubernetes.io/revision", 0))
    except (TypeError, ValueError):
        return 0


def _owned_by(rs: JSON, incident: Incident) -> bool:
    owners = (rs.get("metadata") or {}).get("ownerReferences") or []
    return any(o.get("kind") == incident.workload.kind and o.get("name") == incident.workload.name
               for o in owners if isinstance(o, dict))
