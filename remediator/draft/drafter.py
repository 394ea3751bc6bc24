"""Draft: turn a located incident into a proposal (RFC 6902 operations per document) or a diagnosis.

The rules drafter is the offline default and owns the classes it has rules for; a configured
model (draft/llm) drafts the others and falls back to the rules when it cannot answer. Every
drafter returns the same `Proposal` shape, and every edit is checked against the allow-list of
fields for its failure class before it leaves this stage.
"""

from __future__ import annotations

from pathlib import Path

from ..kernel.k8s import split_image
from ..model import CPU_THROTTLING, NEW_FAILURE_CLASSES, RIGHT_SIZING, Incident, Location, Proposal
from ..model.settings import Drafting
from . import config_fixes, history, probe, rules, usage_rules
from .allowlist import check_allowed
from .automation import image_automation
from .history import ValuesKey, image_tags
from .llm import Fallback, LLMDrafter, closed_examples, make_drafter
from .paths import ConflictingEdits, NoSuchContainer, compose_edits

__all__ = ["LLMDrafter", "closed_examples", "draft", "make_drafter"]

#: classes with deterministic rules: cheaper, repeatable, and never second-guessed by a model
RULE_CLASSES = ("OOMKilled", "ProbeFailure", "ImagePullBackOff", "HPAMissingRequests",
                "ServiceSelectorMismatch", RIGHT_SIZING, CPU_THROTTLING)


def draft(incident: Incident, location: Location, settings: Drafting, repo_root: Path,
          llm: LLMDrafter | None = None) -> Proposal:
    cls = incident.failure_class
    fallback = ""
    if llm is not None and cls not in RULE_CLASSES:
        try:
            return _composed(incident, llm.draft(incident, location, repo_root))
        except Fallback as exc:
            fallback = str(exc)
    proposal = _composed(incident, _rules(incident, location, settings, repo_root))
    if fallback:
        proposal.provenance["fallback"] = f"model not used: {fallback}"
    return proposal


def _composed(incident: Incident, proposal: Proposal) -> Proposal:
    """One edit per document, whichever drafter made the proposal: operations that would undo
    one another are a diagnosis, never a diff that does less than the reason says."""
    try:
        proposal.edits = compose_edits(proposal.edits)
    except ConflictingEdits as exc:
        return rules.diagnose(incident, f"The drafted change was refused: {exc}.",
                              f"drafted change refused: {exc}")
    return proposal


def _rules(incident: Incident, location: Location, settings: Drafting,
           repo_root: Path) -> Proposal:
    cls = incident.failure_class
    try:
        proposal = _by_class(incident, location, settings, repo_root)
    except ConflictingEdits as exc:
        return rules.diagnose(incident, f"The drafted change was refused: {exc}.",
                              f"drafted change refused: {exc}")
    except NoSuchContainer as exc:
        return rules.diagnose(incident, f"Cannot draft a change: {exc} "
                              f"(`{location.target.path}`).")
    refused = check_allowed(cls, location, proposal)
    if refused:
        return rules.diagnose(incident, f"The drafted change was refused: {refused}",
                              f"drafted change refused: {refused}")
    return proposal


def _history_files(location: Location, repo_root: Path) -> tuple[list[str], ValuesKey | None]:
    """The files whose history shows the tags the workload had, and for Helm the values key
    that holds the tag: the layer that sets the image (else the located file), and for a Flux
    HelmRelease every file its Kustomization renders (the tag may live in the base release)."""
    ov = location.image_override
    files = [ov.target.path if ov is not None and ov.target else location.target.path]
    if location.source != "helm" or "image" not in location.value_keys:
        return files, None
    names = {n for n in (location.source_name, location.render_target.name
                         if location.render_target else "") if n}
    if location.render_target is not None:
        files += history.rendered_files(repo_root, location.values_root)
    return list(dict.fromkeys(files)), ValuesKey(location.value_keys["image"], frozenset(names))


def _by_class(incident: Incident, location: Location, settings: Drafting,
              repo_root: Path) -> Proposal:
    cls = incident.failure_class
    if cls == "OOMKilled":
        proposal = rules.oom(incident, location, settings)
    elif cls == "ProbeFailure":
        proposal = probe.startup_probe(incident, location, settings)
    elif cls == "ImagePullBackOff":
        name, _ = split_image(incident.detail)
        files, values = _history_files(location, repo_root)
        # the marker may sit in a base the located file patches: every file of the render
        rendered = history.rendered_files(repo_root, location.render_root) if (
            location.render_root) else []
        automated = image_automation(incident.detail, list(dict.fromkeys(files + rendered)),
                                     repo_root, location.owner_annotations)
        if automated is not None:  # another bot writes this tag: never revert it
            return rules.diagnose(incident, automated.diagnosis, automated.reason)
        proposal = rules.image_revert(incident, location,
                                      image_tags(repo_root, files, name, values), files)
    elif cls == RIGHT_SIZING:
        proposal = usage_rules.rightsize(incident, location)
    elif cls == CPU_THROTTLING:
        proposal = usage_rules.throttling(incident, location)
    elif cls == "HPAMissingRequests":
        proposal = config_fixes.hpa_requests(incident, location, settings)
    elif cls == "ServiceSelectorMismatch":
        proposal = config_fixes.service_selector(incident, location)
    elif cls == "IngressClassMissing":
        proposal = config_fixes.ingress_class(incident, location)
    elif cls in NEW_FAILURE_CLASSES:
        proposal = config_fixes.diagnosis(incident)
    else:
        proposal = rules.no_rule(incident)
    return proposal
