"""The flow, composed: cluster state → detect → locate → draft → edit → gate, then forge; once
merged, verify.

`plan` never writes anything: edits are computed in memory and validated from scratch copies.
`submit` is the only place that writes, and only to the forge's own clone.

A service pass plans within `Bounds`: incidents without a pull request are planned (located,
drafted, gated: the expensive stages) oldest first until they have found as many proposals as
the PR limits let the pass open (a diagnosis opens nothing and takes no room); the rest are
deferred (a `skip` with the limit as reason). A result planned in an earlier pass is reused while
nothing it depends on changed (`PlanMemo`). `remediator plan` has no bounds: it plans
everything.
"""

from __future__ import annotations

import hashlib
import json
import logging
import time
from collections.abc import Callable, Collection, Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import TYPE_CHECKING, Any

from .. import edit, gate
from ..config import TrustLevel
from ..detect import detect
from ..draft import closed_examples, draft, make_drafter
from ..forge import TrustSettings, merged_unverified, report_verifications
from ..forge import submit as forge_submit
from ..kernel import turns
from ..kernel.quantity import parse_quantity
from ..locate import Branches, LocateDiagnosis, Locator, RepoIndex, default_branch
from ..model import (
    Decision,
    Incident,
    ObjectRef,
    Remediation,
)
from ..model.skip import Skip
from ..render.renders import Renders
from ..verify import synced_revisions, verify_merged
from . import trust, usage

if TYPE_CHECKING:
    from ..config import Config, Drafting
    from ..draft import LLMDrafter
    from ..forge import Forge, Submission
    from ..model import (
        JSON,
        ClusterState,
        Unused,
        Verification,
    )

_log = logging.getLogger(__name__)


@dataclass
class Plan:
    remediations: list[Remediation] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)
    #: with bounds: incidents located, drafted and gated in this pass; results reused from an
    #: earlier pass; incidents deferred by the PR limits; planning stopped (asked to) part-way
    planned: int = 0
    reused: int = 0
    deferred: int = 0
    stopped: bool = False

    def as_json(self) -> dict[str, object]:
        return {
            "remediations": [r.as_json() for r in self.remediations],
            "warnings": list(self.warnings),
        }


def _skip(incident: Incident, reason: str) -> Remediation:
    return Remediation(incident, Decision.SKIP, reason)


@dataclass
class PlanMemo:
    """Results of earlier passes by signature, reused while their key is unchanged (the
    incident's evidence and live workload, the repository head, the configuration, the GitOps
    objects) and for at most ``max_age`` seconds: what failed for a passing reason (a dry-run
    that could not reach the API server) is planned again then."""

    max_age: float = 900.0
    clock: Callable[[], float] = time.monotonic
    entries: dict[str, tuple[str, float, Remediation]] = field(default_factory=dict)
    #: the last read of usage (metrics), reused by the next passes for one step
    usage_cache: usage.UsageCache = field(default_factory=usage.UsageCache)

    def get(self, signature: str, key: str) -> Remediation | None:
        entry = self.entries.get(signature)
        if entry is None or entry[0] != key or self.clock() - entry[1] >= self.max_age:
            return None
        return entry[2]

    def put(self, signature: str, key: str, r: Remediation) -> None:
        self.entries[signature] = (key, self.clock(), r)

    def forget(self, signature: str) -> None:
        """Plan the incident afresh next time (a retry asked on the dashboard)."""
        self.entries.pop(signature, None)

    def keep(self, signatures: Collection[str]) -> None:
        """Forget incidents no longer seen (the memo never outgrows one pass's incidents)."""
        for sig in [s for s in self.entries if s not in signatures]:
            del self.entries[sig]


@dataclass
class Bounds:
    """What a service pass may plan. ``room``: new PRs the limits let it open (`limit` names the
    one that binds); ``known``: signatures that have a PR, open, closed or merged, planned
    whatever the room (the forge lifecycle updates, silences or follows them up); ``head``: the
    base commit the plans are made from; ``stopping`` is asked between incidents."""

    room: int
    limit: str
    known: set[str]
    head: str
    memo: PlanMemo = field(default_factory=PlanMemo)
    stopping: Callable[[], bool] = lambda: False

    def deferral(self) -> str:
        return (f"deferred: PR limit reached ({self.limit}); planned when a pull request can "
                "be opened, oldest incident first")


#: facts that move while the failure stays the same (they do not make a plan stale)
_VOLATILE_FACTS = {"restart_rate_per_hour", "redactions", "first_seen", "flapping",
                   "memory_series", "cpu_series", "metrics_queries", "usage"}


def _digest(data: object) -> str:
    text = json.dumps(data, sort_keys=True, default=str)
    return hashlib.sha256(text.encode()).hexdigest()


def _pass_key(state: ClusterState, config: Config, head: str,
              closed_records: list[JSON] | None) -> str:
    """What every plan of the pass depends on besides its incident."""
    gitops = sorted((str(ObjectRef.of(o)), o.get("spec")) for o in state.gitops_objects())
    return _digest([head, repr(config), gitops, closed_records or []])


def _memo_key(incident: Incident, pass_key: str) -> str:
    """The incident as planning reads it, without the counters that move on every pass
    (restarts, event counts, timestamps, the one-line message quoting them)."""
    ev, t, live = incident.evidence, incident.evidence.last_termination, incident.live
    return _digest([pass_key, incident.signature, [t.reason, t.exit_code, t.message] if t else None,
                    sorted({(e.reason, e.message) for e in ev.events}), ev.log_excerpt,
                    ev.container_spec, ev.images_that_ran,
                    {k: v for k, v in ev.facts.as_json().items() if k not in _VOLATILE_FACTS},
                    incident.workload_metadata, (live or {}).get("spec")])


def oldest_first(incidents: list[Incident], state: ClusterState) -> list[Incident]:
    """Incidents by the creation time of their oldest failing pod (the workload's when none is
    known), then signature: a stable order, so deferred incidents are taken in turn and a stream
    of newer failures never starves them."""
    created = {(str(p["metadata"].get("namespace", "")), str(p["metadata"].get("name", ""))):
               str(p["metadata"].get("creationTimestamp") or "") for p in state.pods}

    def since(i: Incident) -> str:
        stamps = [s for pod in i.pods if (s := created.get((i.workload.namespace, pod)))]
        if not stamps:
            stamps = [str((i.live.get("metadata") or {}).get("creationTimestamp") or "")]
        return min((s for s in stamps if s), default="~")  # unknown: after every known time

    return sorted(incidents, key=lambda i: (since(i), i.signature))


def _drafting(config: Config) -> Drafting:
    """Drafting settings that never propose what the gate must refuse: the memory cap is at most
    the validation ceiling (a fix at the ceiling beats no fix)."""
    cap, ceiling = config.drafting.memory.cap, config.validation.max_memory
    if parse_quantity(ceiling) < parse_quantity(cap):
        return replace(config.drafting, memory=replace(config.drafting.memory, cap=ceiling))
    return config.drafting


def plan(state: ClusterState, repo_root: Path, config: Config,
         cache_dir: Path | None = None, llm: LLMDrafter | None = None,
         closed_records: list[JSON] | None = None,
         only: Collection[str] | None = None, bounds: Bounds | None = None,
         threads: int | None = None) -> Plan:
    """``cache_dir`` holds model answers and token usage (default: the user's cache folder);
    ``llm`` is a model drafter built by the caller instead of from the configuration;
    ``closed_records`` are the hidden records of PRs closed unmerged (counter-examples);
    ``only``: signatures to remediate (a watcher's raised incidents); None: all detected;
    ``bounds``: a service pass's limits (oldest first; None: plan every incident);
    ``threads``: without bounds, incidents planned side by side (kernel/turns; one per core)."""
    index = RepoIndex.scan(repo_root)
    result = Plan(warnings=[*index.warnings])
    why_not = ""
    if llm is None:
        llm, why_not = make_drafter(config.drafting, cache_dir)
    if llm is not None and closed_records:
        llm = llm.with_counter_examples(closed_examples(closed_records))
    if why_not:
        result.warnings.append(why_not)
    if not config.repo_url:
        result.warnings.append(
            "repo.url is not set in .remediator.yaml: Argo CD / Flux sources cannot be checked "
            "against this repository; set it so that only this repository is patched")
    # one render per kustomization and fields on top for the whole pass, locate's and the
    # gate's "before" alike (plan never writes to repo_root)
    renders = Renders(repo_root)
    locator = Locator(repo_root, index, config.repo_url, config.locate.argocd_label_tracking,
                      Branches(config.pull_requests.base, default_branch(repo_root)), renders)
    gitops_objects = state.gitops_objects()
    incidents = [i for i in detect(state, config.detect) if only is None or i.signature in only]
    if config.metrics.prometheus_url:  # one batched read of usage: evidence, CPUThrottling
        measured, prom = usage.read(state, config, result.warnings,
                                    cache=bounds.memo.usage_cache if bounds is not None else None)
        usage.enrich_oom(incidents, measured, prom, config, result.warnings)
        usage.enrich_hpa(incidents, measured, config)
        # raised from metrics, already sustained over `throttlingWindowMinutes`: the watcher
        # (which raises ``only``) never sees them, and its settle window has nothing to add
        throttled = usage.throttling(state, measured, config)
        usage.attach_charts(throttled, state, prom, config, result.warnings, ("cpu",))
        incidents += throttled
    result.warnings[:0] = state.warnings  # including detect's notes on malformed objects
    pass_key = ""
    if bounds is not None:
        incidents = oldest_first(incidents, state)
        pass_key = _pass_key(state, config, bounds.head, closed_records)
        bounds.memo.keep({i.signature for i in incidents})
    # without bounds, results wait here in order for the incidents planned side by side
    slots: list[Remediation | Incident] = []

    def place(r: Remediation) -> None:
        (slots.append if bounds is None else result.remediations.append)(r)

    def safely(incident: Incident, warnings: list[str]) -> Remediation:
        return _remediate_safely(incident, warnings, locator, gitops_objects, repo_root,
                                 config, llm, renders, state)

    for incident in incidents:
        ns = incident.workload.namespace
        if not config.scope.namespace_in_scope(ns) or not config.scope.class_in_scope(
            incident.failure_class
        ):
            continue  # out of scope: not ours to report
        if ns in config.scope.protected_namespaces:
            place(_skip(incident, f"namespace {ns} is protected: never patched"))
            continue
        early = trust.before_locating(config, incident)
        if early is not None and early.level == TrustLevel.OBSERVE.value:
            place(trust.observed(incident, early))
            continue  # nothing to plan: the dashboard lists it
        key = ""
        if bounds is not None:
            if bounds.stopping():  # SIGTERM, or leadership lost: stop between incidents
                result.stopped = True
                break
            key = _memo_key(incident, pass_key)
            cached = bounds.memo.get(incident.signature, key)
            new = incident.signature not in bounds.known
            if new and bounds.room <= 0 and (
                    cached is None or cached.decision == Decision.PROPOSE):
                # it may need a new PR, and none can be opened: not worth planning now
                result.remediations.append(_skip(incident, bounds.deferral()))
                result.deferred += 1
                continue
            if cached is not None:
                _add(result, replace(cached, incident=incident))
                result.reused += 1
                if new and cached.decision == Decision.PROPOSE:
                    bounds.room -= 1  # it will take one of the PRs that can be opened
                continue
        if bounds is None:  # planned below, side by side
            slots.append(incident)
            continue
        r = safely(incident, result.warnings)
        _add(result, r)
        result.planned += 1
        bounds.memo.put(incident.signature, key, r)
        if incident.signature not in bounds.known and r.decision == Decision.PROPOSE:
            bounds.room -= 1  # a proposal takes one of the PRs that can be opened
    # bounded passes plan in order (a proposal takes room from the next), others side by side
    todo = [s for s in slots if isinstance(s, Incident)]
    warnings: list[list[str]] = [[] for _ in todo]
    planned = iter(turns.map_in_turns(lambda n: safely(todo[n], warnings[n]),
                                      range(len(todo)), threads))
    result.warnings += [w for ws in warnings for w in ws]
    for slot in slots:
        _add(result, next(planned) if isinstance(slot, Incident) else slot)
    return result


def _remediate_safely(incident: Incident, warnings: list[str], *args: Any) -> Remediation:
    try:
        return remediate(incident, *args)
    except Exception as exc:  # one incident's bug must not cost the others
        _log.debug("%s: internal error while remediating", incident.workload, exc_info=True)
        warnings.append(f"{incident.workload}: internal error, skipped: "
                        f"{type(exc).__name__}: {exc}")
        return _skip(incident,
                     f"internal error while remediating ({type(exc).__name__}); see logs")


def _add(result: Plan, r: Remediation) -> None:
    result.remediations.append(r)
    if r.proposal is not None and r.proposal.provenance.get("fallback"):
        result.warnings.append(f"{r.incident.workload}: drafted by rules, "
                               f"{r.proposal.provenance['fallback']}")


def remediate(incident: Incident, locator: Locator, gitops_objects: list[JSON],
              repo_root: Path, config: Config, llm: LLMDrafter | None = None,
              renders: Renders | None = None, state: ClusterState | None = None
              ) -> Remediation:
    """``state``: the cluster state planned from (how recently an image tag ran, for the
    automerge guard rails)."""
    try:
        location = locator.locate(incident, gitops_objects)
    except (LocateDiagnosis, Skip) as exc:  # raised where the reason is known
        level = trust.after_locating(config, incident, "")  # no manifest: no path to match
        if level.level == TrustLevel.OBSERVE.value:
            return trust.observed(incident, level)
        decision = Decision.DIAGNOSE if isinstance(exc, LocateDiagnosis) else Decision.SKIP
        return Remediation(incident, decision, str(exc), trust=level)
    level = trust.after_locating(config, incident, location.target.path)
    if level.level == TrustLevel.OBSERVE.value:
        return trust.observed(incident, level)
    proposal = draft(incident, location, _drafting(config), repo_root, llm)
    r = Remediation(incident, Decision.DIAGNOSE, proposal.reason, location, proposal,
                    trust=level)
    if level.level == TrustLevel.DIAGNOSE.value:
        return trust.diagnosed_only(r)
    if not proposal.has_edits:
        return r
    try:
        r.changes = edit.apply_edits(repo_root, proposal.edits)
    except edit.EditError as exc:
        r.reason = f"the drafted change could not be applied: {exc}"
        return r
    # the object as the repo renders it: Argo CD / Flux may still add a name prefix on top
    target = location.render_target or ObjectRef.of(location.rendered)
    r.validation = gate.check_change(repo_root, location, r.changes, target, config.validation,
                                     proposal.announced, renders or locator.overlays.renders)
    if r.validation.passed:
        r.decision = Decision.PROPOSE
        trust.judge_automerge(r, config, state)
    else:
        failed = [f"{c.name}: {'; '.join(c.messages)}" for c in r.validation.checks
                  if c.ran and not c.passed]
        r.reason = f"{proposal.reason}; not proposed, validation failed ({' | '.join(failed)})"
    return r


def verify(plan_result: Plan, forge: Forge, config: Config, state: ClusterState
           ) -> list[Verification]:
    """Merged remediation PRs whose fix the cluster synced: comment whether it cleared."""
    observed = {r.incident.signature for r in plan_result.remediations}
    settings = config.verify
    verdicts = verify_merged(merged_unverified(forge), forge, observed,
                             lambda w: synced_revisions(state, w, settings))
    return report_verifications(forge, verdicts)


def submit(plan_result: Plan, forge: Forge, config: Config,
           unused: Sequence[Unused] = ()) -> list[Submission]:
    """Open, update or leave alone one PR per proposed remediation (forge.lifecycle), and
    refresh the dashboard (with ``unused``: idle workloads and orphaned claims, listed only).
    The only writer: to the forge's own clone and the forge."""
    trust = TrustSettings(config.trust, config.scope.protected_namespaces, config.paused)
    return forge_submit(plan_result.remediations, forge, config.pull_requests,
                        edit.write_changes, unused=unused, trust=trust)
