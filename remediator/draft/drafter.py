"""Draft: turn a located incident into a proposal (RFC 6902 operations per document) or a diagnosis.

The rules drafter is the offline default and owns the classes it has rules for; a configured
model (draft/llm) drafts the others and falls back to the rules when it cannot answer. Every
drafter returns the same `Proposal` shape, and every edit is checked against the allow-list of
fields for its failure class before it leaves this stage.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from ..kernel.k8s import split_image
from ..model import RULE_CLASSES, Drafter, HelmValues, Incident, Location, Proposal, row_of
from ..model.settings import Drafting
from . import config_fixes, diagnoses, history, probe, rules, usage_rules
from .allowlist import check_allowed
from .automation import image_automation
from .history import ValuesKey, image_tags
from .llm import Fallback, LLMDrafter, closed_examples, make_drafter
from .paths import ConflictingEdits, NoSuchContainer, compose_edits

__all__ = ["LLMDrafter", "closed_examples", "draft", "make_drafter"]


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
    if not isinstance(location.layer, HelmValues) or "image" not in location.value_keys:
        return files, None
    names = {n for n in (location.source_name, location.render_target.name
                         if location.render_target else "") if n}
    if location.render_target is not None:
        files += history.rendered_files(repo_root, location.values_root)
    return list(dict.fromkeys(files)), ValuesKey(location.value_keys["image"], frozenset(names))


def _image_revert(incident: Incident, location: Location, settings: Drafting,
                  repo_root: Path) -> Proposal:
    name, _ = split_image(incident.detail)
    files, values = _history_files(location, repo_root)
    # the marker may sit in a base the located file patches: every file of the render
    rendered = history.rendered_files(repo_root, location.render_root) if (
        location.render_root) else []
    automated = image_automation(incident.detail, list(dict.fromkeys(files + rendered)),
                                 repo_root, location.owner_annotations)
    if automated is not None:  # another bot writes this tag: never revert it
        return rules.diagnose(incident, automated.diagnosis, automated.reason)
    # the tag's history: the layer that sets it, then every file of the render (the located
    # file may be a new patch, or an overlay's patch of other fields, over the base's image)
    read = list(dict.fromkeys(files + rendered))
    return rules.image_revert(incident, location, image_tags(repo_root, read, name, values), read)


_Rule = Callable[[Incident, Location, Drafting, Path], Proposal]
#: the function of each drafter key of the class table (RULE_CLASSES: the classes with a real
#: rule, which no model second-guesses)
_DRAFTERS: dict[Drafter, _Rule] = {
    Drafter.MEMORY_LIMIT: lambda i, loc, s, _: rules.oom(i, loc, s),
    Drafter.STARTUP_PROBE: lambda i, loc, s, _: probe.startup_probe(i, loc, s),
    Drafter.IMAGE_REVERT: _image_revert,
    Drafter.RIGHTSIZE: lambda i, loc, _s, _r: usage_rules.rightsize(i, loc),
    Drafter.CPU_LIMIT: lambda i, loc, _s, _r: usage_rules.throttling(i, loc),
    Drafter.HPA_REQUESTS: lambda i, loc, s, _: config_fixes.hpa_requests(i, loc, s),
    Drafter.SERVICE_SELECTOR: lambda i, loc, _s, _r: config_fixes.service_selector(i, loc),
    Drafter.INGRESS_CLASS: lambda i, loc, _s, _r: config_fixes.ingress_class(i, loc),
    Drafter.CONFIG_DIAGNOSIS: lambda i, _l, _s, _r: config_fixes.diagnosis(i),
    Drafter.NONE: lambda i, _l, _s, _r: diagnoses.no_rule(i),
}


def _by_class(incident: Incident, location: Location, settings: Drafting,
              repo_root: Path) -> Proposal:
    row = row_of(incident.failure_class)
    drafter = _DRAFTERS[row.drafter if row is not None else Drafter.NONE]
    return drafter(incident, location, settings, repo_root)
