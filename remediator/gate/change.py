"""The gate for a concrete change: render it, then check the object before and after.

Plain manifests: the edited file must still parse, with only the target document changed.
Kustomize: the overlay is rendered from a scratch copy of the repo with the change applied; the
target object must change and nothing else in the render may.
"""

from __future__ import annotations

import copy
import os
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from functools import partial
from pathlib import Path
from typing import TYPE_CHECKING

from ..kernel import turns, worktree, yamlio
from ..kernel.k8s import CONTAINER_LISTS, dig, get_container, pod_spec, put, split_image
from ..model import JSON, CheckResult, ObjectRef, Validation
from ..model.settings import ValidationSettings
from ..render import gitops, helmvalues, kustomize, reads, renders
from ..render.renders import Renders
from . import dryrun, helm
from .helm import same_object
from .postcondition import check_postcondition

if TYPE_CHECKING:
    from ..model import FieldValue, FileChange, Location

ObjectChecks = Callable[[JSON | None, JSON, ValidationSettings, Path], list[CheckResult]]


def _plain(location: Location, changes: list[FileChange]) -> tuple[JSON | None, CheckResult]:
    change = next((c for c in changes if c.path == location.target.path), None)
    if change is None:
        return None, CheckResult("render", False, [f"no change to `{location.target.path}`"])
    try:
        old = yamlio.load_documents(change.old_text, change.path) if change.old_text else []
        new = yamlio.load_documents(change.new_text, change.path)
    except yamlio.UnsafeYAML as exc:
        return None, CheckResult("render", False, [f"edited file does not parse: {exc}"])
    idx = location.target.index
    if len(old) != len(new) or idx >= len(new):
        return None, CheckResult("render", False, [f"`{change.path}`: document count changed"])
    others = [i for i in range(len(new)) if i != idx and old[i] != new[i]]
    if others:
        return None, CheckResult("render", False,
                                 [f"`{change.path}`: documents other than the target changed"])
    after = new[idx]
    if not isinstance(after, dict):
        return None, CheckResult("render", False, ["target document is not a mapping"])
    if after == old[idx]:
        return None, CheckResult("render", False, ["the change does not alter the object"])
    after = copy.deepcopy(after)
    after.setdefault("metadata", {}).setdefault(
        "namespace", (location.rendered.get("metadata") or {}).get("namespace"))
    return after, CheckResult("render", True, ["edited file parses; only the target changed"])


def _kustomize(repo_root: Path, location: Location, changes: list[FileChange],
               ref: ObjectRef, cache: Renders) -> tuple[JSON | None, CheckResult]:
    label = location.render_root or "."
    try:  # one scratch view of the repo with the change applied serves every render below
        before = _build(repo_root, location, cache.objects)
        view = _view(repo_root, location, [location.render_root], changes)
        with worktree.changed_copy(repo_root, changes, view) as scratch:
            after_all = _build(scratch, location, partial(renders.objects, scratch))
            leaks = _other_renders_changed(cache, scratch, location.also_renders)
    except (kustomize.RenderError, ValueError) as exc:
        return None, CheckResult("render", False, [str(exc)])
    targets = [o for o in after_all if same_object(o, ref)]
    if len(targets) != 1:
        return None, CheckResult("render", False,
                                 [f"{ref.kind} {ref.name} is not in the render after the change"])
    others_before = [o for o in before if not same_object(o, ref)]
    others_after = [o for o in after_all if not same_object(o, ref)]
    if others_before != others_after:
        return None, CheckResult("render", False,
                                 [f"the change alters other objects rendered by `{label}`"])
    old = next((o for o in before if same_object(o, ref)), None)
    if old == targets[0]:
        return None, CheckResult("render", False, [
            f"the change has no effect on the rendered {ref.kind} (overridden by another layer?)"])
    if leaks:
        return None, CheckResult("render", False, leaks)
    others = f"; {len(location.also_renders)} other render(s) unchanged" \
        if location.also_renders else ""
    on_top = ""
    if location.top is not None:
        owner = "Argo CD Application" if location.top.tool == "argocd" else "Flux Kustomization"
        on_top = f" with the {owner}'s settings on top" + (
            " and its post-build variables" if location.top.tool == "flux-kustomization"
            and _has_variables(location) else "")
    return targets[0], CheckResult("render", True, [
        f"`{label}` renders{on_top}; only {ref.kind} {ref.name} changed{others}"])


def _other_containers_changed(before: JSON | None, after: JSON, container: str) -> list[str]:
    """Containers other than the failing one whose spec the change altered (a variable, a
    patch or an image setting that reaches a sidecar as well)."""
    if not container or before is None:
        return []

    def others(obj: JSON) -> dict[tuple[str, str], JSON]:
        spec = pod_spec(obj)
        return {(key, str(c.get("name"))): c for key in CONTAINER_LISTS
                for c in spec.get(key) or [] if isinstance(c, dict) and c.get("name") != container}

    old, new = others(before), others(after)
    image = (get_container(before, container).get("image"),
             get_container(after, container).get("image"))

    def same_image_change(a: JSON | None, b: JSON | None) -> bool:
        # one image setting (kustomize `images:`) retags every container of that image, an
        # init container running the same release included: the same change, not a leak
        return a is not None and b is not None and (a.get("image"), b.get("image")) == image \
            and {**a, "image": None} == {**b, "image": None}

    return sorted({name for key, name in old.keys() | new.keys()
                   if old.get((key, name)) != new.get((key, name))
                   and not same_image_change(old.get((key, name)), new.get((key, name)))})


def _has_variables(location: Location) -> bool:
    post = gitops.post_build(location.top.settings if location.top else {})
    return bool(post.get("substitute") or post.get("substituteFrom"))


def _view(repo_root: Path, location: Location, folders: list[str],
          changes: list[FileChange]) -> set[str] | None:
    """What the scratch view must hold to render ``folders`` and the other renders of the
    edited files after the change: the files they read, with the owner's settings on top and
    the files those come from (None: the whole tree, also when the change edits them)."""
    top = location.top
    on_top: dict[str, JSON] = {}
    sources: set[str] = set()
    if top is not None:
        sources = {ref.path for ref in [top.owner, *top.substitute_from] if ref is not None}
        sources |= set(top.override_files)
        if sources & {c.path for c in changes}:
            return None
        fields, _ = gitops.read_top(repo_root, top)
        on_top = {folder: fields for folder in folders}
    view = reads.reads(repo_root, [*folders, *location.also_renders],
                       {c.path: c.new_text for c in changes}, on_top)
    return None if view is None else view | sources


#: renders a folder of one tree with fields on top: the pass's cache for the repository,
#: ``renders.objects`` of the scratch view for the tree after the change
Build = Callable[[str, JSON | None], list[JSON]]


def _build(root: Path, location: Location, build: Build) -> list[JSON]:
    if location.top is None:
        return build(location.render_root, None)
    return _with_top(root, location, location.render_root, build)


def _with_top(root: Path, location: Location, folder: str, build: Build) -> list[JSON]:
    """The render as the GitOps tool makes it: the owner's settings on top (read from ``root``,
    so a change to them counts), then its post-build variable substitution."""
    assert location.top is not None
    fields, variables = gitops.read_top(root, location.top)
    objects = build(folder, fields)
    if variables is not None:
        objects = [gitops.substitute(o, variables) for o in objects]
    return objects


def _other_renders_changed(cache: Renders, scratch: Path, others: list[str]) -> list[str]:
    """Every other kustomization that includes an edited file must render exactly as before.
    The renders are independent subprocesses: they run side by side, up to one per core."""

    def problem(other: str) -> str:
        try:
            same = cache.objects(other) == renders.objects(scratch, other)
        except kustomize.RenderError as exc:
            return f"`{other}` includes the edited file and no longer renders: {exc}"
        return "" if same else (f"the change also alters the render of `{other}`, which "
                                "includes the edited file: choose a narrower layer")

    if len(others) < 2:
        return [p for p in map(problem, others) if p]
    # a wait on threads of our own: the pass's other incidents may plan meanwhile
    with turns.waiting(), ThreadPoolExecutor(max_workers=min(len(others),
                                                             os.cpu_count() or 1)) as pool:
        return [p for p in pool.map(problem, others) if p]  # in the order of ``others``


def _image_on_top(location: Location, changes: list[FileChange]
                  ) -> tuple[JSON | None, CheckResult]:
    """A tag changed in Argo CD / Flux settings: apply it to the rendered object as the tool
    does (its images transformer), after checking the edited file."""
    ov = location.image_override
    assert ov is not None and ov.target is not None
    change = next((c for c in changes if c.path == ov.target.path), None)
    if change is None or len(changes) != 1:
        return None, CheckResult("render", False, ["the change is not the image setting alone"])
    try:
        docs = yamlio.load_documents(change.new_text, change.path)
        old_docs = yamlio.load_documents(change.old_text, change.path)
    except yamlio.UnsafeYAML as exc:
        return None, CheckResult("render", False, [str(exc)])
    node = dig(docs, (ov.target.index, *ov.path))
    if node is None:
        return None, CheckResult("render", False, [f"`{change.path}`: the image setting is gone"])
    if len(docs) != len(old_docs) or any(
        a != b for i, (a, b) in enumerate(zip(docs, old_docs, strict=True)) if i != ov.target.index
    ):
        return None, CheckResult("render", False, [f"`{change.path}`: other documents changed"])
    after = copy.deepcopy(location.rendered)
    container = get_container(after, ov.container)
    if not container:
        return None, CheckResult("render", False, [f"container {ov.container} not rendered"])
    name, _ = split_image(str(container.get("image", "")))
    if ov.style == "argo":
        value = str(node)
        new_image = value.split("=", 1)[1] if "=" in value else value
    else:
        entry = dig(docs, (ov.target.index, *ov.path[:-1])) or {}
        new_image = f"{entry.get('newName') or name}:{node}"
    container["image"] = new_image
    return after, CheckResult("render", True, [
        f"`{change.path}` parses; the tool sets the image to {new_image}"])


def _flux_helm(repo_root: Path, location: Location, changes: list[FileChange],
               ref: ObjectRef, cache: Renders) -> tuple[JSON | None, JSON | None, CheckResult]:
    """A Flux HelmRelease's values (`spec.values` or a `valuesFrom` ConfigMap) changed: its folder
    is rendered before and after (kustomize, or its plain files), then the workload predicted
    from the merged values."""
    folder = location.values_root
    label = folder or "."
    kustomized = any((repo_root / folder / f).is_file() for f in kustomize.KUSTOMIZATION_FILES)
    try:
        for c in changes:
            yamlio.load_documents(c.new_text, c.path)
        view = _view(repo_root, location, [folder], changes)
        with worktree.changed_copy(repo_root, changes, view) as scratch:
            after_build = partial(renders.objects, scratch)
            if location.top is not None:  # the owner's patches on top, as Flux applies them
                before = _with_top(repo_root, location, folder, cache.objects)
                after = _with_top(scratch, location, folder, after_build)
            elif kustomized:
                before, after = cache.objects(folder), after_build(folder, None)
            else:
                before, after = _plain_docs(repo_root / folder), _plain_docs(scratch / folder)
            leaks = _other_renders_changed(cache, scratch, location.also_renders)
    except (kustomize.RenderError, ValueError, yamlio.UnsafeYAML) as exc:
        return None, None, CheckResult("render", False, [str(exc)])
    values, render = helm.compare_renders(before, after, ref, label)
    if values is None:
        return None, None, render
    if leaks:
        return None, None, CheckResult("render", False, leaks)
    return _helm_result(repo_root, location, render, (helm.values_of(before, ref), values))


def _plain_docs(folder: Path) -> list[JSON]:
    return [d for f in yamlio.scan_repo(folder).files for d in f.documents
            if isinstance(d, dict) and d.get("kind")]


def _helm_result(repo_root: Path, location: Location, render: CheckResult,
                 predict: tuple[JSON, JSON], full: tuple[JSON, JSON] | None = None,
                 sets: tuple[list[tuple[str, str, bool]], list[tuple[str, str, bool]]] = ([], [])
                 ) -> tuple[JSON | None, JSON | None, CheckResult]:
    """The workload before and after a values change: Helm's real render when it can be had
    (``full``: every values layer merged, before and after; ``sets`` the parameters), else
    predicted from ``predict`` (the edited layer's values before and after)."""
    before_values, after_values = full if full is not None else predict
    real = helm.rendered(location, repo_root, before_values, after_values, *sets)
    if isinstance(real, str):
        return _predicted(location, *predict, render, real)
    before, after, check = real
    return before, after, CheckResult("render", check.passed, [*render.messages, *check.messages])


def _predicted(location: Location, values_before: JSON, values: JSON, render: CheckResult,
               why: str) -> tuple[JSON | None, JSON | None, CheckResult]:
    """The workload predicted from the values before and after the change (the post-condition
    compares the two: a drift of the live object from the repo is not the change's doing)."""
    before, _ = helm.predict(location, values_before)
    after, problem = helm.predict(location, values)
    if after is None:
        return None, None, CheckResult("render", False, [problem])
    render.messages.append(f"the chart itself was not rendered ({why}): the workload is "
                           "predicted from the new values")
    return before, after, render


def _argo_helm(repo_root: Path, location: Location, changes: list[FileChange]
               ) -> tuple[JSON | None, JSON | None, CheckResult]:
    """An Argo CD values layer changed: the edited file is checked, and the workload rendered
    from every values layer Argo CD passes, before and after the change (else predicted from
    the values the edited layer sets; a Helm parameter: `a.b.c` = value, on top of them)."""
    release, render = _plain(location, changes)
    if release is None:
        return None, None, render

    def values(document: JSON) -> JSON:
        if not location.parameter_path:
            return dig(document, location.values_path) or {}
        out: JSON = {}
        put(out, location.parameter_name.split("."),
            dig(document, (*location.parameter_path, "value")))
        return out

    predict = (values(location.document), values(release))
    why_not = helm.not_renderable(location)
    if why_not:  # no scratch copy for nothing
        return _predicted(location, *predict, render, why_not)
    layers = location.helm_render.layers if location.helm_render is not None else []
    before, set_before = helmvalues.layered(repo_root, layers)
    with worktree.changed_copy(repo_root, changes, [layer.path for layer in layers]) as scratch:
        after, set_after = helmvalues.layered(scratch, layers)
    return _helm_result(repo_root, location, render, predict, (before, after),
                        (set_before, set_after))


def check_change(repo_root: Path, location: Location, changes: list[FileChange],
                 ref: ObjectRef, settings: ValidationSettings,
                 object_checks: ObjectChecks, announced: Sequence[FieldValue],
                 cache: Renders | None = None) -> Validation:
    """``cache``: the pass's renders of ``repo_root`` (the "before" renders locate made)."""
    cache = cache or Renders(repo_root)
    ov = location.image_override
    # the workload as the tool renders it today; a Helm render says its own
    before: JSON | None = location.rendered
    if ov is not None and ov.on_top and ov.target is not None and any(
            c.path == ov.target.path for c in changes):
        after, render = _image_on_top(location, changes)
    elif location.source == "helm" and location.render_target is not None:
        before, after, render = _flux_helm(repo_root, location, changes, ref, cache)
    elif location.source == "helm":
        before, after, render = _argo_helm(repo_root, location, changes)
    elif location.source == "kustomize":
        after, render = _kustomize(repo_root, location, changes, ref, cache)
    else:
        after, render = _plain(location, changes)
    bystanders = _other_containers_changed(location.rendered, after, location.container) \
        if after is not None else []
    if bystanders:
        after, render = None, CheckResult("render", False, [
            f"the change also alters container(s) {', '.join(bystanders)} of {ref.kind} "
            f"{ref.name}, not only the failing {location.container}"])
    checks = [render]
    if after is not None:
        checks = object_checks(location.rendered, after, settings, repo_root) + checks
    workload = ObjectRef.of(location.rendered) if location.render_target is not None else ref
    checks.append(check_postcondition(before, after, announced, workload))
    live_namespace = str((location.rendered.get("metadata") or {}).get("namespace") or "")
    checks.append(dryrun.check_dry_run(after, settings.dry_run, namespace=live_namespace,
                                       context=settings.kube_context,
                                       kubeconfig=settings.kubeconfig))
    return Validation(checks)
