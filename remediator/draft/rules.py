"""The rules drafter: deterministic fixes for the common failure classes, diagnoses for the rest.

Each rule starts from what the cluster observed (the live pod spec, events, logs) and checks it
against what the repository renders today: when the repo already differs from the cluster, the
fix is probably merged and waiting for sync, and proposing another one would be noise.
"""

from __future__ import annotations

import math
from typing import TYPE_CHECKING, Any

from ..kernel.k8s import dig, get_container, split_image
from ..kernel.quantity import parse_quantity
from ..model import (
    DocumentEdit,
    FieldValue,
    FluxVariable,
    HelmValues,
    MemoryFacts,
    OverlayPatch,
    OwnerPatchOp,
    PlainManifest,
    Proposal,
    TargetKind,
    facts_as,
)
from ..render.chart import memory_chart
from .paths import (
    REMOVE,
    Composer,
    NoSuchContainer,
    container_ops,
    field_ops,
    operation_ops,
    pointer,
    variable_ops,
)
from .rightsize import usage_limit

if TYPE_CHECKING:
    from ..model import (
        JSON,
        Incident,
        Location,
    )
    from ..model.settings import Drafting
    from .history import TagInHistory

DRAFTER = "rules"
MI = 1024 * 1024


def format_memory(n_bytes: float) -> str:
    """Bytes → the quantity a human would write: whole Gi when exact, else Mi rounded up."""
    mi = math.ceil(n_bytes / MI)
    return f"{mi // 1024}Gi" if mi % 1024 == 0 else f"{mi}Mi"


def _q(value: Any) -> float | None:
    try:
        return float(parse_quantity(value)) if value is not None else None
    except ValueError:
        return None


def field_name(container: str) -> str:
    return f"containers[{container}]"


def diagnose(incident: Incident, diagnosis: str, reason: str = "") -> Proposal:
    return Proposal(DRAFTER, reason or diagnosis.split(". ")[0].rstrip("."), diagnosis)


def _ops(loc: Location, container: str, changes: dict[tuple[str, ...], Any]) -> list[JSON]:
    """The operations on the located document that make ``changes`` to the container, in
    the terms of the layer the document is."""
    match loc.layer:
        case HelmValues() as values:
            return _values_ops(loc.document, values, changes)
        case FluxVariable(substitution=sub):
            return variable_ops(loc.document, sub, changes)
        case OwnerPatchOp() as op:
            return operation_ops(loc.document, op, changes)
        case OverlayPatch():
            return container_ops(loc.document, loc.rendered, container, changes, is_patch=True)
        case PlainManifest():
            return container_ops(loc.document, loc.rendered, container, changes, is_patch=False)


def _values_ops(document: JSON, values: HelmValues, changes: dict[tuple[str, ...], Any]
                ) -> list[JSON]:
    """Container fields as Helm values: `resources...` under the resources key, an image as
    `image.tag` (a pinned `image.digest` would win over the tag, so it goes)."""
    composer = Composer(document)
    for rel, value in changes.items():
        key = values.value_keys.get(rel[0])
        if key is None:
            raise NoSuchContainer(f"the values key that feeds `{rel[0]}` is not known for this "
                                  "chart" + (f": {values.note}" if values.note else ""))
        base = (*values.values_path, *key)
        for depth in range(1, len(base) + 1):  # every level on the way must be a mapping
            node = dig(document, base[:depth])
            if node is not None and not isinstance(node, dict):
                raise NoSuchContainer(f"the values at `{'.'.join(map(str, base[:depth]))}` are "
                                      "not a mapping")
        dotted = ".".join((*key, "tag") if rel == ("image",) else (*key, *rel[1:]))
        if values.parameter_path and dotted == values.parameter_name:
            # a Helm parameter holds the value as a string; its name is tested so a replay on
            # a file whose list moved cannot change another parameter
            leaf = split_image(str(value))[1] if rel == ("image",) else str(value)
            composer.extend([{"op": "test", "path": pointer([*values.parameter_path, "name"]),
                              "value": values.parameter_name}])
            composer.set((*values.parameter_path, "value"), leaf)
            continue
        if rel == ("image",):
            composer.set((*base, "tag"), split_image(str(value))[1])
            composer.set((*base, "digest"), REMOVE)
        else:
            composer.set((*base, *rel[1:]), value)
    return composer.composed()


def _values_get(loc: Location, *rel: str) -> Any:
    return dig(loc.document, (*loc.values_path, *loc.value_keys.get(rel[0], ("-",)), *rel[1:]))


def _helm_effective(loc: Location, rel: tuple[str, ...]) -> Any:
    """The value as the located layer sets it, else as the layers below merge it."""
    here = _values_get(loc, *rel)
    if here is not None:
        return here
    return dig(loc.effective_values, (*loc.value_keys.get(rel[0], ("-",)), *rel[1:]))


def announced(container: str, changes: dict[tuple[str, ...], Any]) -> list[FieldValue]:
    """What the changes give the container, as the gate's post-condition will check it."""
    return [FieldValue(container, rel, value) for rel, value in changes.items()]


def _edit(loc: Location, ops: list[dict[str, Any]]) -> list[DocumentEdit]:
    """The edit of the located document, preceded by what makes it exist (a new patch file)."""
    edits = list(loc.prerequisites)
    if loc.kind == TargetKind.NEW_PATCH:
        ops = [{"op": "add", "path": "", "value": loc.document}, *ops]
    edits.append(DocumentEdit(loc.target, ops, create=loc.kind == TargetKind.NEW_PATCH))
    return edits


def oom(incident: Incident, loc: Location, settings: Drafting) -> Proposal:
    c = incident.container
    live = incident.evidence.container_spec.get("resources") or {}
    observed_raw = (live.get("limits") or {}).get("memory")
    observed = _q(observed_raw)
    if observed is None:
        return diagnose(incident, (
            f"Container {c} was OOMKilled without a memory limit of its own: the node ran out "
            "of memory or a namespace LimitRange applies. Set requests and limits from the "
            "application's real usage; no safe automatic value exists."))
    preset = loc.value_keys.get("resourcesPreset") if isinstance(loc.layer, HelmValues) else None
    current = _helm_effective(loc, ("resources",)) if preset else None
    if preset and not (isinstance(current, dict) and current):
        key = ".".join(loc.value_keys.get("resources", ("resources",)))
        return diagnose(incident, (
            f"The chart sizes container {c} from the preset `{'.'.join(preset)}` as long as "
            f"`{key}` is empty, and no values layer here sets `{key}`: setting only its memory "
            "limit would drop every other request and limit the preset gives. Set "
            f"`{key}` in full (requests and limits, from the application's real usage) in "
            f"`{loc.target.path}`."), f"resources come from the chart preset `{'.'.join(preset)}`")
    repo_limit = _q(_helm_effective(loc, ("resources", "limits", "memory"))
                    if isinstance(loc.layer, HelmValues)
                    else ((get_container(loc.rendered, c).get("resources") or {}).get("limits")
                          or {}).get("memory"))
    cap = float(parse_quantity(settings.memory.cap))
    if repo_limit is not None and repo_limit > observed:
        return diagnose(incident, (
            f"The repository already sets a memory limit of {format_memory(repo_limit)} for {c}, "
            f"above the {observed_raw} the pods ran with: the fix looks merged and not yet "
            "synced. Nothing to propose."), "repository already raised the limit; waiting for sync")
    if observed >= cap:
        return diagnose(incident, (
            f"Container {c} is OOMKilled at {observed_raw}, already at or above the configured "
            f"cap of {settings.memory.cap} (drafting.memory.cap). This looks like a leak or a "
            "workload that needs re-sizing by its owners, not another automatic raise."),
            f"memory limit {observed_raw} already at the cap {settings.memory.cap}")
    facts = facts_as(incident.evidence.facts, MemoryFacts)
    peak = facts.memory_peak_bytes
    headroom = float(facts.memory_headroom or 1.0)
    new = usage_limit(observed * settings.memory.factor,
                      float(peak) if isinstance(peak, int | float) else None, headroom, cap)
    new_value = format_memory(new)
    measured = _measured_note(incident, observed, new, settings) if peak is not None else ""
    changes: dict[tuple[str, ...], Any] = {("resources", "limits", "memory"): new_value}
    live_request_raw = (live.get("requests") or {}).get("memory")
    request = _q(live_request_raw)
    # What the repository sets. For Helm, the values layers: ``rendered`` is the live object
    # when the chart is not rendered here, its request possibly the one Kubernetes defaulted
    # (a chart default the values do not repeat is then written as the pods had it: no change).
    # A Helm parameter sets one value: a request beside it cannot be expressed there.
    helm = loc.layer if isinstance(loc.layer, HelmValues) else None
    repo_request = (_helm_effective(loc, ("resources", "requests", "memory")) if helm
                    else ((get_container(loc.rendered, c).get("resources") or {})
                          .get("requests") or {}).get("memory"))
    note = ""
    if request is not None and request > new:
        changes[("resources", "requests", "memory")] = new_value
        note = f"; request lowered to {new_value} to stay within the limit"
    elif repo_request is None and live_request_raw is not None and \
            not (helm and helm.parameter_path):
        # Without a request in the repo, Kubernetes defaults it to the limit: raising the limit
        # alone would silently raise what every pod reserves. Keep the request the pods had.
        changes[("resources", "requests", "memory")] = str(live_request_raw)
        note = f"; request kept at {live_request_raw} explicitly"
    request_follows = repo_request is None and live_request_raw is not None and \
        ("resources", "requests", "memory") not in changes  # a Helm parameter: said, not hidden
    ops = _ops(loc, c, changes)
    term = incident.evidence.last_termination
    return Proposal(
        drafter=DRAFTER,
        reason=(f"memory limit {observed_raw} exceeded (OOMKilled, {incident.evidence.restarts} "
                f"restarts); raised to {new_value}{note}"),
        diagnosis=(
            f"Container {c} is killed by the kernel's OOM killer (reason OOMKilled, exit code "
            f"{term.exit_code if term else 137}) at its memory limit of {observed_raw}. Raising "
            f"the limit by a factor of {settings.memory.factor:g} (cap {settings.memory.cap}) "
            "gives it headroom; if usage keeps growing after this, it is a leak to fix in the "
            "application." + measured + _unset_note(incident, loc, repo_limit)
            + _rollout_note(incident)),
        edits=_edit(loc, ops),
        changes=[{"file": loc.target.path, "field": f"{field_name(c)}.resources.limits.memory",
                  "old": str(observed_raw), "new": new_value}],
        title=f"raise {c} memory limit to {new_value}",
        announced=announced(c, changes),
        kind="memory-limit-raise",  # within drafting.memory.cap (at most the gate's ceiling)
        risk=((f"No values layer sets a memory request: unless the chart sets one, Kubernetes "
               f"defaults it to the limit, so what each pod reserves rises to {new_value} too "
               "and pods may no longer fit where they ran"
               if request_follows else
               "The memory request (what the scheduler reserves) does not change"
               + (" except as noted" if "lowered" in note else "")
               + ", so pods schedule as before")
              + "; under node memory pressure a pod using more than its request is among the "
              "first evicted. Rollback: revert this commit."),
        confidence=0.8,
    )


def _measured_note(incident: Incident, old: float, new: float, settings: Drafting) -> str:
    """The numbers behind a usage-aware limit, and a chart of usage against both limits."""
    facts = facts_as(incident.evidence.facts, MemoryFacts)
    peak = float(facts.memory_peak_bytes or 0.0)
    headroom = float(facts.memory_headroom or 1.0)
    days = facts.metrics_lookback_days or ""
    rule = old * settings.memory.factor
    why = ("the observed peak × headroom" if peak * headroom > rule
           else f"the factor rule ({format_memory(rule)}), above the observed peak × headroom")
    if new < max(rule, peak * headroom):
        why += f", capped at {settings.memory.cap}"
    text = (f"\n\nMeasured (Prometheus, last {days} days): peak working set "
            f"{format_memory(peak)}; peak × headroom {headroom:g} = "
            f"{format_memory(peak * headroom)}; old limit × factor {settings.memory.factor:g} = "
            f"{format_memory(rule)}. New limit {format_memory(new)}: {why}.")
    series = facts.memory_series or []
    chart = memory_chart(f"{incident.container} memory working set",
                         [(float(t), float(v)) for t, v in series],
                         {"old limit": old, "new limit": new})
    queries = [q for q in facts.metrics_queries or [] if "memory" in str(q)]
    shown = "".join(f"\n    {q}" for q in queries[:3])
    return text + ("\n\n" + chart if chart else "") + (
        f"\n\nQueries (instant, over the lookback):\n{shown}\n" if shown else "")


def _unset_note(incident: Incident, loc: Location, repo_limit: float | None) -> str:
    """Where the limit the pods ran with came from, when the repository does not set one: the
    fix then writes an explicit limit (and keeps the request the pods had)."""
    if repo_limit is not None or isinstance(loc.layer, HelmValues):
        return ""
    on_workload = (get_container(incident.live, incident.container).get("resources")
                   or {}).get("limits") or {}
    origin = ("is set on the live workload but not in the repository" if on_workload.get(
        "memory") else "came from the namespace (a LimitRange default, applied when the pods "
        "were admitted)")
    return (" The repository sets no memory limit for this container: the one the pods ran "
            f"with {origin}, so the change adds an explicit limit.")


def _rollout_note(incident: Incident) -> str:
    facts = facts_as(incident.evidence.facts, MemoryFacts)
    before = facts.previous_image
    now = incident.evidence.container_spec.get("image")
    if not before or not now:
        return ""
    limit = incident.evidence.container_spec.get("resources", {}).get("limits", {}).get("memory")
    same = facts.previous_memory_limit == limit and limit
    return (f" Note: the previous rollout ran {before}"
            + (f" with the same {limit} limit" if same else "")
            + f"; the pods failing now run {now}. The new version may need more memory than "
            "the old one (a regression worth raising with its owners), rather than the limit "
            "having always been too small.")


def image_revert(incident: Incident, loc: Location, history: list[TagInHistory],
                 read: list[str]) -> Proposal:
    """``history``: the tags of the files ``read``, newest first."""
    c = incident.container
    failing = incident.detail
    name, bad_tag = split_image(failing)
    if "@" in failing or not bad_tag:
        return diagnose(incident, f"Image {failing} is pinned by digest or untagged: no tag to "
                                  "revert to automatically.")
    ov = loc.image_override
    if ov is not None and ov.target is None:
        return diagnose(incident, f"{ov.why} No tag change is proposed.",
                        "the layer that sets the image is not in this repository")
    repo_image = str(get_container(loc.rendered, c).get("image") or "")
    if repo_image and repo_image != failing and ov is None:
        return diagnose(incident, (
            f"The repository already deploys {repo_image} instead of {failing}: waiting for "
            "sync."), "repository already changed the image; waiting for sync")
    ran = [split_image(i)[1] for i in incident.evidence.images_that_ran
           if split_image(i)[0] == name]
    candidates = [h for h in history if h.tag != bad_tag]
    # Only a tag the cluster shows having run (ReplicaSets serving or replaced by a finished
    # rollout, ready pods, nodes' image lists) is known to be pullable and to work; the
    # previous tag in git alone may be broken or deleted too.
    choice = next((h for h in candidates if h.tag in ran), None)
    if choice is None:
        seen = ", ".join(ran) or "none"
        files = ", ".join(f"`{f}`" for f in read[:5]) + (
            f" and {len(read) - 5} more" if len(read) > 5 else "")
        known = (f"Tags seen running here: {seen}, none of them set by an earlier commit of "
                 f"{files}" if ran else
                 f"No tag of {name} is seen running here (no ready pod, ReplicaSet or node "
                 f"image list shows one), so no earlier tag in the history of {files} is known "
                 "to work")
        return diagnose(incident, (
            f"Image {failing} cannot be pulled. {known}: there is nothing safe to revert to. "
            "Check that the tag exists in the registry and that the pull credentials "
            "(imagePullSecrets) can read it, then fix the tag in the repository."))
    tag = choice.tag
    ov = loc.image_override
    if ov is not None and ov.target is not None:
        if ov.style == "argo":  # `[name=]new-image:tag` as one string
            current = str(dig(ov.document, ov.path))
            head = current.split("@", 1)[0]
            stem = head.rsplit(":", 1)[0] if ":" in head.rpartition("/")[2] else head
            ops = field_ops(ov.document, ov.path, f"{stem}:{tag}")
        else:
            ops = field_ops(ov.document, ov.path, tag)
        edits = [DocumentEdit(ov.target, ops)]
        target_file, field = ov.target.path, "/".join(str(p) for p in ov.path)
    else:
        ops = _ops(loc, c, {("image",): f"{name}:{tag}"})
        edits, target_file, field = _edit(loc, ops), loc.target.path, f"{field_name(c)}.image"
    pull_error = next((e.message for e in incident.evidence.events
                       if e.message.startswith("Failed to pull image")), "")
    shown = next((where for image, where in incident.evidence.ran_where.items()
                  if split_image(image) == (name, tag)), "")
    running = shown.startswith("ready pod")
    evidence = f"it ran here ({shown})" if shown else "it ran here"
    return Proposal(
        drafter=DRAFTER,
        reason=f"image {failing} cannot be pulled; reverted to {tag}, the last tag that ran",
        diagnosis=(
            f"The kubelet cannot pull {failing}"
            + (f" (`{pull_error[:300]}`)" if pull_error else "")
            + f". Tag {tag} was set by "
            f"commit {choice.commit[:12]} (\"{choice.summary}\", {choice.date[:10]}) and "
            f"{evidence}. Reverting the tag restores the workload; re-release {bad_tag} once "
            "the image is published."),
        edits=edits,
        changes=[{"file": target_file, "field": field, "old": bad_tag, "new": tag}],
        title=f"revert {c} image to {tag}",
        announced=announced(c, {("image",): f"{name}:{tag}"}),
        kind="image-revert",  # to a tag the cluster shows having run
        risk=(f"Rolls the workload back to {tag}: changes shipped in {bad_tag} are not deployed "
              "until it is fixed. Rollback: revert this commit."),
        # a tag only known from a scaled-down ReplicaSet or a node's image list ran once
        confidence=0.9 if running else 0.75,
    )
