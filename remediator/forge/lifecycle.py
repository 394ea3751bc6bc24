"""The pull request lifecycle: what one pass does with each proposed remediation.

State lives in the forge (PR bodies' hidden records, labels, branches), never in a local
database: a new process finds everything again. Rules, per failure signature:
- an open PR exists: nothing to do when its record matches (same evidence fingerprint, same
  base commit); otherwise rebuild the branch on the current base and update the body, unless
  someone else pushed to the branch (then comment once per change, never push);
- a `remediator:ignore` label on the open PR, or a PR closed without merge, silences it (a new
  failure has a new signature: OOMKilled at a higher limit is another detail);
- a merged PR whose fix is the same: waiting for the sync; a different fix: a follow-up PR;
- new PRs respect maxOpen and maxPerHour.
Ticked boxes on the dashboard issue (forge.dashboard) ask for a rebuild of an open PR's branch
or lift the silence of a PR closed without merge; the dashboard is rendered with the boxes of
the asks carried out unticked.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Protocol

from ..kernel.leader import LeaseLost
from ..kernel.redact import redact
from ..model import Decision, FileChange
from ..model.trust import AutomergeFacts, TrustLevel, automerge_refusal
from .body import _code_cell as code_span
from .body import (
    branch_name,
    commit_message,
    fingerprint,
    parse_record,
    render_body,
    title,
    trust_entry,
)
from .body import with_record as _with_record
from .dashboard import Asks, Done, read_asks, render_dashboard
from .gitclone import ForgeError, HumanPushed
from .outbound import Outbound

if TYPE_CHECKING:
    from ..model import JSON, PullRequest, Remediation, Unused
    from ..model.settings import PullRequests
    from ..model.trust import Trust

IGNORE_LABEL = "remediator:ignore"
DASHBOARD_TITLE = "Remediator dashboard"
Writer = Callable[[Path, list[FileChange]], None]


class Forge(Protocol):
    warnings: list[str]
    base: str

    @property
    def clone_dir(self) -> Path: ...
    def checkout(self) -> Path: ...
    def base_commit(self) -> str: ...
    def pulls(self) -> list[PullRequest]: ...
    def foreign_commits(self, branch: str) -> list[str]: ...
    def fix_commit(self, signature: str) -> str | None: ...
    def contains(self, revision: str, commit: str) -> bool: ...
    def start_branch(self, branch: str) -> None: ...
    def commit_and_push(self, branch: str, message: str, paths: list[str]) -> str: ...
    def open_pull(self, title: str, body: str, branch: str, labels: list[str],
                  signature: str, head_sha: str, draft: bool = False,
                  reviewers: list[str] | None = None, team_reviewers: list[str] | None = None,
                  assignees: list[str] | None = None) -> PullRequest: ...
    def update_pull(self, number: int, title: str, body: str) -> None: ...
    def comment(self, number: int, text: str) -> None: ...
    def dashboard(self) -> tuple[int, str] | None: ...
    def save_dashboard(self, number: int | None, title: str, body: str) -> int: ...
    def enable_automerge(self, number: int) -> None: ...
    def disable_automerge(self, number: int) -> None: ...


@dataclass
class Submission:
    remediation: Remediation
    pull: PullRequest | None
    #: opened | exists | updated | commented | silenced | merged | "limit: ..." | "error: ..."
    outcome: str
    note: str = ""
    #: an automerge-level fix's PR: armed (GitHub's auto-merge is on), refused (a guard rail
    #: said no) or failed (GitHub would not turn it on); "" for any other
    automerge: str = ""


def _age_seconds(pr: PullRequest, now: datetime) -> float:
    try:
        created = datetime.strptime(pr.created_at, "%Y-%m-%dT%H:%M:%SZ").replace(tzinfo=UTC)
    except ValueError:
        return float("inf")
    return (now - created).total_seconds()


@dataclass
class TrustSettings:
    """What the automerge guard rails need beyond the remediation: the `trust:` settings, the
    protected namespaces and the kill switch."""

    trust: Trust
    protected: Sequence[str] = ()
    paused: bool = False


def _armed(pr: PullRequest) -> JSON:
    """The record's trust entry when GitHub's auto-merge was turned on for ``pr``, else {}."""
    t = (parse_record(pr.body) or {}).get("trust")
    return t if isinstance(t, dict) and t.get("automerge") == "armed" else {}


def failure_of(signature: str) -> str:
    """The workload and class of a signature (cluster/namespace/kind/name/class): what a
    demotion covers. The container and detail are left out: a fix that did not cure an
    OOMKilled at 128Mi makes the next OOMKilled of that workload, at 192Mi, another signature,
    and it must not be auto-merged either."""
    return "/".join(signature.split("/")[:5])


def demoted(pulls: Sequence[PullRequest]) -> dict[str, tuple[int, str]]:
    """Failures (`failure_of`) whose auto-merged fix did not clear them (verified "persists"):
    their next fixes wait for a human. failure -> (the PR, the rule that allowed it)."""
    out: dict[str, tuple[int, str]] = {}
    for pr in pulls:
        t = _armed(pr)
        if t and pr.state == "merged" and (parse_record(pr.body) or {}).get(
                "verified") == "persists":
            out[failure_of(pr.signature)] = (pr.number, str(t.get("rule") or ""))
    return out


class Pass:
    """One pass over the proposed remediations against one listing of the forge."""

    def __init__(self, forge: Forge, settings: PullRequests, write: Writer,
                 now: datetime | None = None, asks: Asks | None = None,
                 trust: TrustSettings | None = None) -> None:
        self.forge, self.settings, self.write = forge, settings, write
        self.asks, self.done = asks or Asks(), Done()
        self.trust = trust
        self.now = now or datetime.now(UTC)
        self.pulls = forge.pulls()
        self.base = forge.base_commit()
        self.open_count = sum(1 for p in self.pulls if p.state == "open")
        self.recent = sum(1 for p in self.pulls if _age_seconds(p, self.now) < 3600)
        self.branches = {p.branch: p.signature for p in self.pulls if p.state == "open"}
        today = self.now.strftime("%Y-%m-%d")
        self.armed_today = sum(1 for p in self.pulls if p.created_at.startswith(today)
                               and _armed(p))
        self.demoted = demoted(self.pulls)

    def submit(self, r: Remediation) -> Submission:
        sig = r.incident.signature
        mine = sorted((p for p in self.pulls if p.signature == sig), key=lambda p: p.number)
        open_pr = next((p for p in reversed(mine) if p.state == "open"), None)
        try:
            if open_pr is not None:
                return self._keep_up(r, open_pr)
            last = mine[-1] if mine else None
            lifted = last is not None and last.number in self.asks.unsilence
            if last is not None and last.state == "closed" and not lifted:
                return Submission(r, last, "silenced", f"#{last.number} was closed without "
                                  "merge; silenced until the failure changes")
            if lifted and last is not None and last.state == "closed":
                out = self._open(r, None)
                if out.pull is None:  # a PR limit: still silenced, its box stays ticked
                    return Submission(r, last, "silenced", f"#{last.number} was closed without "
                                      f"merge; its silence is lifted, waiting for {out.outcome}")
                self.done.unsilence.add(last.number)
                out.note = f"the silence of #{last.number} was lifted on the dashboard"
                return out
            follows = None
            if last is not None and last.state == "merged":
                rec = parse_record(last.body) or {}
                if rec.get("fingerprint") == fingerprint(r):
                    note = (f"#{last.number} is merged and synced but the failure persists; no "
                            "different fix to propose" if rec.get("verified") == "persists"
                            else f"#{last.number} is merged; waiting for the sync to reach it")
                    return Submission(r, last, "merged", note)
                follows = last.number
            return self._open(r, follows)
        except ForgeError as exc:
            return Submission(r, open_pr, f"error: {exc}")

    # -------------------------------------------------------------------------- open PRs

    def _keep_up(self, r: Remediation, pr: PullRequest) -> Submission:
        if IGNORE_LABEL in pr.labels:
            return Submission(r, pr, "silenced", f"#{pr.number} has the {IGNORE_LABEL} label")
        rec = parse_record(pr.body) or {}
        fp = fingerprint(r)
        rebuild = pr.number in self.asks.rebuild
        if rebuild:
            self.done.rebuild.add(pr.number)  # done, or refused below with the reason
        if rec.get("fingerprint") == fp and rec.get("base") == self.base and not rebuild:
            return Submission(r, pr, "exists")
        branch = pr.branch or str(rec.get("branch") or branch_name(r, self.settings.branch_prefix))
        ours = {branch_name(r, self.settings.branch_prefix, disambiguate=d) for d in (False, True)}
        if branch not in ours:
            # the record is text in the PR body: a hand edit must not point pushes at `main`
            return Submission(r, pr, "exists", f"#{pr.number} names branch `{branch}`, not one "
                              "remediator gives this failure: not updated")
        if not self.forge.foreign_commits(branch):
            try:
                self._push(r, branch)
            except HumanPushed:
                pass  # lost a race to a human: fall through to the comment
            else:
                trust = self._still_armed(r, pr, rec.get("trust"))
                self.forge.update_pull(pr.number, title(r), render_body(
                    r, self.base, branch=branch, trust=trust))
                why = ("the evidence changed" if rec.get("fingerprint") != fp else "base moved"
                       if rec.get("base") != self.base else "rebuilt as asked on the dashboard")
                return Submission(r, pr, "updated", why)
        if rebuild and rec.get("fingerprint") == fp:
            return Submission(r, pr, "exists", "not rebuilt as asked on the dashboard: someone "
                              "else pushed to the branch")
        if rec.get("fingerprint") == fp or rec.get("noted") == fp:
            return Submission(r, pr, "exists", "someone else pushed to the branch: not updated")
        self.forge.comment(pr.number, _changed_comment(r))
        self.forge.update_pull(pr.number, pr.title, _with_record(pr.body, {**rec, "noted": fp}))
        return Submission(r, pr, "commented", "the failure changed; the branch has someone "
                          "else's commits, so remediator only commented")

    # -------------------------------------------------------------------------- new PRs

    def _open(self, r: Remediation, follows: int | None) -> Submission:
        s = self.settings
        if self.open_count >= s.max_open:
            return Submission(r, None, f"limit: {s.max_open} open PRs (maxOpen)")
        if self.recent >= s.max_per_hour:
            return Submission(r, None, f"limit: {s.max_per_hour} PRs in the last hour "
                              "(maxPerHour)")
        sig = r.incident.signature
        branch = branch_name(r, s.branch_prefix)
        taken = self.branches.get(branch, sig) != sig
        if taken or self.forge.foreign_commits(branch):
            branch = branch_name(r, s.branch_prefix, disambiguate=True)
        sha = self._push(r, branch)
        self.branches[branch] = sig
        labels = [*s.labels, f"remediator:{r.incident.failure_class}"]
        trust = self._automerge(r)
        armed = bool(trust and trust["automerge"] == "armed")
        pr = self.forge.open_pull(
            title(r), render_body(r, self.base, branch=branch, follows=follows, trust=trust),
            branch, labels, sig, sha, draft=(s.draft and not armed) or self.diagnosis_pr(r),
            reviewers=s.reviewers,
            team_reviewers=s.team_reviewers, assignees=s.assignees)
        self.open_count += 1
        self.recent += 1
        self.pulls.append(pr)
        if trust and armed:
            try:
                self.forge.enable_automerge(pr.number)
                pr.auto_merge = True
                self.armed_today += 1
            except ForgeError as exc:  # e.g. auto-merge not allowed in the repository
                self.forge.warnings.append(f"#{pr.number}: auto-merge not turned on, the pull "
                                           f"request waits for review: {exc}")
                trust = {**trust, "automerge": "failed", "why": str(exc)}
                pr.body = render_body(r, self.base, branch=branch, follows=follows, trust=trust)
                self.forge.update_pull(pr.number, title(r), pr.body)
        automerge = str(trust["automerge"]) if trust else ""
        if not pr.created:  # an earlier pass got half-way: the PR existed, now it is complete
            return Submission(r, pr, "completed", "an earlier pass opened it but did not finish",
                              automerge)
        return Submission(r, pr, "opened", f"follow-up to #{follows}" if follows else "",
                          automerge)

    def diagnosis_pr(self, r: Remediation) -> bool:
        """A `diagnose`-level failure gets a draft PR with no change (`diagnoseAsDraftPr`)."""
        return (r.decision == Decision.DIAGNOSE and r.trust.level == TrustLevel.DIAGNOSE.value
                and r.proposal is not None and self.trust is not None
                and self.trust.trust.diagnose_as_draft_pr)

    def _still_armed(self, r: Remediation, pr: PullRequest, trust: object) -> JSON | None:
        """An armed PR whose fix was just replaced: the new fix must pass the guard rails too
        (the budget aside: this PR counts already), else auto-merge is turned off again."""
        if not isinstance(trust, dict) or trust.get("automerge") != "armed":
            return trust if isinstance(trust, dict) else None
        t = r.trust
        why = (t.refusal or ("the trust level is now " + t.level
                             if t.level != TrustLevel.AUTOMERGE.value else "")
               or ("an earlier auto-merged fix for this failure did not cure it (demoted)"
                   if failure_of(r.incident.signature) in self.demoted else ""))
        if not why:
            return trust
        self.forge.disable_automerge(pr.number)
        return trust_entry(TrustLevel.AUTOMERGE.value, str(trust.get("rule") or ""), "refused",
                           f"the updated fix: {why}; auto-merge turned off")

    def _automerge(self, r: Remediation) -> JSON | None:
        """For an automerge-level fix, the record's trust entry: armed, or refused with the
        reason. The plan judged the gate, the dry-run, the change kind, the image's age, the
        namespace and the kill switch (`r.trust.refusal`); the budget and the demotions are
        counted here, from the forge's pull requests."""
        t = r.trust
        if t.level != TrustLevel.AUTOMERGE.value or self.trust is None:
            return None
        why = t.refusal
        if not why:
            ts = self.trust
            held = AutomergeFacts(  # what the plan judged held: only the forge's rails remain
                namespace=r.incident.workload.namespace, change_kind=t.change_kind,
                gate_passed=True, dry_run_ran=True, gate_warnings=0, paused=ts.paused,
                armed_today=self.armed_today,
                demoted=failure_of(r.incident.signature) in self.demoted,
                image_tag_age_hours=t.image_tag_age_hours)
            why = automerge_refusal(ts.trust, list(ts.protected), held) or ""
        return trust_entry(t.level, t.rule, "refused" if why else "armed", why)

    def _push(self, r: Remediation, branch: str) -> str:
        self.forge.start_branch(branch)
        self.write(self.forge.clone_dir, r.changes)
        return self.forge.commit_and_push(branch, commit_message(r), [c.path for c in r.changes])


def _changed_comment(r: Remediation) -> str:
    prop = r.proposal
    # the message quotes the cluster (a runtime error may show a command line): inert, redacted
    lines = [f"The failure changed: {code_span(redact(r.incident.message)[0])}.", ""]
    if prop:
        lines.append(f"remediator would now propose: {prop.reason}.")
    for c in r.changes:
        lines += ["", f"`{c.path}`", "```diff", c.diff.rstrip("\n"), "```"]
    lines += ["", "Someone else pushed to this branch, so remediator did not update it."]
    return "\n".join(lines)


def submit(remediations: list[Remediation], forge: Forge, settings: PullRequests,
           write: Writer, now: datetime | None = None,
           unused: Sequence[Unused] = (), trust: TrustSettings | None = None
           ) -> list[Submission]:
    """One pass: each proposed remediation against the forge's PRs, then the dashboard. A lost
    lease (LeaseLost, from the forge's fence) ends it at the write it was about to make; the
    exception carries what was done before. ``trust``: automerge-level fixes get GitHub's
    auto-merge when every guard rail holds (None: never)."""
    forge = Outbound(forge)  # everything written below is redacted on its way out
    current = forge.dashboard() if settings.dashboard else None
    asks = read_asks(current[1] if current else None)
    run = Pass(forge, settings, write, now, asks, trust)
    out: list[Submission] = []
    try:
        for r in remediations:
            if r.decision == Decision.PROPOSE or run.diagnosis_pr(r):
                out.append(run.submit(r))
        if settings.dashboard:
            # a retry is done once its incident was planned in this pass (the service forgot
            # its earlier result before planning)
            run.done.retry.update(asks.retry & {r.incident.signature for r in remediations})
            body = render_dashboard(run.pulls, out, remediations, unused, asks, run.done,
                                    demoted=run.demoted)
            if current is None or current[1] != body:
                try:
                    forge.save_dashboard(current[0] if current else None, DASHBOARD_TITLE, body)
                except ForgeError as exc:  # the PRs are done; the dashboard catches up next pass
                    forge.warnings.append(str(exc))
    except LeaseLost as exc:
        exc.submissions = out
        raise
    return out


def new_pull_room(pulls: list[PullRequest], settings: PullRequests,
                  now: datetime | None = None) -> tuple[int, str]:
    """How many new PRs a pass could still open, and the limit that binds ("maxOpen 10"): what
    bounds planning before its expensive stages run (a pass applies the same limits again when
    it opens, in `Pass._open`)."""
    now = now or datetime.now(UTC)
    by_open = settings.max_open - sum(1 for p in pulls if p.state == "open")
    by_hour = settings.max_per_hour - sum(1 for p in pulls if _age_seconds(p, now) < 3600)
    if by_hour < by_open:
        return max(0, by_hour), f"maxPerHour {settings.max_per_hour}"
    return max(0, by_open), f"maxOpen {settings.max_open}"
