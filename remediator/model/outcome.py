"""What a pass decides: proposals, file changes, remediations, pull requests (the gate's results
are in ``validation``)."""

from __future__ import annotations

import enum
import json
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from .validation import Validation

if TYPE_CHECKING:
    from .incident import Incident
    from .jsontype import JSON
    from .location import DocumentEdit, Location


class Decision(enum.StrEnum):
    PROPOSE = "propose"
    DIAGNOSE = "diagnose"
    SKIP = "skip"


@dataclass(frozen=True)
class FieldValue:
    """A value a proposal announces for a field of the failing container, as the object will be
    applied after the change: the gate's post-condition checks the render carries exactly it.

    ``field`` is the path inside the container (("resources", "limits", "memory")). For a list
    whose entries are told apart by ``key`` (env by `name`, volumeMounts by `mountPath`),
    ``value`` lists only the entries the change sets, and ``removed`` the keys it drops: the
    rest of the list is not announced, and must not change. An empty ``container`` announces
    a field of the object itself (("spec", "selector", "app") of a Service).
    """

    container: str
    field: tuple[str, ...]
    value: Any
    key: str = ""
    removed: tuple[str, ...] = ()

    @property
    def dotted(self) -> str:
        path = ".".join(self.field)
        # a field of the object itself (a Service's selector) sits in no container
        return f"containers[{self.container}].{path}" if self.container else path

    def __str__(self) -> str:
        shown = self.value if isinstance(self.value, str) else json.dumps(self.value,
                                                                         sort_keys=True)
        gone = f" without {', '.join(self.removed)}" if self.removed else ""
        return f"{self.dotted} == {shown}{gone}"


@dataclass
class Proposal:
    """A drafter's answer: edits with a reason, or no safe edit (diagnosis only)."""

    drafter: str
    reason: str  # one line: what changes and why ("memory limit 128Mi → 192Mi ...")
    diagnosis: str  # a paragraph for the PR body
    edits: list[DocumentEdit] = field(default_factory=list)
    #: for the hidden record: field, old and new values per change
    changes: list[JSON] = field(default_factory=list)
    risk: str = ""
    confidence: float = 1.0
    title: str = ""  # the change in a few words, for PR titles ("raise cart memory limit to 192Mi")
    #: for PR provenance: model, tokens, cost, redactions, cache, a refused change (model drafts)
    provenance: JSON = field(default_factory=dict)
    #: what the edits do to the workload, field by field: the gate's post-condition holds the
    #: rendered result to exactly this (a proposal with edits and nothing announced is refused)
    announced: list[FieldValue] = field(default_factory=list)
    #: the kind of change, for the automerge guard rails ("memory-limit-raise", "image-revert");
    #: set only by drafters that know it (a model's drafts stay "": never auto-merged)
    kind: str = ""

    @property
    def has_edits(self) -> bool:
        return bool(self.edits)


# ------------------------------------------------------------------------------------------ edit


@dataclass
class FileChange:
    path: str  # repo-relative
    old_text: str  # "" for a new file
    new_text: str
    diff: str  # unified diff, a/ b/ prefixes

    def as_json(self) -> JSON:
        return {"path": self.path, "diff": self.diff}


# ------------------------------------------------------------------------------------------ gate


# ----------------------------------------------------------------------------------------- trust


@dataclass
class TrustDecision:
    """How far the bot may go for one remediation (`trust:` in the config, first rule wins)."""

    level: str = "propose"  # observe | diagnose | propose | automerge
    rule: str = ""  # the rule that matched, as the PR body names it ("": none, the default)
    #: automerge: why the guard rails known when planning refuse it ("": none refuses yet; the
    #: forge adds the daily budget and the demotions it alone knows)
    refusal: str = ""
    change_kind: str = ""  # the proposal's kind ("" when the drafter did not say)
    #: image-revert: hours since the target tag last ran in the cluster (None: unknown)
    image_tag_age_hours: float | None = None

    def as_json(self) -> JSON:
        out: JSON = {"level": self.level, "rule": self.rule}
        if self.level == "automerge" and self.change_kind:  # judged: a validated proposal
            out["automerge"] = {"allowed": not self.refusal, "refusal": self.refusal,
                                "changeKind": self.change_kind}
        return out


# -------------------------------------------------------------------------------------- pipeline


@dataclass
class Remediation:
    """One incident's outcome: the unit of `plan` output and of a pull request."""

    incident: Incident
    decision: Decision
    reason: str
    location: Location | None = None
    proposal: Proposal | None = None
    changes: list[FileChange] = field(default_factory=list)
    validation: Validation | None = None
    trust: TrustDecision = field(default_factory=TrustDecision)

    def as_json(self) -> JSON:
        return {
            "workload": self.incident.workload.as_json(),
            "failure": self.incident.failure_json(),
            "decision": self.decision.value,
            "reason": self.reason,
            # only a validated proposal carries changes: tooling may apply what it finds here
            "changes": [c.as_json() for c in self.changes]
            if self.decision == Decision.PROPOSE else [],
            "validation": (self.validation or Validation()).as_json(),
            "signature": self.incident.signature,
            # the explanation a reviewer reads: why this change, or why none is safe
            "diagnosis": self.proposal.diagnosis if self.proposal else self.reason,
            "provenance": {"drafter": self.proposal.drafter, **self.proposal.provenance}
            if self.proposal else {},
            # how far the bot may go (`trust:`): the level, the rule, automerge's guard rails
            "trust": self.trust.as_json(),
        }


# ----------------------------------------------------------------------------------------- forge


@dataclass
class PullRequest:
    number: int
    title: str
    body: str
    branch: str
    base: str
    labels: list[str]
    signature: str
    state: str = "open"  # open | closed | merged
    draft: bool = False
    url: str = ""
    head_sha: str = ""
    created: bool = True  # False when an existing PR for the signature was found instead
    created_at: str = ""  # RFC 3339, for the PRs-per-hour limit
    reviewers: list[str] = field(default_factory=list)
    assignees: list[str] = field(default_factory=list)
    auto_merge: bool = False  # GitHub's auto-merge is on: it merges once protection allows


# ---------------------------------------------------------------------------------------- verify


@dataclass
class Verification:
    """What verify found for a merged remediation PR: ``waiting`` (the fix is not on the base
    branch, or the cluster has not synced it), ``cleared`` or ``persists``; ``note`` is the
    reason, or the comment the PR gets; ``synced`` the revision that includes the fix."""

    pull: PullRequest
    outcome: str  # "waiting" | "cleared" | "persists"
    note: str
    synced: str = ""
