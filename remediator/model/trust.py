"""Graduated trust: how far the bot may go for a failure, from `observe` to `automerge`.

Rules match a failure class, a namespace (glob), workload labels and a repository path (glob);
the first matching rule wins and no match means `propose` (today's behaviour). The guard rails
that make `automerge` safe live here too, as one pure function, so the forge and the dashboard
say the same reason.
"""

from __future__ import annotations

import enum
import fnmatch
from dataclasses import dataclass

from .failure import FAILURE_CLASSES
from .setting import setting


class TrustLevel(enum.Enum):
    OBSERVE = "observe"  # the dashboard only
    DIAGNOSE = "diagnose"  # the diagnosis, no change proposed
    PROPOSE = "propose"  # a PR that waits for a human (the default)
    AUTOMERGE = "automerge"  # a PR armed with GitHub's native auto-merge

    @property
    def rank(self) -> int:
        return list(TrustLevel).index(self)


LEVELS = tuple(level.value for level in TrustLevel)
#: the change kinds automerge may take, unless the config narrows them
AUTOMERGE_KINDS = ("memory-limit-raise", "image-revert")


@dataclass
class TrustRule:
    """One rule of `trust.rules`: the level for the failures it matches."""

    level: TrustLevel = setting(enum=list(LEVELS), convert=TrustLevel,
                                doc="observe | diagnose | propose | automerge (required)")
    failure_class: str = setting("", enum=list(FAILURE_CLASSES),
                                 doc="the failure class it applies to (empty: any)")
    namespace: str = setting("", min_length=1, doc="a namespace glob (empty: any)")
    labels: dict[str, str] = setting(factory=dict,
                                     doc="workload labels that must all match")
    path: str = setting("", min_length=1,
                        doc="a glob on the repo-relative manifest path (empty: any)")
    name: str = setting("", min_length=1, doc="shown in the PR body and on the dashboard")

    def matches(self, failure_class: str, namespace: str, labels: dict[str, str],
                path: str | None) -> bool:
        """``path`` None: not known yet (the path glob is not looked at)."""
        if self.failure_class and self.failure_class != failure_class:
            return False
        if self.namespace and not fnmatch.fnmatchcase(namespace, self.namespace):
            return False
        if any(labels.get(k) != v for k, v in self.labels.items()):
            return False
        # an incident that could not be located has no path (""): a path rule never matches it
        return not (self.path and path is not None
                    and not (path and fnmatch.fnmatchcase(path, self.path)))

    def describe(self) -> str:
        if self.name:
            return self.name
        parts = [f"{k}={v}" for k, v in (("class", self.failure_class),
                                          ("namespace", self.namespace),
                                          ("path", self.path)) if v]
        parts += [f"label {k}={v}" for k, v in sorted(self.labels.items())]
        return f"{self.level.value} for " + (", ".join(parts) or "everything")


@dataclass
class Trust:
    """How far remediator may go with a fix (`trust:`): the rules and the auto-merge budget."""

    rules: list[TrustRule] = setting(factory=list,
                                     doc="the first rule that matches a failure sets its level")
    daily_budget: int = setting(3, minimum=0, maximum=100,
                                doc="PRs armed with auto-merge a day (UTC, by opening time); "
                                    "past it, automerge falls back to propose")
    automerge_kinds: list[str] = setting(factory=lambda: list(AUTOMERGE_KINDS),
                                         items={"enum": list(AUTOMERGE_KINDS)},
                                         doc="the change kinds automerge may take")
    image_revert_max_age_hours: int = setting(
        24, minimum=1, maximum=720,
        doc="an image revert is low-risk only to a tag that ran within this many hours")
    diagnose_as_draft_pr: bool = setting(
        False, doc="diagnose opens a draft PR with no change instead of writing the dashboard "
                   "only")

    def rule_for(self, failure_class: str, namespace: str, labels: dict[str, str] | None = None,
                 path: str = "") -> TrustRule | None:
        for rule in self.rules:
            if rule.matches(failure_class, namespace, labels or {}, path):
                return rule
        return None

    def rule_before_locating(self, failure_class: str, namespace: str,
                             labels: dict[str, str] | None = None
                             ) -> tuple[bool, TrustRule | None]:
        """The rule that wins whatever the manifest's path is: (True, rule or None for the
        default), or (False, None) when a rule with a path glob may match first (the level is
        known only once the incident is located)."""
        for rule in self.rules:
            if rule.matches(failure_class, namespace, labels or {}, None):
                if rule.path:
                    return False, None
                return True, rule
        return True, None

    def level_for(self, failure_class: str, namespace: str,
                  labels: dict[str, str] | None = None, path: str = "") -> TrustLevel:
        rule = self.rule_for(failure_class, namespace, labels, path)
        return rule.level if rule else TrustLevel.PROPOSE


@dataclass(frozen=True)
class AutomergeFacts:
    """What the gate and the forge know about one proposed fix, for the guard rails."""

    namespace: str
    change_kind: str  # e.g. memory-limit-raise, image-revert, image-change, probe
    gate_passed: bool  # every check passed, the post-condition included
    dry_run_ran: bool  # the server-side dry-run ran and passed ("not run" is not enough)
    gate_warnings: int  # warnings the gate reported (any blocks automerge)
    paused: bool  # the kill switch
    armed_today: int  # PRs armed with auto-merge today (UTC), merged or not yet
    demoted: bool = False  # this signature's fix failed before: back to propose
    image_tag_age_hours: float | None = None  # for image-revert: when the target tag last ran


def automerge_refusal(trust: Trust, protected_namespaces: list[str],
                      facts: AutomergeFacts) -> str | None:
    """Why this fix may not be auto-merged (one line), or None when every guard rail holds.

    A refusal never drops the fix: the caller opens a normal PR and says why in its body.
    """
    if facts.paused:
        return "the kill switch is on"
    if facts.namespace in protected_namespaces:
        return f"namespace {facts.namespace!r} is protected"
    if facts.demoted:
        return "an earlier auto-merged fix for this failure did not cure it (demoted)"
    if not facts.gate_passed:
        return "the gate did not pass every check"
    if not facts.dry_run_ran:
        return "the server-side dry-run did not run"
    if facts.gate_warnings:
        return f"the gate warned ({facts.gate_warnings} warning(s))"
    if facts.change_kind not in trust.automerge_kinds:
        return (f"the change ({facts.change_kind}) is not an automerge kind "
                f"({', '.join(trust.automerge_kinds) or 'none'})")
    if facts.change_kind == "image-revert" and (
            facts.image_tag_age_hours is None
            or facts.image_tag_age_hours > trust.image_revert_max_age_hours):
        return (f"the image tag did not run within {trust.image_revert_max_age_hours}h")
    if facts.armed_today >= trust.daily_budget:
        return f"today's automerge budget ({trust.daily_budget}) is spent"
    return None
